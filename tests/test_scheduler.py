"""Scheduled scripts (DIALECT §9.10.1, §7.1) and TALK TO (§9.1.2) on a running server.

Jobs are fired through the trigger hook ``ScheduleManager.fire(bot, script, minute)`` (in
process) or its admin endpoint ``POST /api/bots/{bot}/schedules/{script}/run`` (server
processes), which run a firing exactly as the clock does. The PostgreSQL test also waits
for one real minute of a ``* * * * *`` job fired by both processes' schedulers.
Schedules that must not fire by themselves during a test are yearly (``0 0 1 1 *``).
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from botbasic.server.config import ServerSettings
from botbasic.server.jobs import SCHEDULER, SYSTEM_TABLES
from botbasic.server.scheduler import cron_trigger
from jobs_support import Sink, pg_schema, redis_url, run, wait_until, wait_until_sync
from server_support import ServerProcess, new_id, running, say, settings_for, texts, write_bot
from smtp_support import smtp_server

YEARLY = 'SET SCHEDULE "0 0 1 1 *"\n'
MINUTES = [f"2001-01-01T00:{m:02d}Z" for m in range(60)]


def settings_on(database_url, tmp_path: Path, bots: Path) -> ServerSettings:
    return ServerSettings(bots_dir=bots, data_dir=tmp_path / "data", database_url=database_url,
                          watch=False)


async def metrics_text(client) -> str:
    response = await client.get("/metrics")
    return await response.text()


def metric(text: str, name: str, **labels) -> float:
    """The value of one series in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    series = f"{name}{{{wanted}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


# ---------------------------------------------------------------- registration


REGISTERED = {
    "five": 'SET SCHEDULE "*/5 * * * *"\nTALK "five"\n',
    "six": 'SET SCHEDULE "0 30 22 * * *"\n',  # 6 fields: the seconds are dropped
    "four": 'SET SCHEDULE "0 6 * *"\n',  # 4 fields: day-of-week * appended
    "monday": 'TALK "x"\nIF 1 = 2 THEN\n  SET SCHEDULE "every monday at 9am"\nEND IF\n',
    "office": 'SET SCHEDULE "every 15 minutes during business hours"\n',
    "twice": 'SET SCHEDULE "at noon"\nSET SCHEDULE "every hour"\n',
    "commented": 'REM SET SCHEDULE "every minute"\nTALK "never scheduled"\n',
    "broken": 'SET SCHEDULE "every minute"\nFOR i = 1 TO 3\n',  # does not compile
    "start": 'TALK "hi"\n',
}


def test_declarations_become_cron_jobs_in_the_bot_time_zone(tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "clock", REGISTERED, {"timezone": "Asia/Kolkata"})

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            jobs = client.app[SCHEDULER].jobs("clock")
            assert sorted((j["script"], j["cron"]) for j in jobs) == [
                ("five", "*/5 * * * *"), ("four", "0 6 * * *"), ("monday", "0 9 * * 1"),
                ("office", "*/15 9-17 * * 1-5"), ("six", "30 22 * * *"),
                ("twice", "0 * * * *"), ("twice", "0 12 * * *")]
            assert {j["timezone"] for j in jobs} == {"Asia/Kolkata"}
            monday = datetime.fromisoformat(next(j for j in jobs if j["script"] == "monday")["next_run"])
            assert (monday.weekday(), monday.hour, monday.minute) == (0, 9, 0)
            assert monday.utcoffset().total_seconds() == 5.5 * 3600
            response = await client.get("/api/bots/clock/schedules")
            assert response.status == 200
            listed = await response.json()
            assert listed["jobs"] == jobs and listed["runs"] == []
            assert metric(await metrics_text(client), "botbasic_scheduled_jobs") == 7
    run(scenario())


