"""Helpers for the session-store tests (tests/test_store.py), and a throughput probe.

``backend`` is a fixture parametrized over both stores. Each test gets a database of its
own: a fresh SQLite file in ``tmp_path``, or a fresh schema in the PostgreSQL database at
``$DATABASE_URL_TEST`` (default ``postgresql://postgres@127.0.0.1:5432/test``), dropped
afterwards. PostgreSQL must be reachable: when it is not, the tests fail.

Run this file to measure committed turns per second with 50 concurrent clients::

    .venv/bin/python tests/store_support.py [--turns 200] [--clients 50]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from botbasic.server.store.base import HistoryItem
from botbasic.server.store.factory import open_store

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgres")
GUARD_S = 60  # a deadlocked test fails after this long instead of hanging the suite


@dataclass
class Backend:
    """One test's database: ``url`` is what ``DATABASE_URL`` would hold."""

    name: str
    url: str
    data_dir: Path

    def make_store(self):
        """A new, unopened store on this database (a second "process" when called twice)."""
        return open_store(self.url, self.data_dir)


def run(coro):
    """Run a test coroutine in a fresh event loop, failing it if it deadlocks."""
    async def guarded():
        return await asyncio.wait_for(coro, GUARD_S)
    return asyncio.run(guarded())


@asynccontextmanager
async def opened(backend: Backend) -> AsyncIterator:
    """An opened store on the backend's database, closed afterwards."""
    store = backend.make_store()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def items(*texts: str, message_id: str | None = None) -> list[HistoryItem]:
    """History items alternating user/bot, timestamps 1, 2, 3 ..."""
    return [HistoryItem(role="user" if i % 2 == 0 else "bot", content=text, at=float(i + 1),
                        message_id=message_id)
            for i, text in enumerate(texts)]


# ---------------------------------------------------------------- PostgreSQL schemas


def with_search_path(url: str, schema: str) -> str:
    """``url`` with the server setting ``search_path=<schema>`` (asyncpg passes unknown
    query parameters to the server)."""
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}search_path={schema}"


async def _pg_execute(sql: str) -> None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} ({exc}); "
                    ".ci/run starts it, or set DATABASE_URL_TEST", pytrace=False)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    """The database of one test, on each backend in turn."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'store.sqlite3'}", tmp_path)
        return
    schema = f"test_store_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f"CREATE SCHEMA {schema}"))
    try:
        yield Backend("postgres", with_search_path(PG_URL, schema), tmp_path)
    finally:
        asyncio.run(_pg_execute(f"DROP SCHEMA {schema} CASCADE"))


# ---------------------------------------------------------------- a crashing writer

# The child of the crash test: commits turns of several sessions concurrently and prints
# "<session> <n>" after each acknowledged commit, until it is killed.
CRASH_CHILD = """
import asyncio, sys
from pathlib import Path
from botbasic.server.store.base import HistoryItem
from botbasic.server.store.factory import open_store

async def client(store, sid):
    n = 0
    while True:
        n += 1
        async with store.turn(sid) as turn:
            turn.session.data["n"] = n
            await turn.commit(turn.session, [HistoryItem("user", f"m{n}", float(n), f"m{n}")],
                              f"m{n}", {"n": n})
        print(sid, n, flush=True)

async def main(url, data_dir, sids):
    store = open_store(url, Path(data_dir))
    await store.open()
    await asyncio.gather(*(client(store, sid) for sid in sids))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
"""


# ---------------------------------------------------------------- throughput probe


async def measure_turns(store, clients: int = 50, turns: int = 200) -> tuple[float, float]:
    """(committed turns per second, process CPU seconds per turn): ``clients`` sessions, each running ``turns`` turns one
    after the other (read the session, check the message id, commit two history items and
    a reply), all clients at once."""
    sessions = [await store.create_session("bench", f"user{i}") for i in range(clients)]

    async def client(session_id: str) -> None:
        for n in range(turns):
            message_id = f"{session_id}-{n}"
            async with store.turn(session_id) as turn:
                await turn.reply_for(message_id)
                turn.session.data["n"] = n
                await turn.commit(turn.session, items("question", "answer", message_id=message_id),
                                  message_id, {"messages": [{"text": "answer"}]})

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(session.id) for session in sessions))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return clients * turns / elapsed, cpu / (clients * turns)


async def _probe(label: str, store, clients: int, turns: int) -> None:
    await store.open()
    try:
        rate, cpu = await measure_turns(store, clients, turns)
        stats = getattr(store, "write_stats", None)
        extra = f", {stats[1] / max(stats[0], 1):.1f} writes per transaction" if stats else ""
        print(f"{label:28} {rate:8.0f} turns/s, {cpu * 1e6:5.0f} us CPU per turn{extra}")
    finally:
        await store.close()


async def _main(clients: int, turns: int) -> None:
    from botbasic.server.store.postgres import PostgresStore
    from botbasic.server.store.sqlite import SQLiteStore
    with tempfile.TemporaryDirectory() as folder:
        for mode in ("FULL", "NORMAL"):
            store = SQLiteStore(Path(folder) / f"{mode}.sqlite3", synchronous=mode)
            await _probe(f"sqlite synchronous={mode}", store, clients, turns)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    await _pg_execute(f"CREATE SCHEMA {schema}")
    try:
        store = PostgresStore(with_search_path(PG_URL, schema),
                              min_size=clients, max_size=clients)  # one per client
        await _probe("postgresql", store, clients, turns)
    finally:
        await _pg_execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--turns", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.clients, arguments.turns))
    sys.exit(0)
