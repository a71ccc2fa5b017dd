"""The aiohttp application of the chat server: ``create_app(settings)``.

State lives under the ``web.AppKey``s of ``appkeys.py``. Background work is tied to the
application's life in ``cleanup_ctx`` (in order: open the store, load and compile every
bot and start indexing their knowledge bases, start schedules and channels (``jobs.py``),
watch the bots folder), so tests and ``botbasic serve`` start and stop the same way.
Without an injected ``llm``, bots with a model are answered by ``llm_turn.ModelTurn``.
"""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator, Optional

from aiohttp import web

from ..interpreter import front_end_registry
from ..runtime.program import ProgramStore
from . import admin, jobs, live_sockets, operations, routes, webhooks, websocket
from .appkeys import (BOTS, CONVERSATIONS, KNOWLEDGE, LLM, METRICS, READINESS, RUNTIMES, SETTINGS,
                      STORE, Readiness)
from .bots import BotRegistry
from .config import ServerSettings
from .conversation import Conversations
from .knowledge import KnowledgeHub
from .llm_turn import LlmTurn, ModelTurn
from .job_metrics import JobServerMetrics
from .runner import BotRuntimes, ProgramArchive
from .tables_host import TABLES, LazyTables
from .store.factory import open_store

log = logging.getLogger("botbasic.server")


def create_app(settings: Optional[ServerSettings] = None, llm: Optional[LlmTurn] = None) -> web.Application:
    """The chat server for ``settings`` (bots folder, data folder or DATABASE_URL ...)."""
    settings = settings or ServerSettings.from_env()
    app = web.Application(middlewares=[routes.json_errors, live_sockets.track_sockets])
    app[SETTINGS] = settings
    app[METRICS] = JobServerMetrics()
    app[READINESS] = Readiness()
    app[LLM] = llm if llm is not None else ModelTurn()
    app.cleanup_ctx.extend([_store_ctx, _bots_ctx, jobs.jobs_ctx, _watch_ctx])
    app.on_response_prepare.append(live_sockets.remember_socket)  # TALK TO live delivery
    operations.add_routes(app)
    admin.add_routes(app)
    routes.add_routes(app)
    websocket.add_routes(app)
    webhooks.add_routes(app)
    jobs.add_routes(app)
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
    """Compile every bot once, before the first request (never per message); index their
    knowledge bases in the background."""
    settings, store = app[SETTINGS], app[STORE]
    registry = front_end_registry()
    programs = ProgramStore()
    archive = ProgramArchive(store, programs, registry)
    knowledge = app[KNOWLEDGE] = KnowledgeHub.from_env(settings.data_dir)
    bots = BotRegistry(settings.bots_dir, registry, programs=programs, on_program=archive.on_program,
                       on_kb_change=knowledge.bot_changed)
    bots.load_all()
    app[BOTS] = bots
    tables = app[TABLES] = LazyTables(settings, bots)
    app[RUNTIMES] = BotRuntimes(bots, store.memory, settings.max_message_bytes, knowledge,
                                tables=tables)
    app[CONVERSATIONS] = Conversations(store, registry, archive, app[METRICS], app[LLM])
    app[READINESS].bots_loaded = True
    try:
        yield
    finally:
        app[READINESS].bots_loaded = False
        await knowledge.close()
        await tables.close()
        close = getattr(app[LLM], "close", None)
        if close is not None:
            await close()


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
