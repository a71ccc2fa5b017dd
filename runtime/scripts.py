"""Compiled scripts of one folder or bot package, compiled on first use.

``ScriptLibrary`` is what a host hands to the VM as ``resolve_script``: ``CALL "x.bas"``
and ``CALL name`` find their programs here. Programs also go into a ``ProgramStore`` by
hash, so a saved execution can finish on the version it started with.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..interpreter import AnalysisResult, analyze_file
from ..interpreter.compiler import compile_script
from .errors import BasicError
from .program import Program, ProgramStore


class ScriptCompileError(Exception):
    """A script that does not compile; ``result.diagnostics`` says why."""

    def __init__(self, result: AnalysisResult):
        self.result = result
        first = result.errors[0] if result.errors else None
        super().__init__(str(first) if first else "the script does not compile")


def script_key(name: str) -> str:
    """``.gbdialog/Enrollment.bas`` -> ``enrollment`` (how CALL and ADD TOOL name scripts)."""
    name = name.strip().replace("\\", "/").rsplit("/", 1)[-1]
    if name.lower().endswith(".bas"):
        name = name[:-4]
    return name.lower()


class ScriptLibrary:
    """Scripts by name -> compiled programs (compiled lazily, cached per file version)."""

    def __init__(self, registry, scripts: dict[str, Path], lenient: bool = False,
                 store: Optional[ProgramStore] = None):
        self.registry = registry
        self.scripts = {script_key(k): Path(v) for k, v in scripts.items()}
        self.lenient = lenient
        self.store = store or ProgramStore()
        self._results: dict[str, AnalysisResult] = {}
        self._programs: dict[str, Program] = {}

    @classmethod
    def for_folder(cls, folder: Path, registry, lenient: bool = False) -> "ScriptLibrary":
        """Every ``.bas`` file directly in ``folder``."""
        return cls(registry, {p.stem: p for p in sorted(Path(folder).glob("*.bas"))}, lenient)

    def analyze(self, name: str) -> AnalysisResult:
        key = script_key(name)
        if key not in self._results:
            path = self.scripts[key]
            self._results[key] = analyze_file(path, self.registry, self.lenient, name=str(path))
        return self._results[key]

    def program(self, name: str) -> Program:
        """The compiled program of script ``name``; ScriptCompileError if it has errors."""
        key = script_key(name)
        if key not in self._programs:
            result = self.analyze(key)
            if not result.ok:
                raise ScriptCompileError(result)
            program = compile_script(result.script, result.source, self.registry, result.info.params)
            self._programs[key] = self.store.add(program)
        return self._programs[key]

    def resolve(self, name: str) -> Optional[Program]:
        """For the VM: the program of ``name``, None when there is no such script."""
        key = script_key(name)
        if key not in self.scripts:
            return None
        try:
            return self.program(key)
        except ScriptCompileError as exc:
            raise BasicError(f"script {key} does not compile: {exc}") from None
