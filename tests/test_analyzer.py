"""Compile errors and warnings: (source, message, line, col), all reported at once."""
import pytest

from front_end_helpers import analyze, problems

ERRORS = [
    ('IF x THEN\nTALK "a"\n', "IF without END IF", 1, 1),
    ("END IF\n", "END IF without IF", 1, 1),
    ("FOR i = 1 TO 3\nNEXT j\n", "NEXT j does not match FOR i", 2, 1),
    ("x = (1 + 2\n", "'(' is never closed", 1, 5),
    ('TALK "abc\n', "unterminated string", 1, 6),
    ("x = 1 +\n", "unexpected end of statement", 2, 1),
    ("x = 1 2\n", "unexpected number 2", 1, 7),
    ("TALK\n", "TALK does not accept 'nothing'; expected TALK expr", 1, 1),
    ('UPDATE "t", "a=1"\n', "UPDATE does not accept 'expr,expr'", 1, 1),
    ("EXIT FOR\n", "EXIT FOR outside a FOR loop", 1, 1),
    ("DO\nEXIT FOR\nLOOP\n", "EXIT FOR outside a FOR loop", 2, 1),
    ("BREAK\n", "BREAK outside a FOR/DO/WHILE loop", 1, 1),
    ("CONTINUE\n", "CONTINUE outside a loop", 1, 1),
    ("EXIT SUB\n", "EXIT SUB outside a SUB", 1, 1),
    ("GOTO nowhere\n", "label nowhere is not defined in this script body", 1, 1),
    ("SUB a\nEND SUB\nSUB a\nEND SUB\n", "a is defined twice (first at line 1)", 3, 1),
    ("SUB len\nEND SUB\n", "len is the name of a built-in function", 1, 1),
    ("FUNCTION f\nEND SUB\n", "expected END FUNCTION", 2, 1),
    ("x = LEN(1, 2)\n", "LEN takes 1 argument, not 2", 1, 5),
    ('SELECT CASE x\nTALK "a"\nCASE 1\nEND SELECT\n', "statements before the first CASE are not allowed", 2, 1),
    ("SELECT CASE x\nCASE ELSE\nCASE 1\nEND SELECT\n", "CASE after CASE ELSE", 3, 1),
    ("DO WHILE a\nLOOP UNTIL b\n", "DO and LOOP cannot both have a condition", 2, 1),
    ('SET SCHEDULE "whenever"\n', "could not parse schedule 'whenever'", 1, 1),
    ('x = TALK "a"\n', "TALK does not produce a value", 1, 5),
    ("IF x THEN\nELSE\nELSE\nEND IF\n", "ELSE after ELSE", 3, 1),
    ('WITH o\nTALK "a"\nEND WITH\n', "only 'key = value' lines are allowed inside WITH", 2, 1),
    ('x = "${}"\n', "empty ${} in string", 1, 8),
    ("BEGIN TALK\nhello\n", "BEGIN TALK without END TALK", 1, 1),
    ("TABLE t\nname string\n", "TABLE without END TABLE", 1, 1),
    ("SUB f\nFUNCTION g\nEND FUNCTION\nEND SUB\n",
     "SUB/FUNCTION must be defined at the top level of the script", 2, 1),
    ("x = a IS b\n", "expected NULL or EMPTY after IS, found b", 1, 10),
    ("CALL\n", "unexpected end of statement", 1, 5),
    ("x = #{ a: }\n", "unexpected '}'", 1, 11),
    ("PARAM\n", "PARAM needs a name", 1, 1),
    ('HEAR "x" AS STRING\n', "HEAR needs a variable to store the answer in", 1, 6),
    ("ON ERROR GOTO missing\n", "label missing is not defined in this script body", 1, 1),
    ("FOR i = 1 TO 2 STEP 0\nNEXT\n", "STEP 0 would never end", 1, 21),
    ("WHILE x\nNEXT\n", "NEXT without FOR", 2, 1),
    ("x = (1, 2)\n", "unexpected ',' inside parentheses", 1, 5),
    ("x.y\n", "this expression is not a statement", 1, 1),
]


@pytest.mark.parametrize("source,message,line,col", ERRORS)
def test_error(source, message, line, col):
    found = [p for p in problems(source) if p[0] == "error"]
    assert any(p[1].startswith(message) and p[2:] == (line, col) for p in found), found


WARNINGS = [
    ("FROBNICATE the widget\n", "FROBNICATE is not supported; running this statement raises an error", 1, 1),
    ("x = FROB(1)\n", "unknown function FROB", 1, 5),
    ('IF a THEN\n  SET SCHEDULE "daily"\nEND IF\n', "SET SCHEDULE is static: it applies even inside IF/SELECT", 2, 3),
    ('BEGIN TALK\nhi ${not an expr)}\nEND TALK\n', "${...} is not an expression here; kept as text", 2, 6),
]


@pytest.mark.parametrize("source,message,line,col", WARNINGS)
def test_warning(source, message, line, col):
    found = problems(source)
    assert ("warning", message, line, col) in found, found
    assert not [p for p in found if p[0] == "error"], found


def test_every_error_is_reported_at_once():
    found = problems("x = 1 2\nEND IF\nTALK\nFOR i = 1 TO 2\nNEXT j\n")
    assert [(p[2], p[0]) for p in found] == [(1, "error"), (2, "error"), (3, "error"), (5, "error")]


def test_lenient_mode_closes_blocks_and_skips_bad_lines_with_warnings():
    source = ("SELECT CASE x\n  CASE 1\n    IF a THEN\n      y = 1\n  CASE 2\n    y = 2\nEND SELECT\n"
              "END FOR\nz = 1 2\n")
    strict = analyze(source)
    assert [d.message for d in strict.errors] == [
        "IF without END IF (closed by CASE at line 5)", "END FOR without FOR", "unexpected number 2"]
    lenient = analyze(source, lenient=True)
    assert lenient.ok
    assert len(lenient.warnings) == 3


def test_function_used_before_assignment_is_not_unknown_when_it_is_an_array():
    # Compat arr(i) indexing of a variable holding an array (§4.7): no warning
    assert problems("arr = [1, 2]\nx = arr(0)\n") == []


def test_unknown_statement_calling_a_sub_without_call():
    result = analyze("greet\nSUB greet\n  TALK \"hi\"\nEND SUB\n")
    assert result.ok and not result.warnings
    from botbasic.interpreter.dump import dump
    assert dump(result.script.body[0]) == "(CallProc greet)"
