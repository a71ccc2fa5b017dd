"""The tool loop of an LLM turn (DIALECT §7.3 step 5, §7.5, §7.6).

``ToolLoop.run(messages)`` asks the model; while it answers with tool calls (at most
``llm-max-tool-rounds`` rounds, default 8), each call runs its tool script as a tool
execution of the session, its result goes back to the model as a ``tool`` message, and
the model is asked again. After the last allowed round the model is asked once more
without tools, so it has to answer in text. The final text is said to the user.

A tool result (§7.5 step 4) is the script's top-level ``RETURN`` value (strings as they
are, other values as JSON), else the messages the tool TALKed joined by ``\\n``, else
``"OK"``; an untrapped error is ``"Error: <message>"`` (logged with file:line; the user
gets no apology: the model explains). A call of a tool the session does not offer, or
with arguments that are not a JSON object, gets an ``Error: ...`` result too.

A tool that waits at HEAR suspends the whole turn durably: the messages so far, the
call (with its id), the calls of the round still to run, the round number and what the
tool TALKed are saved with the waiting execution (``LLM_STATE``). When the user answers,
``ToolLoop.resume`` finishes the tool, completes the round and goes on — in whichever
process gets the message.

Streaming (WebSocket): each model call streams its text as partial envelopes under a
new ``stream_token`` (pieces that come close together share a frame, llm_host.PieceBuffer);
messages said before (a tool's TALKs, an earlier round's text) are delivered first, so
the client sees everything in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..interpreter.tools import bind_arguments
from ..runtime.values import to_str
from .llm_host import ToolRun, TurnHost

DEFAULT_MAX_ROUNDS = 8


@dataclass
class ToolOffer:
    """The tools offered to the model in this turn: names and their schemas."""

    catalog: Any  # tool_catalog.BotTools
    names: list[str]

    @classmethod
    def for_session(cls, catalog: Any, session: Any) -> "ToolOffer":
        if catalog is None:
            return cls(None, [])
        names = [name for name in session.tools if catalog.find(name)]
        names += [name for name in catalog.auto_discovered() if name not in names]
        return cls(catalog, names)

    def schemas(self) -> Optional[list]:
        return self.catalog.schemas(self.names) if self.names else None


@dataclass
class LoopResult:
    """How the loop ended: ``text`` said (None when a tool waits), tools used or not."""

    text: Optional[str]
    used_tools: bool


def tool_result(run: ToolRun, talked: list[str]) -> str:
    """The tool result of §7.5 step 4 (see module doc)."""
    outcome = run.outcome
    if outcome.status == "error":
        return f"Error: {outcome.error.message if outcome.error else 'the tool failed'}"
    if outcome.value is not None:
        return outcome.value if isinstance(outcome.value, str) else to_str(outcome.value)
    if talked:
        return "\n".join(talked)
    return "OK"


class ToolLoop:
    """One LLM turn's conversation with the model (see module doc)."""

    def __init__(self, host: TurnHost, service: Any, model: Optional[str], offer: ToolOffer,
                 max_rounds: int = DEFAULT_MAX_ROUNDS) -> None:
        self.host = host
        self.service = service
        self.model = model
        self.offer = offer
        self.max_rounds = max_rounds
        self.used_tools = False

    # ------------------------------------------------------------ the loop

    async def run(self, messages: list, rounds: int = 0) -> LoopResult:
        """Ask, run tool calls, ask again ... until a text answer or a waiting tool."""
        while True:
            offer_tools = rounds < self.max_rounds
            completion, token = await self._ask(messages, self.offer.schemas() if offer_tools else None)
            if not completion.tool_calls or not offer_tools:
                if completion.text:
                    self.host.say(completion.text, token)
                return LoopResult(completion.text, self.used_tools)
            self.used_tools = True
            rounds += 1
            messages.append(completion.as_message())
            if completion.text:  # said before the tools run, like a TALK
                self.host.say(completion.text, token)
            if not await self._run_calls(messages, completion.tool_calls, rounds):
                return LoopResult(None, True)

    async def resume(self, saved: dict, execution) -> LoopResult:
        """Go on after the user answered the HEAR of a waiting tool (see module doc)."""
        state = saved["llm"]
        self.used_tools = True
        run = await self.host.continue_tool(execution)
        talked = list(state.get("talked", [])) + run.talked
        if run.outcome.status == "waiting":
            await self.host.keep_waiting(run, saved.get("script") or "", {**state, "talked": talked})
            return LoopResult(None, True)
        messages = state["messages"]
        messages.append(_tool_message(state["call"], tool_result(run, talked)))
        if not await self._run_calls(messages, state.get("remaining", []), state["round"]):
            return LoopResult(None, True)
        return await self.run(messages, state["round"])

    async def _ask(self, messages: list, tools: Optional[list]):
        """One model call; streamed to a WebSocket client. (Completion, stream token)."""
        if not self.host.streaming:
            return await self.service.complete(messages, model=self.model, tools=tools), None
        await self.host.flush()
        token = self.host.new_stream_token()
        stream = await self.service.complete(messages, model=self.model, tools=tools, stream=True)
        pieces = self.host.pieces(token)
        async for piece in stream:
            await pieces.add(piece)
        return stream.result, token

    # ------------------------------------------------------------ tool calls

    async def _run_calls(self, messages: list, calls: list, rounds: int) -> bool:
        """Run ``calls`` in order, appending their results; False when one waits."""
        for index, call in enumerate(calls):
            result = await self._call(messages, call, calls[index + 1:], rounds)
            if result is None:
                return False
            messages.append(_tool_message(call, result))
        return True

    async def _call(self, messages: list, call: dict, remaining: list, rounds: int) -> Optional[str]:
        """The result of one tool call; None when the tool waits for the user."""
        if call.get("error"):
            return f"Error: {call['error']}"
        catalog = self.offer.catalog
        name = catalog.resolve_call(call["name"], self.offer.names) if catalog else None
        program = catalog.program(name) if name else None
        if program is None:
            return f"Error: there is no tool '{call['name']}' in this conversation"
        info = catalog.info(name)
        bound = bind_arguments(info.params if info else [], call.get("arguments"))
        # Missing arguments are left to the VM, which also evaluates non-literal DEFAULTs.
        run = await self.host.run_tool(program, {k: v for k, v in bound.items() if v is not None})
        if run.outcome.status == "waiting":
            state = {"messages": messages, "call": call, "remaining": remaining,
                     "round": rounds, "talked": run.talked}
            await self.host.keep_waiting(run, name, state)
            return None
        return tool_result(run, run.talked)


def _tool_message(call: dict, result: str) -> dict:
    return {"role": "tool", "tool_call_id": call["id"], "content": result}
