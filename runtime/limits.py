"""Resource limits of one script execution (DIALECT §5.9, §6.1, §6.2, §9.1.5).

Exceeding a limit raises ``LimitExceeded``. Unlike ordinary runtime errors it is *not*
trappable: neither ``ON ERROR RESUME NEXT`` nor ``TRY`` may turn a runaway loop into one
that silently continues.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import BasicError


@dataclass(frozen=True)
class Limits:
    """The configurable limits; the defaults are the reference engine's."""

    max_loop_iterations: int = 100_000   # per execution of one loop
    max_seconds: float = 300.0           # wall time of an execution, HEAR waits excluded
    max_recursion: int = 100             # nested SUB/FUNCTION calls
    max_call_depth: int = 16             # nested CALL "x.bas"
    max_wait_seconds: float = 300.0      # WAIT is capped to this
    yield_every: int = 1000              # VM steps between two chances for other sessions to run
    hear_retries: int = 3                # invalid HEAR answers before giving up with ""


DEFAULT_LIMITS = Limits()


class LimitExceeded(BasicError):
    """A limit of ``Limits`` was exceeded; ends the execution (never trapped)."""


def loop_limit_error(limits: Limits) -> LimitExceeded:
    """The error of a loop that ran more than ``max_loop_iterations`` times."""
    return LimitExceeded(f"loop exceeded {limits.max_loop_iterations} iterations")


def time_limit_error(limits: Limits) -> LimitExceeded:
    """The error of an execution that ran longer than ``max_seconds``."""
    return LimitExceeded(f"script exceeded the time limit of {limits.max_seconds:g} s")
