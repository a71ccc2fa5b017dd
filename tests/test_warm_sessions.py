"""Conversations kept warm between turns (server/warm_sessions.py): a process continues
with the live objects of a session's last turn only while nobody else committed a turn of
it; a turn that did not commit leaves nothing behind; a reloaded bot starts cold.
Also the pending-message hints that spare turns a query."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from botbasic.server.appkeys import CONVERSATIONS, METRICS
from botbasic.server.channels import PendingHints
from botbasic.server.system_tables import SQLiteTables

from server_support import BACKENDS, running, say, settings_for, texts, write_bot
from store_support import items

COUNTER = """n = 0
DO
  HEAR msg
  n = n + 1
  TALK n + ": " + msg
LOOP
"""


def run(coro):
    return asyncio.run(coro)


def starts(client) -> dict:
    """Turn starts of one app by state: {"warm": n, "cold": n}."""
    counter = client.server.app[METRICS].turn_starts
    return {state: int(counter.value(state)) for state in ("warm", "cold")}


@pytest.fixture(params=BACKENDS)
def settings(request, tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "counter", {"start": COUNTER})
    return settings_for(request.param, tmp_path, bots)


def test_two_servers_taking_turns_on_one_session_lose_nothing(settings):
    """A server continues warm only when it served the session's last turn itself."""
    async def scenario():
        async with running(settings) as a, running(settings) as b:
            sid = (await say(a, "counter", "start"))["session_id"]  # start.bas waits at HEAR
            plan = [(a, "one"), (a, "two"), (b, "three"), (a, "four"), (b, "five"), (b, "six")]
            replies = [texts(await say(server, "counter", text, session_id=sid))
                       for server, text in plan]
            return replies, starts(a), starts(b)

    replies, on_a, on_b = run(scenario())
    assert replies == [["1: one"], ["2: two"], ["3: three"], ["4: four"], ["5: five"], ["6: six"]]
    # a: start (cold, new), one (warm), two (warm), four (cold: b committed three)
    assert on_a == {"warm": 2, "cold": 2}
    # b: three (cold), five (cold: a committed four), six (warm)
    assert on_b == {"warm": 1, "cold": 2}


@pytest.fixture
def on_sqlite(tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "counter", {"start": COUNTER})
    return settings_for("sqlite", tmp_path, bots)


def test_a_turn_that_could_not_commit_leaves_no_warm_state(on_sqlite):
    """The database refuses the turn (here a trigger, as a full disk would): the user gets
    an error, and the next turn continues from the last committed state."""
    settings = on_sqlite

    async def scenario():
        async with running(settings) as client:
            sid = (await say(client, "counter", "start"))["session_id"]
            first = texts(await say(client, "counter", "a", session_id=sid))
            with sqlite3.connect(settings.data_dir / "botbasic.sqlite3") as conn:
                conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON history "
                             "WHEN NEW.content = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END")
            refused = await client.post("/api/bots/counter/messages",
                                        json={"content": "boom", "session_id": sid})
            status, body = refused.status, await refused.json()
            after = texts(await say(client, "counter", "b", session_id=sid))
            history = await client.get(f"/api/bots/counter/sessions/{sid}/history")
            return first, status, body, after, await history.json()

    first, status, body, after, history = run(scenario())
    assert first == ["1: a"]
    assert status == 500 and "error" in body
    assert after == ["2: b"]  # not 3: the refused turn's count was never committed
    assert "boom" not in [message["content"] for message in history["messages"]]


def test_a_reloaded_bot_starts_its_sessions_cold(on_sqlite):
    settings, bots = on_sqlite, on_sqlite.bots_dir

    async def scenario():
        async with running(settings) as client:
            sid = (await say(client, "counter", "start"))["session_id"]
            await say(client, "counter", "a", session_id=sid)
            before = starts(client)
            write_bot(bots, "counter", {"start": COUNTER.replace('": "', '"; "')})
            assert (await client.post("/api/bots/counter/reload")).status == 200
            after_reload = texts(await say(client, "counter", "b", session_id=sid))
            return before, starts(client), after_reload, len(client.server.app[CONVERSATIONS].warm)

    before, after, reply, warm = run(scenario())
    assert before == {"warm": 1, "cold": 1}
    assert after == {"warm": 1, "cold": 2}
    assert reply == ["2: b"]  # the suspended execution finishes on the version it began on
    assert warm == 1


# ---------------------------------------------------------------- pending hints


def test_pending_hints_see_messages_stored_by_another_process(tmp_path):
    async def body():
        here, there = SQLiteTables(tmp_path / "t.db"), SQLiteTables(tmp_path / "t.db")
        await here.open()
        await there.open()
        try:
            hints = PendingHints(here, interval=0.2)
            seen = [await hints.maybe("bot")]  # nothing stored: probed, no
            await there.add_pending("bot", "s1", None, "hello")  # another process stores
            seen.append(await hints.maybe("bot"))  # not probed again yet
            await asyncio.sleep(0.25)
            seen.append(await hints.maybe("bot"))  # probed: yes
            await here.take_pending("bot", "s1", "")
            await asyncio.sleep(0.25)
            seen.append(await hints.maybe("bot"))  # probed: gone
            hints.stored("bot")  # this process stores one: known at once
            seen.append(await hints.maybe("bot"))
            return seen
        finally:
            await here.close()
            await there.close()

    assert run(body()) == [False, False, True, False, True]
