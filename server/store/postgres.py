"""The PostgreSQL session store (``DATABASE_URL=postgresql://...``), over an asyncpg pool.

Several server processes may share the database. A turn is one transaction on one pooled
connection:

* ``SELECT ... FOR UPDATE`` locks the session row for the whole turn, so a turn of the same
  session in any process waits until this one commits or rolls back, then reads the
  committed state;
* ``commit`` writes the session, the history items and the reply in ONE statement
  (data-modifying CTEs), then commits; leaving the turn without commit rolls back.

Inside a process, ``common.SessionLocks`` queues the turns of one session first, so waiting
turns hold no pooled connection and run in arrival order. A running turn holds a connection
for its whole length (LLM calls included), and what its script does meanwhile (memory
keywords, saving a program's source) takes a second one for a statement: so turns may hold
at most ``max_size`` minus a reserve of the pool's connections at once. Were every
connection held by a turn, each would wait for a statement that waits for a connection.

The DSN may carry server settings as query parameters, e.g.
``postgresql://host/db?search_path=tenant1`` to keep the tables in schema ``tenant1``.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

import asyncpg

from .base import HistoryItem, SessionRecord
from .common import (SESSION_COLUMNS, SessionExists, SessionLocks, SessionNotFound, StoreTurn,
                     TurnConflict, dump_json, history_from_row,
                     new_session_id, program_from_row, session_from_row)
from .memory import PostgresMemoryStore
from .migrations import migrate_postgres

_SELECT_SESSION = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
# What a turn reads, in one statement, locking the session row: the session (or only its
# version, when the caller still holds the record of its last commit) and the reply
# stored for the message id.
_EARLIER_REPLY = "(SELECT reply FROM replies WHERE session_id = $1 AND message_id = $2)"
_SELECT_TURN = f"SELECT {SESSION_COLUMNS}, {_EARLIER_REPLY} FROM sessions WHERE id = $1 FOR UPDATE"
_SELECT_TURN_VERSION = f"SELECT version, {_EARLIER_REPLY} FROM sessions WHERE id = $1 FOR UPDATE"
# $1 session id; $2..$6 session fields; $7..$10 history columns as arrays; $11..$13 reply.
_COMMIT_TURN = """
WITH updated AS (
    UPDATE sessions SET bot = $2, user_id = $3, data = $4, execution = $5,
        start_done = $6, version = version + 1
    WHERE id = $1
    RETURNING version
), added AS (
    INSERT INTO history (session_id, role, content, at, message_id)
    SELECT $1, h.role, h.content, h.at, h.message_id
    FROM unnest($7::text[], $8::text[], $9::float8[], $10::text[])
        WITH ORDINALITY AS h(role, content, at, message_id, position)
    ORDER BY h.position
), replied AS (
    INSERT INTO replies (session_id, message_id, reply, created_at)
    SELECT $1, $11::text, $12::json, $13 WHERE $11::text IS NOT NULL AND $12::text IS NOT NULL
    ON CONFLICT (session_id, message_id) DO UPDATE SET reply = excluded.reply
)
SELECT version FROM updated
"""


class PostgresTurn(StoreTurn):
    """One turn of one session: an open transaction holding the session row's lock."""

    def __init__(self, conn, session: SessionRecord, **read) -> None:
        super().__init__(session, **read)
        self._conn = conn

    async def _stored_reply(self, message_id: str) -> Optional[str]:
        return await self._conn.fetchval(
            "SELECT reply FROM replies WHERE session_id = $1 AND message_id = $2",
            self.session.id, message_id)

    async def commit(self, session: SessionRecord, history: list[HistoryItem],
                     message_id: Optional[str], reply: Optional[dict]) -> None:
        self._check_commit(session)
        version = await self._conn.fetchval(
            _COMMIT_TURN, session.id, session.bot, session.user_id, dump_json(session.data),
            None if session.execution is None else dump_json(session.execution),
            bool(session.start_done),
            [item.role for item in history], [item.content for item in history],
            [float(item.at) for item in history], [item.message_id for item in history],
            message_id, None if reply is None else dump_json(reply), time.time())
        if version is None:
            raise TurnConflict(f"session {session.id} disappeared during the turn")
        await self._conn.execute("COMMIT")
        self.committed = True
        session.version = version
        self.session = session