def test_cron_fields_keep_standard_cron_meaning():
    zone = ZoneInfo("UTC")

    def next_fires(cron: str, count: int = 3) -> list[str]:
        trigger, moment, fires = cron_trigger(cron, zone), datetime(2025, 1, 1, tzinfo=zone), []
        previous = None
        for _ in range(count):
            previous = trigger.get_next_fire_time(previous, moment)
            moment = previous
            fires.append(previous.strftime("%a %d %H:%M"))
        return fires

    assert next_fires("0 9 * * 1") == ["Mon 06 09:00", "Mon 13 09:00", "Mon 20 09:00"]
    assert next_fires("0 0 * * 0") == ["Sun 05 00:00", "Sun 12 00:00", "Sun 19 00:00"]
    assert next_fires("0 0 * * 0,6") == ["Sat 04 00:00", "Sun 05 00:00", "Sat 11 00:00"]
    assert next_fires("30 8 * * 1-5/2") == ["Wed 01 08:30", "Fri 03 08:30", "Mon 06 08:30"]
    # both day fields restricted: a day matching either one fires (Fridays and the 13th)
    assert next_fires("0 12 13 * 5", 4) == ["Fri 03 12:00", "Fri 10 12:00", "Mon 13 12:00",
                                            "Fri 17 12:00"]


def test_reload_adds_changes_and_removes_jobs(tmp_path):
    bots = tmp_path / "bots"
    dialog = bots / "live.gbai" / "live.gbdialog"
    write_bot(bots, "live", {"start": 'TALK "hi"\n', "report": 'SET SCHEDULE "every 5 minutes"\n'})

    async def reload_and_expect(client, expected):
        response = await client.post("/api/bots/live/reload")
        assert response.status == 200

        def jobs():
            found = sorted((j["script"], j["cron"]) for j in client.app[SCHEDULER].jobs("live"))
            return found == expected
        await wait_until(jobs, what=f"jobs {expected}")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            assert [(j["script"], j["cron"]) for j in client.app[SCHEDULER].jobs()] == [
                ("report", "*/5 * * * *")]
            (dialog / "report.bas").write_text('SET SCHEDULE "every 10 minutes"\n')  # changed
            (dialog / "backup.bas").write_text('SET SCHEDULE "daily at 2am"\n')  # added
            await reload_and_expect(client, [("backup", "0 2 * * *"), ("report", "*/10 * * * *")])
            (dialog / "report.bas").write_text('TALK "no schedule any more"\n')
            await reload_and_expect(client, [("backup", "0 2 * * *")])
            (dialog / "backup.bas").unlink()
            await reload_and_expect(client, [])
            # a script that stops compiling keeps serving (and scheduling) its last version
            (dialog / "backup.bas").write_text('SET SCHEDULE "weekly"\n')
            await reload_and_expect(client, [("backup", "0 0 * * 0")])
            (dialog / "backup.bas").write_text('SET SCHEDULE "weekly"\nFOR i = 1 TO 2\n')
            await reload_and_expect(client, [("backup", "0 0 * * 0")])
    run(scenario())


# ---------------------------------------------------------------- running


def test_a_firing_while_the_previous_run_is_in_progress_is_skipped(tmp_path, caplog):
    bots = tmp_path / "bots"
    with Sink() as sink:
        write_bot(bots, "slow", {"job": YEARLY + f'x = GET "{sink.url("/block")}"\nTALK "done"\n'},
                  {"http-allow-hosts": "127.0.0.1"})

        async def scenario():
            async with running(settings_for("sqlite", tmp_path, bots)) as client:
                manager, tables = client.app[SCHEDULER], client.app[SYSTEM_TABLES]
                first = asyncio.ensure_future(manager.fire("slow", "job", MINUTES[0]))
                await wait_until(lambda: sink.entered == 1, what="the first run to block")
                second = await manager.fire("slow", "job", MINUTES[1])
                assert second.result == "busy"
                runs = {r.fire_time: r for r in await tables.runs("slow")}
                assert runs[MINUTES[0]].status == "running"
                assert (runs[MINUTES[1]].status, runs[MINUTES[1]].error) == (
                    "skipped", "previous run still in progress")
                sink.release()
                report = await first
                assert (report.result, report.status, report.talked) == ("ran", "ok", ["done"])
                third = await manager.fire("slow", "job", MINUTES[2])
                assert (third.result, third.status) == ("ran", "ok")
                text = await metrics_text(client)
                assert metric(text, "botbasic_schedule_firings_total", bot="slow", result="busy") == 1
                assert metric(text, "botbasic_scheduled_runs_total", bot="slow", status="ok") == 2
        run(scenario())
    assert any("skipped: the previous run is still in progress" in r.getMessage()
               for r in caplog.records)


