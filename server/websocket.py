"""The WebSocket chat endpoint ``/ws/{bot}[?session_id=...]`` (docs/protocol.md).

The server first sends ``{"type": "connected", "session_id": ...}``; each client frame is a
message like the HTTP API's body, answered with the bot's envelopes, one frame each. A
malformed frame gets ``{"type": "error", "error": ...}`` and the connection stays open; a
frame larger than the bot's ``max-message-bytes`` closes it with 1009 (aiohttp enforces
the limit while reading the frame). Frames of one connection are handled in order.
An LLM answer streams: its pieces (``is_complete: false``) go out while the turn runs
(live.py), the rest of the reply after the commit.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace

from aiohttp import WSMsgType, web

from .appkeys import CONVERSATIONS, RUNTIMES
from .conversation import UnknownSession
from .inbound import BadMessage, checked_id, decode_message
from .live import LiveReply
from .routes import bot_runtime, error_response

log = logging.getLogger("botbasic.server")


# One encoder for every frame: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _dumps(data) -> str:
    return _ENCODER.encode(data)


async def chat_socket(request: web.Request) -> web.StreamResponse:
    runtime = bot_runtime(request)
    conversations = request.app[CONVERSATIONS]
    try:
        session_id, user_id = (_query_id(request, name) for name in ("session_id", "user_id"))
        record = await conversations.open_session(runtime, session_id, user_id)
    except BadMessage as exc:
        return error_response(400, str(exc))
    except UnknownSession:
        return error_response(404, "unknown session")
    ws = web.WebSocketResponse(max_msg_size=runtime.settings.max_message_bytes, heartbeat=30)
    await ws.prepare(request)
    await _send(ws, {"type": "connected", "session_id": record.id})
    greeting = await conversations.connect(runtime, record)
    if greeting is not None:
        await _send_reply(ws, greeting)
    async for frame in ws:
        if frame.type != WSMsgType.TEXT:
            if frame.type == WSMsgType.BINARY:
                await _send_error(ws, "send JSON text frames")
            continue
        await _handle_frame(ws, request, conversations, record.id, frame.data)
    return ws


def _query_id(request: web.Request, name: str):
    value = request.query.get(name)
    return checked_id(name, value) if value else None


async def _handle_frame(ws, request, conversations, session_id: str, data: str) -> None:
    try:
        message = decode_message(data)
    except BadMessage as exc:
        await _send_error(ws, str(exc))
        return
    # Looked up per frame: a connection outlives bot reloads, and new executions must
    # use the bot's current version.
    runtime = request.app[RUNTIMES].get(request.match_info["bot"])
    if runtime is None:
        await _send_error(ws, "this bot is no longer available")
        return
    if message.session_id not in (None, session_id):
        await _send_error(ws, "session_id does not match this connection")
        return
    message = replace(message, session_id=session_id)
    live = LiveReply(lambda envelope: _send(ws, envelope))
    try:
        reply = await conversations.handle(runtime, message, live)
    except UnknownSession:
        await _send_error(ws, "unknown session")
        return
    except Exception:  # one failed turn must not end the conversation
        log.exception("turn failed", extra={"bot": runtime.name, "session": session_id})
        await _send_error(ws, "internal server error")
        return
    await _send_reply(ws, reply, {envelope["id"] for envelope in live.sent})


async def _send_reply(ws: web.WebSocketResponse, reply: dict, delivered=frozenset()) -> None:
    """Send the reply's envelopes but those ``delivered`` (by id) while it ran."""
    for envelope in reply["messages"]:
        if envelope.get("id") in delivered:
            continue
        if not await _send(ws, envelope):
            return


async def _send_error(ws: web.WebSocketResponse, text: str) -> None:
    await _send(ws, {"type": "error", "error": text})


async def _send(ws: web.WebSocketResponse, data: dict) -> bool:
    """Send one frame; False when the client is gone. Turns are committed before their
    frames are sent, so a client that left gets the reply from the history (or by sending
    the same message_id again): a closed socket is not an error here."""
    if ws.closed:
        return False
    try:
        await ws.send_str(_dumps(data))
    except ConnectionError:
        return False
    return True


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/{bot}", chat_socket)
