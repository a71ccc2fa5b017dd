"""The compiler: program identity, native regions, hoisting order and short-circuits, the
generated fast paths (checked against runtime/values.py), argument hooks for keywords."""
from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings, strategies as st

from botbasic.interpreter import nodes as N
from botbasic.interpreter.compiler import CompileError, compile_script, program_hash
from botbasic.keywords import default_registry
from botbasic.keywords.calls import DeferredExpr, assignment_form, deferred
from botbasic.keywords.registry import keyword
from botbasic.runtime import program as P
from botbasic.runtime import values as V
from botbasic.runtime.errors import BasicError
from botbasic.runtime.program import ProgramStore
from botbasic.runtime.vm import Execution

from vm_support import REGISTRY, compile_source, make_context, run_script, says

# ---------------------------------------------------------------- tiny AST constructors

S = N.Span("hand.bas", 1, 1)


def lit(value):
    return N.Literal(S, value)


def name(text):
    return N.Name(S, text, text)


def arg(expr, sep=None):
    return N.Arg(S, sep, expr)


def talk(expr):
    return N.Command(S, "TALK", (arg(expr),))


def script(*body, procedures=()):
    return N.Script(N.Span("hand.bas", 0, 0), "hand", tuple(body), tuple(procedures))


def run_ast(tree, scripts=()):
    store = ProgramStore(list(scripts))
    program = store.add(compile_script(tree, "", REGISTRY))
    events: list = []
    ctx = make_context(events, store)
    outcome = asyncio.run(Execution().start(program, ctx).run())
    return outcome, [e["text"] for e in events if e["type"] == "message"]


# ---------------------------------------------------------------- identity


def test_hash_depends_on_text_file_and_is_stable():
    assert program_hash("TALK 1", "a.bas") == program_hash("TALK 1", "a.bas")
    assert program_hash("TALK 1", "a.bas") != program_hash("TALK 2", "a.bas")
    assert program_hash("TALK 1", "a.bas") != program_hash("TALK 1", "b.bas")


def test_programs_are_cached_per_registry():
    first = compile_source("x = 1\nTALK x")
    assert compile_source("x = 1\nTALK x") is first
    other = compile_source("x = 1\nTALK x", registry=default_registry())
    assert other is not first and other.hash == first.hash


# ---------------------------------------------------------------- regions


def kinds(program):
    return [type(instr).__name__ for instr in program.code]


def test_pure_script_is_a_single_native_region():
    program = compile_source("s = 0\nFOR i = 1 TO 10\nIF i MOD 2 = 0 THEN s = s + i\nNEXT\nRETURN s")
    assert kinds(program) == ["Region", "Keyword", "EndScript"] or kinds(program)[0] == "Region"
    assert sum(isinstance(i, P.Region) for i in program.code) == 1


def test_keyword_statements_are_instructions_between_regions():
    program = compile_source('a = 1\nb = 2\nTALK a\nc = 3\nFOR i = 1 TO 2\nTALK i\nNEXT')
    assert kinds(program) == ["Region", "Keyword", "Region", "ForPrep", "ForTest", "Keyword",
                              "ForNext", "Jump", "Clear", "EndScript"]


def test_hoisted_keyword_value_feeds_a_temporary():
    program = compile_source('x = 1 + GET BOT MEMORY("k")')
    keyword_instr = next(i for i in program.code if isinstance(i, P.Keyword))
    assert keyword_instr.slot is not None and keyword_instr.resume == -1


def test_deeply_nested_blocks_compile():
    depth = 12
    opening = "".join(f"FOR v{i} = 1 TO 2\nIF v{i} > 0 THEN\n" for i in range(depth))
    closing = "".join("END IF\nNEXT\n" for _ in range(depth))
    source = f"n = 0\n{opening}n = n + 1\n{closing}TALK n"
    assert says(source) == [str(2 ** depth)]


def test_generated_source_is_kept_for_debugging():
    program = compile_source("x = 1")
    assert "def _r" in program.python_source and program.line_of(0) == 1


# ---------------------------------------------------------------- evaluation order

ORDER = """
FUNCTION f(x)
  TALK "f" + x
  RETURN x
END FUNCTION
"""

