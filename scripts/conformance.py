"""Conformance report: how much of the shared corpus compiles, and every failure.

    python scripts/conformance.py [CORPUS_DIR] [--lenient]

Exit status 0 when every failure is one of the known-broken scripts of DIALECT A-58.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from botbasic.interpreter import analyze_file

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from corpus_helpers import BROKEN  # noqa: E402  (one list of known-broken files)


def main() -> int:
    default = os.environ.get("BOTBASIC_CORPUS", str(REPO.parent / "shared" / "corpus"))
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default=default)
    parser.add_argument("--lenient", action="store_true")
    args = parser.parse_args()
    root = Path(args.corpus)
    scripts = sorted(p for p in root.rglob("*")
                     if p.is_file() and (p.suffix == ".bas" or p.name == "default.gbdialog"))
    failures, warnings = [], 0
    for path in scripts:
        result = analyze_file(path, lenient=args.lenient)
        warnings += len(result.warnings)
        if not result.ok:
            failures.append((path.relative_to(root).as_posix(), result.errors))
    passed = len(scripts) - len(failures)
    print(f"compiled {passed}/{len(scripts)} scripts ({100 * passed / max(1, len(scripts)):.1f} %)"
          f" in {'lenient' if args.lenient else 'strict'} mode; {warnings} warnings")
    for name, errors in failures:
        tag = "known broken (A-58)" if name in BROKEN else "FAILURE"
        print(f"\n{tag}: {name}")
        for diag in errors[:5]:
            print(f"  {diag.line}:{diag.col}: {diag.message}")
    unexpected = [name for name, _ in failures if name not in BROKEN]
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
