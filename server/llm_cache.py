"""Semantic cache of LLM answers (DIALECT §1.4.3 ``llm-cache*``).

An answer is reused for a new message of the same bot, asked with the same prompt
context — the hash of the system message (base prompt, session prompt, contexts), the
offered tool schemas and the model — when the new message's embedding is at least
``llm-cache-threshold`` (default 0.95) cosine-similar to the cached message's. Only
answers of turns that called no tool are stored: a tool call has effects a cached
answer would skip.

| config.csv | default | meaning |
|---|---|---|
| ``llm-cache`` | false | use the cache for this bot |
| ``llm-cache-threshold`` | 0.95 | least cosine similarity of a hit |
| ``llm-cache-ttl`` | 3600 | seconds an answer is kept |
| ``llm-cache-semantic`` | true | false: only the very same message hits |

Entries live in Redis when ``REDIS_URL`` is set (shared by the server processes), else
in this process. Per prompt context at most ``MAX_ENTRIES`` answers are kept (newest
first). A failing Redis is logged and read as a miss: the cache never fails a turn.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

import numpy as np

log = logging.getLogger("botbasic.llm")

DEFAULT_THRESHOLD = 0.95
DEFAULT_TTL = 3600.0
MAX_ENTRIES = 256
MAX_CONTEXTS = 4096  # prompt contexts kept by the in-process backend
EXACT_THRESHOLD = 0.99999  # the same text embeds to the same vector: similarity 1
REDIS_PREFIX = "botbasic:llm-cache:"


@dataclass(frozen=True)
class CacheSettings:
    """A bot's cache settings (see module doc)."""

    enabled: bool = False
    threshold: float = DEFAULT_THRESHOLD
    ttl: float = DEFAULT_TTL

    @classmethod
    def from_config(cls, config: Any) -> "CacheSettings":
        if config is None or not config.get_bool("llm-cache", False):
            return cls()
        threshold = config.get_float("llm-cache-threshold", DEFAULT_THRESHOLD)
        if not config.get_bool("llm-cache-semantic", True):
            threshold = EXACT_THRESHOLD
        ttl = config.get_float("llm-cache-ttl", DEFAULT_TTL)
        return cls(True, min(max(threshold, 0.0), 1.0), ttl if ttl and ttl > 0 else DEFAULT_TTL)


def context_key(bot: str, model: Optional[str], system: str, tools: Optional[list]) -> str:
    """The cache namespace of a prompt context (see module doc)."""
    digest = hashlib.sha256(json.dumps([model, system, tools or []], sort_keys=True,
                                       ensure_ascii=False).encode("utf-8")).hexdigest()
    return f"{bot.lower()}:{digest}"


class CacheBackend(Protocol):
    async def entries(self, namespace: str) -> list[tuple[np.ndarray, str]]:
        """The live entries of a namespace, newest first."""

    async def add(self, namespace: str, vector: np.ndarray, text: str, ttl: float) -> None:
        ...

    async def close(self) -> None:
        ...


def best_match(entries: list[tuple[np.ndarray, str]], vector: np.ndarray,
               threshold: float) -> Optional[str]:
    """The cached answer whose message is most similar to ``vector``, if similar enough."""
    if not entries:
        return None
    matrix = np.stack([entry[0] for entry in entries])
    scores = matrix @ vector
    best = int(np.argmax(scores))
    return entries[best][1] if scores[best] >= threshold else None


class MemoryBackend:
    """Entries in this process (see module doc)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._spaces: OrderedDict[str, list[tuple[np.ndarray, str, float]]] = OrderedDict()

    async def entries(self, namespace: str) -> list[tuple[np.ndarray, str]]:
        now = self._clock()
        live = [entry for entry in self._spaces.get(namespace, []) if entry[2] > now]
        if namespace in self._spaces:
            self._spaces[namespace] = live
            self._spaces.move_to_end(namespace)
        return [(vector, text) for vector, text, _ in live]

    async def add(self, namespace: str, vector: np.ndarray, text: str, ttl: float) -> None:
        space = self._spaces.setdefault(namespace, [])
        space.insert(0, (np.asarray(vector, dtype=np.float32), text, self._clock() + ttl))
        del space[MAX_ENTRIES:]
        self._spaces.move_to_end(namespace)
        while len(self._spaces) > MAX_CONTEXTS:
            self._spaces.popitem(last=False)

    async def close(self) -> None:
        self._spaces.clear()


class RedisBackend:
    """Entries in Redis: one list per namespace, newest first, expiring ``ttl`` after
    the last answer stored in it (see module doc)."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis  # a dependency; imported only when Redis is used

        self._client = redis.from_url(url)

    async def entries(self, namespace: str) -> list[tuple[np.ndarray, str]]:
        raw = await self._client.lrange(REDIS_PREFIX + namespace, 0, MAX_ENTRIES - 1)
        found = []
        for item in raw:
            data = json.loads(item)
            vector = np.frombuffer(base64.b64decode(data["v"]), dtype=np.float32)
            found.append((vector, data["t"]))
        return found

    async def add(self, namespace: str, vector: np.ndarray, text: str, ttl: float) -> None:
        encoded = base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode("ascii")
        key = REDIS_PREFIX + namespace
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps({"v": encoded, "t": text}, ensure_ascii=False))
            pipe.ltrim(key, 0, MAX_ENTRIES - 1)
            pipe.expire(key, max(1, int(ttl)))
            await pipe.execute()

    async def close(self) -> None:
        await self._client.aclose()


class SemanticCache:
    """Lookups and stores against one backend, made on first use (see module doc)."""

    def __init__(self, backend: Optional[CacheBackend] = None,
                 env: Mapping[str, str] = os.environ) -> None:
        self._backend = backend
        self._redis_url = env.get("REDIS_URL") or None

    @property
    def backend(self) -> CacheBackend:
        if self._backend is None:
            self._backend = RedisBackend(self._redis_url) if self._redis_url else MemoryBackend()
        return self._backend

    async def lookup(self, namespace: str, vector: np.ndarray, threshold: float) -> Optional[str]:
        try:
            return best_match(await self.backend.entries(namespace), vector, threshold)
        except Exception as error:  # noqa: BLE001 - Redis down: a miss, not a failed turn
            log.warning("LLM cache lookup failed: %s", error)
            return None

    async def store(self, namespace: str, vector: np.ndarray, text: str, ttl: float) -> None:
        try:
            await self.backend.add(namespace, vector, text, ttl)
        except Exception as error:  # noqa: BLE001
            log.warning("LLM cache store failed: %s", error)

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.close()
            self._backend = None
