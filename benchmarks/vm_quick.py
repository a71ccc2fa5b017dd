"""A quick scratch benchmark of the VM against plain Python (the lead writes the real one).

Run: .venv/bin/python benchmarks/vm_quick.py
"""
from __future__ import annotations

import asyncio
import time

from botbasic.interpreter import analyze_source
from botbasic.interpreter.compiler import compile_script
from botbasic.keywords import default_registry
from botbasic.runtime.context import ExecutionContext
from botbasic.runtime.limits import Limits
from botbasic.runtime.vm import Execution

NESTED_SUM = """
s = 0
FOR j = 1 TO 10
  FOR i = 1 TO 100000
    s = s + i * i
  NEXT
NEXT
RETURN s
"""

STRING_BUILD = """
out = ""
FOR i = 1 TO 100000
  IF i MOD 3 = 0 THEN
    out = out + "x"
  ELSE
    out = out + "y"
  END IF
NEXT
RETURN LEN(out)
"""

PRIMES = """
count = 0
FOR n = 2 TO 4999
  isprime = TRUE
  d = 2
  DO WHILE d * d <= n
    IF n MOD d = 0 THEN
      isprime = FALSE
      EXIT DO
    END IF
    d = d + 1
  LOOP
  IF isprime THEN count = count + 1
NEXT
RETURN count
"""

TALK_LOOP = """
FOR i = 1 TO 20000
  TALK "line " + i
NEXT
"""


def py_nested_sum():
    s = 0
    for j in range(1, 11):
        for i in range(1, 100001):
            s = s + i * i
    return s


def py_string_build():
    out = ""
    for i in range(1, 100001):
        if i % 3 == 0:
            out = out + "x"
        else:
            out = out + "y"
    return len(out)


def py_primes():
    count = 0
    for n in range(2, 5000):
        isprime = True
        d = 2
        while d * d <= n:
            if n % d == 0:
                isprime = False
                break
            d = d + 1
        if isprime:
            count += 1
    return count


def best_of(fn, repeat=3):
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def basic_runner(source: str, registry):
    result = analyze_source(source, "bench.bas", registry)
    result.raise_errors()
    program = compile_script(result.script, source, registry)
    limits = Limits(max_seconds=3600)

    def run():
        ctx = ExecutionContext(registry, limits=limits)
        outcome = asyncio.run(Execution().start(program, ctx).run())
        assert outcome.status == "done", outcome
        return outcome.value

    return run


def main() -> None:
    registry = default_registry()
    cases = [("nested sum 1M", NESTED_SUM, py_nested_sum),
             ("string build 100k", STRING_BUILD, py_string_build),
             ("primes < 5000", PRIMES, py_primes)]
    for name, source, python in cases:
        t_basic, v_basic = best_of(basic_runner(source, registry))
        t_py, v_py = best_of(python)
        assert v_basic == v_py, (name, v_basic, v_py)
        print(f"{name:20s} basic {t_basic * 1000:8.1f} ms  python {t_py * 1000:8.1f} ms"
              f"  ratio {t_basic / t_py:5.2f}x")
    t_talk, _ = best_of(basic_runner(TALK_LOOP, registry))
    print(f"{'TALK x 20000':20s} basic {t_talk * 1000:8.1f} ms  ({t_talk / 20000 * 1e6:.1f} us per TALK)")


if __name__ == "__main__":
    main()
