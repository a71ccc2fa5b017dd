"""The chat WebSockets open in this process, by bot and session (and user), so that a
``TALK TO`` from a scheduled script or a webhook can reach a user who is online now.

The WebSocket endpoint (``websocket.py``) knows nothing about this registry; it is fed
through aiohttp's own extension points, wired in ``app.py``:

1. the ``track_sockets`` middleware gives each ``/ws/`` request a ``SocketSlot`` (in a
   context variable, so the code the handler awaits can reach it) and, when the handler
   returns — the connection is over — removes whatever the slot registered;
2. the ``remember_socket`` response-prepare signal puts the request's
   ``WebSocketResponse`` into its slot;
3. once the handler knows the session (``Conversations.connect``, see ``channels.py``),
   ``LiveSockets.attach_current`` registers the slot's socket under that session.
"""
from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable, Optional

from aiohttp import web

log = logging.getLogger("botbasic.channels")

WS_PATH_PREFIX = "/ws/"


@dataclass(eq=False)
class LiveSocket:
    """One open chat connection of one session."""

    bot: str  # lower case: URLs may spell a bot's name in any case
    session_id: str
    user_id: str
    ws: web.WebSocketResponse


@dataclass(eq=False)
class SocketSlot:
    """What one ``/ws/`` request has: its socket, and where it is registered."""

    ws: Optional[web.WebSocketResponse] = None
    registered: list = field(default_factory=list)  # (LiveSockets, LiveSocket)


_SLOT: ContextVar[Optional[SocketSlot]] = ContextVar("botbasic_socket_slot", default=None)


class LiveSockets:
    """Open sockets by (bot, session) and by (bot, user)."""

    def __init__(self) -> None:
        self._by_session: dict[tuple[str, str], list[LiveSocket]] = {}
        self._by_user: dict[tuple[str, str], list[LiveSocket]] = {}

    def attach_current(self, bot: str, session_id: str, user_id: str) -> bool:
        """Register the socket of the request being handled (if it is a WebSocket request)
        under ``session_id``; False when there is none."""
        slot = _SLOT.get()
        if slot is None or slot.ws is None or slot.ws.closed:
            return False
        entry = LiveSocket(bot.lower(), session_id, user_id, slot.ws)
        self._by_session.setdefault((entry.bot, session_id), []).append(entry)
        self._by_user.setdefault((entry.bot, user_id), []).append(entry)
        slot.registered.append((self, entry))
        return True

    def detach(self, entry: LiveSocket) -> None:
        _remove(self._by_session, (entry.bot, entry.session_id), entry)
        _remove(self._by_user, (entry.bot, entry.user_id), entry)

    def for_session(self, bot: str, session_id: str) -> list[LiveSocket]:
        return self._open(self._by_session.get((bot.lower(), session_id), ()))

    def for_user(self, bot: str, user_id: str) -> list[LiveSocket]:
        return self._open(self._by_user.get((bot.lower(), user_id), ()))

    def _open(self, entries) -> list[LiveSocket]:
        return [entry for entry in entries if not entry.ws.closed]

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_session.values())

    async def push(self, entries: list[LiveSocket],
                   envelope_for: Callable[[LiveSocket], dict]) -> int:
        """Send one envelope to each socket; the number of sockets that took it."""
        sent = 0
        for entry in entries:
            if await _send(entry.ws, envelope_for(entry)):
                sent += 1
        return sent


def _remove(index: dict, key: tuple, entry: LiveSocket) -> None:
    entries = index.get(key)
    if entries is None:
        return
    entries[:] = [e for e in entries if e is not entry]
    if not entries:
        del index[key]


async def _send(ws: web.WebSocketResponse, data: dict) -> bool:
    """One frame; False when the client is gone (the message is then stored)."""
    if ws.closed:
        return False
    try:
        await ws.send_str(json.dumps(data, ensure_ascii=False, default=str))
    except (ConnectionError, RuntimeError):  # closing, or the transport went away
        return False
    return True


@web.middleware
async def track_sockets(request: web.Request, handler):
    """Give a ``/ws/`` request its slot; forget its socket when the connection ends."""
    if not request.path.startswith(WS_PATH_PREFIX):
        return await handler(request)
    slot = SocketSlot()
    token = _SLOT.set(slot)
    try:
        return await handler(request)
    finally:
        for registry, entry in slot.registered:
            registry.detach(entry)
        _SLOT.reset(token)


async def remember_socket(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a WebSocket being opened goes into its request's slot."""
    if isinstance(response, web.WebSocketResponse):
        slot = _SLOT.get()
        if slot is not None:
            slot.ws = response
