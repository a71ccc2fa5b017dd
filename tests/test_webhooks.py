"""Webhooks (DIALECT §9.7.8, §11 A-33): ``WEBHOOK "name"`` scripts as HTTP endpoints of a
running server, in system context."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime

import pytest

from botbasic.server.jobs import SYSTEM_TABLES
from jobs_support import pg_schema, run, wait_until
from server_support import new_id, running, say, settings_for, texts, write_bot

SCRIPTS = {
    "start": 'TALK "hello"\n',
    "echo": '''WEBHOOK "Echo Request!"
RETURN #{method: method, path: path, token: headers["X-Token"], agent: headers.host,
  q: params.q, tags: params.tag, body: body, name: body.customer.name, ts: timestamp}
''',
    "created": 'WEBHOOK "created"\n'
               'RETURN #{status: 201, headers: #{"X-Trace": "abc"}, body: #{id: 7}, extra: 1}\n',
    "implicit": 'WEBHOOK "implicit"\nRETURN #{status: 202, headers: #{"X-A": 1}, id: 9, ok: TRUE}\n',
    "text": 'WEBHOOK "text"\n'
            'RETURN #{status: 200, headers: #{"Content-Type": "text/plain"}, body: "plain words"}\n',
    "word": 'WEBHOOK "word"\nRETURN "just text"\n',
    "number": 'WEBHOOK "number"\nRETURN 42\n',
    "list": 'WEBHOOK "list"\nx = [1, "two", #{three: 3}]\nRETURN x\n',
    "statusword": 'WEBHOOK "statusword"\nRETURN #{status: "done", n: 1}\n',
    "badstatus": 'WEBHOOK "badstatus"\nRETURN #{status: 99}\n',
    "results": 'WEBHOOK "results"\nresult_status = "queued"\nResult_Count = 2\nother = 1\n',
    "plain": 'WEBHOOK "plain"\nx = 1\n',
    "failing": 'WEBHOOK "failing"\nx = 1 / 0\n',
    "trapped": 'WEBHOOK "trapped"\nON ERROR RESUME NEXT\nx = 1 / 0\nresult_error = ERROR MESSAGE\n',
    "hearer": 'WEBHOOK "hearer"\nHEAR answer\nRETURN answer\n',
    "talker": 'WEBHOOK "talker"\nTALK "nobody listens"\nRETURN #{channel: session.channel}\n',
}


@pytest.fixture
def bots(tmp_path):
    folder = tmp_path / "bots"
    write_bot(folder, "hooks", SCRIPTS, {"webhook-max-bytes": "200"})
    return folder


async def call(client, name: str, method: str = "POST", bot: str = "hooks", path=None,
               **kwargs):
    """(status, headers, JSON body) of one webhook request."""
    path = path or f"/api/bots/{bot}/webhooks/"
    response = await client.request(method, path + name, **kwargs)
    return response.status, response.headers, await response.json(content_type=None)


def test_the_request_is_visible_to_the_script(tmp_path, bots):
    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            body = {"customer": {"name": "Ann"}, "items": [1, 2]}
            status, _, echoed = await call(client, "echo-request?q=1&tag=a&tag=b", json=body,
                                           headers={"X-Token": "secret"})
            assert status == 200
            assert {k: echoed[k] for k in ("method", "path", "token", "q", "tags", "body", "name")} == {
                "method": "POST", "path": "/api/bots/hooks/webhooks/echo-request", "token": "secret",
                "q": "1", "tags": ["a", "b"], "body": body, "name": "Ann"}
            assert str(echoed["agent"]).startswith("127.0.0.1:"), echoed
            assert datetime.fromisoformat(echoed["ts"]).utcoffset().total_seconds() == 0
            # GET, the spec's path spelling, a name in any case, no body
            status, _, echoed = await call(client, "ECHO-request", "GET",
                                           path="/api/hooks/webhook/")
            assert (status, echoed["method"], echoed["body"], echoed["q"]) == (200, "GET", None, None)
            # text and form bodies
            _, _, echoed = await call(client, "echo-request", data="not {json",
                                      headers={"Content-Type": "text/plain"})
            assert echoed["body"] == "not {json"
            _, _, echoed = await call(client, "echo-request", data={"a": "1", "b": "x y"})
            assert echoed["body"] == {"a": "1", "b": "x y"}
            _, _, echoed = await call(client, "echo-request", data=b"",
                                      headers={"Content-Type": "application/json"})
            assert echoed["body"] is None
    run(scenario())


def test_every_response_rule(tmp_path, bots):
    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            status, headers, body = await call(client, "created")
            assert (status, headers["X-Trace"], body) == (201, "abc", {"id": 7})
            status, headers, body = await call(client, "implicit")
            assert (status, headers["X-A"], body) == (202, "1", {"id": 9, "ok": True})
            response = await client.post("/api/bots/hooks/webhooks/text")
            assert (response.status, response.content_type) == (200, "text/plain")
            assert await response.text() == "plain words"
            assert (await call(client, "word"))[::2] == (200, "just text")
            assert (await call(client, "number"))[::2] == (200, 42)
            assert (await call(client, "list"))[::2] == (200, [1, "two", {"three": 3}])
            assert (await call(client, "statusword"))[::2] == (200, {"status": "done", "n": 1})
            status, _, body = await call(client, "badstatus")
            assert status == 500 and "invalid HTTP status 99" in body["error"]
            assert (await call(client, "results"))[::2] == (200, {"status": "queued", "count": 2})
            assert (await call(client, "plain"))[::2] == (200, {"status": "ok"})
            assert (await call(client, "trapped"))[::2] == (200, {"error": "division by zero"})
    run(scenario())


def test_script_errors_are_500_and_run_in_system_context(tmp_path, bots, caplog):
    caplog.set_level(logging.INFO, logger="botbasic")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            assert (await call(client, "failing"))[::2] == (500, {"error": "division by zero"})
            assert (await call(client, "hearer"))[::2] == (500, {"error": "no user to hear from"})
            assert (await call(client, "talker"))[::2] == (200, {"channel": "system"})
            metrics = await (await client.get("/metrics")).text()
            assert 'botbasic_webhook_requests_total{bot="hooks",status="500"} 2' in metrics
            assert 'botbasic_webhook_requests_total{bot="hooks",status="200"} 1' in metrics
    run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert "TALK without a user: nobody listens" in messages
    assert any(m.endswith("failing.bas:2: error: division by zero") for m in messages)


def test_bad_requests(tmp_path, bots):
    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            status, _, body = await call(client, "echo-request", data=b'{"a": ',
                                         headers={"Content-Type": "application/json"})
            assert (status, body) == (400, {"error": "malformed JSON body"})
            status, _, body = await call(client, "echo-request", data=b"[1,",
                                         headers={"Content-Type": "application/vnd.api+json"})
            assert status == 400
            status, _, body = await call(client, "echo-request", json={"big": "x" * 300})
            assert (status, body) == (413, {"error": "body larger than 200 bytes"})
            assert (await call(client, "nothing"))[::2] == (404, {"error": "unknown webhook: nothing"})
            assert (await call(client, "start"))[0] == 404  # a script without WEBHOOK
            status, _, body = await call(client, "echo", path="/api/bots/nobody/webhooks/")
            assert (status, body) == (404, {"error": "unknown bot: nobody"})
            status, _, body = await call(client, "echo-request", "PUT")
            assert status == 405 and "error" in body
            # the bot keeps working
            assert (await call(client, "plain"))[::2] == (200, {"status": "ok"})
    run(scenario())


def test_webhooks_follow_hot_reload(tmp_path):
    bots = tmp_path / "bots"
    dialog = bots / "live.gbai" / "live.gbdialog"
    write_bot(bots, "live", {"start": 'TALK "hi"\n'})
    settings = settings_for("sqlite", tmp_path, bots, watch=True)

    async def answers(client, name, expected_status):
        async def check():
            return (await call(client, name, bot="live"))[0] == expected_status
        await wait_until(check, what=f"webhook {name} -> {expected_status}")

    async def until_watching(client):
        """Events before the watcher is ready are lost: rewrite until one is seen."""
        async def seen():
            (dialog / "orders.bas").write_text('WEBHOOK "orders"\nRETURN #{v: 1}\n')
            await asyncio.sleep(0.2)
            return (await call(client, "orders", bot="live"))[0] == 200
        await wait_until(seen, what="the watcher")

    async def scenario():
        async with running(settings) as client:
            assert (await call(client, "orders", bot="live"))[0] == 404
            await until_watching(client)
            (dialog / "orders.bas").write_text('WEBHOOK "orders"\nRETURN #{v: 2}\n')
            await wait_until(lambda: _body_is(client, "orders", {"v": 2}), what="the new version")
            (dialog / "orders.bas").write_text('WEBHOOK "sales"\nRETURN #{v: 3}\n')
            await answers(client, "sales", 200)
            assert (await call(client, "orders", bot="live"))[0] == 404
            (dialog / "orders.bas").unlink()
            await answers(client, "sales", 404)
            # the admin reload endpoint has the same effect
            (dialog / "refunds.bas").write_text('WEBHOOK "refunds"\nRETURN 1\n')
            assert (await client.post("/api/bots/live/reload")).status == 200
            assert (await call(client, "refunds", bot="live"))[::2] == (200, 1)
    run(scenario())


async def _body_is(client, name: str, expected) -> bool:
    status, _, body = await call(client, name, bot="live")
    return status == 200 and body == expected


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_webhook_talks_to_a_user_and_keeps_bot_memory(tmp_path, backend):
    bots = tmp_path / "bots"
    session = new_id()
    write_bot(bots, "shop", {
        "start": 'TALK "welcome"\n',
        "paid": f'''WEBHOOK "paid"
SET BOT MEMORY "last_order", body.order
TALK TO "web:{session}", "Order " + body.order + " is paid"
RETURN #{{status: 202, received: body.order}}
''',
        "last": 'WEBHOOK "last"\nRETURN GET BOT MEMORY "last_order"\n',
    }, {"no-model-message": "no model"})

    async def scenario(database):
        settings = replace(settings_for("sqlite", tmp_path, bots), database_url=database)
        async with running(settings) as client:
            assert texts(await say(client, "shop", "hi", session_id=session))[0] == "welcome"
            status, _, body = await call(client, "paid", bot="shop",
                                         json={"order": "A-17"})
            assert (status, body) == (202, {"received": "A-17"})
            assert await client.app[SYSTEM_TABLES].pending_count("shop") == 1
            assert (await call(client, "last", bot="shop"))[::2] == (200, "A-17")
            reply = await say(client, "shop", "anything new?", session_id=session)
            assert texts(reply) == ["Order A-17 is paid", "no model"]

    if backend == "postgres":
        with pg_schema() as database:
            run(scenario(database))
    else:
        run(scenario(None))


def test_a_webhook_secret_is_required_when_the_bot_sets_one(tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "locked", {"hook": 'WEBHOOK "hook"\nresult_ran = TRUE\n'},
              {"webhook-secret": "s3cret"})

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            answers = [await call(client, "hook", bot="locked", headers=headers)
                       for headers in ({}, {"X-Webhook-Secret": "wrong"},
                                       {"Authorization": "Basic s3cret"},
                                       {"X-Webhook-Secret": "s3cret"},
                                       {"Authorization": "Bearer s3cret"})]
            return [(status, body) for status, _, body in answers]

    refused = (401, {"error": "this webhook needs the bot's webhook secret"})
    assert run(scenario()) == [refused, refused, refused,
                               (200, {"ran": True}), (200, {"ran": True})]
