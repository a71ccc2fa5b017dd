"""Helpers for the chat server tests: bot folders, settings per database, a running app on
127.0.0.1 (aiohttp test server), and ``botbasic serve`` subprocesses.

PostgreSQL is ``$DATABASE_URL_TEST`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
when it cannot be reached the tests fail — they never skip.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Optional

from aiohttp.test_utils import TestClient, TestServer

from botbasic.server.app import create_app
from botbasic.server.config import ServerSettings

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgres")
BOTBASIC = Path(sys.executable).with_name("botbasic")
STARTUP_LIMIT_S = 60  # only to fail instead of hanging when a server never comes up


def write_bot(bots_dir: Path, name: str, scripts: dict[str, str],
              config: Optional[dict[str, str]] = None) -> Path:
    """Create (or overwrite) ``<name>.gbai`` with the given scripts and config.csv entries."""
    root = bots_dir / f"{name}.gbai"
    dialog = root / f"{name}.gbdialog"
    dialog.mkdir(parents=True, exist_ok=True)
    for stem, source in scripts.items():
        (dialog / f"{stem}.bas").write_text(source, encoding="utf-8")
    if config:
        bot_dir = root / f"{name}.gbot"
        bot_dir.mkdir(exist_ok=True)
        lines = ["name,value"] + [f"{k},{v}" for k, v in config.items()]
        (bot_dir / "config.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def database_url(backend: str) -> Optional[str]:
    return PG_URL if backend == "postgres" else None


def settings_for(backend: str, tmp_path: Path, bots_dir: Path, **values) -> ServerSettings:
    values.setdefault("watch", False)
    return ServerSettings(bots_dir=bots_dir, data_dir=tmp_path / "data",
                          database_url=database_url(backend), **values)


@asynccontextmanager
async def running(settings: ServerSettings, **app_args) -> AsyncIterator[TestClient]:
    """The app of ``settings`` served on 127.0.0.1 (a free port), with a client for it."""
    async with TestClient(TestServer(create_app(settings, **app_args), host="127.0.0.1")) as client:
        yield client


async def say(client: TestClient, bot: str, content, **fields) -> dict:
    """POST one message; asserts 200 and returns the reply."""
    response = await client.post(f"/api/bots/{bot}/messages", json={"content": content, **fields})
    assert response.status == 200, await response.text()
    return await response.json()


def texts(reply: dict) -> list[str]:
    return [envelope["content"] for envelope in reply["messages"]]


def new_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- server processes


class ServerProcess:
    """A ``botbasic serve`` subprocess on a free port (``--port 0``; the port is read from
    its log line ``botbasic serving on http://HOST:PORT``)."""

    def __init__(self, bots_dir: Path, data_dir: Path, database: Optional[str] = None):
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if database:
            env["DATABASE_URL"] = database
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.url: Optional[str] = None
        self.proc = subprocess.Popen(
            [str(BOTBASIC), "serve", str(bots_dir), "--port", "0", "--data", str(data_dir),
             "--no-watch"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP_LIMIT_S) or self.url is None:
            self.stop()
            raise AssertionError("server did not start:\n" + self.log)

    def _read_log(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            found = re.search(r'botbasic serving on (http://[^\s"]+)', line)
            if found and self.url is None:
                self.url = found.group(1)
                self._ready.set()
        self._ready.set()  # the process ended

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        return http_json(self.url + path, body)

    def get(self, path: str) -> tuple[int, dict]:
        return http_json(self.url + path)

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STARTUP_LIMIT_S)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(timeout=5)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def http_json(url: str, body: Optional[dict] = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=STARTUP_LIMIT_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
