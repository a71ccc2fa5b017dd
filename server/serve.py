"""``botbasic serve``: run the chat server in this process until SIGINT or SIGTERM.

Once the store is open and every bot is compiled, one line ``botbasic serving on
http://HOST:PORT`` is logged with the port actually bound (``--port 0`` picks a free one),
so scripts and tests know where to connect.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from .app import create_app
from .appkeys import BOTS
from .config import ServerSettings
from .logs import configure_logging

log = logging.getLogger("botbasic.server")


def run_server(settings: ServerSettings) -> int:
    """Serve until interrupted; exit status 0, or 1 when the server cannot start."""
    configure_logging()
    try:
        asyncio.run(serve(settings))
    except OSError as exc:  # the port is taken, the data folder is not writable ...
        log.error("cannot start the server: %s", exc)
        return 1
    return 0


async def serve(settings: ServerSettings, stop: asyncio.Event | None = None) -> None:
    """Run the server until ``stop`` is set (by SIGINT/SIGTERM when not given)."""
    stop = stop or _stop_on_signals()
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()  # runs cleanup_ctx: store, bots, watcher
    # What start-up built (modules, grammar tables, compiled bots) lives as long as the
    # process: take it out of the garbage collector's full passes, which would otherwise
    # walk all of it and stall every conversation for tens of milliseconds. (A bot that a
    # reload replaces is then freed by reference counting only: a one-off per reload.)
    gc.freeze()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, backlog=1024)
        await site.start()
        _announce(app, runner)
        await stop.wait()
    finally:
        await runner.cleanup()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def _announce(app: web.Application, runner: web.AppRunner) -> None:
    bots = app[BOTS].bots()
    summary = ", ".join(f"{bot.name} ({bot.status()['status']})" for bot in bots) or "none"
    log.info("bots: %s", summary)
    for address in runner.addresses:
        host, port = address[0], address[1]
        shown = f"[{host}]" if ":" in host else host
        log.info("botbasic serving on http://%s:%s", shown, port)
