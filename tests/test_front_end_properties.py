"""Properties of the front end: on any text it reports, it never crashes.

The only exception the front end may raise is ``BasicSyntaxError`` (``raise_errors``);
``analyze_source`` itself returns diagnostics for any input whatsoever.
"""
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botbasic.interpreter import BasicSyntaxError, analyze_source
from botbasic.interpreter.dump import dump
from corpus_helpers import corpus_scripts

SNIPPETS = ["IF", "THEN", "ELSE", "END IF", "FOR EACH", "IN", "NEXT", "TALK", "HEAR", "AS",
            "=", "==", "<>", "(", ")", "[", "]", "{", "}", "#{", ",", ".", ":", '"', "'", "${",
            "x", "list", "FIND", "WHERE", "SELECT CASE", "CASE", "END SELECT", "WITH", "END WITH",
            "BEGIN TALK", "END TALK", "SUB", "END SUB", "CALL", "RETURN", "1", "2.5", "-", "+",
            "*", "/", "\\", "^", "&", "AND", "OR", "NOT", "IS NULL", "_", "\n", " ", "\t", "REM",
            "//", "#", "GOTO", "label:", "DO", "LOOP", "WHILE", "SET", "BOT", "MEMORY", "PARAM"]


def _never_crashes(text: str) -> None:
    result = analyze_source(text, "fuzz.bas")
    for diag in result.diagnostics:
        assert diag.line >= 1 and diag.col >= 1 and diag.severity in ("error", "warning")
    try:
        result.raise_errors()
    except BasicSyntaxError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    _never_crashes(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SNIPPETS), max_size=40).map(" ".join))
def test_arbitrary_token_soup(text):
    _never_crashes(text)


CORPUS = corpus_scripts()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_corpus_files(data):
    if not CORPUS:
        return
    path = data.draw(st.sampled_from(CORPUS))
    text = path.read_text(encoding="utf-8", errors="replace")
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for _ in range(data.draw(st.integers(1, 5))):
        text = _mutate(text, rng)
    _never_crashes(text)


def _mutate(text: str, rng: random.Random) -> str:
    if not text:
        return rng.choice(SNIPPETS)
    i = rng.randrange(len(text))
    j = min(len(text), i + rng.randrange(1, 40))
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[j:]  # cut
    if kind == 1:
        return text[:i] + rng.choice(SNIPPETS) + text[i:]  # insert a token
    if kind == 2:
        return text[:i] + text[i:j] + text[i:]  # duplicate
    lines = text.split("\n")
    rng.shuffle(lines)  # reorder lines: unbalances blocks
    return "\n".join(lines)


# Valid programs built from a small generator compile cleanly and keep their meaning:
# the dump of a parenthesised expression equals the dump of the same tree printed bare.

NAMES = st.sampled_from(["a", "b", "total", "list", "count", "x1"])
ATOMS = st.one_of(NAMES, st.integers(0, 999).map(str), st.sampled_from(['"s"', "TRUE", "NULL"]))
OPS = st.sampled_from(["+", "-", "*", "/", "MOD", "&", "=", "<>", "<", ">=", "AND", "OR"])


def _expr(depth: int):
    if depth == 0:
        return ATOMS
    sub = _expr(depth - 1)
    return st.one_of(ATOMS, st.tuples(sub, OPS, sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
                     sub.map(lambda e: f"(NOT ({e}))"), sub.map(lambda e: f"LEN({e})"))


@settings(max_examples=200, deadline=None)
@given(_expr(3), NAMES)
def test_generated_assignments_compile(expr, target):
    result = analyze_source(f"{target} = {expr}\nTALK {target}\n", "gen.bas")
    assert result.ok, [str(d) for d in result.diagnostics]
    assert dump(result.script.body[0]).startswith("(Assign (Name ")
