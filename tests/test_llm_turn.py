"""The LLM turn (DIALECT §7.3 step 5, §7.5, §7.6, §8.4, §9.3) through the real chat server
and the scriptable model server of llm_fixture.py: what the model receives (system prompt,
contexts, history, tools), the tool loop and its results, a tool waiting at HEAR, streaming
over the WebSocket, provider errors, direct tool invocation."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest

from llm_fixture import (QUIET_LITELLM, error_reply, model_config, model_server,  # noqa: F401
                         text_reply, tool_call_reply, tool_calls_reply)
from server_support import BACKENDS, new_id, running, say, settings_for, texts, write_bot

pytestmark = QUIET_LITELLM

LOOKUP = """PARAM id AS INTEGER LIKE 7 DESCRIPTION "The record id"
PARAM verbose AS BOOLEAN DESCRIPTION "More detail" OPTIONAL
DESCRIPTION "Find a record by id"
TALK "Looking up record " + id
RETURN "record " + id + " verbose=" + verbose
"""
LOOKUP_SCHEMA = {"type": "function", "function": {
    "name": "lookup", "description": "Find a record by id",
    "parameters": {"type": "object", "properties": {
        "id": {"type": "integer", "description": "The record id", "example": "7"},
        "verbose": {"type": "boolean", "description": "More detail"}},
        "required": ["id"]}}}
ASK_CITY = """PARAM name AS STRING DESCRIPTION "Who travels"
PARAM city AS STRING DESCRIPTION "Destination" OPTIONAL
DESCRIPTION "Book a trip"
IF NOT city THEN
  HEAR city AS "Lisbon", "Porto" WITH "Where to, " + name + "?"
END IF
TALK "Booked " + name + " to " + city
"""


def run(coro):
    return asyncio.run(coro)


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def system_text(request: dict) -> str:
    return request["messages"][0]["content"]


@pytest.fixture
def bots(tmp_path):
    return tmp_path / "bots"


def settings(tmp_path, bots, backend="sqlite"):
    return settings_for(backend, tmp_path, bots)


# ---------------------------------------------------------------- the request


def test_request_has_prompt_contexts_history_tools_and_message(tmp_path, bots, model_server):
    start = """ADD TOOL "lookup"
