"""Diagnostics: what the front end reports about a script, always with file:line:col."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a script. ``severity`` is "error" or "warning"."""

    file: str
    line: int
    col: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "col": self.col,
                "severity": self.severity, "message": self.message}


class BasicSyntaxError(Exception):
    """The front end's only exception: a script that does not compile.

    Carries every diagnostic found (errors and warnings), not just the first one.
    """

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        super().__init__(str(first) if first else "syntax error")


class DiagnosticSink:
    """Collects diagnostics for one file while the stages run."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Diagnostic] = []

    def error(self, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(self.file, line, col, "error", message))

    def warning(self, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(self.file, line, col, "warning", message))

    def at(self, span, message: str, severity: str = "error") -> None:
        self.items.append(Diagnostic(self.file, span.line, span.col, severity, message))

    def has_error_on(self, first_line: int, last_line: int) -> bool:
        """True when an error was already reported on one of these lines (one error per
        statement is enough: the scanner's beats the parser's, the parser's the analyzer's)."""
        return any(d.is_error and first_line <= d.line <= last_line for d in self.items)

    def has_any_on(self, line: int) -> bool:
        return any(d.line == line for d in self.items)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.line, d.col))
