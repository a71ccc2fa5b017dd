"""Helpers for the compiler/VM/keyword tests: run BASIC source, collect what the bot says.

``run_script(source, answers)`` compiles ``source`` (plus any other scripts given in
``scripts`` for ``CALL``), runs it, answers each HEAR with the next of ``answers`` and
returns a ``Transcript``. With ``save=True`` every wait goes through
``json.dumps(snapshot())`` and a fresh ``Execution.restore`` — as a server does.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Optional

from botbasic.interpreter import analyze_source
from botbasic.interpreter.compiler import compile_script
from botbasic.keywords import default_registry
from botbasic.runtime.context import ExecutionContext, SessionData
from botbasic.runtime.limits import Limits
from botbasic.runtime.memory_store import InMemoryStore
from botbasic.runtime.outcome import Outcome
from botbasic.runtime.program import ProgramStore
from botbasic.runtime.vm import Execution

REGISTRY = default_registry()
FIXED_NOW = datetime(2025, 3, 14, 15, 9, 26)


def compile_source(source: str, name: str = "main", registry=REGISTRY):
    """Parse and compile; fails the test with the diagnostics when the source is invalid."""
    result = analyze_source(source, f"{name}.bas", registry)
    if not result.ok:
        raise AssertionError("\n".join(str(d) for d in result.diagnostics))
    return compile_script(result.script, source, registry, result.info.params)


@dataclass
class Transcript:
    """What one conversation produced."""

    outcome: Outcome
    events: list
    ctx: Any
    execution: Execution
    logs: list = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [e["text"] for e in self.events if e["type"] == "message"]

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def value(self):
        return self.outcome.value

    @property
    def error(self) -> Optional[str]:
        return None if self.outcome.error is None else str(self.outcome.error)

    @property
    def variables(self) -> dict:
        return self.execution.globals


class _ListHandler(logging.Handler):
    def __init__(self, records: list):
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record):
        self.records.append((record.levelname, record.getMessage()))


def make_context(events: list, store: ProgramStore, *, limits: Limits = Limits(),
                 services=None, session=None, logs=None, sleeps=None, clock=None,
                 registry=REGISTRY, **extra):
    logger = logging.getLogger(f"botbasic.test.{id(events)}")
    logger.handlers[:] = [_ListHandler(logs if logs is not None else [])]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    async def fake_sleep(seconds):
        if sleeps is not None:
            sleeps.append(seconds)

    return ExecutionContext(
        registry, services=services or SimpleNamespace(memory=InMemoryStore()),
        session=session or SessionData(session_id="s1", bot_id="bot1", user_id="u1"),
        emit=events.append, clock=clock or (lambda: FIXED_NOW), limits=limits,
        resolve_script=store.latest, logger=logger, sleep=fake_sleep, **extra)


def run_script(source: str, answers=(), *, scripts: Optional[dict] = None, save: bool = False,
               args: Optional[dict] = None, registry=REGISTRY, **context) -> Transcript:
    """Run ``source`` to its end, answering HEARs from ``answers`` (see module doc);
    ``context`` goes to ``make_context`` (limits, services, session, sleeps, clock ...)."""
    store = ProgramStore([compile_source(text, name, registry)
                          for name, text in (scripts or {}).items()])
    program = store.add(compile_source(source, registry=registry))
    events: list = []
    logs: list = []
    ctx = make_context(events, store, logs=logs, registry=registry, **context)
    execution = Execution().start(program, ctx, args)
    outcome = asyncio.run(execution.run())
    pending = list(answers)
    while outcome.status == "waiting" and pending:
        if save:
            data = json.loads(json.dumps(execution.snapshot()))
            execution = Execution.restore(data, store, ctx)
        outcome = asyncio.run(execution.run(pending.pop(0)))
    return Transcript(outcome, events, ctx, execution, logs)


def says(source: str, answers=(), **kwargs) -> list[str]:
    """The messages a script sends (fails when it ends with an error)."""
    transcript = run_script(source, answers, **kwargs)
    assert transcript.error is None, transcript.error
    return transcript.messages
