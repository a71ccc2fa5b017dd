"""Tables of the system-context features, next to the session store's own.

* ``schedule_runs`` — one row per firing of a scheduled script, keyed by (bot, script,
  fire time). Inserting it is how a process claims a firing when the database decides
  (several processes try, the unique key lets exactly one win), and the row then records
  the run: who ran it, when it started and finished, its status (``running``, ``ok``,
  ``error``, ``skipped``) and error message.
* ``pending_messages`` — ``TALK TO`` messages for web users whose WebSocket was not open
  in the sending process, kept until the session (or any session of the user) comes back;
  on PostgreSQL each stored message is also announced to every process (LISTEN/NOTIFY).

The tables live in the same database as the sessions (the SQLite file, or the PostgreSQL
database and schema of ``DATABASE_URL``), reached through a connection of our own rather
than the store's internals. They are created with ``CREATE TABLE IF NOT EXISTS`` when the
server starts, under the same lock the store's migrations take, so concurrent servers
agree; they are additive and independent of the session schema version.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import asyncpg

log = logging.getLogger("botbasic.channels")

RUNNING, OK, ERROR, SKIPPED = "running", "ok", "error", "skipped"

_SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS schedule_runs (
        bot TEXT NOT NULL,
        script TEXT NOT NULL,
        fire_time TEXT NOT NULL,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        error TEXT,
        PRIMARY KEY (bot, script, fire_time))""",
    "CREATE INDEX IF NOT EXISTS schedule_runs_by_status ON schedule_runs (bot, script, status)",
    """CREATE TABLE IF NOT EXISTS pending_messages (
        id INTEGER PRIMARY KEY,
        bot TEXT NOT NULL,
        session_id TEXT,
        user_id TEXT,
        content TEXT NOT NULL,
        created_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS pending_by_session ON pending_messages (bot, session_id)",
    "CREATE INDEX IF NOT EXISTS pending_by_user ON pending_messages (bot, user_id)",
)

_POSTGRES_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS schedule_runs (
        bot text NOT NULL,
        script text NOT NULL,
        fire_time text NOT NULL,
        owner text NOT NULL,
        status text NOT NULL,
        started_at double precision NOT NULL,
        finished_at double precision,
        error text,
        PRIMARY KEY (bot, script, fire_time))""",
    "CREATE INDEX IF NOT EXISTS schedule_runs_by_status ON schedule_runs (bot, script, status)",
    """CREATE TABLE IF NOT EXISTS pending_messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        bot text NOT NULL,
        session_id text,
        user_id text,
        content text NOT NULL,
        created_at double precision NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS pending_by_session ON pending_messages (bot, session_id)",
    "CREATE INDEX IF NOT EXISTS pending_by_user ON pending_messages (bot, user_id)",
)

# Statements are written once with ``?`` placeholders; PostgreSQL gets ``$1, $2 ...``.
_INSERT_RUN = ("INSERT INTO schedule_runs (bot, script, fire_time, owner, status, started_at) "
               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bot, script, fire_time) DO NOTHING")
_OTHER_RUNNING = ("SELECT count(*) FROM schedule_runs WHERE bot = ? AND script = ? "
                  "AND fire_time <> ? AND status = 'running' AND started_at > ?")
_FINISH_RUN = ("UPDATE schedule_runs SET status = ?, error = ?, finished_at = ? "
               "WHERE bot = ? AND script = ? AND fire_time = ?")
_SELECT_RUNS = ("SELECT bot, script, fire_time, owner, status, started_at, finished_at, error "
                "FROM schedule_runs WHERE bot = ? ORDER BY fire_time DESC, script LIMIT ?")
_PRUNE_RUNS = "DELETE FROM schedule_runs WHERE started_at < ? AND status <> 'running'"
_ADD_PENDING = ("INSERT INTO pending_messages (bot, session_id, user_id, content, created_at) "
                "VALUES (?, ?, ?, ?, ?)")
# A message for a session, or for its user when it was addressed to the user only.
_TAKE_PENDING = ("DELETE FROM pending_messages WHERE bot = ? "
                 "AND (session_id = ? OR (session_id IS NULL AND user_id = ?)) "
                 "RETURNING id, content")
_HAS_PENDING = ("SELECT 1 FROM pending_messages WHERE bot = ? "
                "AND (session_id = ? OR (session_id IS NULL AND user_id = ?)) LIMIT 1")
_COUNT_PENDING = "SELECT count(*) FROM pending_messages WHERE bot = ?"
_ANY_PENDING = "SELECT 1 FROM pending_messages WHERE bot = ? LIMIT 1"


@lru_cache(maxsize=None)
def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 ...``."""
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