def test_scheduled_runs_are_system_context(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="botbasic")
    bots = tmp_path / "bots"
    write_bot(bots, "sys", {
        "talker": YEARLY + 'TALK "channel=" + session.channel + " user=" + user.id\n',
        "hearer": YEARLY + 'HEAR answer\nTALK "never"\n',
        "failing": YEARLY + 'x = 1 / 0\n',
    })

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            manager = client.app[SCHEDULER]
            talker = await manager.fire("sys", "talker", MINUTES[0])
            assert (talker.status, talker.talked) == ("ok", ["channel=system user=system:sys"])
            hearer = await manager.fire("sys", "hearer", MINUTES[0])
            assert hearer.status == "error" and "no user to hear from" in hearer.error
            assert hearer.error.startswith(str(bots / "sys.gbai" / "sys.gbdialog" / "hearer.bas") + ":2:")
            failing = await manager.fire("sys", "failing", MINUTES[0])
            assert failing.status == "error" and "division by zero" in failing.error
            runs = {r.script: r for r in await client.app[SYSTEM_TABLES].runs("sys")}
            assert {k: r.status for k, r in runs.items()} == {
                "talker": "ok", "hearer": "error", "failing": "error"}
            assert runs["talker"].finished_at >= runs["talker"].started_at
            assert "no user to hear from" in runs["hearer"].error
            missing = await client.post("/api/bots/sys/schedules/nothing/run")
            assert missing.status == 404
    run(scenario())
    logged = [r.getMessage() for r in caplog.records]
    assert "TALK without a user: channel=system user=system:sys" in logged
    assert any(m.startswith("scheduled run of failing at 2001-01-01T00:00Z finished: error")
               for m in logged)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_talk_to_pushes_to_open_sockets_and_keeps_the_rest_for_later(tmp_path, backend):
    live, away, later, user = new_id(), new_id(), new_id(), f"user-{new_id()}"
    bots = tmp_path / "bots"
    notify = YEARLY + f"""TALK TO "web:{live}", "live message"
TALK TO "{away}", "stored message"
TALK TO "web:{later}", "for a session that does not exist yet"
TALK TO "{user}", "for the user"
TALK TO "email:ann@example.com", "Mail from the job"
ON ERROR RESUME NEXT
TALK TO "whatsapp:+5511999887766", "no whatsapp here"
TALK "trapped: " + ERROR MESSAGE
"""
    with smtp_server() as smtp, _database(backend) as database:
        write_bot(bots, "note", {"start": 'TALK "hello"\n', "notify": notify},
                  {**dict(smtp.config().items()), "no-model-message": "no model"})

        async def scenario():
            async with running(settings_on(database, tmp_path, bots)) as client:
                manager = client.app[SCHEDULER]
                assert texts(await say(client, "note", "hi", session_id=away)) == ["hello", "no model"]
                async with client.ws_connect(f"/ws/note?session_id={live}") as ws:
                    assert (await ws.receive_json())["type"] == "connected"
                    report = await manager.fire("note", "notify", MINUTES[0])
                    assert report.status == "ok", report
                    assert report.talked == [
                        "trapped: TALK TO whatsapp:+5511999887766: the whatsapp channel is "
                        "not configured for this bot"]
                    pushed = await ws.receive_json(timeout=10)
                    assert (pushed["content"], pushed["session_id"], pushed["message_type"]) == (
                        "live message", live, 2)
                assert [m.text() for m in smtp.received] == ["Mail from the job\n"]
                assert smtp.received[0].recipients == ["ann@example.com"]
                # the away session gets its message when it connects ...
                async with client.ws_connect(f"/ws/note?session_id={away}") as ws:
                    assert (await ws.receive_json())["type"] == "connected"
                    assert (await ws.receive_json(timeout=10))["content"] == "stored message"
                # ... or in front of the reply to its next message
                await manager.fire("note", "notify", MINUTES[1])
                reply = await say(client, "note", "again", session_id=away)
                assert texts(reply) == ["stored message", "no model"]
                assert texts(await say(client, "note", "hi", session_id=later)) == [
                    "for a session that does not exist yet"] * 2 + ["hello", "no model"]
                async with client.ws_connect(f"/ws/note?user_id={user}") as ws:
                    assert (await ws.receive_json())["type"] == "connected"
                    first = await ws.receive_json(timeout=10)
                    second = await ws.receive_json(timeout=10)
                    assert [first["content"], second["content"]] == ["for the user"] * 2
                    assert first["user_id"] == user
                # the live session was offline for the second firing: stored, then delivered
                async with client.ws_connect(f"/ws/note?session_id={live}") as ws:
                    await ws.receive_json()
                    assert (await ws.receive_json(timeout=10))["content"] == "live message"
                assert await client.app[SYSTEM_TABLES].pending_count("note") == 0
                text = await metrics_text(client)
                counts = {delivery: metric(text, "botbasic_channel_messages_total", bot="note",
                                           delivery=delivery)
                          for delivery in ("pushed", "stored", "delivered", "email")}
                assert counts == {"pushed": 1, "stored": 7, "delivered": 7, "email": 2}
        run(scenario())


