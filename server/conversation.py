"""Routing one user message through a bot (DIALECT §7.2, §7.3) as one durable turn.

A turn runs inside ``store.turn(session_id)``: the turns of one session run one at a
time and in order (in one process and across processes), a ``message_id`` seen before
returns the reply stored for it, and everything the turn changed — session data, the
waiting execution, history, the reply — is committed before the reply leaves. Routing:

1. an execution waiting at HEAR gets the message (restored from its snapshot);
2. a TOOL_EXEC message (type 6) runs the named tool script;
3. a ``context_name`` selects the session's active context, then routing goes on;
4. ``start.bas`` runs once per session; when it ends without waiting, the message goes on
   to the LLM turn (when it waits, the message is only kept in history);
5. the LLM turn (``llm_turn.py``): the model answers, calling the session's tools; a
   tool waiting at HEAR keeps the LLM turn's state with the saved execution, and the
   turn goes on once the tool ends (``tool_loop.py``).

Over a WebSocket (``live``), an LLM answer streams while the turn runs (``live.py``).

After a committed turn, the session's live objects (session data, context, the waiting
execution) stay in memory (``warm_sessions.py``): the next turn in this process continues
with them unless another process committed a turn of the session meanwhile.

A script error ends that execution only: it is logged with file:line, the user gets the
bot's ``error-message`` (§6.3), and the session stays usable.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

from ..runtime.context import SessionData
from ..runtime.outcome import Outcome
from ..runtime.vm import Execution
from .envelopes import TOOL_EXEC, bot_envelope
from .inbound import InboundMessage
from .live import LiveReply
from .llm_host import TurnHost
from .llm_turn import LlmTurn, NoModelTurn
from .runner import (BotRuntime, ProgramArchive, dump_session_data, load_session_data, make_context,
                     start_and_run)
from .store.base import HistoryItem, SessionRecord
from .store.common import SessionExists, SessionNotFound
from .warm_sessions import WarmSession, WarmSessions

log = logging.getLogger("botbasic.server")


class UnknownSession(LookupError):
    """The session exists but belongs to another bot (-> 404)."""


@dataclass
class TurnOutput:
    """The messages the scripts of one turn sent (suggestion changes are read from the
    session when the turn ends). ``tokens``: message index -> ``stream_token`` of an LLM
    answer; ``live``: where a WebSocket turn delivers messages early (live.py)."""

    messages: list = field(default_factory=list)
    tokens: dict = field(default_factory=dict)
    live: Optional[LiveReply] = None

    def emit(self, event: dict) -> None:
        if event.get("type") == "message":
            self.messages.append(str(event.get("text", "")))


@dataclass
class Turn:
    """The working state of one turn."""

    runtime: BotRuntime
    record: SessionRecord
    session: SessionData
    message: InboundMessage
    output: TurnOutput
    ctx: object
    execution: Optional[Execution] = None  # the live execution behind record.execution


class Conversations:
    """Handles user messages for every bot (see module doc)."""

    def __init__(self, store, registry, archive: ProgramArchive, metrics,
                 llm: Optional[LlmTurn] = None, warm: Optional[WarmSessions] = None):
        self.store = store
        self.registry = registry
        self.archive = archive
        self.metrics = metrics
        self.llm = llm or NoModelTurn()
        self.warm = warm if warm is not None else WarmSessions()

    # ------------------------------------------------------------ sessions

    async def open_session(self, runtime: BotRuntime, session_id: Optional[str] = None,
                           user_id: Optional[str] = None) -> SessionRecord:
        """The session ``session_id`` of this bot, created when it does not exist yet (a
        client may choose its ids); a new session when ``session_id`` is None."""
        if session_id is not None:
            record = await self.store.get_session(session_id)
            if record is not None:
                if record.bot != runtime.name:
                    raise UnknownSession(session_id)
                return record
        new_id = session_id or uuid.uuid4().hex
        try:
            record = await self.store.create_session(runtime.name, user_id or f"web-{new_id}", new_id)
        except SessionExists:
            # Created meanwhile by a concurrent first message with the same id.
            record = await self.store.get_session(new_id)
            if record is None or record.bot != runtime.name:
                raise UnknownSession(new_id) from None
            return record
        self.metrics.sessions_created.inc(runtime.name)
        return record

    # ------------------------------------------------------------ turns

    async def handle(self, runtime: BotRuntime, message: InboundMessage,
                     live: Optional[LiveReply] = None) -> dict:
        """Route one message; returns ``{"session_id", "messages": [envelope, ...]}``.
        With ``live`` (WebSocket) LLM answers stream; ``live.sent`` are the first
        envelopes of the reply, already delivered."""
        started = time.perf_counter()
        self.metrics.messages_received.inc(runtime.name)
        session_id = message.session_id
        if session_id is None:
            session_id = (await self.open_session(runtime, None, message.user_id)).id
        reply = await self._turn(runtime, session_id, message, self._route, live)
        self.metrics.turn_latency.observe(time.perf_counter() - started)
        return reply

    async def connect(self, runtime: BotRuntime, record: SessionRecord) -> Optional[dict]:
        """``start-on-connect``: run start.bas when a client connects to a session that has
        not run it yet; the reply, or None when there was nothing to run."""
        if (not runtime.settings.start_on_connect or record.start_done or record.execution
                or runtime.entry_program() is None):
            return None
        return await self._turn(runtime, record.id, None, self._route_connect)

    async def _turn(self, runtime: BotRuntime, session_id: str, message, route,
                    live: Optional[LiveReply] = None) -> Optional[dict]:
        message_id = message.message_id if message is not None else None
        try:
            return await self._locked_turn(runtime, session_id, message, message_id, route, live)
        except SessionNotFound:  # a client-chosen id: its first message creates it
            pass
        await self.open_session(runtime, session_id, message.user_id if message else None)
        return await self._locked_turn(runtime, session_id, message, message_id, route, live)

    async def _locked_turn(self, runtime, session_id, message, message_id, route,
                           live=None) -> Optional[dict]:
        warm = self.warm.take(session_id, runtime)
        async with self.store.turn(session_id, message_id=message_id,
                                   warm=warm.record if warm is not None else None) as store_turn:
            record = store_turn.session
            if record.bot != runtime.name:
                raise UnknownSession(session_id)
            if not store_turn.warm_hit:
                warm = None
            self.metrics.turn_starts.inc("warm" if warm is not None else "cold")
            if message_id is not None:
                earlier = await store_turn.reply_for(message_id)
                if earlier is not None:
                    self._keep_unchanged(warm)
                    return earlier
            turn = self._begin(runtime, record, message, live, warm)
            ran = await route(turn)
            if ran is False:  # nothing to do (start-on-connect after start already ran)
                self._keep_unchanged(warm)
                return None
            reply = self._finish(turn)
            await store_turn.commit(turn.record, self._history(turn), message_id, reply)
            self._keep_warm(turn)
            return reply

    def _begin(self, runtime: BotRuntime, record: SessionRecord, message,
               live: Optional[LiveReply] = None, warm: Optional[WarmSession] = None) -> Turn:
        output = TurnOutput(live=live)
        if warm is not None:  # continue with the live objects of the last turn
            warm.ctx.emit = output.emit
            return Turn(runtime, record, warm.session, message, output, warm.ctx, warm.execution)
        session = load_session_data(record, runtime)
        ctx = make_context(runtime, self.registry, session, output.emit)
        return Turn(runtime, record, session, message, output, ctx)

    def _keep_warm(self, turn: Turn) -> None:
        """Keep the committed turn's live objects for the session's next turn."""
        turn.ctx.emit = _nowhere  # drop the reference to this turn's output (and socket)
        execution = turn.execution if turn.record.execution else None
        self.warm.keep(WarmSession(turn.runtime, turn.record, turn.session, turn.ctx, execution))

    def _keep_unchanged(self, warm: Optional[WarmSession]) -> None:
        """Put back an entry whose turn changed nothing."""
        if warm is not None:
            self.warm.keep(warm)

    # ------------------------------------------------------------ routing (§7.3)

    async def _route(self, turn: Turn) -> None:
        message = turn.message
        if turn.record.execution:
            await self._resume(turn)
            return
        if message.message_type == TOOL_EXEC and await self._run_tool(turn):
            return
        if message.context_name:
            turn.session.active_context = message.context_name
        if not turn.record.start_done:
            turn.record.start_done = True
            entry = turn.runtime.entry_program()
            if entry is not None:
                outcome = await self._start(turn, entry)
                if outcome.status == "waiting":
                    return  # the dialog moved on; the message is only kept in history
        await self.llm.answer(TurnHost(self, turn), message.content)

    async def _route_connect(self, turn: Turn):
        if turn.record.start_done or turn.record.execution:
            return False
        turn.record.start_done = True
        await self._start(turn, turn.runtime.entry_program())
        return True

    async def _resume(self, turn: Turn) -> None:
        saved = turn.record.execution
        execution = turn.execution
        if execution is None or execution.status != "waiting":
            try:
                execution = await self.archive.restore(saved["snapshot"], turn.ctx)
            except (LookupError, ValueError, KeyError, TypeError) as exc:
                log.error("cannot resume the waiting execution of %s: %s", saved.get("script"),
                          exc, extra={"bot": turn.runtime.name, "session": turn.record.id})
                self._failed(turn)
                return
        if saved.get("llm") is not None:  # a tool the LLM called, waiting at HEAR (§7.5)
            await self.llm.resume(TurnHost(self, turn), saved, execution)
            return
        outcome = await execution.run(turn.message.for_script())
        await self._settle(turn, execution, outcome, saved.get("script"), saved.get("kind", "dialog"))

    async def _start(self, turn: Turn, program) -> Outcome:
        return await self._run_new(turn, program, "dialog")

    async def _run_tool(self, turn: Turn) -> bool:
        """§7.3 step 2: a tool suggestion button names the tool in ``content``."""
        program = turn.runtime.tool_program(turn.message.content.strip(), turn.session)
        if program is None:
            return False
        await self._run_new(turn, program, "tool", {})
        return True

    async def _run_new(self, turn: Turn, program, kind: str, args: Optional[dict] = None) -> Outcome:
        """Start a new execution of ``program`` and run it until it ends or waits."""
        execution, outcome = await start_and_run(program, turn.ctx, args)
        await self._settle(turn, execution, outcome, program.name, kind)
        return outcome

    async def _settle(self, turn: Turn, execution: Execution, outcome: Outcome,
                      script: Optional[str], kind: str) -> None:
        """Keep a waiting execution with the session; drop a finished or failed one."""
        if outcome.status == "waiting":
            await self.keep_waiting(turn, execution, script, kind)
            return
        turn.record.execution = None
        turn.execution = None
        if outcome.status == "error":
            self._failed(turn)

    async def keep_waiting(self, turn: Turn, execution: Execution, script: Optional[str],
                           kind: str, llm: Optional[dict] = None) -> None:
        """Save a waiting execution with the session (and, for a tool the LLM called,
        the LLM turn's state ``llm``), with the sources of its programs."""
        snapshot = execution.snapshot()
        await self.archive.remember(snapshot, turn.runtime.name)
        turn.record.execution = {"snapshot": snapshot, "script": script, "kind": kind}
        turn.execution = execution
        if llm is not None:
            turn.record.execution["llm"] = llm

    def _failed(self, turn: Turn) -> None:
        """§6.3: the error was logged (by the VM, with file:line); the user gets the apology."""
        turn.record.execution = None
        turn.execution = None
        self.metrics.script_errors.inc(turn.runtime.name)
        turn.ctx.say(turn.runtime.settings.error_message)

    # ------------------------------------------------------------ results

    def _finish(self, turn: Turn) -> dict:
        """Save the session data; build the envelopes. The last one carries the buttons
        to show now (the session's suggestions as the turn leaves them); a turn where the
        bot said nothing still gets one envelope (empty content), so every client knows
        the turn is over and which buttons to show."""
        record, session, output = turn.record, turn.session, turn.output
        record.data = dump_session_data(session)
        sent = output.live.sent if output.live is not None else []
        first = len(sent)
        texts = output.messages[first:] or [""]
        reply_to = turn.message.message_id if turn.message is not None else None
        channel = turn.runtime.settings.channel
        envelopes = [bot_envelope(record.bot, record.user_id, record.id, text, channel,
                                  session.suggestions if i == len(texts) - 1 else (), reply_to)
                     for i, text in enumerate(texts)]
        for i, envelope in enumerate(envelopes):
            envelope["stream_token"] = output.tokens.get(first + i)
        return {"session_id": record.id, "messages": sent + envelopes}

    def _history(self, turn: Turn) -> list[HistoryItem]:
        now = time.time()
        items = []
        if turn.message is not None:
            items.append(HistoryItem("user", turn.message.content, now, turn.message.message_id))
        items.extend(HistoryItem("bot", text, now) for text in turn.output.messages)
        return items


def _nowhere(event: dict) -> None:
    """The output sink of a warm context between two turns (nothing runs then)."""
