"""Running a script in system context: scheduled jobs and webhooks (DIALECT §7.1).

A system run has no user. Its session is synthetic (``session.channel`` is ``system``,
the user is the bot's service identity ``system:<bot>``) and is not stored; the context
is not interactive, so ``HEAR`` is a runtime error and ``TALK`` is only logged. Scripts
reach people through services: ``TALK TO`` (the ``channels`` service) and ``SEND MAIL``.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

from ..runtime.context import ExecutionContext, SessionData
from ..runtime.outcome import ERROR, Outcome, ScriptError
from ..runtime.vm import Execution
from .logs import ScriptLogger
from .runner import BotRuntime, script_variables

script_log = logging.getLogger("botbasic.script")

SYSTEM_CHANNEL = "system"


@dataclass
class SystemResult:
    """How a system run ended: the VM outcome, the script's global variables (webhooks
    read ``result_*`` from them) and what it TALKed (logged, never delivered)."""

    outcome: Outcome
    globals: dict = field(default_factory=dict)
    talked: list = field(default_factory=list)
    session_id: str = ""

    @property
    def error(self) -> Optional[ScriptError]:
        return self.outcome.error if self.outcome.status == ERROR else None


def system_session(runtime: BotRuntime, kind: str) -> SessionData:
    """The synthetic session of one system run."""
    session_id = f"{kind}-{uuid.uuid4().hex}"
    user_id = f"system:{runtime.name}"
    language = runtime.settings.language
    builtins = {"id": session_id, "user_id": user_id, "bot_id": runtime.name,
                "channel": SYSTEM_CHANNEL, "created_at": time.time(), "language": language,
                "kind": kind}
    return SessionData(session_id=session_id, bot_id=runtime.name, user_id=user_id,
                       language=language, builtins=builtins)


def system_context(runtime: BotRuntime, registry, session: SessionData, talked: list,
                   variables: Optional[dict] = None) -> ExecutionContext:
    """A non-interactive ExecutionContext over the bot's services."""
    library = getattr(runtime.bot, "library", None)
    resolve = library.resolve if library is not None else (lambda name: None)
    injected = {**script_variables(runtime, session), **(variables or {})}

    def emit(event: dict) -> None:
        if event.get("type") == "message":
            talked.append(str(event.get("text", "")))

    return ExecutionContext(
        registry, services=runtime.services, session=session, emit=emit,
        resolve_script=resolve, variables=injected, interactive=False,
        logger=ScriptLogger(script_log, runtime.name, session.session_id))


async def run_system_script(runtime: BotRuntime, registry, program, kind: str,
                            variables: Optional[dict] = None) -> SystemResult:
    """Run ``program`` of ``runtime`` to its end in system context (``kind`` is
    ``scheduled`` or ``webhook``); ``variables`` are added to its globals."""
    session = system_session(runtime, kind)
    talked: list = []
    ctx = system_context(runtime, registry, session, talked, variables)
    execution = Execution()
    try:
        execution.start(program, ctx, None)
    except Exception as exc:  # noqa: BLE001 - e.g. a PARAM DEFAULT that fails
        error = ScriptError(str(exc), program.file, 0)
        ctx.logger.warning("%s", error)
        return SystemResult(Outcome(ERROR, error=error), {}, talked, session.session_id)
    outcome = await execution.run()
    if outcome.status not in ("done", ERROR):  # cannot wait without a user; be safe anyway
        outcome = Outcome(ERROR, error=ScriptError("no user to hear from", program.file, 0))
    return SystemResult(outcome, dict(execution.globals), talked, session.session_id)

