"""Store behaviour under concurrency that the throughput work relies on: the SQLite writer
commits the turns of one event-loop iteration in one transaction yet fails only the stale
one, and a PostgreSQL pool whose every connection could be held by a turn does not
deadlock when scripts use the database during their turns."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from botbasic.server.store.base import SessionRecord
from botbasic.server.store.common import TurnConflict
from botbasic.server.store.postgres import PostgresStore
from botbasic.server.store.sqlite import SQLiteStore, SQLiteTurn
from botbasic.server.store.sqlite_turns import TurnCommits, turn_commit
from store_support import PG_URL, _pg_execute, items, run, with_search_path


async def sessions_and_a_stale_one(store: SQLiteStore, count: int):
    """``count`` new sessions, and one more that another process has since moved to
    version 7 (the record returned is the stale version 0)."""
    fresh = [await store.create_session("bot", f"u{n}") for n in range(count)]
    stale = await store.create_session("bot", "stale")
    await store._write(lambda conn: conn.execute(
        "UPDATE sessions SET version = 7 WHERE id = ?", (stale.id,)))
    return fresh, stale


def test_sqlite_group_of_commits_fails_only_the_stale_turn(tmp_path):
    async def body():
        store = SQLiteStore(tmp_path / "g.db")
        await store.open()
        try:
            fresh, stale = await sessions_and_a_stale_one(store, 5)
            outdated = SessionRecord(**{**vars(stale), "data": {"lost": True}})

            async def commit(record: SessionRecord, text: str):
                turn = SQLiteTurn(store, record)
                record.data["text"] = text
                await turn.commit(record, items(text), f"m-{text}", {"text": text})

            before = store.write_stats
            # Started in one loop iteration: handed to the writer, and committed, together.
            results = await asyncio.gather(
                *(commit(record, f"t{n}") for n, record in enumerate(fresh)),
                commit(outdated, "stale"), return_exceptions=True)
            after = store.write_stats
            stored = [await store.get_session(record.id) for record in fresh + [stale]]
            history = [await store.history(record.id) for record in fresh + [stale]]
            return results, after[0] - before[0], stored, history
        finally:
            await store.close()

    results, transactions, stored, history = run(body())
    assert results[:5] == [None] * 5 and isinstance(results[5], TurnConflict)
    assert transactions == 1
    assert [record.data.get("text") for record in stored] == ["t0", "t1", "t2", "t3", "t4", None]
    assert [record.version for record in stored] == [1, 1, 1, 1, 1, 7]
    assert [[item.content for item in h] for h in history] == [["t0"], ["t1"], ["t2"], ["t3"],
                                                               ["t4"], []]


class _InOneTransaction(TurnCommits):
    """Turn commits without the one-statement way (the writer's usual transaction)."""

    apply_alone = None


_WAYS = {"one statement": lambda: TurnCommits(),
         "multi-row statements": lambda: _InOneTransaction(multi_row=True),
         "row by row": lambda: _InOneTransaction(multi_row=False)}


@pytest.mark.parametrize("way", list(_WAYS))
@pytest.mark.parametrize("with_stale", [False, True])
def test_a_batch_of_turns_is_stored_exactly(tmp_path, way, with_stale):
    """Every way of writing a batch stores the same rows (text with quotes, newlines,
    NUL and non-ASCII characters, floats, NULLs), and a stale turn fails alone (the
    one-statement way then falls back to the others)."""
    texts_ = ['plain', 'quote " and \\ backslash', 'line\nbreak\x00nul', 'ação 🙂']

    async def body():
        store = SQLiteStore(tmp_path / "b.db")
        await store.open()
        try:
            records, stale = await sessions_and_a_stale_one(store, 4)
            group = _WAYS[way]()
            before = store.write_stats

            async def commit(record, text, message_id):
                record.data = {"text": text, "x": 0.1 + 0.2}
                record.execution = None if message_id is None else {"at": text}
                await store._write(turn_commit(record, 0, items(text), message_id,
                                                {"text": text}), group)

            stale_commit = [commit(stale, "lost", "m9")] if with_stale else []
            results = await asyncio.gather(
                *(commit(r, t, f"m{n}" if n % 2 else None)
                  for n, (r, t) in enumerate(zip(records, texts_))),
                *stale_commit, return_exceptions=True)
            transactions = store.write_stats[0] - before[0]
            stored = [await store.get_session(r.id) for r in records]
            history = [[i.content for i in await store.history(r.id)] for r in records]
            replies = store._read("SELECT message_id, reply FROM replies ORDER BY message_id", ())
            return results, transactions, stored, history, replies
        finally:
            await store.close()

    results, transactions, stored, history, replies = run(body())
    assert results[:4] == [None] * 4
    assert [type(r).__name__ for r in results[4:]] == (["TurnConflict"] if with_stale else [])
    assert transactions == 1
    assert [r.data for r in stored] == [{"text": t, "x": 0.1 + 0.2} for t in texts_]
    assert [r.execution for r in stored] == [None, {"at": texts_[1]}, None, {"at": texts_[3]}]
    assert [r.version for r in stored] == [1, 1, 1, 1]
    assert history == [[t] for t in texts_]
    assert replies == [("m1", '{"text":"quote \\" and \\\\ backslash"}'),
                       ("m3", '{"text":"ação 🙂"}')]


def test_postgres_turns_using_the_database_do_not_exhaust_the_pool():
    """More concurrent turns than pooled connections, each writing memory (a second
    connection) while its turn holds one."""
    schema = f"test_pool_{uuid.uuid4().hex[:12]}"

    async def body():
        store = PostgresStore(with_search_path(PG_URL, schema), min_size=1, max_size=4)
        await store.open()
        try:
            sessions = [await store.create_session("bot", f"u{n}") for n in range(12)]

            async def turn(record: SessionRecord) -> None:
                async with store.turn(record.id) as current:
                    await store.memory.set("bot:bot", record.id, {"seen": True})
                    await current.commit(current.session, items("hi"), "m1", {"r": 1})

            await asyncio.gather(*(turn(record) for record in sessions))
            return [await store.memory.get("bot:bot", record.id) for record in sessions]
        finally:
            await store.close()

    asyncio.run(_pg_execute(f"CREATE SCHEMA {schema}"))
    try:
        assert run(body()) == [{"seen": True}] * 12
    finally:
        asyncio.run(_pg_execute(f"DROP SCHEMA {schema} CASCADE"))


@pytest.mark.parametrize("max_size", [1, 2])
def test_postgres_small_pools_still_run_turns(max_size):
    schema = f"test_pool_{uuid.uuid4().hex[:12]}"

    async def body():
        store = PostgresStore(with_search_path(PG_URL, schema), min_size=1, max_size=max_size)
        await store.open()
        try:
            record = await store.create_session("bot", "ann")
            async with store.turn(record.id) as current:
                await current.commit(current.session, items("hi"), "m1", {"r": 1})
            return (await store.get_session(record.id)).version
        finally:
            await store.close()

    asyncio.run(_pg_execute(f"CREATE SCHEMA {schema}"))
    try:
        assert run(body()) == 1
    finally:
        asyncio.run(_pg_execute(f"DROP SCHEMA {schema} CASCADE"))
