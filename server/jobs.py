"""System-context features wired into the server: schedules, TALK TO channels, webhooks.

``jobs_ctx`` (an aiohttp cleanup context, after the bots are loaded) opens the system
tables next to the session store, sets up the ``channels`` service and the delivery of
stored messages around ``Conversations``, chooses where firings are claimed (Redis when
``REDIS_URL`` is set, else the database), and starts the ``ScheduleManager``; it stops
them in reverse order.

Admin endpoints (same access rule as ``admin.py``):

* ``GET /api/bots/{bot}/schedules`` — the bot's registered schedules (cron, time zone,
  next run) and its latest recorded runs;
* ``POST /api/bots/{bot}/schedules/{script}/run`` — fire a scheduled script now, as the
  firing of ``{"fire_time": "2025-01-31T09:00Z"}`` (default: the current minute). Every
  process of a pool asked for the same minute runs it once in total, exactly as for a
  firing of the clock; the reply says what this process did (``FireReport``).
"""
from __future__ import annotations

import json
import os
import socket
import uuid
from typing import AsyncIterator

from aiohttp import web

from .admin import admin_bot
from .appkeys import BOTS, CONVERSATIONS, METRICS, RUNTIMES, STORE
from .channels import CHANNELS, Channels, ConversationsWithChannels
from .live_sockets import LiveSockets
from .routes import error_response, json_response
from .run_claims import open_claims
from .scheduler import STALE_AFTER_S, ScheduleManager
from .system_tables import system_tables_for

SCHEDULER = web.AppKey("scheduler", ScheduleManager)
SYSTEM_TABLES = web.AppKey("system_tables", object)
RUNS_SHOWN = 50


def process_owner() -> str:
    """Who runs a firing, as recorded in ``schedule_runs``: host, pid and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the system-context features (see module doc); stop them on shutdown."""
    tables = system_tables_for(app[STORE])
    await tables.open()
    app[SYSTEM_TABLES] = tables
    metrics = getattr(app[METRICS], "jobs", None)
    channels = Channels(app[STORE], tables, LiveSockets(), metrics, app[RUNTIMES])
    app[CHANNELS] = channels
    app[CONVERSATIONS] = ConversationsWithChannels(app[CONVERSATIONS], channels)
    claims = None
    manager = None
    try:
        await channels.start()
        claims = await open_claims(tables, process_owner(), STALE_AFTER_S)
        manager = ScheduleManager(app[BOTS], app[RUNTIMES], claims, tables, channels, metrics)
        await manager.start()
        app[SCHEDULER] = manager
        yield
    finally:
        if manager is not None:
            await manager.stop()
        if claims is not None:
            await claims.close()
        await channels.stop()
        await tables.close()


async def list_schedules(request: web.Request) -> web.Response:
    bot, refused = admin_bot(request)
    if refused is not None:
        return refused
    runs = await request.app[SYSTEM_TABLES].runs(bot.name, RUNS_SHOWN)
    return json_response({"bot": bot.name, "jobs": request.app[SCHEDULER].jobs(bot.name),
                          "runs": [run.as_dict() for run in runs]})


async def run_schedule(request: web.Request) -> web.Response:
    bot, refused = admin_bot(request)
    if refused is not None:
        return refused
    try:
        fire_time = await _fire_time(request)
        report = await request.app[SCHEDULER].fire(bot.name, request.match_info["script"],
                                                   fire_time)
    except ValueError as exc:
        return error_response(400, str(exc))
    if report.result == "missing":
        return error_response(404, f"unknown script: {request.match_info['script']}")
    return json_response(report.as_dict())


async def _fire_time(request: web.Request):
    """``fire_time`` of the JSON body (ISO text), or None; ValueError when malformed."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("malformed JSON") from None
    value = data.get("fire_time") if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        raise ValueError("fire_time must be ISO date-time text")
    return value


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/bots/{bot}/schedules", list_schedules)
    app.router.add_post("/api/bots/{bot}/schedules/{script}/run", run_schedule)