SHORT_CIRCUITS = [
    ("and stops", 'IF FALSE AND f(1) THEN\nTALK "no"\nEND IF', []),
    ("and goes on", 'IF TRUE AND f(1) THEN\nTALK "yes"\nEND IF', ["f1", "yes"]),
    ("or stops", "x = f(1) OR f(2)\nTALK x", ["f1", "true"]),
    ("or goes on", "x = f(0) OR f(2)\nTALK x", ["f0", "f2", "true"]),
    ("iif", "x = IIF(f(0), f(1), f(2))\nTALK x", ["f0", "f2", "2"]),
    ("ternary", "x = f(1) ? f(3) : f(4)\nTALK x", ["f1", "f3", "3"]),
    ("coalesce", 'x = "set" ?? f(1)\nTALK x\ny = NULL ?? f(2)\nTALK y', ["set", "f2", "2"]),
    ("arguments left to right", "TALK f(1) + f(2) * f(3)", ["f1", "f2", "f3", "7"]),
    ("keyword arguments", 'SET BOT MEMORY "k" + f(1), f(2)\nTALK GET BOT MEMORY("k1")',
     ["f1", "f2", "2"]),
]


@pytest.mark.parametrize("body, expected", [(b, e) for _, b, e in SHORT_CIRCUITS],
                         ids=[n for n, _, _ in SHORT_CIRCUITS])
def test_hoisted_calls_keep_order_and_short_circuits(body, expected):
    assert says(ORDER + body) == expected


def test_operands_left_of_a_call_are_read_before_it():
    source = "a = 1\nFUNCTION g()\na = 100\nRETURN 1\nEND FUNCTION\nx = a + g() + a\nTALK x"
    assert says(source) == ["102"]


def test_function_calls_in_conditions_of_loops():
    source = ORDER + "i = 0\nDO WHILE f(i) < 2\ni = i + 1\nLOOP"
    assert says(source) == ["f0", "f1", "f2"]


# ---------------------------------------------------------------- fast paths vs values.py

SCALARS = st.sampled_from([
    None, True, False, 0, 1, 3, -7, 2 ** 70, 0.5, -2.5, "", "abc", "ABC", "10", " 3 ", "1.5",
    "true", "0",
])
VALUES = st.one_of(SCALARS, st.integers(-50, 50), st.sampled_from([[1, 2], [], {"a": 1}]))

OPERATORS = {
    "+": V.add, "-": V.sub, "*": V.mul, "/": V.div, "\\": V.intdiv, "MOD": V.mod,
    "^": V.power, "&": V.concat, "??": V.coalesce, "=": V.equals,
    "<>": lambda a, b: not V.equals(a, b), "<": lambda a, b: V.cmp_op("<", a, b),
    ">": lambda a, b: V.cmp_op(">", a, b), "<=": lambda a, b: V.cmp_op("<=", a, b),
    ">=": lambda a, b: V.cmp_op(">=", a, b), "CONTAINS": V.contains, "LIKE": V.like,
    "AND": lambda a, b: V.truthy(a) and V.truthy(b), "OR": lambda a, b: V.truthy(a) or V.truthy(b),
}
TEMPLATES = {
    "variables": ("RETURN a {op} b", lambda a, b: (a, b)),
    "int literal": ("RETURN a {op} 3", lambda a, b: (a, 3)),
    "string literal": ('RETURN "10" {op} a', lambda a, b: ("10", a)),
    "same variable": ("RETURN a {op} a", lambda a, b: (a, a)),
    "text literal": ('RETURN "ab" {op} a', lambda a, b: ("ab", a)),
    "text literal right": ('RETURN a {op} ""', lambda a, b: (a, "")),
    "integer operand": ('FOR k = 3 TO 3\n  r = "n" {op} (k {op} a)\nNEXT\nRETURN r',
                        None),
    "integer loop": ("FOR k = 3 TO 3\n  r = a {op} k\nNEXT\nRETURN r", lambda a, b: (a, 3)),
}


def _outcome(fn, a, b):
    try:
        return "ok", fn(a, b)
    except BasicError as error:
        return "error", error.message


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return type(x) is type(y) and x == y


@pytest.mark.parametrize("template", TEMPLATES, ids=list(TEMPLATES))
@pytest.mark.parametrize("op", OPERATORS, ids=list(OPERATORS))
@settings(max_examples=15, deadline=None)
@given(a=VALUES, b=VALUES)
def test_compiled_operators_match_the_value_model(op, template, a, b):
    source, operands = TEMPLATES[template]
    if operands is None:  # "n" op (3 op a)
        inner = _outcome(OPERATORS[op], 3, a)
        expected = inner if inner[0] == "error" else _outcome(OPERATORS[op], "n", inner[1])
    else:
        expected = _outcome(OPERATORS[op], *operands(a, b))
    transcript = run_script(source.format(op=op), variables={"a": a, "b": b})
    if expected[0] == "error":
        assert transcript.outcome.error is not None
        assert transcript.outcome.error.message == expected[1]
    else:
        assert transcript.error is None
        assert _same(transcript.value, expected[1]), (transcript.value, expected[1])


