"""The session stores (server/store): every test runs on SQLite and on PostgreSQL.

The ``backend`` fixture (tests/store_support.py) gives each test a database of its own;
``backend.make_store()`` called twice gives two independent stores on it, which is how the
tests play "two server processes" (the crash test uses a real second process).
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from botbasic.runtime.memory_store import InMemoryStore
from botbasic.server.store.base import HistoryItem, SessionRecord
from botbasic.server.store.common import (SessionExists, SessionNotFound, TurnConflict,
                                          TurnFinished)
from botbasic.server.store.factory import DEFAULT_SQLITE_FILE, open_store, sqlite_path
from botbasic.server.store.migrations import LATEST_VERSION, MIGRATIONS
from botbasic.server.store.postgres import PostgresStore
from botbasic.server.store.sqlite import SQLiteStore
from store_support import CRASH_CHILD, Backend, backend, items, opened, run  # noqa: F401

# A delay that gives a competing turn the chance to barge in if locking were broken. The
# assertions never depend on it: with correct locking they hold whatever the timing.
GIVE_WAY_S = 0.05


async def _commit_turn(store, session_id: str, message_id: str, text: str,
                       reply: dict | None = None) -> SessionRecord:
    """One turn that counts its messages in ``data["n"]`` and answers ``reply``."""
    async with store.turn(session_id) as turn:
        record = turn.session
        record.data["n"] = record.data.get("n", 0) + 1
        record.data.setdefault("seen", []).append(message_id)
        await turn.commit(record, items(text, f"re: {text}", message_id=message_id),
                          message_id, reply if reply is not None else {"text": f"re: {text}"})
        return record


# ---------------------------------------------------------------- sessions


def test_create_and_get_session(backend):
    async def body():
        async with opened(backend) as store:
            made = await store.create_session("bot1", "ann")
            again = await store.get_session(made.id)
            named = await store.create_session("bot1", "bob", session_id="chosen-id")
            with pytest.raises(SessionExists):
                await store.create_session("bot2", "eve", session_id="chosen-id")
            return (made, again, named, await store.get_session("chosen-id"),
                    await store.get_session("no-such-session"), await store.sessions_count())

    made, again, named, fetched, missing, count = run(body())
    assert again == made
    assert (made.bot, made.user_id, made.data, made.execution, made.start_done,
            made.version) == ("bot1", "ann", {}, None, False, 0)
    assert named.id == "chosen-id" and fetched.user_id == "bob"
    assert missing is None
    assert count == 2


def test_turn_of_unknown_session_fails(backend):
    async def body():
        async with opened(backend) as store:
            with pytest.raises(SessionNotFound):
                async with store.turn("never-created"):
                    pass
            made = await store.create_session("bot", "ann")  # the store still works
            return await _commit_turn(store, made.id, "m1", "hi")

    assert run(body()).version == 1


# ---------------------------------------------------------------- turns


def test_commit_persists_record_history_and_reply(backend):
    async def body():
        async with opened(backend) as store:
            made = await store.create_session("bot", "ann")
            async with store.turn(made.id) as turn:
                record = turn.session
                record.data = {"variables": {"name": "Ann", "Ordem": [3, 1, 2]}, "b": 1, "a": 2}
                record.execution = {"snapshot": {"pc": 7}, "script": "start.bas", "kind": "dialog"}
                record.start_done = True
                history = [HistoryItem("user", "olá", 10.5, "m1"), HistoryItem("bot", "Oi!", 11.0, "m1")]
                await turn.commit(record, history, "m1", {"messages": ["Oi!"], "n": 1})
                committed_version = record.version
            return (committed_version, await store.get_session(made.id),
                    await store.history(made.id))

    version, stored, history = run(body())
    assert version == 1 and stored.version == 1
    assert stored.data == {"variables": {"name": "Ann", "Ordem": [3, 1, 2]}, "b": 1, "a": 2}
    assert list(stored.data) == ["variables", "b", "a"]  # key order kept (json, not jsonb)
    assert stored.execution == {"snapshot": {"pc": 7}, "script": "start.bas", "kind": "dialog"}
    assert stored.start_done is True
    assert history == [HistoryItem("user", "olá", 10.5, "m1"), HistoryItem("bot", "Oi!", 11.0, "m1")]


def test_reply_for_returns_the_committed_reply(backend):
    async def body():
        async with opened(backend) as store:
            ann = await store.create_session("bot", "ann")
            bob = await store.create_session("bot", "bob")
            await _commit_turn(store, ann.id, "m1", "hello", {"messages": ["hi Ann"]})
            async with store.turn(ann.id) as turn:  # the same message delivered again
                retried = await turn.reply_for("m1")
                unknown = await turn.reply_for("m2")
                no_id = await turn.reply_for(None)
            async with store.turn(bob.id) as turn:  # message ids are per session
                other_session = await turn.reply_for("m1")
            return (retried, unknown, no_id, other_session, await store.get_session(ann.id),
                    await store.history(ann.id))

    retried, unknown, no_id, other_session, ann, history = run(body())
    assert retried == {"messages": ["hi Ann"]}
    assert unknown is None and no_id is None and other_session is None
    assert ann.version == 1 and len(history) == 2  # the retry changed nothing


def test_turn_without_commit_changes_nothing(backend):
    async def body():
        async with opened(backend) as store:
            made = await store.create_session("bot", "ann")
            await _commit_turn(store, made.id, "m1", "first")
            async with store.turn(made.id) as turn:
                turn.session.data["n"] = 99
                turn.session.start_done = True
            with pytest.raises(ZeroDivisionError):
                async with store.turn(made.id) as turn:
                    turn.session.data["n"] = 100
                    1 / 0
            # The session is not left locked: the next turn runs and sees the first commit.
            async with store.turn(made.id) as turn:
                seen = (turn.session.data["n"], turn.session.version, await turn.reply_for("m9"))
            return seen, await store.get_session(made.id), await store.history(made.id)

    seen, stored, history = run(body())
    assert seen == (1, 1, None)
    assert (stored.data["n"], stored.start_done, stored.version) == (1, False, 1)
    assert len(history) == 2


def test_a_turn_commits_once(backend):
    async def body():
        async with opened(backend) as store:
            made = await store.create_session("bot", "ann")
            async with store.turn(made.id) as turn:
                await turn.commit(turn.session, [], None, None)
                with pytest.raises(TurnFinished):
                    await turn.commit(turn.session, [], None, None)
            with pytest.raises(TurnFinished):
                await turn.commit(turn.session, [], None, None)
            return await store.get_session(made.id)

    assert run(body()).version == 1


def test_turns_of_one_session_run_one_at_a_time_in_order(backend):
    async def body():
        async with opened(backend) as store:
            made = await store.create_session("bot", "ann")
            inside = 0
            most_inside = 0

            async def message(n: int) -> None:
                nonlocal inside, most_inside
                async with store.turn(made.id) as turn:
                    inside += 1
                    most_inside = max(most_inside, inside)
                    await asyncio.sleep(0)  # let the others run: they must be waiting
                    turn.session.data.setdefault("order", []).append(n)
                    await turn.commit(turn.session, items(f"m{n}", message_id=f"m{n}"),
                                      f"m{n}", {"n": n})
                    inside -= 1

            await asyncio.gather(*(message(n) for n in range(20)))
            return most_inside, await store.get_session(made.id), await store.history(made.id)

    most_inside, stored, history = run(body())
    assert most_inside == 1
    assert stored.data["order"] == list(range(20))  # arrival order
    assert stored.version == 20
    assert [item.content for item in history] == [f"m{n}" for n in range(20)]


def test_second_turn_sees_the_first_commit_across_stores(backend):
    """Two stores on one database (two server processes): the second turn waits for the
    first and reads its commit."""
    async def body():
        async with opened(backend) as first, opened(backend) as second:
            made = await first.create_session("bot", "ann")
            first_inside = asyncio.Event()
            log = []

            async def turn_in_first() -> None:
                async with first.turn(made.id) as turn:
                    log.append("first in")
                    first_inside.set()
                    await asyncio.sleep(GIVE_WAY_S)
                    turn.session.data["by"] = "first"
                    await turn.commit(turn.session, items("one"), "m1", {"r": 1})

            async def turn_in_second() -> tuple:
                await first_inside.wait()
                async with second.turn(made.id) as turn:
                    log.append("second in")
                    seen = (turn.session.version, dict(turn.session.data),
                            await turn.reply_for("m1"))
                    turn.session.data["by"] = "second"
                    await turn.commit(turn.session, items("two"), "m2", {"r": 2})
                    return seen

            _, seen = await asyncio.gather(turn_in_first(), turn_in_second())
            return log, seen, await first.get_session(made.id), await second.history(made.id)

    log, seen, stored, history = run(body())
    assert log == ["first in", "second in"]
    assert seen == (1, {"by": "first"}, {"r": 1})  # it waited for the first turn's commit
    assert (stored.version, stored.data) == (2, {"by": "second"})
    assert [item.content for item in history] == ["one", "two"]


def test_turns_of_different_sessions_run_concurrently(backend):
    async def body():
        async with opened(backend) as store, opened(backend) as other_store:
            ann = await store.create_session("bot", "ann")
            bob = await store.create_session("bot", "bob")
            eve = await store.create_session("bot", "eve")
            others_done = asyncio.Event()

            async def long_turn() -> None:
                async with store.turn(ann.id) as turn:
                    await others_done.wait()  # would deadlock if bob's turn had to wait
                    await turn.commit(turn.session, items("ann"), None, None)

            async def short_turns() -> None:
                await _commit_turn(store, bob.id, "b1", "bob")
                await _commit_turn(other_store, eve.id, "e1", "eve")
                others_done.set()

            await asyncio.gather(long_turn(), short_turns())
            return [await store.get_session(s.id) for s in (ann, bob, eve)]

    assert [record.version for record in run(body())] == [1, 1, 1]


# ---------------------------------------------------------------- history


def test_history_order_and_limit(backend):
    async def body():
        async with opened(backend) as store:
            ann = await store.create_session("bot", "ann")
            bob = await store.create_session("bot", "bob")
            for n in range(1, 4):
                await _commit_turn(store, ann.id, f"m{n}", f"ann {n}")
            await _commit_turn(store, bob.id, "m1", "bob 1")
            return (await store.history(ann.id), await store.history(ann.id, limit=3),
                    await store.history(bob.id), await store.history("nobody"))

    everything, last_three, bobs, nobody = run(body())
    assert [(item.role, item.content) for item in everything] == [
        ("user", "ann 1"), ("bot", "re: ann 1"), ("user", "ann 2"), ("bot", "re: ann 2"),
        ("user", "ann 3"), ("bot", "re: ann 3")]
    assert [item.message_id for item in everything] == ["m1", "m1", "m2", "m2", "m3", "m3"]
    assert [item.content for item in last_three] == ["re: ann 2", "ann 3", "re: ann 3"]
    assert [item.content for item in bobs] == ["bob 1", "re: bob 1"]
    assert nobody == []


# ---------------------------------------------------------------- memory


def test_memory_get_set_delete_clear(backend):
    async def body():
        async with opened(backend) as store:
            memory = store.memory
            values = {"text": "olá", "int": 42, "float": 2.5, "bool": True, "null": None,
                      "list": [1, "two", None], "object": {"Name": "Ann", "tags": ["a"]}}
            for key, value in values.items():
                await memory.set("bot/b1", key, value)
            read = {key: await memory.get("bot/b1", key) for key in values}
            await memory.set("bot/b1", "int", 43)  # upsert
            overwritten = await memory.get("bot/b1", "int")
            await memory.set("user/u1", "text", "other scope")
            await memory.delete("bot/b1", "text")
            await memory.delete("bot/b1", "never-set")
            after_delete = await memory.get("bot/b1", "text")
            await memory.clear("bot/b1")
            return (read, values, overwritten, after_delete, await memory.keys("bot/b1"),
                    await memory.get("user/u1", "text"), await memory.get("nope", "nope"))

    read, values, overwritten, after_delete, keys_after_clear, other_scope, missing = run(body())
    assert read == values
    assert overwritten == 43
    assert after_delete is None
    assert keys_after_clear == []
    assert other_scope == "other scope"
    assert missing is None


def test_memory_expiry(backend):
    async def body():
        async with opened(backend) as store:
            memory = store.memory
            await memory.set("s", "short", "v", expires_at=1000.0)
            await memory.set("s", "forever", "v")
            before = await memory.get("s", "short", now=999.0)
            at_expiry = await memory.get("s", "short", now=1000.0)
            keys_after = await memory.keys("s")  # an expired value is removed when read
            await memory.set("s", "short", "renewed", expires_at=2000.0)
            renewed = await memory.get("s", "short", now=1500.0)
            await memory.set("s", "past", "v", expires_at=1.0)  # real clock: long expired
            return (before, at_expiry, keys_after, renewed, await memory.get("s", "past"),
                    await memory.get("s", "forever", now=1e12))

    assert run(body()) == ("v", None, ["forever"], "renewed", None, "v")


def test_memory_behaves_like_the_in_memory_store(backend):
    operations = [
        ("set", "a", "k1", {"x": [1, 2]}, None), ("set", "a", "k2", "two", 50.0),
        ("get", "a", "k1", 10.0), ("get", "a", "k2", 49.9), ("get", "a", "k2", 50.0),
        ("get", "a", "k2", 10.0), ("set", "b", "k1", 1, None), ("delete", "a", "k1"),
        ("get", "a", "k1", 10.0), ("get", "b", "k1", 10.0), ("clear", "b"),
        ("get", "b", "k1", 10.0), ("set", "a", "k1", None, None), ("get", "a", "k1", 10.0),
    ]

    async def apply(memory) -> list:
        results = []
        for name, *arguments in operations:
            results.append(await getattr(memory, name)(*arguments))
        return results

    async def body():
        async with opened(backend) as store:
            return await apply(store.memory), await apply(InMemoryStore())

    ours, reference = run(body())
    assert ours == reference


# ---------------------------------------------------------------- programs, metrics


def test_program_sources_round_trip(backend):
    source = 'TALK "Olá"\nHEAR name\nTALK "Hi " + name\n'

    async def body():
        async with opened(backend) as store:
            await store.save_program("abc123", "bot1", "start.bas", "bot1.gbai/start.bas", source)
            await store.save_program("abc123", "bot1", "start.bas", "elsewhere.bas", "changed")
            return await store.load_program_source("abc123"), await store.load_program_source("zzz")

    saved, missing = run(body())
    assert saved == {"hash": "abc123", "bot": "bot1", "script": "start.bas",
                     "file": "bot1.gbai/start.bas", "source": source}
    assert missing is None


# ---------------------------------------------------------------- migrations


def test_migration_steps_are_ordered():
    versions = [step.version for step in MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1))
    assert LATEST_VERSION == versions[-1]
    assert all(step.sqlite and step.postgres for step in MIGRATIONS)


async def _schema_versions(store) -> list[int]:
    if isinstance(store, SQLiteStore):
        return [row[0] for row in store._read("SELECT version FROM schema_version ORDER BY version", ())]
    rows = await store._pool.fetch("SELECT version FROM schema_version ORDER BY version")
    return [row[0] for row in rows]


def test_migrations_are_idempotent(backend):
    async def body():
        async with opened(backend) as store:
            made = await store.create_session("bot", "ann")
        async with opened(backend) as store:  # opening again applies nothing
            return await _schema_versions(store), await store.get_session(made.id)

    versions, kept = run(body())
    assert versions == list(range(1, LATEST_VERSION + 1))
    assert kept is not None


def test_stores_opening_at_once_migrate_once(backend):
    async def body():
        stores = [backend.make_store() for _ in range(4)]
        await asyncio.gather(*(store.open() for store in stores))
        try:
            made = await stores[0].create_session("bot", "ann")
            return (await _schema_versions(stores[1]),
                    [await store.get_session(made.id) is not None for store in stores])
        finally:
            await asyncio.gather(*(store.close() for store in stores))

    versions, everyone_sees_it = run(body())
    assert versions == list(range(1, LATEST_VERSION + 1))
    assert everyone_sees_it == [True] * 4


# ---------------------------------------------------------------- durability


def test_data_survives_close_and_reopen(backend):
    async def write():
        async with opened(backend) as store:
            made = await store.create_session("bot", "ann", session_id="kept")
            await _commit_turn(store, made.id, "m1", "hello", {"messages": ["hi"]})
            await store.memory.set("user/ann", "colour", ["blue"])
            await store.save_program("h1", "bot", "start.bas", "start.bas", "TALK 1")

    async def read():
        async with opened(backend) as store:
            async with store.turn("kept") as turn:
                reply = await turn.reply_for("m1")
            return (await store.get_session("kept"), await store.history("kept"), reply,
                    await store.memory.get("user/ann", "colour"),
                    await store.load_program_source("h1"), await store.sessions_count())

    run(write())
    stored, history, reply, colour, program, count = run(read())  # a new event loop too
    assert (stored.version, stored.data["n"]) == (1, 1)
    assert [item.content for item in history] == ["hello", "re: hello"]
    assert reply == {"messages": ["hi"]}
    assert colour == ["blue"]
    assert program["source"] == "TALK 1"
    assert count == 1


def test_acknowledged_turns_survive_a_killed_process(backend):
    """A child process commits turns of 5 sessions concurrently and reports each
    acknowledged commit; it is killed with SIGKILL mid-stream. Every acknowledged turn is
    in the database, and the sessions are not left locked."""
    sessions = [f"crash-{n}" for n in range(5)]

    async def create():
        async with opened(backend) as store:
            for sid in sessions:
                await store.create_session("bot", "u", session_id=sid)

    run(create())
    child = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, backend.url,
                              str(backend.data_dir), *sessions],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acknowledged: dict[str, int] = {}
    try:
        while sum(acknowledged.values()) < 200:
            line = child.stdout.readline()
            assert line, f"the child stopped early: {child.stderr.read()}"
            sid, n = line.split()
            acknowledged[sid] = int(n)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()

    async def check():
        async with opened(backend) as store:
            found = {}
            for sid in sessions:
                async with store.turn(sid) as turn:  # would hang if a lock had survived
                    n = acknowledged.get(sid, 0)
                    replied = n == 0 or await turn.reply_for(f"m{n}") == {"n": n}
                    found[sid] = (turn.session.data.get("n", 0) >= n, replied,
                                  len(await store.history(sid, limit=10_000)) >= n)
            return found

    assert run(check()) == {sid: (True, True, True) for sid in sessions}


# ---------------------------------------------------------------- factory


def test_factory_chooses_the_backend(backend):
    async def body():
        store = open_store(backend.url, backend.data_dir)
        await store.open()
        try:
            made = await store.create_session("bot", "ann")
            return type(store), await store.get_session(made.id) == made
        finally:
            await store.close()

    kind, works = run(body())
    assert kind is {"sqlite": SQLiteStore, "postgres": PostgresStore}[backend.name]
    assert works


def test_factory_urls(tmp_path):
    assert open_store(None, tmp_path).path == tmp_path / DEFAULT_SQLITE_FILE
    assert open_store("", tmp_path).path == tmp_path / DEFAULT_SQLITE_FILE
    assert sqlite_path("sqlite:///", tmp_path) == tmp_path / DEFAULT_SQLITE_FILE
    assert sqlite_path("sqlite:///bots.db", tmp_path) == tmp_path / "bots.db"
    assert sqlite_path("sqlite:///sub/bots.db", tmp_path) == tmp_path / "sub/bots.db"
    assert sqlite_path("sqlite:////var/x.db", tmp_path) == Path("/var/x.db")
    assert isinstance(open_store("postgres://u@h/db", tmp_path), PostgresStore)
    assert open_store("postgresql://u@h/db?search_path=s", tmp_path).dsn.endswith("=s")
    with pytest.raises(ValueError):
        open_store("mysql://u@h/db", tmp_path)
    with pytest.raises(ValueError):
        open_store("sqlite://host/x.db", tmp_path)


# ---------------------------------------------------------------- SQLite specifics


def test_sqlite_version_check_refuses_a_stale_commit(tmp_path):
    """Should two turns of one session ever overlap (no OS lock support), the later commit
    fails instead of overwriting the newer state."""
    async def body():
        async with opened(Backend("sqlite", f"sqlite:///{tmp_path / 's.db'}", tmp_path)) as store:
            made = await store.create_session("bot", "ann")
            stale = SessionRecord(**{**vars(made), "data": {"stale": True}})
            await _commit_turn(store, made.id, "m1", "fresh")
            from botbasic.server.store.sqlite import SQLiteTurn
            turn = SQLiteTurn(store, stale)  # a turn that read version 0 and never locked
            with pytest.raises(TurnConflict):
                await turn.commit(stale, items("lost"), "m2", {"r": 2})
            return await store.get_session(made.id), await store.history(made.id)

    stored, history = run(body())
    assert stored.data["n"] == 1 and stored.version == 1
    assert [item.content for item in history] == ["fresh", "re: fresh"]


def test_sqlite_group_commit_batches_concurrent_turns(tmp_path):
    async def body():
        store = SQLiteStore(tmp_path / "g.db")
        await store.open()
        try:
            made = [await store.create_session("bot", f"u{n}") for n in range(30)]
            before = store.write_stats
            await asyncio.gather(*(_commit_turn(store, s.id, "m1", "hi") for s in made))
            after = store.write_stats
            return after[0] - before[0], after[1] - before[1]
        finally:
            await store.close()

    transactions, operations = run(body())
    assert operations == 30
    assert transactions < operations  # at least two commits shared a transaction
