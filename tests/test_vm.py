"""The VM through BASIC source: golden transcripts per construct, runtime errors with their
file and line, ON ERROR / TRY, limits, procedures and CALLed scripts, tool arguments."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import pytest

from botbasic.keywords import default_registry
from botbasic.keywords.registry import keyword
from botbasic.runtime.limits import Limits

from vm_support import run_script, says

# ---------------------------------------------------------------- golden transcripts

TRANSCRIPTS = [
    ("talk", 'TALK "Hello"\nTALK ""\nTALK NULL', ["Hello", "", ""]),
    ("variables are case-insensitive", 'Name = "Ann"\nTALK NAME + " " + name', ["Ann Ann"]),
    ("undefined is null", 'TALK "[" + nothing_here + "]"\nTALK ISNULL(nothing_here)',
     ["[]", "true"]),
    ("numbers print like BASIC", "TALK 7 / 2\nTALK 6 / 3\nTALK 0.1 + 0.2\nTALK 2.0 * 3",
     ["3.5", "2", "0.30000000000000004", "6"]),
    ("plus rule", 'TALK "Total: " + 3\nTALK 1 + "2"\nTALK "1" + "2"\nTALK (1 + 1) + ". x"',
     ["Total: 3", "3", "12", "2. x"]),
    ("operators", 'TALK 7 \\ 2\nTALK -7 MOD 3\nTALK 2 ^ 10\nTALK "a" & 1\nTALK NULL ?? "d"',
     ["3", "-1", "1024", "a1", "d"]),
    ("comparisons", 'TALK 1 = 1.0\nTALK "1" = 1\nTALK NULL = ""\nTALK "a" < "b"\n'
                    'TALK 3 BETWEEN 1 AND 5\nTALK 2 IN (1, 2)\ns = "ab"\nTALK s LIKE "A%"',
     ["true", "true", "true", "true", "true", "true", "true"]),
    ("logic returns booleans", 'TALK 1 AND "x"\nTALK 0 OR ""\nTALK NOT 0', ["true", "false", "true"]),
    ("interpolation", 'n = 3\nTALK "n=${n * 2}, s=${UCASE("x")}"', ["n=6, s=X"]),
    ("objects and arrays", 'o = #{a: 1, "B": [1, 2]}\nTALK o.b[1]\nTALK o\na = [1, "x", NULL]\nTALK a',
     ["2", '{"a":1,"B":[1,2]}', '[1,"x",null]']),
    ("member auto-creation", 'c.name = "John"\nc.address.city = "Rio"\nTALK c',
     ['{"name":"John","address":{"city":"Rio"}}']),
    ("index writes extend arrays", 'a = []\na[2] = "x"\nTALK a\nb[0] = 1\nTALK b',
     ['[null,null,"x"]', "[1]"]),
    ("method calls", 'l = [3]\nl.push(4)\nTALK l.length\nTALK " hi ".trim().toUpperCase()',
     ["2", "HI"]),
    ("compat arr(i) indexing", 'arr = ["a", "b"]\nTALK arr(1)\nTALK LEN("abc")', ["b", "3"]),
    ("bare function names", 'TALK YEAR(NOW)\nnow = "mine"\nTALK now', ["2025", "mine"]),
    ("if chains", 'x = 5\nIF x < 3 THEN\nTALK "a"\nELSE IF x < 6 THEN\nTALK "b"\nELSE\nTALK "c"\nEND IF',
     ["b"]),
    ("single-line if", 'x = 1\nIF x = 1 THEN TALK "one"\nIF x = 2 THEN TALK "two"', ["one"]),
    ("select case kinds", 'FOR EACH v IN [1, "2", 4, 9]\nSELECT CASE v\nCASE 1\nTALK "one"\n'
                          'CASE 2, 3\nTALK "two-three"\nCASE 4 TO 6\nTALK "range"\nCASE IS > 8\n'
                          'TALK "big"\nEND SELECT\nNEXT', ["one", "two-three", "range", "big"]),
    ("switch default", 'SWITCH "z"\nCASE "a"\nTALK "a"\nDEFAULT\nTALK "other"\nEND SWITCH',
     ["other"]),
    ("for classic final value", "FOR i = 1 TO 3\nNEXT\nTALK i\nFOR j = 5 TO 1\nNEXT\nTALK j",
     ["4", "5"]),
    ("for step", "FOR i = 10 TO 1 STEP -4\nTALK i\nNEXT\nFOR k = 0 TO 1 STEP 0.5\nTALK k\nNEXT",
     ["10", "6", "2", "0", "0.5", "1"]),
    ("for bounds evaluated once", "n = 3\nFOR i = 1 TO n\nn = 10\nNEXT\nTALK i", ["4"]),
    ("for body changes counter", "FOR i = 1 TO 10\ni = i + 4\nTALK i\nNEXT", ["5", "10"]),
    ("for each snapshot", 'l = [1, 2]\nFOR EACH x IN l\nl.push(x)\nTALK x\nNEXT\nTALK UBOUND(l)',
     ["1", "2", "4"]),
    ("for each odd values", 'FOR EACH x IN NULL\nTALK "never"\nNEXT\nFOR EACH y IN "one"\nTALK y\nNEXT',
     ["one"]),
    ("do loops", 'i = 0\nDO WHILE i < 2\ni = i + 1\nLOOP\nDO\ni = i + 1\nLOOP UNTIL i >= 5\n'
                 'DO UNTIL i = 0\ni = i - 1\nLOOP\nDO\ni = i + 1\nLOOP WHILE FALSE\nTALK i', ["1"]),
    ("while wend", "i = 0\nWHILE i < 3\ni = i + 1\nWEND\nTALK i", ["3"]),
    ("exit and continue", 'FOR i = 1 TO 6\nIF i = 2 THEN CONTINUE\nIF i = 4 THEN EXIT FOR\nTALK i\nNEXT',
     ["1", "3"]),
    ("break leaves innermost", 'FOR i = 1 TO 2\nDO\nBREAK\nLOOP\nTALK i\nNEXT', ["1", "2"]),
    ("exit for from nested do", 'FOR i = 1 TO 3\nDO\nEXIT FOR\nLOOP\nNEXT\nTALK i', ["1"]),
    ("continue in post-test loop", 'i = 0\nDO\ni = i + 1\nIF i < 3 THEN CONTINUE\nTALK i\n'
                                   'LOOP WHILE i < 4', ["3", "4"]),
    ("with creates and updates", 'WITH p\nname = "x"\n.age = 2\nEND WITH\nWITH p\nage = 3\nEND WITH\nTALK p',
     ['{"name":"x","age":3}']),
    ("goto", 'i = 0\ntop:\ni = i + 1\nIF i < 3 THEN GOTO top\nTALK i', ["3"]),
    ("gosub", 'GOSUB greet\nTALK "back"\nEXIT\ngreet:\nTALK "hi"\nRETURN', ["hi", "back"]),
    ("sub and function", 'SUB s(a)\nTALK "s" + a\nEND SUB\nFUNCTION f(b)\nRETURN b * 2\nEND FUNCTION\n'
                         'CALL s(1)\ns(2)\nTALK f(3)', ["s1", "s2", "6"]),
    ("procedures see globals, params local", 'g = 1\nx = "outer"\nSUB s(x)\ng = g + x\nEND SUB\n'
                                             'CALL s(5)\nTALK g\nTALK x', ["6", "outer"]),
    ("vb style function value", "FUNCTION f(n)\nf = n + 1\nEND FUNCTION\nTALK f(1)", ["2"]),
    ("recursion", "FUNCTION fact(n)\nIF n <= 1 THEN\nRETURN 1\nEND IF\nRETURN n * fact(n - 1)\n"
                  "END FUNCTION\nTALK fact(20)", ["2432902008176640000"]),
    ("exit sub", 'SUB s()\nTALK "a"\nEXIT SUB\nTALK "b"\nEND SUB\nCALL s()\nTALK "c"', ["a", "c"]),
    ("procedure in a loop with talk", 'FUNCTION sq(n)\nRETURN n * n\nEND FUNCTION\n'
                                      'FOR i = 1 TO 3\nTALK sq(i)\nNEXT', ["1", "4", "9"]),
    ("ternary", 'TALK 1 > 0 ? "y" : "n"', ["y"]),
    ("try catch", 'TRY\nx = 1 / 0\nTALK "no"\nCATCH e\nTALK e.message + " " + e.number\nEND TRY',
     ["division by zero 11"]),
    ("throw caught", 'TRY\nTHROW "custom"\nCATCH err\nTALK err.message\nEND TRY', ["custom"]),
    ("exit ends script", 'TALK "a"\nEXIT\nTALK "b"', ["a"]),
    ("end ends script", 'TALK "a"\nEND\nTALK "b"', ["a"]),
]


@pytest.mark.parametrize("source, expected", [(s, e) for _, s, e in TRANSCRIPTS],
                         ids=[name for name, _, _ in TRANSCRIPTS])
def test_transcript(source, expected):
    assert says(source) == expected


def test_top_level_return_is_the_result():
    transcript = run_script('x = 2\nRETURN x * 21\nTALK "never"')
    assert (transcript.status, transcript.value, transcript.messages) == ("done", 42, [])


def test_loop_variables_stay_global():
    transcript = run_script("FOR i = 1 TO 2\nNEXT\nFOR EACH e IN [7, 8]\nNEXT")
    assert transcript.variables["i"] == 3 and transcript.variables["e"] == 8


# ---------------------------------------------------------------- errors

ERRORS = [
    ("division", "x = 1\ny = x / 0", "main.bas:2: error: division by zero"),
    ("type", 'x = "abc" * 2', "main.bas:1: error: cannot use 'abc' as a number"),
    ("unknown function", "x = 1\n\ny = NOSUCHFN(1)", "main.bas:3: error: unknown function NOSUCHFN"),
    ("throw", 'IF TRUE THEN\n  THROW "boom " + 1\nEND IF', "main.bas:2: error: boom 1"),
    ("assert", 'ASSERT 1 = 2, "bad"', "main.bas:1: error: bad"),
    ("member on string", 's = "x"\ns.a = 1', "main.bas:2: error: cannot set member 'a' of a string"),
    ("step zero", "s = 0\nFOR i = 1 TO 3 STEP s\nNEXT", "main.bas:2: error: FOR ... STEP 0 would never end"),
    ("in a sub", "SUB s()\n  x = 1 / 0\nEND SUB\nCALL s()", "main.bas:2: error: division by zero"),
    ("in a loop with talk", 'FOR i = 1 TO 2\nTALK i\nx = i / 0\nNEXT', "main.bas:3: error: division by zero"),
    ("unsupported statement", "FROBNICATE the widget", "main.bas:1: error: FROBNICATE is not supported"),
    ("missing script", 'CALL "nowhere.bas"', "main.bas:1: error: script nowhere.bas not found"),
    ("method", "x = [1]\nx.frobnicate()", "main.bas:2: error: unknown method 'frobnicate'"),
]


@pytest.mark.parametrize("source, expected", [(s, e) for _, s, e in ERRORS],
                         ids=[name for name, _, _ in ERRORS])
def test_runtime_error_has_file_and_line(source, expected):
    transcript = run_script(source)
    assert transcript.status == "error"
    assert transcript.error == expected


def test_error_in_called_script_names_that_script():
    transcript = run_script('CALL "child.bas"', scripts={"child": "TALK 1\nx = 1 / 0"})
    assert transcript.error == "child.bas:2: error: division by zero"
    assert transcript.outcome.error.line == 2 and transcript.outcome.error.file == "child.bas"


# ---------------------------------------------------------------- ON ERROR


def test_on_error_resume_next_continues_with_next_statement():
    source = """ON ERROR RESUME NEXT