ADD TOOL "missing-tool"
SET CONTEXT "Be short."
SET CONTEXT "persona" AS "You are Ada."
SET CONTEXT "pricing" AS "Plans: basic, pro."
SET CONTEXT "persona" AS "You are Ada, the support agent."
BEGIN SYSTEM PROMPT
Session prompt for ${user.id}.
END SYSTEM PROMPT
"""
    root = write_bot(bots, "shop", {"start": start, "lookup": LOOKUP},
                     model_config(model_server, history_limit=2))
    (root / "shop.gbot" / "PROMPT.md").write_text("You are the shop bot.\n", encoding="utf-8")
    model_server.enqueue("First answer", "Second answer", "Third answer")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            first = await say(client, "shop", "Hello", user_id="u1")
            sid = first["session_id"]
            second = await say(client, "shop", "Prices?", session_id=sid, context_name="pricing")
            third = await say(client, "shop", "And pro?", session_id=sid)
            return first, second, third

    first, second, third = run(scenario())
    assert [texts(r) for r in (first, second, third)] == [
        ["First answer"], ["Second answer"], ["Third answer"]]
    assert len(model_server.requests) == 3
    contexts = ("[context]\nBe short.\n\n[context: persona]\nYou are Ada, the support agent."
                "\n\n[context: pricing]\nPlans: basic, pro.")
    request = model_server.requests[0]
    assert request["model"] == "test-model"
    assert request["messages"] == [
        {"role": "system", "content": "You are the shop bot.\n\nSession prompt for u1.\n\n" + contexts},
        user("Hello")]
    assert request["tools"] == [LOOKUP_SCHEMA]  # the missing tool was skipped
    # The selected context comes first; history is limited to the last 2 stored messages.
    selected = ("[context: pricing] (selected)\nPlans: basic, pro.\n\n[context]\nBe short."
                "\n\n[context: persona]\nYou are Ada, the support agent.")
    assert model_server.requests[1]["messages"] == [
        {"role": "system", "content": "You are the shop bot.\n\nSession prompt for u1.\n\n" + selected},
        user("Hello"), {"role": "assistant", "content": "First answer"}, user("Prices?")]
    assert model_server.requests[2]["messages"][1:] == [
        user("Prices?"), {"role": "assistant", "content": "Second answer"}, user("And pro?")]


def test_base_prompt_from_config_then_default(tmp_path, bots, model_server):
    write_bot(bots, "configured", {}, model_config(model_server, system_prompt="Configured prompt."))
    write_bot(bots, "plain", {}, {**model_config(model_server), "bot-name": "Plain Bot"})
    model_server.enqueue("a", "b")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            await say(client, "configured", "hi")
            await say(client, "plain", "hi")

    run(scenario())
    assert system_text(model_server.requests[0]) == "Configured prompt."
    assert system_text(model_server.requests[1]).startswith("You are Plain Bot, a helpful assistant")
    assert "tools" not in model_server.requests[0]  # no tool offered, none sent


def test_use_model_chooses_the_model_of_the_turn(tmp_path, bots, model_server):
    write_bot(bots, "m", {"start": 'USE MODEL "fast"'},
              model_config(model_server, model_fast="small-model"))
    model_server.enqueue("ok")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "m", "hi")

    assert texts(run(scenario())) == ["ok"]
    assert model_server.last["model"] == "small-model"


def test_without_a_model_the_no_model_message(tmp_path, bots, model_server):
    write_bot(bots, "none", {}, {"no-model-message": "No model here."})

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "none", "hi")

    assert texts(run(scenario())) == ["No model here."]
    assert model_server.requests == []


# ---------------------------------------------------------------- tools


def test_tool_call_runs_the_script_and_its_result_goes_back(tmp_path, bots, model_server):
    write_bot(bots, "t", {"start": 'ADD TOOL "Lookup.bas"', "lookup": LOOKUP}, model_config(model_server))
    model_server.enqueue(tool_call_reply("lookup", {"ID": "42", "other": 1}, call_id="c-1"),
                         text_reply("Record 42 it is."))

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            reply = await say(client, "t", "find 42")
            history = await (await client.get(
                f"/api/bots/t/sessions/{reply['session_id']}/history")).json()
            return reply, history

    reply, history = run(scenario())
    assert texts(reply) == ["Looking up record 42", "Record 42 it is."]
    second = model_server.requests[1]
    assert second["messages"][1:] == [
        user("find 42"),
        {"role": "assistant", "tool_calls": [{"id": "c-1", "type": "function", "function": {
            "name": "lookup", "arguments": json.dumps({"ID": "42", "other": 1})}}]},
        # "42" was bound as the INTEGER 42; the missing OPTIONAL param is NULL
        {"role": "tool", "tool_call_id": "c-1", "content": "record 42 verbose="}]
    assert second["tools"] == [LOOKUP_SCHEMA]
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", "find 42"), ("bot", "Looking up record 42"), ("bot", "Record 42 it is.")]


@pytest.mark.parametrize("body, result", [
    ('RETURN "plain text"', "plain text"),
    ("RETURN #{total: 3, items: [1, TRUE]}", '{"total":3,"items":[1,true]}'),
    ("RETURN 2.5", "2.5"),
    ('TALK "one"\nTALK "two"', "one\ntwo"),
    ("x = 1", "OK"),
    ('TALK "before"\nTHROW "bad input"', "Error: bad input"),
    ("x = 1 / 0", "Error: division by zero"),
])
def test_tool_result_rules(tmp_path, bots, model_server, body, result):
    tool = f'DESCRIPTION "A tool"\n{body}\n'
    write_bot(bots, "r", {"start": 'ADD TOOL "t"', "t": tool}, model_config(model_server))
    model_server.enqueue(tool_call_reply("t", {}), text_reply("done"))

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            reply = await say(client, "r", "go")
            metrics = await (await client.get("/metrics")).text()
            return reply, metrics

    reply, metrics = run(scenario())
    assert model_server.requests[1]["messages"][-1] == {
        "role": "tool", "tool_call_id": "call_1", "content": result}
    # No apology on a tool error: the model explains; what the tool TALKed reached the user.
    talked = [line.split('"')[1] for line in body.splitlines() if line.startswith("TALK")]
    assert texts(reply) == talked + ["done"]
    if result.startswith("Error"):
        assert 'botbasic_script_errors_total{bot="r"} 1' in metrics
    else:
        assert 'botbasic_script_errors_total{bot="r"}' not in metrics


def test_several_calls_unknown_tools_and_bad_arguments(tmp_path, bots, model_server):
    write_bot(bots, "s", {"start": 'ADD TOOL "lookup"', "lookup": LOOKUP,
                          "hidden": 'DESCRIPTION "not added"\nTALK "must not run"'},
              model_config(model_server))
    model_server.enqueue(
        tool_calls_reply(("lookup", {"id": 1}, "a"), ("hidden", {}, "b"), ("lookup", "[1]", "c"),
                         ("LOOKUP", {"id": 2}, "d")),
        text_reply("All done."))

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "s", "go")

    assert texts(run(scenario())) == ["Looking up record 1", "Looking up record 2", "All done."]
    results = [(m["tool_call_id"], m["content"]) for m in model_server.requests[1]["messages"]
               if m["role"] == "tool"]
    assert results == [
        ("a", "record 1 verbose="),
        ("b", "Error: there is no tool 'hidden' in this conversation"),
        ("c", "Error: the arguments are not a JSON object: [1]"),
        ("d", "record 2 verbose=")]


def test_tool_rounds_are_limited(tmp_path, bots, model_server):
    write_bot(bots, "loop", {"start": 'ADD TOOL "lookup"', "lookup": LOOKUP},
              model_config(model_server, llm_max_tool_rounds=2))
    model_server.respond_with(lambda body: tool_call_reply("lookup", {"id": 1}) if body.get("tools")
                              else text_reply("Giving up on tools."))

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "loop", "go")

    reply = run(scenario())
    assert texts(reply) == ["Looking up record 1", "Looking up record 1", "Giving up on tools."]
    assert ["tools" in request for request in model_server.requests] == [True, True, False]
    assert [m["role"] for m in model_server.requests[2]["messages"]] == [
        "system", "user", "assistant", "tool", "assistant", "tool"]


def test_tools_auto_discover(tmp_path, bots, model_server):
    scripts = {"start": 'TALK "hi"', "lookup": LOOKUP, "helper": 'TALK "no description"',
               "nightly": 'DESCRIPTION "job"\nSET SCHEDULE "0 3 * * *"\nTALK "x"',
               "tables": 'DESCRIPTION "tables"\nTALK "x"'}
    write_bot(bots, "auto", scripts, model_config(model_server, tools_auto_discover="true"))
    model_server.enqueue("fine")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "auto", "hi")

    run(scenario())
    assert model_server.last["tools"] == [LOOKUP_SCHEMA]


def test_tool_list_keywords_in_a_conversation(tmp_path, bots, model_server):
    start = """ADD TOOL "lookup"
