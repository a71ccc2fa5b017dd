"""The two databases behind ``tables.SqlTables``: SQLite (aiosqlite) and PostgreSQL (asyncpg).

A backend knows what differs between them — how a bot's tables are named (a table prefix
in SQLite, a schema per bot in PostgreSQL), how to hold a connection and run transactions
and DDL, how to read a table's columns, and how Python values travel to the driver — and
nothing about filters or keywords. Every statement it runs comes from ``SqlTables`` with ``filters.quote_identifier``
names and parameters for all values.
"""
from __future__ import annotations

import asyncio
import re
import weakref
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, AsyncIterator, Optional, Protocol

from ..errors import BasicError
from .filter_sql import POSTGRES, SQLITE, Dialect, kind_of

_NAME_CHARS = re.compile(r"\W")


def bot_token(bot: str) -> str:
    """A bot id as an identifier fragment (``my-bot`` -> ``my_bot``)."""
    token = _NAME_CHARS.sub("_", bot.strip().lower()) or "default"
    return token[:40]


def quoted(name: str) -> str:
    """Quote an identifier built by a backend (already made of word characters)."""
    if _NAME_CHARS.search(name):
        raise BasicError(f"'{name}' is not a valid table name")
    return f'"{name}"'


@dataclass
class ColumnDef:
    name: str
    sql_type: str
    kind: str


@dataclass
class TableShape:
    """The columns of a stored table (in table order) and its primary-key column."""

    columns: list[ColumnDef] = field(default_factory=list)
    key: Optional[str] = None

    def find(self, name: str) -> Optional[ColumnDef]:
        lowered = name.lower()
        exact = next((c for c in self.columns if c.name == name), None)
        return exact or next((c for c in self.columns if c.name.lower() == lowered), None)


class Connection(Protocol):
    """One database connection, held for a whole table operation."""

    def transaction(self):
        """``async with conn.transaction()``: statements inside commit together."""

    async def fetch(self, sql: str, params: list) -> list[dict]:
        """Rows as dicts keyed by column name."""

    async def execute(self, sql: str, params: list) -> int:
        """Run a statement; the number of rows it changed."""

    async def ddl(self, sql: str) -> None:
        """Run CREATE/ALTER; another writer having just done the same is not an error."""


class SqlBackend(Protocol):
    dialect: Dialect

    def table_ref(self, bot: str, table: str) -> str:
        """The quoted SQL name of ``table`` of ``bot``."""

    def connect(self):
        """``async with backend.connect() as conn``: a Connection for one operation."""

    async def prepare_bot(self, conn: Connection, bot: str) -> None:
        """Make room for the bot's tables (PostgreSQL: its schema)."""

    async def shape(self, conn: Connection, bot: str, table: str) -> Optional[TableShape]:
        """The table's columns and key, None when it does not exist."""

    def add_column_sql(self, bot: str, table: str, column: str, sql_type: str) -> str:
        """ALTER TABLE adding a column."""

    def adapt(self, value: Any, kind: str) -> Any:
        """A coerced Python value (``filters.coerce``) as the driver takes it."""

    def integer_key_sql(self) -> str:
        """Column type of a single integer primary key that numbers new rows itself."""

    async def drop_bot(self, bot: str) -> None:
        """Remove every table of a bot."""

    async def close(self) -> None:
        ...


# ======================================================================================
# SQLite
# ======================================================================================

_SQLITE_RACES = ("already exists", "duplicate column")


class _SqliteConnection:
    def __init__(self, db):
        self.db = db

    @asynccontextmanager
    async def transaction(self):
        await self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        await self.db.execute("COMMIT")

    async def fetch(self, sql: str, params: list) -> list[dict]:
        async with self.db.execute(sql, params) as cursor:
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row)) for row in await cursor.fetchall()]

    async def execute(self, sql: str, params: list) -> int:
        async with self.db.execute(sql, params) as cursor:
            return cursor.rowcount

    async def ddl(self, sql: str) -> None:
        try:
            await self.db.execute(sql)
        except Exception as error:  # sqlite3.OperationalError
            if not any(race in str(error).lower() for race in _SQLITE_RACES):
                raise