def test_talk_to_reaches_a_socket_open_on_another_server(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    bots, session = tmp_path / "bots", new_id()
    write_bot(bots, "relay", {"start": 'TALK "hi"\n',
                              "notify": YEARLY + f'TALK TO "web:{session}", "across servers"\n'})

    async def scenario(a: ServerProcess, b: ServerProcess):
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{b.url}/ws/relay?session_id={session}") as ws:
                assert (await ws.receive_json())["type"] == "connected"
                async with http.post(f"{a.url}/api/bots/relay/schedules/notify/run",
                                     json={"fire_time": MINUTES[0]}) as response:
                    assert (await response.json())["status"] == "ok"
                pushed = await ws.receive_json(timeout=20)
                assert (pushed["content"], pushed["session_id"]) == ("across servers", session)

    with pg_schema() as database:
        with ServerProcess(bots, tmp_path / "a", database) as a, \
                ServerProcess(bots, tmp_path / "b", database) as b:
            run(scenario(a, b))
            sent, received = _get_text(a.url + "/metrics"), _get_text(b.url + "/metrics")
            assert metric(sent, "botbasic_channel_messages_total", bot="relay", delivery="stored") == 1
            assert metric(received, "botbasic_channel_messages_total", bot="relay",
                          delivery="delivered") == 1


def _database(backend: str):
    """A context giving the DATABASE_URL of a fresh database of ``backend`` (None: SQLite)."""
    if backend == "postgres":
        return pg_schema()
    from contextlib import nullcontext
    return nullcontext(None)


# ---------------------------------------------------------------- exactly once


def test_two_servers_on_one_sqlite_file_run_each_firing_once(tmp_path):
    bots = tmp_path / "bots"
    with Sink() as sink:
        write_bot(bots, "pair", {"tick": YEARLY + f'r = POST "{sink.url("/hit")}", #{{n: 1}}\n'},
                  {"http-allow-hosts": "127.0.0.1"})
        settings = settings_for("sqlite", tmp_path, bots)

        async def scenario():
            async with running(settings) as a, running(settings) as b:
                managers = [a.app[SCHEDULER], b.app[SCHEDULER]]
                for minute in MINUTES[:5]:
                    reports = await asyncio.gather(*(m.fire("pair", "tick", minute) for m in managers))
                    assert sorted(r.result for r in reports) == ["ran", "taken"]
                runs = await a.app[SYSTEM_TABLES].runs("pair")
                assert sorted(r.fire_time for r in runs) == MINUTES[:5]
                assert {r.status for r in runs} == {"ok"}
        run(scenario())
        assert len(sink.hits) == 5


def _fire_on(servers, bot: str, script: str, minute: str) -> list[dict]:
    """Fire one minute on every server at once (admin hook); their reports."""
    def fire(server):
        status, report = server.post(f"/api/bots/{bot}/schedules/{script}/run",
                                     {"fire_time": minute})
        assert status == 200, (report, server.log)
        return report
    with ThreadPoolExecutor(len(servers)) as pool:
        return list(pool.map(fire, servers))


def _pool_bot(bots: Path, sink: Sink) -> None:
    write_bot(bots, "tick", {
        "start": 'TALK "hi"\n',
        "tick": f'SET SCHEDULE "* * * * *"\nr = POST "{sink.url("/hit")}", #{{n: 1}}\n',
        "slow": YEARLY + f'x = GET "{sink.url("/block")}"\n',
    }, {"http-allow-hosts": "127.0.0.1"})


def _overlap_across_processes(a: ServerProcess, b: ServerProcess, sink: Sink) -> None:
    """A run in progress in one process makes the other skip the next firing."""
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(a.post, "/api/bots/tick/schedules/slow/run", {"fire_time": MINUTES[30]})
        wait_until_sync(lambda: sink.entered == 1, what="the slow run to block")
        status, skipped = b.post("/api/bots/tick/schedules/slow/run", {"fire_time": MINUTES[31]})
        assert (status, skipped["result"]) == (200, "busy"), (skipped, b.log)
        sink.release()
        status, report = first.result(timeout=30)
        assert (report["result"], report["status"]) == ("ran", "ok")


def _taken_firings(servers) -> float:
    """Firings of ``tick`` the servers left to another process (their /metrics)."""
    return sum(metric(_get_text(server.url + "/metrics"), "botbasic_schedule_firings_total",
                      bot="tick", result="taken") for server in servers)


def _get_text(url: str) -> str:
    import urllib.request
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def _runs(server: ServerProcess) -> list[dict]:
    status, listing = server.get("/api/bots/tick/schedules")
    assert status == 200, listing
    return listing["runs"]


def _one_hit_per_tick(servers, sink: Sink) -> list[dict]:
    """Wait until every recorded ``tick`` run has finished and the sink has exactly one hit
    per run (a firing run twice would leave one hit too many for good); the runs."""
    def settled():
        ticks = [r for server in servers for r in _runs(server) if r["script"] == "tick"]
        finished = all(r["status"] == "ok" for r in ticks)
        return ticks if finished and len(sink.hits) == len(ticks) else None
    return wait_until_sync(settled, what="one side effect per firing")


def test_two_servers_sharing_postgresql_run_each_firing_once(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    bots = tmp_path / "bots"
    with Sink() as sink, pg_schema() as database:
        _pool_bot(bots, sink)
        with ServerProcess(bots, tmp_path / "a", database) as a, \
                ServerProcess(bots, tmp_path / "b", database) as b:
            for minute in MINUTES[:4]:
                reports = _fire_on([a, b], "tick", "tick", minute)
                assert sorted(r["result"] for r in reports) == ["ran", "taken"]
            _overlap_across_processes(a, b, sink)
            # One real minute (at least 2 s ahead): both schedulers fire it, one runs it.
            ahead = time.time() + 2
            taken = _taken_firings([a, b])
            real = datetime.fromtimestamp((int(ahead) // 60 + 1) * 60, timezone.utc)
            real_minute = real.strftime("%Y-%m-%dT%H:%MZ")
            wait_until_sync(lambda: any(r["fire_time"] == real_minute and r["status"] == "ok"
                                        for r in _runs(a)), deadline=75,
                            what=f"the real firing of {real_minute}")
            wait_until_sync(lambda: _taken_firings([a, b]) > taken, what="the losing firing")
            ticks = _one_hit_per_tick([a], sink)
            fire_times = [r["fire_time"] for r in ticks]
            assert len(set(fire_times)) == len(fire_times)
            assert set(MINUTES[:4]) | {real_minute} <= set(fire_times)
            slow = {r["fire_time"]: r["status"] for r in _runs(a) if r["script"] == "slow"}
            assert slow == {MINUTES[30]: "ok", MINUTES[31]: "skipped"}


def test_two_servers_sharing_redis_run_each_firing_once(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url())
    monkeypatch.setenv("BOTBASIC_REDIS_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
    bots = tmp_path / "bots"
    with Sink() as sink:
        _pool_bot(bots, sink)
        # Separate SQLite databases: only Redis is shared, so only Redis can decide.
        with ServerProcess(bots, tmp_path / "a") as a, ServerProcess(bots, tmp_path / "b") as b:
            assert "claimed in Redis" in a.log and "claimed in Redis" in b.log
            for minute in MINUTES[:6]:
                reports = _fire_on([a, b], "tick", "tick", minute)
                assert sorted(r["result"] for r in reports) == ["ran", "taken"]
            _overlap_across_processes(a, b, sink)
            ticks = _one_hit_per_tick([a, b], sink)
            fire_times = [r["fire_time"] for r in ticks]
            assert len(set(fire_times)) == len(fire_times)  # no firing ran in both
            assert set(MINUTES[:6]) <= set(fire_times)
            slow = {r["fire_time"]: r["status"] for server in (a, b) for r in _runs(server)
                    if r["script"] == "slow"}
            assert slow == {MINUTES[30]: "ok", MINUTES[31]: "skipped"}
