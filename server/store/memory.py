"""The memory service (``runtime.memory_store.MemoryStore``) over the session databases.

Both classes behave like ``runtime.memory_store.InMemoryStore``: values are JSON text in
table ``memory`` keyed by (scope, key); a value whose ``expires_at`` is at or before the
time of a ``get`` is gone (the read deletes it, as the in-memory store does). Writes are
durable when the coroutine returns.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any, Awaitable, Callable, Optional

from .common import dump_json, load_json

_UPSERT_SQL = ("INSERT INTO memory (scope, key, value, expires_at) VALUES ({0}, {1}, {2}, {3}) "
               "ON CONFLICT (scope, key) DO UPDATE "
               "SET value = excluded.value, expires_at = excluded.expires_at")
# Only removes the entry if it is still expired: a concurrent ``set`` must survive.
_PURGE_SQL = ("DELETE FROM memory WHERE scope = {0} AND key = {1} "
              "AND expires_at IS NOT NULL AND expires_at <= {2}")


def _expired(expires_at: Optional[float], now: Optional[float]) -> bool:
    return expires_at is not None and expires_at <= (time.time() if now is None else now)


class SQLiteMemoryStore:
    """``MemoryStore`` over the SQLite store: reads on its read connection, writes through
    its group-committing writer thread.

    ``read(sql, params)`` returns all rows; ``write(fn)`` runs ``fn(connection)`` inside a
    write transaction and resolves once it is committed.
    """

    def __init__(self, read: Callable[[str, tuple], list],
                 write: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]):
        self._read = read
        self._write = write

    async def get(self, scope: str, key: str, now: Optional[float] = None) -> Any:
        rows = self._read("SELECT value, expires_at FROM memory WHERE scope = ? AND key = ?",
                          (scope, key))
        if not rows:
            return None
        text, expires_at = rows[0]
        if _expired(expires_at, now):
            moment = time.time() if now is None else now
            sql = _PURGE_SQL.format("?", "?", "?")
            await self._write(lambda conn: conn.execute(sql, (scope, key, moment)))
            return None
        return load_json(text)

    async def set(self, scope: str, key: str, value: Any,
                  expires_at: Optional[float] = None) -> None:
        sql = _UPSERT_SQL.format("?", "?", "?", "?")
        row = (scope, key, dump_json(value), expires_at)
        await self._write(lambda conn: conn.execute(sql, row))

    async def delete(self, scope: str, key: str) -> None:
        await self._write(lambda conn: conn.execute(
            "DELETE FROM memory WHERE scope = ? AND key = ?", (scope, key)))

    async def clear(self, scope: str) -> None:
        await self._write(lambda conn: conn.execute(
            "DELETE FROM memory WHERE scope = ?", (scope,)))

    async def keys(self, scope: str) -> list[str]:
        """The keys of a scope, expired ones included (for tests and tools)."""
        rows = self._read("SELECT key FROM memory WHERE scope = ? ORDER BY key", (scope,))
        return [key for (key,) in rows]


class PostgresMemoryStore:
    """``MemoryStore`` over the PostgreSQL store's asyncpg pool (one statement per call)."""

    def __init__(self, pool) -> None:
        self._pool = pool

    async def get(self, scope: str, key: str, now: Optional[float] = None) -> Any:
        row = await self._pool.fetchrow(
            "SELECT value, expires_at FROM memory WHERE scope = $1 AND key = $2", scope, key)
        if row is None:
            return None
        text, expires_at = row
        if _expired(expires_at, now):
            moment = time.time() if now is None else now
            await self._pool.execute(_PURGE_SQL.format("$1", "$2", "$3"), scope, key, moment)
            return None
        return load_json(text)

    async def set(self, scope: str, key: str, value: Any,
                  expires_at: Optional[float] = None) -> None:
        await self._pool.execute(_UPSERT_SQL.format("$1", "$2", "$3", "$4"),
                                 scope, key, dump_json(value), expires_at)

    async def delete(self, scope: str, key: str) -> None:
        await self._pool.execute("DELETE FROM memory WHERE scope = $1 AND key = $2", scope, key)

    async def clear(self, scope: str) -> None:
        await self._pool.execute("DELETE FROM memory WHERE scope = $1", scope)

    async def keys(self, scope: str) -> list[str]:
        """The keys of a scope, expired ones included (for tests and tools)."""
        rows = await self._pool.fetch("SELECT key FROM memory WHERE scope = $1 ORDER BY key",
                                      scope)
        return [row[0] for row in rows]
