"""Helpers for front-end tests: compile a snippet and dump its statements."""
from __future__ import annotations

import textwrap

from botbasic.interpreter import analyze_source
from botbasic.interpreter.dump import dump


def analyze(source: str, lenient: bool = False, name: str = "t.bas"):
    return analyze_source(textwrap.dedent(source).lstrip("\n"), name, lenient=lenient)


def dumps(source: str) -> list[str]:
    """The dumped top-level statements of a snippet that must compile cleanly."""
    result = analyze(source)
    assert result.ok, [str(d) for d in result.diagnostics]
    return [dump(stmt) for stmt in result.script.body]


def one(source: str) -> str:
    """The dump of a snippet's only statement."""
    stmts = dumps(source)
    assert len(stmts) == 1, stmts
    return stmts[0]


def problems(source: str, lenient: bool = False) -> list[tuple[str, str, int, int]]:
    """(severity, message, line, col) of every diagnostic."""
    return [(d.severity, d.message, d.line, d.col) for d in analyze(source, lenient).diagnostics]
