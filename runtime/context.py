"""The execution context: everything a running script reaches outside its own variables.

Keyword handlers and ``needs_ctx`` functions receive it. It carries:

* ``registry`` — the keywords and functions of this engine;
* ``services`` — an object whose optional attributes are the outside world (``memory``,
  ``channels``, ``mail``, ``config``, ``sessions``, ``secrets`` ...); keywords reach
  I/O only through them and report "not available" when one is missing;
* ``session`` — ``SessionData``: plain data the host persists with the conversation
  (suggestions, contexts, system prompt, tools, headers, session variables);
* ``emit(event)`` — the sink for output events (``{"type": "message", "text": ...}``,
  ``{"type": "suggestions", "items": [...]}``);
* ``now()``, ``random``, ``sleep`` — clock, random source and WAIT (replaceable in tests);
* ``error`` / ``clear_error()`` — the ON ERROR state of the running script (§6.4);
* ``limits``, ``resolve_script(name)`` (for ``CALL "x.bas"``; returns a Program, None, or
  an awaitable of either), ``variables`` (injected into every script's globals:
  ``param-*`` values, ``session``, ``user``, ``bot`` objects), ``interactive`` (False in
  system context: scheduled, webhook and event runs, where HEAR is an error).
"""
from __future__ import annotations

import asyncio
import logging
import random as _random
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Callable, Optional

from .datetimes import DateTime
from .limits import DEFAULT_LIMITS, Limits
from .memory_store import InMemoryStore

log = logging.getLogger("botbasic.script")


class ErrorState:
    """The recorded error of one script execution (``ERROR``, ``ERR``, ``ERROR MESSAGE``)."""

    __slots__ = ("active", "message", "number")

    def __init__(self, active: bool = False, message: str = "", number: int = 0):
        self.active = active
        self.message = message
        self.number = number

    def record(self, message: str, number: int) -> None:
        """Remember the error a trapped statement raised."""
        self.active, self.message, self.number = True, message, number

    def clear(self) -> None:
        """``CLEAR ERROR``: forget the recorded error."""
        self.active, self.message, self.number = False, "", 0

    def to_dict(self) -> dict:
        return {"active": self.active, "message": self.message, "number": self.number}

    @classmethod
    def from_dict(cls, data: Optional[dict]) -> "ErrorState":
        return cls(**data) if data else cls()


@dataclass
class SessionData:
    """Per-conversation state kept by keywords between executions (plain JSON data).

    ``variables`` holds session variables in ``values.to_plain`` form, keyed in lower
    case; ``builtins`` the read-only keys (``id``, ``user_id``, ``channel`` ...).
    """

    session_id: str = ""
    bot_id: str = ""
    user_id: str = ""
    language: str = "en"
    variables: dict = field(default_factory=dict)
    builtins: dict = field(default_factory=dict)
    suggestions: list = field(default_factory=list)
    contexts: dict = field(default_factory=dict)
    context: Optional[str] = None
    active_context: Optional[str] = None
    system_prompt: Optional[str] = None
    tools: list = field(default_factory=list)
    kb_collections: list = field(default_factory=list)  # USE KB (§9.4.1)
    headers: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready copy of every field."""
        return {f.name: _copy_plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "SessionData":
        known = {f.name for f in fields(cls)}
        return cls(**{k: _copy_plain(v) for k, v in data.items() if k in known})


def _copy_plain(value):
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_plain(v) for v in value]
    return value


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _no_scripts(name: str):
    return None


def _drop(event: dict) -> None:
    pass


class ExecutionContext:
    """What a running script can reach besides its variables (see module doc)."""

    def __init__(self, registry, *, services: Any = None, session: Optional[SessionData] = None,
                 emit: Callable[[dict], None] = _drop, clock: Callable[[], datetime] = datetime.now,
                 rng: Optional[_random.Random] = None, limits: Limits = DEFAULT_LIMITS,
                 resolve_script: Callable[[str], Any] = _no_scripts,
                 variables: Optional[dict] = None, interactive: bool = True,
                 sleep: Callable[[float], Any] = _real_sleep, logger: logging.Logger = log,
                 username: str = ""):
        self.registry = registry
        self.services = services if services is not None else default_services()
        self.session = session if session is not None else SessionData()
        self.emit = emit
        self.clock = clock
        self.random = rng if rng is not None else _random.Random()
        self.limits = limits
        self.resolve_script = resolve_script
        self.variables = variables if variables is not None else {}
        self._pristine = _pristine_objects(self.variables)
        self.interactive = interactive
        self.sleep = sleep
        self.logger = logger
        self.username = username
        self.error = ErrorState()

    def now(self) -> DateTime:
        """The current local datetime (from ``clock``)."""
        return DateTime(self.clock())

    def timestamp(self) -> float:
        """The current time as Unix seconds (memory expiry)."""
        return self.clock().timestamp()

    def clear_error(self) -> None:
        """``CLEAR ERROR`` for the running script."""
        self.error.clear()

    def unchanged_variables(self) -> dict:
        """The injected objects (``session``, ``user``, ``bot`` ...) whose members are still
        what they were when injected: a saved execution need not hold them, since the
        context of any later turn injects them again (``Execution.snapshot``)."""
        return {name: value for name, (value, members) in self._pristine.items()
                if value == members}

    def service(self, name: str):
        """The service ``name``, or None when the host provides none."""
        return getattr(self.services, name, None)

    def say(self, text: str) -> None:
        """Send one bot message to the current user."""
        self.emit({"type": "message", "text": text})


_SCALARS = (str, int, float, bool, type(None))


def _pristine_objects(variables: dict) -> dict:
    """name -> (object, copy of its members) for injected objects of scalar members only
    (a nested value could change in place without the copy seeing it)."""
    return {name: (value, dict(value)) for name, value in variables.items()
            if isinstance(value, dict) and all(type(v) in _SCALARS for v in value.values())}


def default_services() -> SimpleNamespace:
    """Services for a standalone engine: an in-process memory store and nothing else."""
    return SimpleNamespace(memory=InMemoryStore())
