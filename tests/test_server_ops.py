"""Operations: /health, /ready, /metrics, the admin API and its key, reload, pages."""
from __future__ import annotations

import asyncio
import re

from botbasic.server.metrics import Histogram
from server_support import running, say, settings_for, texts, write_bot

V1 = """HEAR name WITH "v1: name?"
TALK "v1 says hi " + name
"""
V2 = """HEAR name WITH "v2: name?"
TALK "v2 says hi " + name
"""
BROKEN = """TALK "ok"
IF x THEN
TALK "no END IF"
"""


def run(coro):
    return asyncio.run(coro)


def make_bots(tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "hello", {"start": V1})
    write_bot(bots, "broken", {"start": BROKEN})
    return bots


def test_health_ready_and_metrics(tmp_path):
    settings = settings_for("sqlite", tmp_path, make_bots(tmp_path))

    async def scenario():
        async with running(settings) as client:
            health = await client.get("/health")
            assert health.status == 200 and (await health.json())["status"] == "ok"
            ready = await client.get("/ready")
            assert ready.status == 200 and (await ready.json())["status"] == "ready"
            sid = (await say(client, "hello", "hi"))["session_id"]
            await say(client, "hello", "Ann", session_id=sid)
            response = await client.get("/metrics")
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
            assert 'botbasic_messages_received_total{bot="hello"} 2' in text
            assert 'botbasic_sessions_created_total{bot="hello"} 1' in text
            assert "botbasic_bots_loaded 2" in text
            assert "# TYPE botbasic_turn_latency_seconds histogram" in text
            assert 'botbasic_turn_latency_seconds_bucket{le="+Inf"} 2' in text
            assert "botbasic_turn_latency_seconds_count 2" in text
            for line in text.splitlines():  # every sample line is "name{labels} value"
                assert line.startswith("#") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? [0-9.e+-]+|.*\+Inf\"\} \d+", line)
    run(scenario())


def test_histogram_buckets_are_cumulative():
    histogram = Histogram("t", "test", buckets=(0.1, 1.0))
    for value in (0.05, 0.5, 0.5, 5.0):
        histogram.observe(value)
    lines = histogram.render()
    assert 't_bucket{le="0.1"} 1' in lines and 't_bucket{le="1"} 3' in lines
    assert 't_bucket{le="+Inf"} 4' in lines and "t_count 4" in lines and "t_sum 6.05" in lines


def test_admin_lists_bots_with_errors_on_loopback_without_key(tmp_path):
    settings = settings_for("sqlite", tmp_path, make_bots(tmp_path))

    async def scenario():
        async with running(settings) as client:
            response = await client.get("/api/bots")
            assert response.status == 200
            bots = {b["name"]: b for b in (await response.json())["bots"]}
            assert bots["hello"]["status"] == "ok" and bots["hello"]["errors"] == []
            assert [s["name"] for s in bots["hello"]["scripts"]] == ["start"]
            error = bots["broken"]["errors"][0]
            assert error["file"].endswith("start.bas") and error["line"] == 2
            assert {"file", "line", "col", "message"} <= set(error)
            # the broken bot does not stop the good one
            assert texts(await say(client, "hello", "hi")) == ["v1: name?"]
    run(scenario())


def test_admin_needs_the_key_when_bound_to_a_public_address(tmp_path):
    bots = make_bots(tmp_path)
    keyed = settings_for("sqlite", tmp_path, bots, host="0.0.0.0", admin_key="s3cret")
    keyless = settings_for("sqlite", tmp_path, bots, host="0.0.0.0", admin_key=None)

    async def scenario():
        async with running(keyed) as client:
            assert (await client.get("/api/bots")).status == 401
            wrong = await client.get("/api/bots", headers={"X-Admin-Key": "nope"})
            assert wrong.status == 401
            assert (await client.post("/api/bots/hello/reload")).status == 401
            right = await client.get("/api/bots", headers={"X-Admin-Key": "s3cret"})
            assert right.status == 200 and len((await right.json())["bots"]) == 2
            # the chat API stays open
            assert texts(await say(client, "hello", "hi")) == ["v1: name?"]
        async with running(keyless) as client:
            assert (await client.get("/api/bots", headers={"X-Admin-Key": ""})).status == 403
    run(scenario())


def test_reload_serves_the_new_version_and_waiting_sessions_keep_theirs(tmp_path):
    bots = make_bots(tmp_path)
    settings = settings_for("sqlite", tmp_path, bots)

    async def scenario():
        async with running(settings) as client:
            old = (await say(client, "hello", "hi"))["session_id"]
            write_bot(bots, "hello", {"start": V2})
            response = await client.post("/api/bots/hello/reload")
            assert response.status == 200 and (await response.json())["status"] == "ok"
            assert texts(await say(client, "hello", "hi")) == ["v2: name?"]
            assert texts(await say(client, "hello", "Ann", session_id=old)) == ["v1 says hi Ann"]
            assert (await client.post("/api/bots/ghost/reload")).status == 404
    run(scenario())


def test_pages_and_static_files(tmp_path):
    settings = settings_for("sqlite", tmp_path, make_bots(tmp_path))

    async def scenario():
        async with running(settings) as client:
            index = await client.get("/")
            assert index.status == 200 and "text/html" in index.headers["Content-Type"]
            chat = await client.get("/bots/hello")
            assert chat.status == 200 and "text/html" in chat.headers["Content-Type"]
            script = await client.get("/static/chat.js")
            assert script.status == 200
    run(scenario())


def test_a_package_added_while_the_server_runs_is_served(tmp_path):
    bots = make_bots(tmp_path)
    settings = settings_for("sqlite", tmp_path, bots, watch=True)

    async def scenario():
        async with running(settings) as client:
            assert (await client.post("/api/bots/late/messages", json={"content": "hi"})).status == 404
            write_bot(bots, "late", {"start": 'TALK "late bot"\n'})
            for _ in range(600):  # polls until the watcher reloads; fails only if it never does
                response = await client.post("/api/bots/late/messages", json={"content": "hi"})
                if response.status == 200:
                    break
                await asyncio.sleep(0.05)
            assert response.status == 200
            assert texts(await response.json())[0] == "late bot"
    run(scenario())