@pytest.mark.parametrize("start, expected", [("0", "6"), ('"x"', "x123"), ("1.5", "7.5"),
                                             ("NULL", "6")])
def test_versioned_loops_follow_the_types_at_entry(start, expected):
    assert says(f"s = {start}\nFOR i = 1 TO 3\ns = s + i\nNEXT\nTALK s") == [expected]


def test_variable_that_may_become_a_string_is_not_assumed_integer():
    source = 'n = 1\nFOR i = 1 TO 3\nn = n + 1\nIF i = 2 THEN n = "s"\nNEXT\nTALK n'
    assert says(source) == ["s1"]


# ---------------------------------------------------------------- hand-built trees


def test_goto_to_an_unknown_label_is_a_compile_error():
    with pytest.raises(CompileError, match="label nowhere"):
        compile_script(script(N.Goto(S, "nowhere")), "", REGISTRY)


def test_call_of_unknown_name_runs_a_script_of_that_name():
    helper = compile_source('TALK "helper ran"', "helper")
    outcome, messages = run_ast(script(N.CallProc(S, "helper", ())), [helper])
    assert outcome.status == "done" and messages == ["helper ran"]
    outcome, _ = run_ast(script(N.CallProc(S, "ghost", ())))
    assert outcome.error.message == "undefined procedure or script GHOST"


def test_hand_built_expressions_and_statements():
    tree = script(
        N.Assign(S, name("x"), N.Binary(S, "+", lit(2), lit(3))),
        N.If(S, (N.IfBranch(S, N.Binary(S, ">", name("x"), lit(4)), (talk(name("x")),)),)),
    )
    assert run_ast(tree)[1] == ["5"]


# ---------------------------------------------------------------- keyword argument hooks


@deferred("WHERE")
@keyword("PICK", shapes=["x WHERE x"], connectors=["WHERE"])
async def pick(ctx, call):
    rows, condition = call.args[0].value, call.args[1].value
    assert isinstance(condition, DeferredExpr)
    return [row for row in rows if condition.evaluate({k.lower(): v for k, v in row.items()})]


@assignment_form
@keyword("STORE", shapes=["x(,x)?"])
async def store(ctx, call):
    return f"{call.args[0].value}|{call.args[1].sep}|{call.args[1].value}"


def test_deferred_condition_is_evaluated_by_the_handler():
    registry = default_registry()
    registry.add_keyword(pick.__botbasic_spec__)
    source = 'limit = 2\nrows = [#{n: 1}, #{n: 2}, #{n: 3}]\nx = PICK rows WHERE n >= limit\nTALK x'
    assert run_script(source, registry=registry).messages == ['[{"n":2},{"n":3}]']


def test_assignment_form_splits_the_comparison():
    registry = default_registry()
    registry.add_keyword(store.__botbasic_spec__)
    transcript = run_script('v = 5\nx = STORE "k" + 1 = v * 2\nTALK x', registry=registry)
    assert transcript.messages == ["k1|=|10"]


def test_long_concatenations_compile_flat():
    terms = " + ".join(f'"{i}" + x' for i in range(120))
    transcript = run_script(f'x = "-"\nmsg = {terms}\nTALK LEN(msg)\nTALK LEFT(msg, 6)')
    assert transcript.messages == ["370", "0-1-2-"]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.integers(-9, 9), st.sampled_from(["a", "7", None, 2.5])),
                       min_size=7, max_size=7),
       ops=st.lists(st.sampled_from(["+", "-"]), min_size=6, max_size=6))
def test_flat_chains_fold_like_nested_operators(values, ops):
    names = [f"v{i}" for i in range(7)]
    source = "RETURN " + names[0] + "".join(f" {op} {n}" for op, n in zip(ops, names[1:]))
    expected = _outcome(lambda a, b: None, None, None)
    try:
        folded = values[0]
        for op, value in zip(ops, values[1:]):
            folded = (V.add if op == "+" else V.sub)(folded, value)
        expected = ("ok", folded)
    except BasicError as error:
        expected = ("error", error.message)
    transcript = run_script(source, variables=dict(zip(names, values)))
    if expected[0] == "error":
        assert transcript.outcome.error.message == expected[1]
    else:
        assert _same(transcript.value, expected[1])
