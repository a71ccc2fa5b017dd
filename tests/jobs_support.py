"""Helpers for the schedule and webhook tests (tests/test_scheduler.py, test_webhooks.py).

* ``run(coro)`` — ``asyncio.run`` that fails a deadlocked test instead of hanging (on a
  thread of its own when a loop already runs in this one);
* ``wait_until(check)`` — poll a condition until a deadline (never a timed assertion);
* ``pg_schema()`` — a fresh schema in the PostgreSQL database of ``$DATABASE_URL_TEST``,
  as a DATABASE_URL, dropped afterwards; ``redis_url()`` — ``$REDIS_URL_TEST``, checked.
  Either one unreachable fails the test (never a skip);
* ``Sink`` — a real HTTP server (own thread) that scripts call: ``POST /hit`` records the
  JSON body; ``GET /block`` waits until the test calls ``release()``.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator

import asyncpg
import pytest
from aiohttp import web

from http_support import LocalServer
from server_support import PG_URL
from store_support import with_search_path

REDIS_URL = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/0")
GUARD_S = 60
DEADLINE_S = 20


def run(coro, guard: float = GUARD_S):
    """Run a test coroutine in a fresh event loop; fail it if it takes over ``guard`` s."""
    async def guarded():
        return await asyncio.wait_for(coro, guard)
    return _asyncio_run(guarded())


def _asyncio_run(coro):
    """``asyncio.run``, on a thread of its own when this thread already runs a loop (the
    session-wide Playwright fixture of the browser tests keeps one running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc
    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def wait_until(check: Callable, deadline: float = DEADLINE_S, what: str = "condition"):
    """Poll ``check()`` (sync or async) until it is truthy; its value. Fails after
    ``deadline`` seconds."""
    limit = time.monotonic() + deadline
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def wait_until_sync(check: Callable, deadline: float = DEADLINE_S, what: str = "condition"):
    limit = time.monotonic() + deadline
    while not (value := check()):
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


# ---------------------------------------------------------------- PostgreSQL and Redis


async def _pg_execute(sql: str) -> None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} ({exc}); "
                    "set DATABASE_URL_TEST", pytrace=False)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def pg_schema() -> Iterator[str]:
    """A DATABASE_URL whose tables live in a fresh schema, dropped afterwards."""
    schema = f"test_jobs_{uuid.uuid4().hex[:12]}"
    _asyncio_run(_pg_execute(f"CREATE SCHEMA {schema}"))
    try:
        yield with_search_path(PG_URL, schema)
    finally:
        _asyncio_run(_pg_execute(f"DROP SCHEMA {schema} CASCADE"))


def redis_url() -> str:
    """``$REDIS_URL_TEST`` after checking the server answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); set REDIS_URL_TEST",
                    pytrace=False)
    finally:
        client.close()
    return REDIS_URL


# ---------------------------------------------------------------- a server scripts call


class Sink:
    """A local HTTP server for scripts (see module doc)."""

    def __init__(self) -> None:
        self.hits: list = []
        self.entered = 0
        self._lock = threading.Lock()
        self._gate = threading.Event()
        app = web.Application()
        app.router.add_post("/hit", self._hit)
        app.router.add_get("/block", self._block)
        self._server = LocalServer(app)

    def url(self, path: str) -> str:
        return self._server.url(path)

    def start(self) -> "Sink":
        self._server.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.stop()

    def release(self) -> None:
        """Let every waiting and future ``/block`` request answer."""
        self._gate.set()

    async def _hit(self, request: web.Request) -> web.Response:
        body = await request.text()
        with self._lock:
            self.hits.append(json.loads(body) if body else None)
        return web.json_response({"ok": True})

    async def _block(self, request: web.Request) -> web.Response:
        with self._lock:
            self.entered += 1
        await asyncio.to_thread(self._gate.wait, GUARD_S)
        return web.json_response({"released": True})

    def __enter__(self) -> "Sink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
