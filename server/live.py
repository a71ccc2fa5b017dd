"""Envelopes a WebSocket client gets before its turn ends: streamed LLM answers (§7.7).

A turn's reply is normally sent once it is committed. An LLM answer is streamed
instead: each piece goes out at once as an envelope with ``is_complete: false`` and the
answer's ``stream_token``, and the answer's final envelope (``is_complete: true``, same
token, whole text) closes it. Messages said before a streamed answer (a tool's TALKs,
the preamble of a round that called tools) are sent as complete envelopes before the
answer's first piece, so the client sees everything in order.

``LiveReply.sent`` lists the complete envelopes already delivered: they are part of the
stored reply (a retried ``message_id`` gets them again), and the rest of the reply is
sent after the commit. Partial envelopes are never stored.
"""
from __future__ import annotations

from typing import Awaitable, Callable


class LiveReply:
    """The early part of one turn's reply over one WebSocket (see module doc)."""

    def __init__(self, send: Callable[[dict], Awaitable[bool]]) -> None:
        self._send = send
        self.sent: list[dict] = []

    async def partial(self, envelope: dict) -> None:
        """A piece of a streamed answer (not part of the stored reply)."""
        envelope["is_complete"] = False
        await self._send(envelope)

    async def complete(self, envelope: dict) -> None:
        """A whole message, delivered before the turn ends (part of the stored reply)."""
        self.sent.append(envelope)
        await self._send(envelope)
