"""Headless Chromium and a live chat server for the end-to-end tests of the web chat.

* ``browser`` (module fixture): Debian's ``/usr/bin/chromium`` (or ``$BOTBASIC_CHROMIUM``)
  driven by Playwright for Python. Playwright's own browser downloads are never used:
  ``.ci/run`` installs the ``chromium`` package with apt, and ``pip install -e '.[dev]'``
  installs the ``playwright`` package. When either is missing the tests fail (they do not
  skip) and say how to install it.
* ``LiveServer``: runs an aiohttp application on 127.0.0.1 in a thread of its own, with its
  own event loop, so the synchronous Playwright API can drive a browser against it from the
  test. ``stop()`` then ``start()`` again serves on the same port (a server restart).

Every wait in the tests is an explicit wait for an element or a state, with ``TIMEOUT_MS``
as its deadline; nothing sleeps.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import threading
from pathlib import Path
from typing import Callable, Optional

import pytest
from aiohttp import web

CHROMIUM = os.environ.get("BOTBASIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # deadline of one explicit wait (generous for a busy 2-core machine)
START_TIMEOUT_S = 30


def _require_chromium() -> str:
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs it "
                    "(apt-get install -y chromium chromium-driver), or set BOTBASIC_CHROMIUM",
                    pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (each test opens its own context).

    Module, not session, scope: sync Playwright keeps an event loop running in this thread
    while the browser is open, and the next modules' ``asyncio.run`` must not find it."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[dev]'", pytrace=False)
    expect.set_options(timeout=TIMEOUT_MS)
    executable = _require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                              headless=True, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile (empty localStorage) per test, 1000x760 like a laptop."""
    ctx = browser.new_context(viewport={"width": 1000, "height": 760}, locale="en-US")
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


class LiveServer:
    """An aiohttp application served on 127.0.0.1 from a background thread.

    ``make_app`` is called on every ``start()`` (inside the server's event loop), so a
    restart builds a new application like a new process would.
    """

    def __init__(self, make_app: Callable[[], web.Application], host: str = "127.0.0.1"):
        self.make_app = make_app
        self.host = host
        self.port = 0  # chosen by the OS on the first start, kept for restarts
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LiveServer":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-server",
                                        daemon=True)
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT_S)
            self._loop.close()
            self._loop = self._thread = None

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(START_TIMEOUT_S)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def screenshot_dir() -> Path:
    """Where the tests leave screenshots for people to look at (never committed)."""
    path = Path(os.environ.get("BOTBASIC_SCREENSHOTS", "/tmp/botbasic-screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path
