"""The HTTP chat API and the web pages (docs/protocol.md).

* ``POST /api/bots/{bot}/messages`` — one user message -> the bot's envelopes;
* ``GET /api/bots/{bot}/sessions/{id}/history`` — the stored messages of a session;
* ``/`` and ``/bots/{bot}`` — the chat pages; ``/static/`` — their files.

Every error is JSON ``{"error": ...}`` (the ``json_errors`` middleware), so clients never
have to parse an HTML error page.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from aiohttp import web

from .appkeys import CONVERSATIONS, RUNTIMES, STORE
from .conversation import UnknownSession
from .inbound import BadMessage, MessageTooLarge, decode_message
from .runner import BotRuntime

log = logging.getLogger("botbasic.server")

STATIC_DIR = Path(__file__).parent / "static"
HISTORY_LIMIT = 1000


def json_response(data, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False, default=str), status=status,
                        content_type="application/json")


def error_response(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status)


@web.middleware
async def json_errors(request: web.Request, handler):
    """HTTP errors as ``{"error": reason}``; an unexpected exception is logged and is a 500
    for this request only."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return error_response(exc.status, exc.reason)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal server error")


def bot_runtime(request: web.Request) -> BotRuntime:
    """The bot named in the URL, or 404."""
    name = request.match_info["bot"]
    runtime = request.app[RUNTIMES].get(name)
    if runtime is None:
        raise web.HTTPNotFound(text=json.dumps({"error": f"unknown bot: {name}"}),
                               content_type="application/json")
    return runtime


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The request body, or MessageTooLarge as soon as it exceeds ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise MessageTooLarge(f"message larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(f"message larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def post_message(request: web.Request) -> web.Response:
    runtime = bot_runtime(request)
    try:
        raw = await read_limited(request, runtime.settings.max_message_bytes)
        message = decode_message(raw)
    except MessageTooLarge as exc:
        return error_response(413, str(exc))
    except BadMessage as exc:
        return error_response(400, str(exc))
    try:
        reply = await request.app[CONVERSATIONS].handle(runtime, message)
    except UnknownSession:
        return error_response(404, "unknown session")
    return json_response(reply)


async def get_history(request: web.Request) -> web.Response:
    runtime = bot_runtime(request)
    session_id = request.match_info["session"]
    store = request.app[STORE]
    record = await store.get_session(session_id)
    if record is None or record.bot != runtime.name:
        return error_response(404, "unknown session")
    items = await store.history(session_id, HISTORY_LIMIT)
    return json_response({"session_id": session_id, "messages": [
        {"role": i.role, "content": i.content, "at": i.at, "message_id": i.message_id}
        for i in items]})


async def index_page(request: web.Request) -> web.StreamResponse:
    return _page("index.html")


async def chat_page(request: web.Request) -> web.StreamResponse:
    bot_runtime(request)
    return _page("chat.html")


def _page(name: str) -> web.StreamResponse:
    path = STATIC_DIR / name
    if not path.is_file():
        raise web.HTTPNotFound(text=json.dumps({"error": f"page {name} is not installed"}),
                               content_type="application/json")
    return web.FileResponse(path)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/bots/{bot}/messages", post_message)
    app.router.add_get("/api/bots/{bot}/sessions/{session}/history", get_history)
    app.router.add_get("/", index_page)
    app.router.add_get("/bots/{bot}", chat_page)
    if STATIC_DIR.is_dir():
        app.router.add_static("/static/", STATIC_DIR)
