"""The aiohttp application of the chat server: ``create_app(settings)``.

State lives under the ``web.AppKey``s of ``appkeys.py``. Background work is tied to the
application's life in ``cleanup_ctx`` (in order: open the store, load and compile every
bot, watch the bots folder), so tests and ``botbasic serve`` start and stop the same way.
"""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator, Optional

from aiohttp import web

from ..interpreter import front_end_registry
from ..runtime.program import ProgramStore
from . import admin, operations, routes, websocket
from .appkeys import (BOTS, CONVERSATIONS, LLM, METRICS, READINESS, RUNTIMES, SETTINGS, STORE,
                      Readiness)
from .bots import BotRegistry
from .config import ServerSettings
from .conversation import Conversations
from .llm_turn import LlmTurn
from .metrics import ServerMetrics
from .runner import BotRuntimes, ProgramArchive
from .store.factory import open_store

log = logging.getLogger("botbasic.server")


def create_app(settings: Optional[ServerSettings] = None, llm: Optional[LlmTurn] = None) -> web.Application:
    """The chat server for ``settings`` (bots folder, data folder or DATABASE_URL ...)."""
    settings = settings or ServerSettings.from_env()
    app = web.Application(middlewares=[routes.json_errors])
    app[SETTINGS] = settings
    app[METRICS] = ServerMetrics()
    app[READINESS] = Readiness()
    app[LLM] = llm
    app.cleanup_ctx.extend([_store_ctx, _bots_ctx, _watch_ctx])
    operations.add_routes(app)
    admin.add_routes(app)
    routes.add_routes(app)
    websocket.add_routes(app)
    return app


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = open_store(settings.database_url, settings.data_dir)
    await store.open()
    app[STORE] = store
    app[READINESS].store_open = True
    try:
        yield
    finally:
        app[READINESS].store_open = False
        await store.close()


async def _bots_ctx(app: web.Application) -> AsyncIterator[None]:
    """Compile every bot once, before the first request (never per message)."""
    settings, store = app[SETTINGS], app[STORE]
    registry = front_end_registry()
    programs = ProgramStore()
    archive = ProgramArchive(store, programs, registry)
    bots = BotRegistry(settings.bots_dir, registry, programs=programs, on_program=archive.on_program)
    bots.load_all()
    app[BOTS] = bots
    app[RUNTIMES] = BotRuntimes(bots, store.memory, settings.max_message_bytes)
    app[CONVERSATIONS] = Conversations(store, registry, archive, app[METRICS], app[LLM])
    app[READINESS].bots_loaded = True
    yield
    app[READINESS].bots_loaded = False


async def _watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hot reload: watch the bots folder while the server runs."""
    if not app[SETTINGS].watch:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(app[BOTS].watch(stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        except Exception:  # the watcher's failure must not hide the shutdown
            log.exception("the bots folder watcher failed")
