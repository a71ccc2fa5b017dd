"""The memory service behind BOT/USER MEMORY and REMEMBER/RECALL (DIALECT §9.2).

A store is a set of *scopes* (``bot/<bot_id>``, ``user/<user_id>``,
``remember/<bot_id>/<user_id>``), each a map of string keys to JSON values with an optional
expiry time. The keywords convert BASIC values with ``values.to_plain`` / ``from_plain``,
so a store only ever sees JSON data. The server implements the same four coroutines over
SQLite or PostgreSQL; ``InMemoryStore`` is the in-process default (and the test double).
"""
from __future__ import annotations

import json
import time
from typing import Any, Optional, Protocol


class MemoryStore(Protocol):
    """The async interface the memory keywords use."""

    async def get(self, scope: str, key: str, now: Optional[float] = None) -> Any:
        """The value stored under ``key``, or None when absent or expired at ``now``."""

    async def set(self, scope: str, key: str, value: Any,
                  expires_at: Optional[float] = None) -> None:
        """Store (upsert) ``value``; ``expires_at`` is Unix seconds or None for ever."""

    async def delete(self, scope: str, key: str) -> None:
        """Remove one key."""

    async def clear(self, scope: str) -> None:
        """Remove every key of a scope."""


class InMemoryStore:
    """A process-local ``MemoryStore``; values are kept as JSON text, like a database."""

    def __init__(self) -> None:
        self._scopes: dict[str, dict[str, tuple[str, Optional[float]]]] = {}

    async def get(self, scope: str, key: str, now: Optional[float] = None) -> Any:
        entry = self._scopes.get(scope, {}).get(key)
        if entry is None:
            return None
        text, expires_at = entry
        if expires_at is not None and expires_at <= (time.time() if now is None else now):
            del self._scopes[scope][key]
            return None
        return json.loads(text)

    async def set(self, scope: str, key: str, value: Any,
                  expires_at: Optional[float] = None) -> None:
        self._scopes.setdefault(scope, {})[key] = (json.dumps(value), expires_at)

    async def delete(self, scope: str, key: str) -> None:
        self._scopes.get(scope, {}).pop(key, None)

    async def clear(self, scope: str) -> None:
        self._scopes.pop(scope, None)

    def keys(self, scope: str) -> list[str]:
        """The keys of a scope (for tests and tools)."""
        return list(self._scopes.get(scope, {}))
