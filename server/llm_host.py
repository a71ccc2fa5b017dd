"""What the LLM turn may do inside one conversation turn: ``TurnHost``.

``Conversations`` (conversation.py) hands a ``TurnHost`` to the LLM turn. Through it the
turn reads the bot and the session, loads history from the store, says messages (with
the ``stream_token`` of a streamed answer), streams pieces to a WebSocket client, and
runs tool scripts as tool executions of the session (§7.1, §7.5), keeping one that
waits at HEAR with the LLM turn's state so the turn can go on later, in any process.
"""
from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from ..runtime.outcome import Outcome
from ..runtime.vm import Execution
from .envelopes import bot_envelope
from .runner import start_and_run

if TYPE_CHECKING:  # import cycle: conversation.py builds TurnHosts
    from .conversation import Conversations, Turn

# Stream tokens: unique across the processes of a pool without a system call per answer.
_TOKEN_PREFIX = os.urandom(4).hex()
_TOKEN_COUNTER = itertools.count(1)
# Pieces of a streamed answer that come faster than this are sent together: a client gets
# at most ~20 frames a second, and a fast model does not cost a frame per token.
PIECE_INTERVAL_SECS = 0.05


@dataclass
class ToolRun:
    """How one run of a tool execution went, and what it TALKed meanwhile."""

    execution: Execution
    outcome: Outcome
    talked: list[str]


class PieceBuffer:
    """Sends the pieces of a streamed answer as they come, grouping those that follow each
    other within ``PIECE_INTERVAL_SECS``. The first piece always goes at once (time to
    first token); what is held when the answer ends is not sent: the answer's complete
    envelope, right after, carries the whole text."""

    def __init__(self, host: "TurnHost", stream_token: str) -> None:
        self.host = host
        self.token = stream_token
        self._held: list[str] = []
        self._last = float("-inf")

    async def add(self, piece: str) -> None:
        self._held.append(piece)
        now = time.monotonic()
        if now - self._last >= PIECE_INTERVAL_SECS:
            self._last = now
            text, self._held = "".join(self._held), []
            await self.host.partial(text, self.token)


class TurnHost:
    """The LLM turn's view of one turn (see module doc)."""

    def __init__(self, conversations: "Conversations", turn: "Turn") -> None:
        self._conversations = conversations
        self._turn = turn
        self.runtime = turn.runtime
        self.ctx = turn.ctx
        self.session = turn.session
        self.metrics = conversations.metrics

    @property
    def session_id(self) -> str:
        return self._turn.record.id

    @property
    def message_text(self) -> str:
        message = self._turn.message
        return message.for_script() if message is not None else ""

    # ------------------------------------------------------------ history and output

    async def history(self, limit: int) -> list:
        """The last ``limit`` stored messages of the session, oldest first."""
        if limit <= 0:
            return []
        return await self._conversations.store.history(self.session_id, limit)

    def say(self, text: str, stream_token: Optional[str] = None) -> None:
        """One bot message; ``stream_token`` marks the final text of a streamed answer."""
        output = self._turn.output
        if stream_token is not None:
            output.tokens[len(output.messages)] = stream_token
        self.ctx.say(text)

    @property
    def streaming(self) -> bool:
        """True when a client takes pieces of the answer as they come (WebSocket)."""
        return self._turn.output.live is not None

    @staticmethod
    def new_stream_token() -> str:
        return f"{_TOKEN_PREFIX}-{next(_TOKEN_COUNTER)}"

    async def flush(self) -> None:
        """Deliver the messages said so far that the client has not got yet."""
        output = self._turn.output
        live = output.live
        if live is None:
            return
        for index in range(len(live.sent), len(output.messages)):
            envelope = self._envelope(output.messages[index])
            envelope["stream_token"] = output.tokens.get(index)
            await live.complete(envelope)

    async def partial(self, text: str, stream_token: str) -> None:
        """One piece of a streamed answer, sent now."""
        live = self._turn.output.live
        if live is not None and text:
            envelope = self._envelope(text)
            envelope["stream_token"] = stream_token
            await live.partial(envelope)

    def pieces(self, stream_token: str) -> "PieceBuffer":
        """Where the pieces of one streamed answer go (grouped, see PieceBuffer)."""
        return PieceBuffer(self, stream_token)

    def _envelope(self, text: str) -> dict:
        record, message = self._turn.record, self._turn.message
        return bot_envelope(record.bot, record.user_id, record.id, text,
                            self.runtime.settings.channel,
                            reply_to=message.message_id if message is not None else None)

    # ------------------------------------------------------------ tool executions

    async def run_tool(self, program, arguments: dict) -> ToolRun:
        """Start a tool execution of ``program`` with PARAM values ``arguments``."""
        first = len(self._turn.output.messages)
        execution, outcome = await start_and_run(program, self.ctx, arguments)
        return self._finished(execution, outcome, first)

    async def continue_tool(self, execution: Execution) -> ToolRun:
        """Give this turn's message to a restored tool execution waiting at HEAR."""
        first = len(self._turn.output.messages)
        outcome = await execution.run(self.message_text)
        return self._finished(execution, outcome, first)

    def _finished(self, execution: Execution, outcome: Outcome, first: int) -> ToolRun:
        if outcome.status != "waiting":
            self._turn.record.execution = None
        if outcome.status == "error":
            self.metrics.script_errors.inc(self.runtime.name)
        return ToolRun(execution, outcome, list(self._turn.output.messages[first:]))

    async def keep_waiting(self, run: ToolRun, script: str, llm_state: dict) -> None:
        """Save a tool execution waiting at HEAR with the LLM turn's state."""
        await self._conversations.keep_waiting(self._turn, run.execution, script, "tool", llm_state)

    def count(self, metric: str) -> None:
        """Add one to a per-bot counter of the server's metrics (``llm_errors`` ...)."""
        counter: Any = getattr(self.metrics, metric, None)
        if counter is not None:
            counter.inc(self.runtime.name)