x = 1 / 0
TALK "after " + ERROR + " " + ERR + " " + ERR_DESCRIPTION()
CLEAR ERROR
TALK ERROR
"""
    assert says(source) == ["after true 11 division by zero", "false"]


def test_failed_keyword_value_yields_null():
    source = """ON ERROR RESUME NEXT
x = "before"
x = RECALL "k"
TALK ISNULL(x)
TALK ERR_DESCRIPTION()
"""
    assert says(source, services=SimpleNamespace()) == [
        "true", "memory is not available in this version"]


def test_on_error_inside_native_loop_skips_only_the_statement():
    source = """ON ERROR RESUME NEXT
n = 0
FOR i = 1 TO 4
  IF i = 2 THEN x = 1 / 0
  n = n + 1
NEXT
TALK n
"""
    assert says(source) == ["4"]


def test_on_error_goto_zero_stops_trapping():
    transcript = run_script("ON ERROR RESUME NEXT\nx = 1 / 0\nON ERROR GOTO 0\nTALK ERROR\ny = 1 / 0")
    assert transcript.messages == ["false"]
    assert transcript.error == "main.bas:5: error: division by zero"


def test_on_error_goto_label():
    source = 'ON ERROR GOTO handler\nx = 1 / 0\nTALK "skipped"\nEXIT\nhandler:\nTALK "handled"'
    assert says(source) == ["handled"]


def test_trapping_is_per_script():
    child = 'TALK "child"\nx = 1 / 0\nTALK "not reached"'
    source = 'ON ERROR RESUME NEXT\nr = CALL "child.bas"\nTALK "caller goes on " + ISNULL(r)'
    assert says(source, scripts={"child": child}) == ["child", "caller goes on true"]


DECLARED_ONLY = default_registry()
DECLARED_ONLY.declare("FROB WIDGET", shapes=["x(,x)*"])


def test_declared_keyword_without_implementation_fails_when_reached():
    transcript = run_script('TALK "a"\nFROB WIDGET 1, 2\nTALK "b"', registry=DECLARED_ONLY)
    assert transcript.messages == ["a"]
    assert transcript.error == "main.bas:2: error: FROB WIDGET is not available in this version"


def test_unimplemented_keyword_is_trappable():
    source = 'ON ERROR RESUME NEXT\nFROB WIDGET 1\nTALK ERR_DESCRIPTION()'
    assert says(source, registry=DECLARED_ONLY) == ["FROB WIDGET is not available in this version"]


def test_try_catches_errors_of_called_procedures():
    source = 'SUB bad()\nTHROW "deep"\nEND SUB\nTRY\nCALL bad()\nCATCH e\nTALK e.message\nEND TRY'
    assert says(source) == ["deep"]


# ---------------------------------------------------------------- limits

LIMITS = [
    ("native for", "FOR i = 1 TO 20\nNEXT", "main.bas:1: error: loop exceeded 10 iterations"),
    ("native do", "DO\nx = 1\nLOOP", "main.bas:1: error: loop exceeded 10 iterations"),
    ("native for each", "FOR EACH x IN SPLIT(\"a,b,c,d,e,f,g,h,i,j,k,l\", \",\")\nNEXT",
     "main.bas:1: error: loop exceeded 10 iterations"),
    ("vm for", "FOR i = 1 TO 20\nTALK i\nNEXT", "main.bas:1: error: loop exceeded 10 iterations"),
    ("vm while", "WHILE TRUE\nTALK 1\nWEND", "main.bas:1: error: loop exceeded 10 iterations"),
    ("recursion", "FUNCTION f(n)\nRETURN f(n + 1)\nEND FUNCTION\nx = f(1)",
     "main.bas:2: error: procedure calls nested deeper than 5"),
]


@pytest.mark.parametrize("source, expected", [(s, e) for _, s, e in LIMITS],
                         ids=[name for name, _, _ in LIMITS])
def test_limits(source, expected):
    limits = Limits(max_loop_iterations=10, max_recursion=5)
    transcript = run_script(source, limits=limits)
    assert transcript.error == expected


def test_loop_limit_counts_per_loop_execution():
    source = "n = 0\nFOR j = 1 TO 5\nFOR i = 1 TO 10\nn = n + 1\nNEXT\nNEXT\nTALK n"
    assert says(source, limits=Limits(max_loop_iterations=10)) == ["50"]


def test_limits_are_not_trappable():
    transcript = run_script("ON ERROR RESUME NEXT\nDO\nLOOP\nTALK 1",
                            limits=Limits(max_loop_iterations=10))
    assert transcript.status == "error" and transcript.messages == []


def test_call_nesting_limit():
    transcript = run_script('CALL "again.bas"', scripts={"again": 'CALL "again.bas"'},
                            limits=Limits(max_call_depth=3))
    assert transcript.error == "again.bas:1: error: CALL nested deeper than 3 scripts"


def test_time_limit_stops_an_endless_goto_loop():
    transcript = run_script("top:\nx = x + 1\nGOTO top", limits=Limits(max_seconds=0))
    assert "time limit" in transcript.error


def test_time_limit_stops_native_loops():
    source = "FOR a = 1 TO 1000\nFOR b = 1 TO 1000\nNEXT\nNEXT"
    transcript = run_script(source, limits=Limits(max_seconds=0))
    assert "time limit" in transcript.error


# ---------------------------------------------------------------- CALL scripts and tools


def test_call_script_binds_params_by_position_and_returns():
    child = "PARAM a AS INTEGER\nPARAM b\nPARAM c\nTALK a + b\nTALK ISNULL(c)\nRETURN a * b"
    source = 'r = CALL "child.bas", 2, 3\nTALK "got " + r\nCALL "child", 1, 1'
    assert says(source, scripts={"child": child}) == ["5", "true", "got 6", "2", "true"]


def test_called_script_has_its_own_globals():
    child = "TALK ISNULL(secret)\nsecret = 2"
    source = 'secret = 1\nCALL "child.bas"\nTALK secret'
    assert says(source, scripts={"child": child}) == ["true", "1"]


def test_call_name_falls_back_to_a_script():
    assert says("CALL helper", scripts={"helper": 'TALK "from helper"'}) == ["from helper"]


def test_tool_arguments_bind_by_name_with_conversion_and_default():
    source = ('PARAM qty AS INTEGER\nPARAM ok AS BOOLEAN\nPARAM note AS STRING DEFAULT "none"\n'
              'PARAM other AS STRING OPTIONAL\n'
              'TALK qty + 1\nTALK NOT ok\nTALK note\nTALK ISNULL(other)')
    transcript = run_script(source, args={"QTY": "41", "ok": "false"})
    assert transcript.messages == ["42", "true", "none", "true"]


def test_injected_variables_are_globals():
    transcript = run_script('TALK host + "/x"', variables={"host": "https://h"})
    assert transcript.messages == ["https://h/x"]


# ---------------------------------------------------------------- handlers that really await


@keyword("SLOW ECHO", shapes=["x"])
async def slow_echo(ctx, call):
    for _ in range(3):
        await asyncio.sleep(0)
    return call.values[0]


@keyword("NAP", shapes=["x"], value=False)
async def nap(ctx, call):
    await asyncio.sleep(call.values[0])


def _registry_with_async_keywords():
    registry = default_registry()
    registry.add_keyword(slow_echo.__botbasic_spec__)
    registry.add_keyword(nap.__botbasic_spec__)
    return registry


def test_handler_that_awaits():
    registry = _registry_with_async_keywords()
    transcript = run_script('x = SLOW ECHO "hi"\nTALK x', registry=registry)
    assert transcript.messages == ["hi"]


def test_handler_awaiting_longer_than_the_time_budget():
    registry = _registry_with_async_keywords()
    transcript = run_script("NAP 5", registry=registry, limits=Limits(max_seconds=0.01))
    assert "time limit" in transcript.error


def test_declared_keyword_without_handler_reports_its_phrase():
    registry = default_registry()
    spec = registry.keywords["TALK"]
    registry.keywords["TALK"] = replace(spec, handler=None)
    transcript = run_script('x = 1\nTALK "a"', registry=registry)
    assert transcript.error == "main.bas:2: error: TALK is not available in this version"