PendingCallback = Callable[[str, Optional[str], Optional[str]], None]
PENDING_CHANNEL = "botbasic_pending"  # PostgreSQL NOTIFY channel of stored messages


@dataclass(frozen=True)
class RunKey:
    """One firing of one scheduled script: the unit of exactly-once."""

    bot: str
    script: str
    fire_time: str  # the scheduled minute, UTC, ``2025-01-31T09:00Z``

    def __str__(self) -> str:
        return f"{self.bot}/{self.script}@{self.fire_time}"


@dataclass
class RunRecord:
    """A row of ``schedule_runs``."""

    bot: str
    script: str
    fire_time: str
    owner: str
    status: str
    started_at: float
    finished_at: Optional[float]
    error: Optional[str]

    def as_dict(self) -> dict:
        return dict(vars(self))


class _Tables:
    """The operations both databases offer; subclasses provide ``_execute``/``_fetch``."""

    async def insert_run(self, run: RunKey, owner: str, status: str = RUNNING) -> bool:
        """Record a firing; False when a row for it exists already (another process won)."""
        changed = await self._execute(_INSERT_RUN, (run.bot, run.script, run.fire_time, owner,
                                                    status, time.time()))
        return changed > 0

    async def other_run_active(self, run: RunKey, stale_after: float) -> bool:
        """True when another firing of the same script is still running (and started
        less than ``stale_after`` seconds ago: a process that died leaves a stale row)."""
        rows = await self._fetch(_OTHER_RUNNING, (run.bot, run.script, run.fire_time,
                                                  time.time() - stale_after))
        return rows[0][0] > 0

    async def finish_run(self, run: RunKey, status: str, error: Optional[str] = None) -> None:
        await self._execute(_FINISH_RUN, (status, error, time.time(), run.bot, run.script,
                                          run.fire_time))

    async def runs(self, bot: str, limit: int = 100) -> list[RunRecord]:
        """The latest runs of ``bot``'s scheduled scripts, newest first."""
        return [RunRecord(*row) for row in await self._fetch(_SELECT_RUNS, (bot, limit))]

    async def prune_runs(self, older_than: float) -> int:
        """Forget finished runs that started before ``older_than`` (Unix time)."""
        return await self._execute(_PRUNE_RUNS, (older_than,))

    async def add_pending(self, bot: str, session_id: Optional[str], user_id: Optional[str],
                          content: str) -> None:
        """Store a message, then tell the other processes (their sockets may be open)."""
        await self._execute(_ADD_PENDING, (bot, session_id, user_id, content, time.time()))
        await self._announce(bot, session_id, user_id)

    async def listen(self, callback: PendingCallback) -> None:
        """Call ``callback(bot, session_id, user_id)`` whenever any process stores a
        message (where the database can tell; SQLite cannot)."""

    async def _announce(self, bot: str, session_id: Optional[str],
                        user_id: Optional[str]) -> None:
        pass

    async def has_pending(self, bot: str, session_id: str, user_id: str) -> bool:
        """A cheap read before ``take_pending`` writes anything (turns ask only while
        ``channels.PendingHints`` says the bot may have messages)."""
        return bool(await self._read(_HAS_PENDING, (bot, session_id, user_id)))

    async def any_pending(self, bot: str) -> bool:
        """Whether any message waits for any session of ``bot``."""
        return bool(await self._read(_ANY_PENDING, (bot,)))

    async def take_pending(self, bot: str, session_id: str, user_id: str) -> list[str]:
        """Remove and return, oldest first, the messages waiting for this session (or its
        user). One statement: two processes never both deliver a message."""
        rows = await self._fetch(_TAKE_PENDING, (bot, session_id, user_id))
        return [content for _, content in sorted(rows)]

    async def pending_count(self, bot: str) -> int:
        return (await self._fetch(_COUNT_PENDING, (bot,)))[0][0]

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        raise NotImplementedError

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list:
        raise NotImplementedError

    async def _read(self, sql: str, params: Sequence[Any]) -> list:
        """A read-only query (may be served faster than ``_fetch``)."""
        return await self._fetch(sql, params)