class PostgresStore:
    """The session store over PostgreSQL (``base.SessionStore``; see module doc)."""

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 20) -> None:
        self.dsn = dsn
        self._pool_sizes = (min_size, max_size)
        self._pool: Optional[asyncpg.Pool] = None
        self._locks = SessionLocks()
        self._turn_slots = asyncio.Semaphore(max(1, max_size - max(1, max_size // 4)))
        self._memory: Optional[PostgresMemoryStore] = None

    # -- lifecycle

    async def open(self) -> None:
        min_size, max_size = self._pool_sizes
        self._pool = await asyncpg.create_pool(self.dsn, min_size=min_size, max_size=max_size)
        try:
            async with self._pool.acquire() as conn:
                await migrate_postgres(conn)
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise
        self._memory = PostgresMemoryStore(self._pool)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def memory(self) -> PostgresMemoryStore:
        return self._memory

    # -- sessions

    async def create_session(self, bot: str, user_id: str,
                             session_id: Optional[str] = None) -> SessionRecord:
        record = SessionRecord(id=session_id or new_session_id(), bot=bot, user_id=user_id,
                               created_at=time.time())
        inserted = await self._pool.fetchval(
            "INSERT INTO sessions (id, bot, user_id, created_at, data) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id",
            record.id, bot, user_id, record.created_at, dump_json(record.data))
        if inserted is None:
            raise SessionExists(record.id)
        return record

    async def get_session(self, session_id: str) -> Optional[SessionRecord]:
        row = await self._pool.fetchrow(_SELECT_SESSION, session_id)
        return None if row is None else session_from_row(row)

    async def sessions_count(self) -> int:
        return await self._pool.fetchval("SELECT count(*) FROM sessions")

    async def history(self, session_id: str, limit: int = 100) -> list[HistoryItem]:
        rows = await self._pool.fetch(
            "SELECT role, content, at, message_id FROM history "
            "WHERE session_id = $1 ORDER BY id DESC LIMIT $2", session_id, limit)
        return [history_from_row(row) for row in reversed(rows)]

    # -- turns

    @asynccontextmanager
    async def turn(self, session_id: str, *, message_id: Optional[str] = None,
                   warm: Optional[SessionRecord] = None) -> AsyncIterator[PostgresTurn]:
        """See ``base.SessionStore.turn``."""
        async with self._locks.hold(session_id), self._turn_slots:
            async with self._pool.acquire() as conn:
                await conn.execute("BEGIN")
                turn = None
                try:
                    turn = await _read_turn(conn, session_id, message_id, warm)
                    yield turn
                finally:
                    if turn is not None:
                        turn.finished = True
                    if turn is None or not turn.committed:
                        await _rollback(conn)

    # -- compiled programs

    async def save_program(self, hash: str, bot: str, script: str, file: str,
                           source: str) -> None:
        """Keep the source of a compiled program under its content hash (first one wins:
        the same hash is the same source)."""
        await self._pool.execute(
            "INSERT INTO programs (hash, bot, script, file, source, saved_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
            hash, bot, script, file, source, time.time())

    async def load_program_source(self, hash: str) -> Optional[dict]:
        """``{"hash", "bot", "script", "file", "source"}`` saved for ``hash``, or None."""
        row = await self._pool.fetchrow(
            "SELECT hash, bot, script, file, source FROM programs WHERE hash = $1", hash)
        return None if row is None else program_from_row(row)


async def _read_turn(conn, session_id: str, message_id: Optional[str],
                     warm: Optional[SessionRecord]) -> PostgresTurn:
    if warm is not None:
        row = await conn.fetchrow(_SELECT_TURN_VERSION, session_id, message_id)
        if row is not None and row[0] == warm.version:  # nothing committed since: keep it
            return PostgresTurn(conn, warm, warm_hit=True, message_id=message_id, earlier=row[1])
    row = await conn.fetchrow(_SELECT_TURN, session_id, message_id)
    if row is None:
        raise SessionNotFound(session_id)
    return PostgresTurn(conn, session_from_row(tuple(row)[:-1]), message_id=message_id,
                        earlier=row[-1])


async def _rollback(conn) -> None:
    """End the turn's transaction; a broken connection is discarded by the pool anyway."""
    if conn.is_closed():
        return
    try:
        await conn.execute("ROLLBACK")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        pass
