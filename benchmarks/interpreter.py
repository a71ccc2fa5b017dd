"""Interpreter speed: three programs in botbasic and the same algorithm in plain Python,
measured in the same run; prints each time and the ratio botbasic / Python.

    python benchmarks/interpreter.py [--rounds N]

Targets of issue 2: (a) <= 5x plain Python (aim 3x).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

from botbasic.interpreter import analyze_source, front_end_registry
from botbasic.interpreter.compiler import compile_script
from botbasic.runtime.context import ExecutionContext
from botbasic.runtime.vm import Execution

SUM_OF_SQUARES = """
s = 0
FOR j = 1 TO 10
    FOR i = 1 TO 100000
        s = s + i * i
    NEXT i
NEXT j
RETURN s
"""

STRINGS = """
out = ""
count = 0
FOR i = 1 TO 100000
    IF i MOD 15 = 0 THEN
        out = "FizzBuzz"
    ELSE IF i MOD 3 = 0 THEN
        out = "Fizz"
    ELSE IF i MOD 5 = 0 THEN
        out = "Buzz"
    ELSE
        out = "n" + i
    END IF
    count = count + LEN(out)
NEXT i
RETURN count
"""

PRIMES = """
count = 0
FOR n = 2 TO 4999
    prime = TRUE
    d = 2
    DO WHILE d * d <= n
        IF n MOD d = 0 THEN
            prime = FALSE
            EXIT DO
        END IF
        d = d + 1
    LOOP
    IF prime THEN count = count + 1
NEXT n
RETURN count
"""


def py_sum_of_squares():
    s = 0
    for _j in range(1, 11):
        for i in range(1, 100001):
            s = s + i * i
    return s


def py_strings():
    count = 0
    for i in range(1, 100001):
        if i % 15 == 0:
            out = "FizzBuzz"
        elif i % 3 == 0:
            out = "Fizz"
        elif i % 5 == 0:
            out = "Buzz"
        else:
            out = "n" + str(i)
        count = count + len(out)
    return count


def py_primes():
    count = 0
    for n in range(2, 5000):
        prime = True
        d = 2
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d = d + 1
        if prime:
            count = count + 1
    return count


CASES = [("(a) s = s + i * i, 10 x 100,000", SUM_OF_SQUARES, py_sum_of_squares, 5.0),
         ("(b) strings with IF/MOD, 100,000", STRINGS, py_strings, None),
         ("(c) primes below 5,000", PRIMES, py_primes, None)]


def compile_basic(source: str, name: str):
    registry = front_end_registry()
    result = analyze_source(source, name, registry)
    result.raise_errors()
    return compile_script(result.script, result.source, registry, result.info.params), registry


def run_basic(program, registry):
    ctx = ExecutionContext(registry)
    outcome = asyncio.run(Execution().start(program, ctx).run())
    if outcome.status != "done":
        raise RuntimeError(str(outcome.error))
    return outcome.value


def best_time(rounds: int, fn) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    failed = False
    for label, source, python, target in CASES:
        program, registry = compile_basic(source, "bench.bas")
        basic_s, basic_value = best_time(args.rounds, lambda: run_basic(program, registry))
        python_s, python_value = best_time(args.rounds, python)
        if basic_value != python_value:
            print(f"{label}: WRONG RESULT {basic_value!r} != {python_value!r}")
            failed = True
            continue
        ratio = basic_s / python_s
        verdict = "" if target is None else f"  (target <= {target:g}x: {'met' if ratio <= target else 'NOT met'})"
        print(f"{label:36s} botbasic {basic_s * 1000:8.1f} ms   python {python_s * 1000:7.1f} ms"
              f"   ratio {ratio:5.2f}x{verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
