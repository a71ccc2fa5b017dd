"""``botbasic check PATH...``: compile scripts and packages, print every problem."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Iterator

from botbasic.interpreter import analyze_file
from botbasic.runtime.package import find_packages, load_package

SCRIPT_SUFFIXES = (".bas",)


def script_paths(paths: Iterable[str]) -> Iterator[Path]:
    """Every script named by ``paths``: files as given, package folders (``*.gbai``) by their
    dialog scripts, other folders by the packages and ``.bas`` files they contain."""
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path
        elif path.is_dir() and path.suffix == ".gbai":
            yield from _package_scripts(path)
        elif path.is_dir():
            yield from _folder_scripts(path)
        else:
            raise FileNotFoundError(raw)


def _package_scripts(path: Path) -> Iterator[Path]:
    yield from sorted(load_package(path).scripts.values())


def _folder_scripts(path: Path) -> Iterator[Path]:
    packages = find_packages(path)
    seen: set[Path] = set()
    for package in packages:
        for script in _package_scripts(package):
            seen.add(script.resolve())
            yield script
    for script in sorted(path.rglob("*.bas")):
        if script.resolve() not in seen:
            yield script


def run_check(paths: list[str], quiet: bool, lenient: bool, out=sys.stdout, err=sys.stderr) -> int:
    """Print ``file:line:col: severity: message`` lines; 1 if any error, else 0."""
    errors = warnings = scripts = 0
    try:
        targets = list(script_paths(paths))
    except FileNotFoundError as exc:
        print(f"botbasic check: no such file or folder: {exc}", file=err)
        return 2
    for path in targets:
        result = analyze_file(path, lenient=lenient)
        scripts += 1
        for diag in result.diagnostics:
            if diag.is_error:
                errors += 1
            else:
                warnings += 1
                if quiet:
                    continue
            print(diag, file=out)
    if not quiet:
        print(f"checked {scripts} script{'s' * (scripts != 1)}: {errors} error"
              f"{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}", file=err)
    return 1 if errors else 0
