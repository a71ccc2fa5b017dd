"""Versioned schema migrations of the session stores (SQLite and PostgreSQL).

``MIGRATIONS`` is the ordered list of schema steps; each has the SQL of both databases, so
the two schemas evolve together. A database records the steps it has applied in the
``schema_version`` table (one row per version). ``open()`` of a store calls
``migrate_sqlite`` or ``migrate_postgres``, which apply the missing steps in one
transaction under a database-wide lock, so several processes opening the same database at
once apply every step exactly once: the first takes the lock and migrates, the others wait
for it and then find nothing left to do.

Rules for new steps: append, never edit a released step; keep steps additive (new tables,
new nullable columns) so processes of the previous release keep working during a rolling
deploy.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step: its version number, what it does, and its SQL per database."""

    version: int
    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "sessions, history, replies, memory, programs",
        sqlite=(
            """CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                bot TEXT NOT NULL,
                user_id TEXT NOT NULL,
                created_at REAL NOT NULL,
                data TEXT NOT NULL,
                execution TEXT,
                start_done INTEGER NOT NULL DEFAULT 0,
                version INTEGER NOT NULL DEFAULT 0)""",
            # ``id`` is the rowid: insertion order, which is message order within a session.
            """CREATE TABLE history (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL,
                role TEXT NOT NULL,
                content TEXT NOT NULL,
                at REAL NOT NULL,
                message_id TEXT)""",
            "CREATE INDEX history_by_session ON history (session_id, id)",
            """CREATE TABLE replies (
                session_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                reply TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (session_id, message_id)) WITHOUT ROWID""",
            """CREATE TABLE memory (
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                expires_at REAL,
                PRIMARY KEY (scope, key)) WITHOUT ROWID""",
            """CREATE TABLE programs (
                hash TEXT PRIMARY KEY,
                bot TEXT NOT NULL,
                script TEXT NOT NULL,
                file TEXT NOT NULL,
                source TEXT NOT NULL,
                saved_at REAL NOT NULL)""",
        ),
        postgres=(
            # ``json`` (not ``jsonb``) keeps the text as written, key order included.
            """CREATE TABLE sessions (
                id text PRIMARY KEY,
                bot text NOT NULL,
                user_id text NOT NULL,
                created_at double precision NOT NULL,
                data json NOT NULL,
                execution json,
                start_done boolean NOT NULL DEFAULT false,
                version integer NOT NULL DEFAULT 0)""",
            """CREATE TABLE history (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                session_id text NOT NULL,
                role text NOT NULL,
                content text NOT NULL,
                at double precision NOT NULL,
                message_id text)""",
            "CREATE INDEX history_by_session ON history (session_id, id)",
            """CREATE TABLE replies (
                session_id text NOT NULL,
                message_id text NOT NULL,
                reply json NOT NULL,
                created_at double precision NOT NULL,
                PRIMARY KEY (session_id, message_id))""",
            """CREATE TABLE memory (
                scope text NOT NULL,
                key text NOT NULL,
                value json NOT NULL,
                expires_at double precision,
                PRIMARY KEY (scope, key))""",
            """CREATE TABLE programs (
                hash text PRIMARY KEY,
                bot text NOT NULL,
                script text NOT NULL,
                file text NOT NULL,
                source text NOT NULL,
                saved_at double precision NOT NULL)""",
        ),
    ),
    Migration(
        2, "turn_requests: processes asking for a session lock another one keeps",
        sqlite=(
            """CREATE TABLE turn_requests (
                session_id text PRIMARY KEY,
                requested_at real NOT NULL)""",
        ),
        postgres=(
            """CREATE TABLE turn_requests (
                session_id text PRIMARY KEY,
                requested_at double precision NOT NULL)""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at double precision NOT NULL)"""
_CURRENT_VERSION = "SELECT coalesce(max(version), 0) FROM schema_version"


def pending(current: int) -> list[Migration]:
    """The steps a database at version ``current`` still needs, in order."""
    return [step for step in MIGRATIONS if step.version > current]


def migrate_sqlite(conn: sqlite3.Connection) -> list[int]:
    """Apply the missing steps to an SQLite database; returns the versions applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). ``BEGIN IMMEDIATE``
    takes the database's write lock before the version is read; SQLite DDL is
    transactional, so a failed step leaves the database as it was.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_VERSION_TABLE)
        current = conn.execute(_CURRENT_VERSION).fetchone()[0]
        applied = []
        for step in pending(current):
            for statement in step.sqlite:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                         (step.version, step.name, time.time()))
            applied.append(step.version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied


async def migrate_postgres(conn) -> list[int]:
    """Apply the missing steps to the current schema of a PostgreSQL database (an asyncpg
    connection); returns the versions applied.

    A transaction-scoped advisory lock keyed by the schema name serialises concurrent
    openers (even ``CREATE TABLE IF NOT EXISTS`` is not safe to race in PostgreSQL).
    """
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('botbasic.schema:' || current_schema()))")
        await conn.execute(_VERSION_TABLE)
        current = await conn.fetchval(_CURRENT_VERSION)
        applied = []
        for step in pending(current):
            for statement in step.postgres:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                step.version, step.name, time.time())
            applied.append(step.version)
    return applied
