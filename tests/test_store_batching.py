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
from store_support import PG_URL, _pg_execute, items, run, with_search_path


def test_sqlite_group_of_commits_fails_only_the_stale_turn(tmp_path):
    async def body():
        store = SQLiteStore(tmp_path / "g.db")
        await store.open()
        try:
            fresh = [await store.create_session("bot", f"u{n}") for n in range(5)]
            stale = await store.create_session("bot", "stale")
            outdated = SessionRecord(**{**vars(stale), "data": {"lost": True}})
            await store._write(lambda conn: conn.execute(
                "UPDATE sessions SET version = 7 WHERE id = ?", (stale.id,)))

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