class SQLiteTables(_Tables):
    """The tables in the SQLite file of the store, over a connection of our own.

    Statements are single and short; they run on a worker thread, one at a time (the
    connection is shared), and wait for the store's writer through SQLite's busy timeout.
    ``_read`` (the per-turn check for pending messages) runs on the event loop thread on a
    second, read-only connection: in WAL mode a reader never waits, and an indexed point
    lookup costs less than the hop to a thread.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: Optional[sqlite3.Connection] = None
        self._reader: Optional[sqlite3.Connection] = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        self._conn = await asyncio.to_thread(self._connect)
        self._reader = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                       check_same_thread=False)
        self._reader.execute("PRAGMA query_only = 1")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the lock the store's migrations take
            for statement in _SQLITE_SCHEMA:
                conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.to_thread(conn.close)

    async def _read(self, sql: str, params: Sequence[Any]) -> list:
        if self._reader is None:
            raise RuntimeError("the system tables are not open")
        return self._reader.execute(sql, tuple(params)).fetchall()

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        return await asyncio.to_thread(self._run, sql, params, False)

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list:
        return await asyncio.to_thread(self._run, sql, params, True)

    def _run(self, sql: str, params: Sequence[Any], fetch: bool):
        if self._conn is None:
            raise RuntimeError("the system tables are not open")
        with self._lock:
            cursor = self._conn.execute(sql, tuple(params))
            return cursor.fetchall() if fetch else cursor.rowcount


class PostgresTables(_Tables):
    """The tables in the PostgreSQL database of ``DATABASE_URL`` (a small pool of ours).

    A stored message is announced with ``NOTIFY botbasic_pending`` (payload: JSON
    ``[bot, session_id, user_id]``); ``listen`` keeps one connection LISTENing, so the
    process holding the user's WebSocket delivers at once. A notification lost (the
    listening connection dropped) only delays delivery to the user's next connect or turn.
    """

    def __init__(self, dsn: str, max_size: int = 4) -> None:
        self.dsn = dsn
        self._max_size = max_size
        self._pool: Optional[asyncpg.Pool] = None
        self._listener = None  # asyncpg.Connection

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self._max_size)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                # The key the store's migrations use: table creation never races them.
                await conn.execute("SELECT pg_advisory_xact_lock("
                                   "hashtext('botbasic.schema:' || current_schema()))")
                for statement in _POSTGRES_SCHEMA:
                    await conn.execute(statement)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def listen(self, callback: PendingCallback) -> None:
        def on_notify(connection, pid, channel, payload) -> None:
            try:
                bot, session_id, user_id = json.loads(payload)
            except (ValueError, TypeError):
                log.warning("ignored a malformed %s notification: %r", channel, payload)
                return
            callback(bot, session_id, user_id)

        self._listener = await asyncpg.connect(self.dsn)
        await self._listener.add_listener(PENDING_CHANNEL, on_notify)

    async def _announce(self, bot: str, session_id: Optional[str],
                        user_id: Optional[str]) -> None:
        payload = json.dumps([bot, session_id, user_id], ensure_ascii=False)
        await self._pool.execute("SELECT pg_notify($1, $2)", PENDING_CHANNEL, payload)

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        status = await self._pool.execute(_numbered(sql), *params)
        # "INSERT 0 1", "UPDATE 2", "DELETE 0": the count is the last word.
        return int(status.split()[-1])

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list:
        return [tuple(row) for row in await self._pool.fetch(_numbered(sql), *params)]


def system_tables_for(store) -> _Tables:
    """The tables next to ``store``: the same SQLite file or PostgreSQL database."""
    dsn = getattr(store, "dsn", None)
    if dsn:
        return PostgresTables(dsn)
    path = getattr(store, "path", None)
    if path is None:
        raise TypeError(f"no system tables for a {type(store).__name__}")
    return SQLiteTables(path)
