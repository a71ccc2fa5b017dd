"""Compiled scripts of one folder or bot package, compiled on first use.

``ScriptLibrary`` is what a host hands to the VM as ``resolve_script``: ``CALL "x.bas"``
and ``CALL name`` find their programs here. Programs also go into a ``ProgramStore`` by
hash, so a saved execution can finish on the version it started with.

Hosts that reload scripts (the server) build a new library per package version,
``adopt`` the previous one (unchanged files are not analysed again; a script whose new
version does not compile keeps serving its last good program) and ``compile_all`` so that
every error is known at load time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..interpreter import AnalysisResult, Diagnostic, ScriptInfo, analyze_file, load_source
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
        # Last good versions taken over from a previous library (see ``adopt``): served
        # while the current file of the script does not compile.
        self._fallback: dict[str, tuple[AnalysisResult, Program]] = {}

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
                if key in self._fallback:
                    return self._fallback[key][1]
                raise ScriptCompileError(result)
            program = compile_script(result.script, result.source, self.registry, result.info.params)
            self._programs[key] = self.store.add(program)
        return self._programs[key]

    def serving(self, name: str) -> Optional[tuple[AnalysisResult, Program]]:
        """The analysis and program that ``program(name)`` serves, from what is already
        compiled (nothing is analysed here): the current version when it compiles, else the
        last good version adopted from a previous library, else None."""
        key = script_key(name)
        if key in self._programs and key in self._results:
            return self._results[key], self._programs[key]
        return self._fallback.get(key)

    def adopt(self, previous: "ScriptLibrary") -> None:
        """Take over the work of ``previous``, the library of an older version of the same
        scripts: analyses and programs of files whose text did not change are reused, and
        the version each script served there becomes its fallback here."""
        same_front_end = previous.registry is self.registry and previous.lenient == self.lenient
        for key, path in self.scripts.items():
            old = previous._results.get(key)
            if (same_front_end and old is not None and previous.scripts.get(key) == path
                    and _text_unchanged(path, old.source)):
                self._results[key] = old
                if key in previous._programs:
                    self._programs[key] = previous._programs[key]
            served = previous.serving(key)
            if served is not None:
                self._fallback[key] = served

    def compile_all(self) -> list[str]:
        """Analyse and compile every script now, so that every error is known up front.

        A script that cannot be read or compiled gets an error diagnostic in its analysis
        instead of stopping the others. Returns the names analysed by this call (the rest
        were analysed before or adopted unchanged)."""
        fresh = []
        for key in sorted(self.scripts):
            if key not in self._results:
                fresh.append(key)
                self._results[key] = self._read_and_analyze(key)
            if self._results[key].ok and key not in self._programs:
                self._compile_guarded(key)
        return fresh

    def _read_and_analyze(self, key: str) -> AnalysisResult:
        path = self.scripts[key]
        try:
            return analyze_file(path, self.registry, self.lenient, name=str(path))
        except OSError as exc:  # deleted or unreadable since the folder was listed
            return _failed(key, path, None, f"cannot read the script: {exc.strerror or exc}")

    def _compile_guarded(self, key: str) -> None:
        """Compile one analysed script; a compiler failure becomes an error diagnostic."""
        try:
            self.program(key)
        except Exception as exc:  # a compiler bug must not take the other scripts down
            result = self._results[key]
            line = getattr(getattr(exc, "span", None), "line", 0) or 0
            self._results[key] = _failed(key, self.scripts[key], result,
                                         f"internal compiler error: {exc}", line)

    def resolve(self, name: str) -> Optional[Program]:
        """For the VM: the program of ``name``, None when there is no such script."""
        key = script_key(name)
        if key not in self.scripts:
            return None
        try:
            return self.program(key)
        except ScriptCompileError as exc:
            raise BasicError(f"script {key} does not compile: {exc}") from None


def _text_unchanged(path: Path, source: str) -> bool:
    """The file still holds ``source`` (as the front end normalised it)."""
    try:
        return load_source(path).lstrip("\ufeff") == source
    except OSError:
        return False


def _failed(key: str, path: Path, result: Optional[AnalysisResult], message: str,
            line: int = 0) -> AnalysisResult:
    """``result`` (or an empty analysis) with one more error diagnostic."""
    diagnostic = Diagnostic(str(path), line, 0, "error", message)
    if result is None:
        return AnalysisResult(None, ScriptInfo(key, str(path)), [diagnostic])
    return AnalysisResult(result.script, result.info, [*result.diagnostics, diagnostic],
                          result.source)
