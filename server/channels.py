"""The ``channels`` service of the server: ``TALK TO recipient, message`` (DIALECT §9.1.2).

Recipients:

* ``web:<session-id>`` — that chat session of the bot;
* a bare value — a session id of the bot when one exists, else a user id (every session
  of that user);
* ``email:<address>``, or a bare value containing ``@`` — an email through the bot's
  mail service (SEND MAIL's; "email is not configured" otherwise);
* ``whatsapp:``, ``teams:``, ``sms:``, ``instagram:``, ``telegram:``, or a bare phone
  number — channels this server does not have: a trappable error.

A web message is pushed now, as a bot envelope, to every open WebSocket of the session
(or user) in this process (``live_sockets.py``). When none is open here it is stored in
table ``pending_messages``; with PostgreSQL every process hears of it (LISTEN/NOTIFY) and
the one holding a socket of that session or user pushes it at once. Otherwise it is
delivered when the user comes back: on the next WebSocket connect of the session (after
the ``connected`` frame), or in front of the reply to the next message of the session
(HTTP or WebSocket). Taking stored messages is one atomic DELETE, so each is delivered
once even when several processes try. Turns do not query the table each time
(``PendingHints``): only while the bot may have stored messages — this process stored
one, PostgreSQL announced one, or a probe of the bot's messages (at most once a second)
found some; so a message another process stored in a shared SQLite file reaches the
replies about a second later at most. ``ConversationsWithChannels`` adds that
delivery around the server's ``Conversations`` and gives every bot runtime the service,
so ``TALK TO`` works in conversations as well as in system runs.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Optional

from aiohttp import web

from ..keywords.mail import NOT_CONFIGURED as MAIL_NOT_CONFIGURED
from ..runtime.errors import BasicError
from .envelopes import bot_envelope
from .live_sockets import LiveSocket, LiveSockets

log = logging.getLogger("botbasic.channels")

WEB, EMAIL, PHONE = "web", "email", "phone"
# Channels of §9.1.2 that need a connector this server does not have.
OTHER_CHANNELS = ("whatsapp", "teams", "sms", "instagram", "telegram")
_PREFIXED = re.compile(r"([a-z]+):(.*)", re.IGNORECASE | re.DOTALL)
_PHONE = re.compile(r"\+?[\d\s().\-]{6,}")

PUSHED, STORED, DELIVERED, EMAILED = "pushed", "stored", "delivered", "email"


@dataclass(frozen=True)
class Recipient:
    """A parsed TALK TO recipient: ``kind`` (web, email, phone, whatsapp ...) and address."""

    kind: str
    address: str
    explicit: bool = False  # written with a ``kind:`` prefix


def parse_recipient(text: str) -> Recipient:
    """Classify a TALK TO recipient (see module doc)."""
    value = str(text).strip()
    prefixed = _PREFIXED.fullmatch(value)
    if prefixed and prefixed[1].lower() in (WEB, EMAIL, PHONE) + OTHER_CHANNELS:
        return Recipient(prefixed[1].lower(), prefixed[2].strip(), True)
    if "@" in value:
        return Recipient(EMAIL, value)
    if _PHONE.fullmatch(value) and any(c.isdigit() for c in value):
        return Recipient(PHONE, value)
    return Recipient(WEB, value)


class PendingHints:
    """Whether a bot may have stored messages, known without a query per turn.

    A bot's answer is refreshed by a probe (one indexed read) when it is older than
    ``interval`` seconds; ``stored(bot)`` — a message stored by this process, or announced
    by another — makes it "maybe" at once. A probe that started before a ``stored`` call
    does not overwrite it."""

    def __init__(self, tables, interval: float = 1.0) -> None:
        self.tables = tables
        self.interval = interval
        self._known: dict[str, tuple[bool, float]] = {}  # bot -> (maybe, probed at)
        self._generation = 0  # bumped by every ``stored``

    async def maybe(self, bot: str) -> bool:
        maybe, probed = self._known.get(bot, (True, float("-inf")))
        now = time.monotonic()
        if now - probed < self.interval:
            return maybe
        generation = self._generation
        maybe = await self.tables.any_pending(bot)
        if generation == self._generation:
            self._known[bot] = (maybe, now)
        return True if generation != self._generation else maybe

    def stored(self, bot: str) -> None:
        self._generation += 1
        self._known[bot] = (True, time.monotonic())


class Channels:
    """TALK TO delivery for every bot of the server (see module doc)."""

    def __init__(self, store, tables, sockets: LiveSockets, metrics=None, runtimes=None):
        self.store = store
        self.tables = tables
        self.sockets = sockets
        self.metrics = metrics  # job_metrics.JobMetrics, or None
        self.runtimes = runtimes  # runner.BotRuntimes: to deliver what other processes store
        self.hints = PendingHints(tables)
        self._deliveries: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Listen for messages stored by other processes (PostgreSQL)."""
        await self.tables.listen(self._on_stored)

    async def stop(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)

    def install(self, runtime) -> None:
        """Give ``runtime`` (a BotRuntime) the ``channels`` service, unless the host
        already provides one. Runtimes are rebuilt when a bot reloads, hence per call."""
        if getattr(runtime.services, "channels", None) is None:
            runtime.services.channels = BotChannels(self, runtime)

    # ------------------------------------------------------------ sending

    async def send(self, runtime, recipient: str, text: str) -> str:
        """Deliver ``text``; returns how (pushed, stored, email). Raises BasicError when
        the recipient cannot be reached (trappable by the script)."""
        target = parse_recipient(recipient)
        if not target.address:
            raise BasicError(f"TALK TO: no recipient in {recipient!r}")
        if target.kind == EMAIL:
            return await self._send_email(runtime, target.address, text)
        if target.kind != WEB:
            raise BasicError(f"TALK TO {recipient}: the {target.kind} channel is not "
                             "configured for this bot")
        session_id, user_id = await self._web_target(runtime, target)
        return await self._send_web(runtime, session_id, user_id, text)

    async def _web_target(self, runtime, target: Recipient) -> tuple[Optional[str], Optional[str]]:
        """(session id, None) for a session of this bot; (None, user id) otherwise."""
        record = await self.store.get_session(target.address)
        if record is not None and record.bot == runtime.name:
            return record.id, None
        if record is not None and target.explicit:
            raise BasicError(f"TALK TO: session {target.address} belongs to another bot")
        if target.explicit:  # web:<id> names a session, which the client may create later
            return target.address, None
        return None, target.address

    async def _send_web(self, runtime, session_id: Optional[str], user_id: Optional[str],
                        text: str) -> str:
        if session_id is not None:
            live = self.sockets.for_session(runtime.name, session_id)
        else:
            live = self.sockets.for_user(runtime.name, user_id)
        channel = runtime.settings.channel

        def envelope_for(entry: LiveSocket) -> dict:
            return bot_envelope(runtime.name, entry.user_id, entry.session_id, text, channel)

        if live and await self.sockets.push(live, envelope_for):
            self._count(runtime.name, PUSHED)
            return PUSHED
        await self.tables.add_pending(runtime.name, session_id, user_id, text)
        self.hints.stored(runtime.name)
        self._count(runtime.name, STORED)
        log.info("TALK TO %s: stored until the user comes back", session_id or user_id,
                 extra={"bot": runtime.name})
        return STORED

    async def _send_email(self, runtime, address: str, text: str) -> str:
        mail = getattr(runtime.services, "mail", None)
        if mail is None:
            raise BasicError(MAIL_NOT_CONFIGURED)
        try:
            await mail.send(address, "", text)  # the subject comes from the text (§11 A-36)
        except BasicError as exc:
            log.warning("TALK TO %s failed: %s", address, exc.message, extra={"bot": runtime.name})
            raise
        self._count(runtime.name, EMAILED)
        return EMAILED

    # ------------------------------------------------------------ delivering stored messages

    def _on_stored(self, bot: str, session_id: Optional[str], user_id: Optional[str]) -> None:
        """A process stored a message: deliver it now if its user is connected here."""
        self.hints.stored(bot)
        live = (self.sockets.for_session(bot, session_id) if session_id is not None
                else self.sockets.for_user(bot, user_id or ""))
        if not live or self.runtimes is None:
            return
        task = asyncio.create_task(self._deliver_stored(bot, live))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver_stored(self, bot: str, live: list[LiveSocket]) -> None:
        runtime = self.runtimes.get(bot)
        if runtime is None:
            return
        sessions = {(entry.session_id, entry.user_id) for entry in live}
        try:
            for session_id, user_id in sorted(sessions):
                await self._push_stored(runtime, session_id, user_id)
        except Exception:  # the messages stay stored: delivered at the next connect or turn
            log.exception("cannot deliver stored messages", extra={"bot": bot})

    async def _push_stored(self, runtime, session_id: str, user_id: str) -> None:
        """Take the session's stored messages and push them to its open sockets; store
        them again (for the session) when every socket closed meanwhile."""
        for envelope in await self.pending_envelopes(runtime, session_id, user_id):
            live = self.sockets.for_session(runtime.name, session_id)
            if not await self.sockets.push(live, lambda entry: envelope):
                await self.tables.add_pending(runtime.name, session_id, None, envelope["content"])
                self.hints.stored(runtime.name)

    async def pending_envelopes(self, runtime, session_id: str, user_id: str,
                                hinted: bool = False) -> list[dict]:
        """Take the stored messages of a session (and of its user) as envelopes. With
        ``hinted`` (every turn), only when the bot may have any (``PendingHints``)."""
        if hinted and not await self.hints.maybe(runtime.name):
            return []
        if not await self.tables.has_pending(runtime.name, session_id, user_id):
            return []
        texts = await self.tables.take_pending(runtime.name, session_id, user_id)
        if texts:
            self._count(runtime.name, DELIVERED, len(texts))
        channel = runtime.settings.channel
        return [bot_envelope(runtime.name, user_id, session_id, text, channel) for text in texts]

    def _count(self, bot: str, delivery: str, amount: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.channel_messages.inc(bot, delivery, amount=amount)


class BotChannels:
    """The ``channels`` service of one bot runtime (``ctx.service("channels")``)."""

    def __init__(self, channels: Channels, runtime):
        self.channels = channels
        self.runtime = runtime

    async def send(self, recipient: str, text: str) -> str:
        return await self.channels.send(self.runtime, recipient, text)


class ConversationsWithChannels:
    """The server's ``Conversations`` plus TALK TO: each runtime gets the ``channels``
    service, a WebSocket that connects is registered for live messages and receives the
    stored ones, and a reply starts with the messages stored for its session.

    Everything else is the wrapped object's (``__getattr__``)."""

    def __init__(self, inner, channels: Channels):
        self._inner = inner
        self.channels = channels

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def handle(self, runtime, message, live=None) -> dict:
        self.channels.install(runtime)
        reply = await self._inner.handle(runtime, message, live)
        first = reply["messages"][0] if reply.get("messages") else {}
        pending = await self.channels.pending_envelopes(
            runtime, reply["session_id"], first.get("user_id") or "", hinted=True)
        if not pending:
            return reply
        return {**reply, "messages": pending + list(reply["messages"])}

    async def connect(self, runtime, record) -> Optional[dict]:
        self.channels.install(runtime)
        self.channels.sockets.attach_current(runtime.name, record.id, record.user_id)
        greeting = await self._inner.connect(runtime, record)
        pending = await self.channels.pending_envelopes(runtime, record.id, record.user_id)
        if not pending:
            return greeting
        later = list(greeting["messages"]) if greeting else []
        return {"session_id": record.id, "messages": pending + later}


CHANNELS = web.AppKey("channels", Channels)
