"""The chat API through a real server on 127.0.0.1, on SQLite and on PostgreSQL: routing
(§7.2, §7.3), envelopes (§7.7), WebSocket, history, idempotency and ordering of turns."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import WSMsgType

from server_support import BACKENDS, new_id, running, say, settings_for, texts, write_bot

DIALOG = """TALK "Welcome! What is your name?"
HEAR name
count = 0
DO
  count = count + 1
  HEAR answer AS "more", "stop" WITH "Hi " + name + " (" + count + ")"
LOOP UNTIL answer = "stop"
TALK "Bye " + name + " after " + count
"""

GREETER = """TALK "Hello from start"
ADD SUGGESTION "help" AS "Help me"
"""

COUNTER = """n = 0
DO
  HEAR x
  n = n + 1
  SET BOT MEMORY "last", x
  TALK "n=" + n + " x=" + x
LOOP
"""

TOOL = """PARAM topic
TALK "tool ran with " + topic
"""


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def settings(backend, tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "dialog", {"start": DIALOG})
    write_bot(bots, "greeter", {"start": GREETER, "lookup": TOOL},
              {"no-model-message": "No model, sorry.", "start-on-connect": "true"})
    write_bot(bots, "plain", {})
    write_bot(bots, "counter", {"start": COUNTER})
    return settings_for(backend, tmp_path, bots)


def run(coro):
    return asyncio.run(coro)


def test_a_dialog_goes_through_hear_and_keeps_its_variables(settings):
    async def scenario():
        async with running(settings) as client:
            first = await say(client, "dialog", "hello")
            sid = first["session_id"]
            assert texts(first) == ["Welcome! What is your name?"]
            envelope = first["messages"][0]
            assert envelope["bot_id"] == "dialog" and envelope["session_id"] == sid
            assert envelope["message_type"] == 2 and envelope["is_complete"] is True
            assert envelope["stream_token"] is None and envelope["channel"] == "web"
            second = await say(client, "dialog", "Ann", session_id=sid)
            assert texts(second) == ["Hi Ann (1)"]
            buttons = second["messages"][-1]["suggestions"]
            assert [b["text"] for b in buttons] == ["more", "stop"]
            assert buttons[0]["action"] == {"type": "send_message", "value": "more"}
            # bot names are case-insensitive in URLs
            assert texts(await say(client, "DIALOG", "more", session_id=sid)) == ["Hi Ann (2)"]
            last = await say(client, "dialog", "stop", session_id=sid)
            assert texts(last) == ["Bye Ann after 2"]
            assert last["messages"][-1]["suggestions"] == []  # the menu went with its HEAR
            # start.bas ran once; the next message goes to the (absent) model
            after = await say(client, "dialog", "anything else?", session_id=sid)
            assert len(after["messages"]) == 1 and "no language model" in texts(after)[0]
    run(scenario())


def test_start_without_hear_then_the_llm_turn_answers(settings):
    async def scenario():
        async with running(settings) as client:
            reply = await say(client, "greeter", "hi")
            assert texts(reply) == ["Hello from start", "No model, sorry."]
            assert reply["messages"][0]["suggestions"] == []
            assert reply["messages"][-1]["suggestions"] == [
                {"text": "Help me", "context": "help", "icon": None,
                 "action": {"type": "select_context", "context": "help"}}]
            again = await say(client, "greeter", "again", session_id=reply["session_id"])
            assert texts(again) == ["No model, sorry."]
            plain = await say(client, "plain", "hi")
            assert texts(plain) == [
                "I can't answer that here: no language model is configured for this bot."]
    run(scenario())


def test_without_session_id_each_message_starts_a_new_session(settings):
    async def scenario():
        async with running(settings) as client:
            one = await say(client, "dialog", "a")
            two = await say(client, "dialog", "b")
            assert one["session_id"] != two["session_id"]
            assert texts(two) == ["Welcome! What is your name?"]
            chosen = new_id()
            mine = await say(client, "dialog", "c", session_id=chosen, user_id="u-42")
            assert mine["session_id"] == chosen and mine["messages"][0]["user_id"] == "u-42"
    run(scenario())


def test_history_holds_both_sides_in_order(settings):
    async def scenario():
        async with running(settings) as client:
            sid = (await say(client, "dialog", "hello", message_id="m1"))["session_id"]
            await say(client, "dialog", "Bob", session_id=sid)
            response = await client.get(f"/api/bots/dialog/sessions/{sid}/history")
            assert response.status == 200
            history = (await response.json())["messages"]
            assert [(m["role"], m["content"]) for m in history] == [
                ("user", "hello"), ("bot", "Welcome! What is your name?"),
                ("user", "Bob"), ("bot", "Hi Bob (1)")]
            assert history[0]["message_id"] == "m1"
            missing = await client.get(f"/api/bots/dialog/sessions/{new_id()}/history")
            assert missing.status == 404
            other_bot = await client.get(f"/api/bots/counter/sessions/{sid}/history")
            assert other_bot.status == 404
            stolen = await client.post("/api/bots/counter/messages", json={"content": "x", "session_id": sid})
            assert stolen.status == 404 and "session" in (await stolen.json())["error"]
    run(scenario())


def test_a_message_id_seen_before_is_not_processed_twice(settings):
    async def scenario():
        async with running(settings) as client:
            silent = await say(client, "counter", "start")
            sid = silent["session_id"]
            # the bot said nothing (start.bas waits at HEAR): one empty envelope ends the turn
            assert texts(silent) == [""] and silent["messages"][0]["suggestions"] == []
            first = await say(client, "counter", "a", session_id=sid, message_id="x1")
            again = await say(client, "counter", "a", session_id=sid, message_id="x1")
            assert again == first and texts(first) == ["n=1 x=a"]
            assert texts(await say(client, "counter", "b", session_id=sid, message_id="x2")) == ["n=2 x=b"]
    run(scenario())


def test_messages_of_one_session_are_handled_one_at_a_time(settings):
    async def scenario():
        async with running(settings) as client:
            sid = (await say(client, "counter", "start"))["session_id"]
            replies = await asyncio.gather(*(say(client, "counter", f"m{i}", session_id=sid)
                                             for i in range(20)))
            counts = sorted(int(texts(r)[0].split()[0][2:]) for r in replies)
            assert counts == list(range(1, 21))  # no turn lost, none ran twice
            history = await (await client.get(f"/api/bots/counter/sessions/{sid}/history")).json()
            bot_lines = [m["content"] for m in history["messages"] if m["role"] == "bot"]
            assert [int(line.split()[0][2:]) for line in bot_lines] == list(range(1, 21))
    run(scenario())


def test_sessions_run_concurrently_and_independently(settings):
    async def scenario():
        async with running(settings) as client:
            sids = [(await say(client, "dialog", "hi"))["session_id"] for _ in range(5)]
            names = [f"user{i}" for i in range(5)]
            replies = await asyncio.gather(*(say(client, "dialog", n, session_id=s)
                                             for n, s in zip(names, sids)))
            assert [texts(r) for r in replies] == [[f"Hi {n} (1)"] for n in names]
    run(scenario())


def test_a_tool_suggestion_runs_the_tool_directly(settings):
    async def scenario():
        async with running(settings) as client:
            sid = (await say(client, "greeter", "hi"))["session_id"]
            reply = await say(client, "greeter", "lookup", session_id=sid, message_type=6)
            assert texts(reply) == ["tool ran with "]
            # start.bas declares no PARAM/DESCRIPTION: not a tool, the message is routed as text
            other = await say(client, "greeter", "start", session_id=sid, message_type=6)
            assert texts(other) == ["No model, sorry."]
    run(scenario())


def test_websocket_conversation_and_reconnection(settings):
    async def scenario():
        async with running(settings) as client:
            async with client.ws_connect("/ws/dialog") as ws:
                connected = await ws.receive_json()
                assert connected["type"] == "connected"
                sid = connected["session_id"]
                await ws.send_str(json.dumps({"content": "hello"}))
                assert (await ws.receive_json())["content"] == "Welcome! What is your name?"
                await ws.send_str(json.dumps({"content": "Zoe"}))
                assert (await ws.receive_json())["content"] == "Hi Zoe (1)"
            async with client.ws_connect(f"/ws/dialog?session_id={sid}") as ws:
                assert await ws.receive_json() == {"type": "connected", "session_id": sid}
                await ws.send_str(json.dumps({"content": "stop", "message_id": "w1"}))
                envelope = await ws.receive_json()
                assert envelope["content"] == "Bye Zoe after 1" and envelope["reply_to"] == "w1"
    run(scenario())


def test_websocket_start_on_connect_greets_before_the_first_message(settings):
    async def scenario():
        async with running(settings) as client:
            async with client.ws_connect("/ws/greeter") as ws:
                sid = (await ws.receive_json())["session_id"]
                assert (await ws.receive_json())["content"] == "Hello from start"
                await ws.send_str(json.dumps({"content": "question"}))
                assert (await ws.receive_json())["content"] == "No model, sorry."
            async with client.ws_connect(f"/ws/greeter?session_id={sid}") as ws:
                await ws.receive_json()  # connected; start.bas does not run again
                await ws.send_str(json.dumps({"content": "q2"}))
                assert (await ws.receive_json())["content"] == "No model, sorry."
    run(scenario())


def test_websocket_bad_frames_get_an_error_and_the_connection_stays(settings):
    async def scenario():
        async with running(settings) as client:
            async with client.ws_connect("/ws/dialog") as ws:
                await ws.receive_json()
                await ws.send_str("{not json")
                assert (await ws.receive_json())["type"] == "error"
                await ws.send_str(json.dumps({"text_missing": 1}))
                assert (await ws.receive_json())["type"] == "error"
                await ws.send_str(json.dumps({"content": "hi"}))
                assert (await ws.receive_json())["content"] == "Welcome! What is your name?"
            assert ws.closed
            too_long = await client.get("/ws/dialog?session_id=" + "x" * 300)
            assert too_long.status == 400 and "session_id" in (await too_long.json())["error"]
    run(scenario())


def test_bot_memory_is_stored_in_the_database(settings):
    async def scenario():
        async with running(settings) as client:
            sid = (await say(client, "counter", "start"))["session_id"]
            await say(client, "counter", "remember me", session_id=sid)
            from botbasic.server.appkeys import STORE
            store = client.server.app[STORE]
            assert await store.memory.get("bot/counter", "last") == "remember me"
    run(scenario())


def test_a_binary_websocket_frame_gets_an_error(settings):
    async def scenario():
        async with running(settings) as client:
            async with client.ws_connect("/ws/dialog") as ws:
                await ws.receive_json()
                await ws.send_bytes(b"binary")
                message = await ws.receive()
                assert message.type == WSMsgType.TEXT and "error" in message.json()
    run(scenario())
