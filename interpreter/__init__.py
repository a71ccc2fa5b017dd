"""The botbasic front end: ``.bas`` source -> checked AST + static declarations.

Public API::

    result = analyze_source(text, "start.bas")      # never raises for bad scripts
    result.ok, result.script, result.info, result.diagnostics
    script, diagnostics = parse_source(text, "start.bas")
    result = analyze_file(path)                      # BOM / newline handling included

``BasicSyntaxError`` is the only exception the front end raises (``result.raise_errors()``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .analyzer import Analyzer
from .blocks import BlockBuilder
from .declarations import ScriptInfo
from .diagnostics import BasicSyntaxError, Diagnostic, DiagnosticSink
from .nodes import Script
from .parser import parse_lines

__all__ = ["analyze_source", "analyze_file", "parse_source", "load_source", "AnalysisResult",
           "BasicSyntaxError", "Diagnostic", "ScriptInfo", "front_end_registry"]


@dataclass
class AnalysisResult:
    """The outcome of compiling one script's front end."""

    script: Optional[Script]
    info: ScriptInfo
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str = ""

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    def raise_errors(self) -> None:
        if not self.ok:
            raise BasicSyntaxError(self.diagnostics)


@functools.lru_cache(maxsize=1)
def front_end_registry():
    """The process-wide registry of keywords and functions (built once)."""
    from ..keywords import default_registry
    return default_registry()


def load_source(path) -> str:
    """Read a script: UTF-8, BOM dropped, newlines normalised to ``\\n``."""
    data = Path(path).read_bytes()
    text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def script_name(filename: str) -> str:
    name = Path(filename).name
    return name[:-4] if name.lower().endswith(".bas") else name


def analyze_source(text: str, filename: str, registry=None, lenient: bool = False) -> AnalysisResult:
    """Scan, parse, nest and check one script; every problem ends up in ``diagnostics``."""
    registry = registry or front_end_registry()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    sink = DiagnosticSink(filename)
    info = ScriptInfo(script_name(filename), filename)
    try:
        lines, info.workflow = parse_lines(text, filename, registry, sink, lenient)
        body, procedures = BlockBuilder(sink, lenient).build(lines)
        script = Analyzer(registry, sink, info).run(body, procedures)
    except RecursionError:  # a pathological nesting depth, not a crash of the server
        sink.error(1, 1, "the script nests expressions or blocks too deeply to compile")
        script = None
    return AnalysisResult(script, info, sink.sorted(), text)


def analyze_file(path, registry=None, lenient: bool = False, name: Optional[str] = None) -> AnalysisResult:
    return analyze_source(load_source(path), name or str(path), registry, lenient)


def parse_source(text: str, filename: str, registry=None, lenient: bool = False):
    """``(Script or None, diagnostics)``: the script is None when there are errors."""
    result = analyze_source(text, filename, registry, lenient)
    return (result.script if result.ok else None), result.diagnostics
