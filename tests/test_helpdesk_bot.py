"""Transcripts of the example bot ``bots/helpdesk.gbai`` driven by the fixture model server:
a knowledge-base question, tool calls with arguments, and a tool that asks for a missing
value with HEAR, answered after the server process was killed and started again."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest

from llm_fixture import QUIET_LITELLM, model_config, model_server, text_reply, tool_call_reply  # noqa: F401
from server_support import ServerProcess, new_id, running, say, settings_for, texts

pytestmark = QUIET_LITELLM

PACKAGE = Path(__file__).resolve().parents[1] / "bots" / "helpdesk.gbai"
POLICIES = PACKAGE / "helpdesk.gbkb" / "policies"
KB_HEADER = ("Knowledge-base excerpts that may help to answer the user's next message "
             "(cite the source when you use one):\n\n")


@pytest.fixture
def bots(tmp_path, model_server) -> Path:
    """A copy of the helpdesk package whose config.csv points at the fixture server."""
    folder = tmp_path / "bots"
    shutil.copytree(PACKAGE, folder / "helpdesk.gbai")
    config = folder / "helpdesk.gbai" / "helpdesk.gbot" / "config.csv"
    extra = "".join(f"{key},{value}\n" for key, value in model_config(model_server).items())
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return folder


def run(coro):
    return asyncio.run(coro)


def test_committed_config_leaves_the_model_unset():
    text = (PACKAGE / "helpdesk.gbot" / "config.csv").read_text(encoding="utf-8")
    assert not re.search(r"^llm-(url|model),", text, re.M)


def test_a_policy_question_is_answered_from_the_knowledge_base(tmp_path, bots, model_server):
    model_server.enqueue("Reset it at https://id.acme.example/reset (policy: passwords.md).")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            return await say(client, "helpdesk", "I forgot my password, how can I reset it?")

    reply = run(scenario())
    assert texts(reply) == ["Reset it at https://id.acme.example/reset (policy: passwords.md)."]
    assert [b["text"] for b in reply["messages"][-1]["suggestions"]] == [
        "How do I reset my password?", "Open a ticket"]
    request = model_server.last
    system, knowledge, question = request["messages"]
    assert system["role"] == "system"
    assert "[context: it helpdesk]\nYou are the IT helpdesk of ACME." in system["content"]
    assert "create a ticket with the create-ticket tool" in system["content"]
    # The best chunk is the whole passwords policy, with its source.
    passwords = (POLICIES / "passwords.md").read_text(encoding="utf-8").strip()
    assert knowledge["role"] == "system"
    assert re.match(re.escape(KB_HEADER + "[1] source: policies/passwords.md (relevance ")
                    + r"0\.\d\d\)\n" + re.escape(passwords), knowledge["content"])
    assert question == {"role": "user", "content": "I forgot my password, how can I reset it?"}
    assert [tool["function"]["name"] for tool in request["tools"]] == ["create-ticket", "check-status"]


def test_tools_are_called_with_their_arguments(tmp_path, bots, model_server):
    ticket = {"id": "TKT-1", "description": "Laptop screen is cracked", "category": "hardware",
              "priority": "high", "status": "open"}
    model_server.enqueue(
        tool_call_reply("create-ticket", {"description": "Laptop screen is cracked",
                                          "category": "hardware", "priority": "high"}, call_id="a"),
        text_reply("Bring the laptop to floor 2 for a loaner."),
        tool_call_reply("check-status", {"ticket": "tkt-1 "}, call_id="b"),
        text_reply("Your ticket is open."))

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            first = await say(client, "helpdesk", "My laptop screen cracked")
            second = await say(client, "helpdesk", "What is the status of TKT-1?",
                               session_id=first["session_id"])
            return first, second

    first, second = run(scenario())
    assert texts(first) == ["Ticket TKT-1 created (hardware, high priority).",
                            "Bring the laptop to floor 2 for a loaner."]
    assert texts(second) == ["Your ticket is open."]
    created = model_server.requests[1]["messages"][-1]
    assert created["role"] == "tool" and created["tool_call_id"] == "a"
    assert json.loads(created["content"]) == ticket  # RETURN ticket: the object as JSON
    status = model_server.requests[3]["messages"][-1]
    assert status["tool_call_id"] == "b" and json.loads(status["content"]) == ticket
    # The history the model got in the second turn includes the tool's message.
    assert [m["content"] for m in model_server.requests[2]["messages"] if m["role"] != "system"] == [
        "My laptop screen cracked", "Ticket TKT-1 created (hardware, high priority).",
        "Bring the laptop to floor 2 for a loaner.", "What is the status of TKT-1?"]


def test_a_missing_value_is_asked_and_the_turn_survives_a_restart(tmp_path, bots, model_server):
    model_server.enqueue(
        tool_call_reply("create-ticket", {"description": "VPN drops every few minutes"}, call_id="v1"),
        text_reply("While we look into it, try a cable instead of Wi-Fi."))
    data = tmp_path / "data"
    sid = new_id()
    with ServerProcess(bots, data) as server:
        status, asked = server.post("/api/bots/helpdesk/messages",
                                    {"content": "My VPN keeps dropping", "session_id": sid})
        assert status == 200
        server.kill()  # no cleanup: the waiting tool is only in the database
    assert texts(asked) == ["Which kind of problem is it?"]
    assert [b["text"] for b in asked["messages"][-1]["suggestions"]][-4:] == [
        "hardware", "software", "network", "account"]
    assert len(model_server.requests) == 1

    with ServerProcess(bots, data) as server:
        status, done = server.post("/api/bots/helpdesk/messages", {"content": "network", "session_id": sid})
    assert status == 200, done
    assert texts(done) == ["Ticket TKT-1 created (network, medium priority).",
                           "While we look into it, try a cable instead of Wi-Fi."]
    resumed = model_server.requests[1]["messages"]
    assert resumed[-2]["tool_calls"][0]["id"] == "v1"
    assert resumed[-1]["role"] == "tool" and resumed[-1]["tool_call_id"] == "v1"
    assert json.loads(resumed[-1]["content"]) == {
        "id": "TKT-1", "description": "VPN drops every few minutes", "category": "network",
        "priority": "medium", "status": "open"}
