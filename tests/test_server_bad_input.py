"""Bad input never hurts the server: one test per case (issue 3, point 7)."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
from aiohttp import WSMsgType

from botbasic.server.logs import KeyValueFormatter
from server_support import BACKENDS, running, say, settings_for, texts, write_bot

FRAGILE = """TALK "Say something"
HEAR what
IF what = "boom" THEN
  THROW "kaboom"
END IF
TALK "You said " + what
"""

BROKEN_START = """x = 1 / 0
TALK "never"
"""


@pytest.fixture(params=BACKENDS)
def settings(request, tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "fragile", {"start": FRAGILE},
              {"Error Message": "Oops, our fault.", "max-message-bytes": "1000"})
    write_bot(bots, "shaky", {"start": BROKEN_START})
    return settings_for(request.param, tmp_path, bots)


def run(coro):
    return asyncio.run(coro)


async def post_raw(client, bot: str, body: bytes):
    response = await client.post(f"/api/bots/{bot}/messages", data=body,
                                 headers={"Content-Type": "application/json"})
    return response.status, await response.json()


def test_malformed_json_is_400(settings):
    async def scenario():
        async with running(settings) as client:
            assert await post_raw(client, "fragile", b'{"content": ') == (400, {"error": "malformed JSON"})
            status, body = await post_raw(client, "fragile", b"\xff\xfe")
            assert status == 400 and "error" in body
            status, body = await post_raw(client, "fragile", b'["content"]')
            assert status == 400 and "error" in body
            assert await post_raw(client, "shaky", b"[" * 60000) == (400, {"error": "malformed JSON"})
    run(scenario())


def test_missing_content_is_400(settings):
    async def scenario():
        async with running(settings) as client:
            status, body = await post_raw(client, "fragile", b'{"session_id": "abc"}')
            assert status == 400 and "content" in body["error"]
    run(scenario())


def test_non_string_content_is_400(settings):
    async def scenario():
        async with running(settings) as client:
            for content in (5, None, ["a"], {"a": 1}, True):
                status, body = await post_raw(client, "fragile", json.dumps({"content": content}).encode())
                assert status == 400 and "content" in body["error"], content
            status, body = await post_raw(client, "fragile",
                                          json.dumps({"content": "x", "session_id": 7}).encode())
            assert status == 400 and "session_id" in body["error"]
    run(scenario())


def test_a_message_over_the_limit_is_413(settings):
    async def scenario():
        async with running(settings) as client:
            status, body = await post_raw(client, "fragile", json.dumps({"content": "x" * 2000}).encode())
            assert status == 413 and "error" in body
            assert texts(await say(client, "fragile", "x" * 900)) == ["Say something"]
    run(scenario())


def test_a_websocket_frame_over_the_limit_closes_with_1009(settings):
    async def scenario():
        async with running(settings) as client:
            async with client.ws_connect("/ws/fragile") as ws:
                await ws.receive_json()
                await ws.send_str(json.dumps({"content": "x" * 2000}))
                message = await ws.receive()
                assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
                assert ws.close_code == 1009
            assert texts(await say(client, "fragile", "still fine")) == ["Say something"]
    run(scenario())


def test_an_unknown_bot_is_404(settings):
    async def scenario():
        async with running(settings) as client:
            status, body = await post_raw(client, "nobody", b'{"content": "hi"}')
            assert status == 404 and "nobody" in body["error"]
            response = await client.get("/ws/nobody")
            assert response.status == 404
            response = await client.get("/bots/nobody")
            assert response.status == 404
    run(scenario())


def test_a_script_error_gets_the_apology_and_the_session_stays_usable(settings):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("botbasic.script")
    logger.addHandler(handler)

    async def scenario():
        async with running(settings) as client:
            victim = (await say(client, "fragile", "hi"))["session_id"]
            bystander = (await say(client, "fragile", "hi"))["session_id"]
            failed = await say(client, "fragile", "boom", session_id=victim)
            assert texts(failed) == ["Oops, our fault."]  # not the error text
            after = await say(client, "fragile", "hello?", session_id=victim)
            assert len(after["messages"]) == 1 and "no language model" in texts(after)[0]
            assert texts(await say(client, "fragile", "fine", session_id=bystander)) == ["You said fine"]
            metrics = await (await client.get("/metrics")).text()
            assert 'botbasic_script_errors_total{bot="fragile"} 1' in metrics
    try:
        run(scenario())
    finally:
        logger.removeHandler(handler)
    errors = [r for r in records if getattr(r, "script", None)]
    assert len(errors) == 1
    assert errors[0].script.endswith("start.bas:4") and errors[0].bot == "fragile"
    line = KeyValueFormatter().format(errors[0])
    assert "bot=fragile" in line and "start.bas:4" in line and "kaboom" in line


def test_a_failing_start_script_apologises_then_the_conversation_goes_on(settings):
    async def scenario():
        async with running(settings) as client:
            reply = await say(client, "shaky", "hi")
            assert texts(reply)[0].startswith("Sorry, something went wrong")
            again = await say(client, "shaky", "hi again", session_id=reply["session_id"])
            assert len(again["messages"]) == 1 and "no language model" in texts(again)[0]
    run(scenario())
