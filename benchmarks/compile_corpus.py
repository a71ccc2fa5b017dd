"""Front-end speed: lines per second compiling the shared corpus with a warm parser.

    python benchmarks/compile_corpus.py [CORPUS_DIR] [--rounds N]

Prints the figure for each stage (scan, scan+parse, full front end) and the target of
issue 2 (>= 20,000 lines/s, aim 50,000).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from botbasic.interpreter import analyze_source, front_end_registry, load_source
from botbasic.interpreter.diagnostics import DiagnosticSink
from botbasic.interpreter.parser import lark_parser, parse_lines
from botbasic.interpreter.scanner import Scanner

TARGET, AIM = 20_000, 50_000


def corpus_sources(root: Path) -> list[tuple[str, str]]:
    paths = sorted(p for p in root.rglob("*")
                   if p.is_file() and (p.suffix == ".bas" or p.name == "default.gbdialog"))
    return [(str(p), load_source(p)) for p in paths]


def best_of(rounds: int, work) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    default = Path(os.environ.get("BOTBASIC_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default=str(default))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sources = corpus_sources(Path(args.corpus))
    if not sources:
        print(f"no scripts under {args.corpus}", file=sys.stderr)
        return 2
    registry = front_end_registry()
    lark_parser()  # warm: the grammar is compiled once per process
    lines = sum(text.count("\n") + 1 for _, text in sources)

    def scan():
        for name, text in sources:
            Scanner(text, registry, DiagnosticSink(name)).scan()

    def parse():
        for name, text in sources:
            parse_lines(text, name, registry, DiagnosticSink(name))

    def full():
        for name, text in sources:
            analyze_source(text, name, registry)

    print(f"corpus: {len(sources)} scripts, {lines} lines")
    for label, work in (("scan", scan), ("scan + parse", parse), ("front end (analyze)", full)):
        seconds = best_of(args.rounds, work)
        print(f"{label:22s} {seconds * 1000:8.1f} ms  {lines / seconds:10,.0f} lines/s")
    rate = lines / best_of(args.rounds, full)
    print(f"target >= {TARGET:,} lines/s (aim {AIM:,}): {'met' if rate >= TARGET else 'NOT met'}"
          f" ({rate / TARGET:.2f}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
