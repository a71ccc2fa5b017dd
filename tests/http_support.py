"""A real local HTTP server for the HTTP and file keyword tests.

``LocalServer`` runs an aiohttp application on 127.0.0.1 (a free port) in a thread with
its own event loop, so it keeps serving while each test drives the VM with ``asyncio.run``.
``local_server()`` runs one for the duration of a ``with`` (a module-scoped fixture).

Routes:

* ``/json`` — ``{"name": "Ann", "items": [1, 2]}``; ``/text`` — ``hello``; ``/number`` —
  the text ``0042`` (text stays text);
* ``/echo`` (any method) — the request as JSON: method, path, query, headers, body;
* ``/status/{code}`` — that status with the body ``failure <code>``;
* ``/redirect?to=URL[&code=302]`` — a redirect;
* ``/big?size=N[&chunked=1]`` — N bytes (streamed without Content-Length when chunked);
* ``/slow?secs=S`` — answers after S seconds;
* ``/soap`` — a SOAP response whose body wraps the request's operation element;
* ``/files/{name}`` — a text file; ``/attachment`` — a file named by Content-Disposition.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
from contextlib import contextmanager

from aiohttp import web


async def _json(request: web.Request) -> web.Response:
    return web.json_response({"name": "Ann", "items": [1, 2]})


async def _text(request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def _number(request: web.Request) -> web.Response:
    return web.Response(text="0042")


async def _echo(request: web.Request) -> web.Response:
    body = await request.text()
    return web.json_response({
        "method": request.method, "path": request.path, "query": dict(request.query),
        "headers": dict(request.headers), "body": body,
        "content_type": request.headers.get("Content-Type", ""),
    })


async def _status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.Response(status=code, text=f"failure {code}")


async def _redirect(request: web.Request) -> web.Response:
    code = int(request.query.get("code", "302"))
    return web.Response(status=code, headers={"Location": request.query["to"]})


async def _big(request: web.Request) -> web.StreamResponse:
    size = int(request.query["size"])
    if request.query.get("chunked"):
        response = web.StreamResponse()
        await response.prepare(request)
        for start in range(0, size, 1000):
            await response.write(b"x" * min(1000, size - start))
        await response.write_eof()
        return response
    return web.Response(body=b"x" * size)


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query["secs"]))
    return web.Response(text="late")


async def _soap(request: web.Request) -> web.Response:
    body = await request.text()
    operation = re.search(r"<soap:Body>(.*)</soap:Body>", body, re.DOTALL).group(1)
    action = request.headers.get("SOAPAction", "")
    xml = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
           f'envelope/"><soap:Body><Result action={json.dumps(action)}>{operation}</Result>'
           '</soap:Body></soap:Envelope>')
    return web.Response(text=xml, content_type="text/xml")


async def _file(request: web.Request) -> web.Response:
    return web.Response(text=f"content of {request.match_info['name']}")


async def _attachment(request: web.Request) -> web.Response:
    return web.Response(text="a,b\n1,2\n", content_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="report.csv"'})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/json", _json)
    app.router.add_get("/text", _text)
    app.router.add_get("/number", _number)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_route("*", "/status/{code}", _status)
    app.router.add_route("*", "/redirect", _redirect)
    app.router.add_get("/big", _big)
    app.router.add_get("/slow", _slow)
    app.router.add_post("/soap", _soap)
    app.router.add_get("/files/{name}", _file)
    app.router.add_get("/attachment", _attachment)
    return app


class LocalServer:
    """An aiohttp app served from a background thread on 127.0.0.1."""

    def __init__(self, app: web.Application):
        self.app = app
        self.port = 0
        self._loop = asyncio.new_event_loop()
        # A short shutdown: a test may leave a /slow request behind on purpose.
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> "LocalServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextmanager
def local_server():
    """The test server (see module doc), running for the duration of the ``with``."""
    server = LocalServer(make_app()).start()
    try:
        yield server
    finally:
        server.stop()