class SqliteBackend:
    """All bots in one SQLite file; a bot's tables are named ``<bot>__<table>``.

    One connection serves every coroutine; operations take turns (a lock per event loop,
    so the object also survives tests that run several loops)."""

    dialect = SQLITE

    def __init__(self, db):
        self.db = db
        self._locks: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    @classmethod
    async def open(cls, path: str = ":memory:") -> "SqliteBackend":
        import aiosqlite

        db = await aiosqlite.connect(path, isolation_level=None, timeout=30)
        if path != ":memory:":
            await db.execute("PRAGMA busy_timeout=30000")  # several servers may share the file
            async with db.execute("PRAGMA journal_mode") as cursor:
                mode = (await cursor.fetchone())[0]
            if str(mode).lower() != "wal":  # switching needs the file to itself: once
                await db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for writers
        return cls(db)

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_SqliteConnection]:
        async with self._lock():
            yield _SqliteConnection(self.db)

    def _name(self, bot: str, table: str) -> str:
        return f"{bot_token(bot)}__{table}"

    def table_ref(self, bot: str, table: str) -> str:
        return quoted(self._name(bot, table))

    async def prepare_bot(self, conn, bot: str) -> None:
        return None

    async def shape(self, conn, bot: str, table: str) -> Optional[TableShape]:
        rows = await conn.fetch(f"PRAGMA table_info({self.table_ref(bot, table)})", [])
        if not rows:
            return None
        columns = [ColumnDef(r["name"], r["type"] or "TEXT", kind_of(r["type"] or "TEXT"))
                   for r in rows]
        keys = [r["name"] for r in sorted(rows, key=lambda r: r["pk"]) if r["pk"]]
        return TableShape(columns, keys[0] if len(keys) == 1 else None)

    def add_column_sql(self, bot: str, table: str, column: str, sql_type: str) -> str:
        return f"ALTER TABLE {self.table_ref(bot, table)} ADD COLUMN {quoted(column)} {sql_type}"

    def adapt(self, value: Any, kind: str) -> Any:
        """SQLite has no date or boolean types: ISO text and 0/1 keep them comparable."""
        if isinstance(value, datetime):
            return value.isoformat(sep=" ", timespec="seconds")
        if isinstance(value, date):
            return value.isoformat()
        if type(value) is bool:
            return int(value)
        return value

    def integer_key_sql(self) -> str:
        return "INTEGER"  # INTEGER PRIMARY KEY numbers rows itself

    async def drop_bot(self, bot: str) -> None:
        prefix = bot_token(bot) + "__"
        async with self.connect() as conn:
            rows = await conn.fetch("SELECT name FROM sqlite_master WHERE type = 'table'", [])
            for row in rows:
                if row["name"].startswith(prefix):
                    await conn.execute(f"DROP TABLE {quoted(row['name'])}", [])

    async def close(self) -> None:
        await self.db.close()


# ======================================================================================
# PostgreSQL
# ======================================================================================


class _PostgresConnection:
    def __init__(self, conn):
        self.conn = conn

    def transaction(self):
        return self.conn.transaction()

    async def fetch(self, sql: str, params: list) -> list[dict]:
        return [dict(record) for record in await self.conn.fetch(sql, *params)]

    async def execute(self, sql: str, params: list) -> int:
        status = await self.conn.execute(sql, *params)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def ddl(self, sql: str) -> None:
        """In a savepoint: when a concurrent writer created the same schema, table or
        column first, PostgreSQL reports a duplicate, which only that savepoint undoes."""
        import asyncpg

        races = (asyncpg.UniqueViolationError, asyncpg.DuplicateTableError,
                 asyncpg.DuplicateSchemaError, asyncpg.DuplicateColumnError,
                 asyncpg.DuplicateObjectError)
        try:
            async with self.conn.transaction():
                await self.conn.execute(sql)
        except races:
            pass


_COLUMNS_SQL = """
SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2
ORDER BY ordinal_position"""

_KEY_SQL = """
SELECT kcu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
 AND kcu.table_name = tc.table_name
WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = $1 AND tc.table_name = $2"""


class PostgresBackend:
    """One PostgreSQL database; each bot's tables live in schema ``<prefix><bot>``.

    An operation holds one pooled connection (never two: a full pool cannot deadlock).
    The asyncpg pool belongs to the event loop that opened it."""

    dialect = POSTGRES

    def __init__(self, pool, schema_prefix: str = "bot_"):
        self.pool = pool
        self.schema_prefix = schema_prefix

    @classmethod
    async def open(cls, dsn: str, schema_prefix: str = "bot_", **pool_options) -> "PostgresBackend":
        import asyncpg

        pool_options.setdefault("min_size", 1)
        pool_options.setdefault("max_size", 5)
        return cls(await asyncpg.create_pool(dsn, **pool_options), schema_prefix)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_PostgresConnection]:
        async with self.pool.acquire() as conn:
            yield _PostgresConnection(conn)

    def schema(self, bot: str) -> str:
        return self.schema_prefix + bot_token(bot)

    def table_ref(self, bot: str, table: str) -> str:
        return f"{quoted(self.schema(bot))}.{quoted(table)}"

    async def prepare_bot(self, conn, bot: str) -> None:
        await conn.ddl(f"CREATE SCHEMA IF NOT EXISTS {quoted(self.schema(bot))}")

    async def shape(self, conn, bot: str, table: str) -> Optional[TableShape]:
        schema = self.schema(bot)
        rows = await conn.fetch(_COLUMNS_SQL, [schema, table])
        if not rows:
            return None
        columns = [ColumnDef(r["column_name"], _pg_type(r), kind_of(r["data_type"])) for r in rows]
        keys = [r["column_name"] for r in await conn.fetch(_KEY_SQL, [schema, table])]
        return TableShape(columns, keys[0] if len(keys) == 1 else None)

    def add_column_sql(self, bot: str, table: str, column: str, sql_type: str) -> str:
        return (f"ALTER TABLE {self.table_ref(bot, table)} "
                f"ADD COLUMN IF NOT EXISTS {quoted(column)} {sql_type}")

    def adapt(self, value: Any, kind: str) -> Any:
        """asyncpg takes the coerced Python values (datetime, date, bool ...) as they are."""
        return value

    def integer_key_sql(self) -> str:
        return "BIGINT GENERATED BY DEFAULT AS IDENTITY"

    async def drop_bot(self, bot: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quoted(self.schema(bot))} CASCADE")

    async def close(self) -> None:
        await self.pool.close()


def _pg_type(row: dict) -> str:
    """A readable SQL type from information_schema (for ``columns`` callers)."""
    data_type = row["data_type"]
    if row.get("character_maximum_length"):
        return f"{data_type}({row['character_maximum_length']})"
    return data_type