USE TOOL ".gbdialog/book.bas"
ADD TOOL "lookup"
r = ADD TOOL "nope"
TALK r
r = ADD TOOL "broken"
TALK r
names = LIST TOOLS
TALK JOIN(names, ",")
r = REMOVE TOOL "lookup"
TALK r
names = LIST TOOLS
TALK JOIN(names, ",")
r = CLEAR TOOLS
TALK r
names = LIST TOOLS
TALK UBOUND(names)
ADD TOOL "book"
"""
    write_bot(bots, "k", {"start": start, "lookup": LOOKUP, "book": ASK_CITY,
                          "broken": 'DESCRIPTION "never compiles"\nIF x THEN\n'}, model_config(model_server))
    model_server.enqueue("ok")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "k", "hi")

    assert texts(run(scenario())) == ["Tool 'nope' is not available",
                                      "Tool 'broken' is not available", "lookup,book",
                                      "Tool 'lookup' removed from this conversation", "book",
                                      "1 tool(s) removed from this conversation", "0", "ok"]
    assert [tool["function"]["name"] for tool in model_server.last["tools"]] == ["book"]


# ---------------------------------------------------------------- a tool waiting at HEAR


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def test_tool_hear_suspends_the_turn_and_resumes_it_after_a_restart(tmp_path, bots, model_server,
                                                                      backend):
    write_bot(bots, "trip", {"start": 'ADD TOOL "book"', "book": ASK_CITY}, model_config(model_server))
    model_server.enqueue(tool_calls_reply(("book", {"name": "Ann"}, "t1"), ("book", {"name": "Bo", "city": "Rome"}, "t2")),
                         text_reply("Both trips are booked."))
    server_settings = settings(tmp_path, bots, backend)
    sid = new_id()

    async def first_process():
        async with running(server_settings) as client:
            return await say(client, "trip", "Book trips for Ann and Bo", session_id=sid)

    async def second_process():  # a new app on the same store: nothing kept in memory
        async with running(server_settings) as client:
            wrong = await say(client, "trip", "Paris", session_id=sid)
            asked_meanwhile = len(model_server.requests)
            right = await say(client, "trip", "Lisbon", session_id=sid)
            return wrong, asked_meanwhile, right

    asked = run(first_process())
    assert texts(asked) == ["Where to, Ann?"]
    assert [b["text"] for b in asked["messages"][-1]["suggestions"]] == ["Lisbon", "Porto"]
    assert len(model_server.requests) == 1
    wrong, asked_meanwhile, right = run(second_process())
    assert texts(wrong) == ["Please choose one of the options: Lisbon, Porto."]
    assert asked_meanwhile == 1  # the tool still waits: the model was not asked
    assert texts(right) == ["Booked Ann to Lisbon", "Booked Bo to Rome", "Both trips are booked."]
    assert right["messages"][-1]["suggestions"] == []
    second = model_server.requests[1]
    assert second["messages"][1:] == [
        user("Book trips for Ann and Bo"),
        {"role": "assistant", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "book", "arguments": '{"name": "Ann"}'}},
            {"id": "t2", "type": "function", "function": {
                "name": "book", "arguments": '{"name": "Bo", "city": "Rome"}'}}]},
        # what the tool TALKed across the wait (prompt, complaint, result), joined
        {"role": "tool", "tool_call_id": "t1",
         "content": "\n".join(["Where to, Ann?"] + texts(wrong) + ["Booked Ann to Lisbon"])},
        {"role": "tool", "tool_call_id": "t2", "content": "Booked Bo to Rome"}]


# ---------------------------------------------------------------- direct invocation


def test_tool_exec_message_runs_the_tool_without_the_model(tmp_path, bots, model_server):
    start = 'ADD SUGGESTION TOOL "book" AS "Book a trip"\nADD SUGGESTION TOOL "helper" AS "Help"'
    write_bot(bots, "d", {"start": start, "book": ASK_CITY, "helper": 'TALK "helper ran"',
                          "secret": 'TALK "never"'}, model_config(model_server))
    model_server.enqueue("Hello!")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            first = await say(client, "d", "hi")
            sid = first["session_id"]
            asked = await say(client, "d", "book", session_id=sid, message_type=6)
            done = await say(client, "d", "Porto", session_id=sid)
            helper = await say(client, "d", "helper", session_id=sid, message_type=6)
            return first, asked, done, helper

    first, asked, done, helper = run(scenario())
    tool_button = first["messages"][-1]["suggestions"][0]
    assert tool_button["action"] == {"type": "invoke_tool", "tool": "book"}
    assert texts(asked) == ["Where to, ?"]  # no arguments: every PARAM is NULL
    assert texts(done) == ["Booked  to Porto"]
    assert texts(helper) == ["helper ran"]  # not a tool, but offered by ADD SUGGESTION TOOL
    assert len(model_server.requests) == 1  # only the first message went to the model


# ---------------------------------------------------------------- streaming and errors


async def ws_turn(ws, content: str, last: str) -> list[dict]:
    """Send one message and read frames up to the complete envelope whose text is ``last``."""
    await ws.send_json({"content": content, "message_id": new_id()})
    frames = []
    while not frames or not (frames[-1].get("is_complete") and frames[-1]["content"] == last):
        frames.append(await ws.receive_json())
    return frames


def test_websocket_streams_the_answer_after_the_tools_messages(tmp_path, bots, model_server):
    write_bot(bots, "w", {"start": 'TALK "Welcome"\nADD TOOL "lookup"', "lookup": LOOKUP},
              model_config(model_server))
    model_server.enqueue(tool_call_reply("lookup", {"id": 5}, text="Let me check."),
                         text_reply("Record 5 is fine."))

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            ws = await client.ws_connect("/ws/w")
            connected = await ws.receive_json()
            frames = await ws_turn(ws, "check 5", "Record 5 is fine.")
            await ws.close()
            history = await (await client.get(
                f"/api/bots/w/sessions/{connected['session_id']}/history")).json()
            return frames, history

    frames, history = run(scenario())
    # Welcome (start.bas) first; the first round's text streamed, then closed by its
    # complete envelope before the tool's TALK; the answer streamed, then whole. (Pieces
    # that come close together share a frame, and the tail may come only with the whole
    # text: the streamed pieces are a prefix of it, starting with the first piece.)
    assert (frames[0]["is_complete"], frames[0]["stream_token"], frames[0]["content"]) == (
        True, None, "Welcome")
    preamble = next(i for i, f in enumerate(frames) if f["is_complete"] and f["stream_token"])
    talk = preamble + 1
    assert (frames[talk]["is_complete"], frames[talk]["stream_token"], frames[talk]["content"]) == (
        True, None, "Looking up record 5")
    for first, last, text in ((1, preamble, "Let me check."), (talk + 1, len(frames) - 1,
                                                             "Record 5 is fine.")):
        pieces, final = frames[first:last], frames[last]
        assert pieces and all(f["is_complete"] is False for f in pieces)
        assert pieces[0]["content"].startswith(text[:4])  # the first piece goes at once
        assert text.startswith("".join(f["content"] for f in pieces))
        assert final["is_complete"] is True and final["content"] == text
        assert {f["stream_token"] for f in pieces} == {final["stream_token"]}
    assert frames[preamble]["stream_token"] != frames[-1]["stream_token"]
    assert all(f["reply_to"] == frames[0]["reply_to"] for f in frames)
    assert [m["content"] for m in history["messages"]] == [
        "check 5", "Welcome", "Let me check.", "Looking up record 5", "Record 5 is fine."]
    assert all(request.get("stream") is True for request in model_server.requests)


def test_http_gets_the_final_text_without_streaming(tmp_path, bots, model_server):
    write_bot(bots, "h", {}, model_config(model_server))
    model_server.enqueue("Plain answer.")

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            return await say(client, "h", "hi")

    reply = run(scenario())
    assert texts(reply) == ["Plain answer."]
    assert reply["messages"][0]["is_complete"] is True
    assert "stream" not in model_server.last


def test_provider_error_is_logged_and_answered_with_the_apology(tmp_path, bots, model_server, caplog):
    write_bot(bots, "e", {}, model_config(model_server, llm_error_message="The assistant is away."))
    write_bot(bots, "f", {}, {**model_config(model_server), "error-message": "Generic apology."})
    model_server.enqueue(error_reply(500, "boom"), error_reply(401, "bad key"))

    async def scenario():
        async with running(settings(tmp_path, bots)) as client:
            first = await say(client, "e", "hi")
            second = await say(client, "f", "hi")
            metrics = await (await client.get("/metrics")).text()
            return first, second, metrics

    with caplog.at_level(logging.ERROR, logger="botbasic.llm"):
        first, second, metrics = run(scenario())
    assert texts(first) == ["The assistant is away."]
    assert texts(second) == ["Generic apology."]
    assert 'botbasic_llm_errors_total{bot="e"} 1' in metrics
    assert 'botbasic_llm_errors_total{bot="f"} 1' in metrics
    failures = [r.getMessage() for r in caplog.records if r.name == "botbasic.llm" and r.levelno == logging.ERROR]
    assert failures == ["LLM turn failed: model error: boom", "LLM turn failed: model error: bad key"]
