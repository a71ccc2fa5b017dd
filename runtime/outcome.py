"""What a run of an execution reports: ``Outcome`` and, on failure, ``ScriptError``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .errors import BasicError, GENERIC

DONE = "done"
WAITING = "waiting"
ERROR = "error"


class ScriptError(Exception):
    """An untrapped runtime error, located in its ``.bas`` file.

    ``str(error)`` is ``file:line: error: message`` (the compiler's diagnostic format).
    """

    def __init__(self, message: str, file: str = "<script>", line: int = 0,
                 number: int = GENERIC):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.number = number

    @classmethod
    def from_error(cls, error: BasicError) -> "ScriptError":
        """The located form of a BasicError that left the script."""
        return cls(error.message, error.file or "<script>", error.line or 0, error.number)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: error: {self.message}"

    def to_dict(self) -> dict:
        """Plain data (for logs and saved executions)."""
        return {"message": self.message, "file": self.file, "line": self.line,
                "number": self.number}


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``status`` is "done", "waiting" (for the user's next message) or
    "error". ``value`` is the script's RETURN value when done; ``error`` the ScriptError."""

    status: str
    value: Any = None
    error: Optional[ScriptError] = None
