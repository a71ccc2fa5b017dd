"""Conversion, validation and null-handling built-ins of DIALECT §10.4 and §10.5."""
from datetime import datetime

import pytest

from botbasic.keywords.functions import call_builtin, default_function_registry
from botbasic.runtime.datetimes import DateTime
from botbasic.runtime.values import BasicObject, FileValue, RowSet

DATE = DateTime(datetime(2024, 3, 5, 14, 7, 9))


@pytest.mark.parametrize("name, args, expected", [
    ("VAL", ("12abc",), 12),
    ("VAL", ("abc",), 0),
    ("VAL", ("3.5",), 3.5),
    ("VAL", ("  42  ",), 42),
    ("VAL", ("-7.25kg",), -7.25),
    ("VAL", ("3.0",), 3),
    ("VAL", ("1e3x",), 1000),
    ("VAL", (".5",), 0.5),
    ("VAL", ("",), 0),
    ("VAL", (None,), 0),
    ("VAL", (True,), 1),
    ("VAL", (7.5,), 7.5),
    ("VAL", ("1,5",), 1),
    ("TO_NUMBER", ("10",), 10),
    ("CINT", ("7.6",), 8),
    ("CINT", (2.5,), 3),
    ("CINT", (-2.5,), -3),
    ("CINT", ("abc",), 0),
    ("CINT", (None,), 0),
    ("CINT", (True,), 1),
    ("CDBL", ("2",), 2.0),
    ("CDBL", ("x",), 0.0),
    ("CDBL", (3,), 3.0),
    ("CSTR", (1.5,), "1.5"),
    ("STR", (DATE,), "2024-03-05 14:07:09"),
    ("CBOOL", ("false",), False),
    ("CBOOL", ("0",), False),
    ("CBOOL", ("no",), True),
    ("CBOOL", ([],), False),
    ("CBOOL", (1,), True),
    ("CDATE", ("2024-03-05",), DateTime(datetime(2024, 3, 5), True)),
])
def test_conversions(name, args, expected):
    result = call_builtin(name, *args)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("name, value, expected", [
    ("ISNULL", None, True),
    ("ISNULL", "", False),
    ("ISNULL", 0, False),
    ("ISEMPTY", None, True),
    ("ISEMPTY", "", True),
    ("ISEMPTY", [], True),
    ("ISEMPTY", RowSet(), True),
    ("ISEMPTY", BasicObject(), True),
    ("ISEMPTY", " ", False),
    ("ISEMPTY", 0, False),
    ("ISNUMERIC", "1e10", True),
    ("ISNUMERIC", " 42 ", True),
    ("ISNUMERIC", "-3.5", True),
    ("ISNUMERIC", "$100", False),
    ("ISNUMERIC", "", False),
    ("ISNUMERIC", None, False),
    ("ISNUMERIC", True, False),
    ("IS_NUMERIC", 7, True),
    ("ISNUMBER", 2.5, True),
    ("ISNUMERIC", "12abc", False),
    ("ISARRAY", [1], True),
    ("ISARRAY", RowSet(), True),
    ("ISARRAY", "[1]", False),
    ("ISOBJECT", BasicObject({"a": 1}), True),
    ("ISOBJECT", [], False),
    ("ISSTRING", "", True),
    ("ISSTRING", 1, False),
    ("ISBOOL", False, True),
    ("ISBOOL", 0, False),
])
def test_validation(name, value, expected):
    assert call_builtin(name, value) is expected


@pytest.mark.parametrize("value, expected", [
    (None, "null"),
    (True, "boolean"),
    (3, "integer"),
    (3.0, "float"),
    ("x", "string"),
    ([1], "array"),
    (RowSet(), "array"),
    (BasicObject(), "object"),
    (DATE, "datetime"),
    (FileValue(url="u"), "file"),
])
def test_typeof(value, expected):
    assert call_builtin("TYPEOF", value) == expected
    assert call_builtin("TYPENAME", value) == expected


@pytest.mark.parametrize("name, args, expected", [
    ("NVL", (None, "there"), "there"),
    ("NVL", ("", "there"), "there"),
    ("NVL", ("Ana", "there"), "Ana"),
    ("NVL", (0, 5), 0),
    ("NVL", (False, 5), False),
    ("IFNULL", (None, None), None),
    ("COALESCE", (None, "", "x", "y"), "x"),
    ("COALESCE", ("", None), None),
    ("COALESCE", (0, 1), 0),
    ("COALESCE", (None, 12.5), 12.5),
    ("CHOOSE", (1, "a", "b", "c"), "a"),
    ("CHOOSE", (3, "a", "b", "c"), "c"),
    ("CHOOSE", ("2", "a", "b"), "b"),
    ("CHOOSE", (0, "a", "b"), None),
    ("CHOOSE", (4, "a", "b"), None),
    ("CHOOSE", (1,), None),
])
def test_null_handling_and_choose(name, args, expected):
    assert call_builtin(name, *args) == expected


@pytest.mark.parametrize("condition, expected", [
    (True, "yes"), (1, "yes"), ("x", "yes"), ([0], "yes"),
    (False, "no"), (0, "no"), ("", "no"), (None, "no"), ("false", "no"), ([], "no"),
])
def test_iif_selects_by_truthiness(condition, expected):
    assert call_builtin("IIF", condition, "yes", "no") == expected
    assert call_builtin("IF", condition, "yes", "no") == expected


def test_iif_evaluates_only_the_chosen_branch():
    evaluated = []

    def branch(label):
        return lambda: evaluated.append(label) or label

    assert call_builtin("IIF", lambda: True, branch("a"), branch("b")) == "a"
    assert call_builtin("IIF", lambda: 0, branch("c"), branch("d")) == "d"
    assert evaluated == ["a", "d"]


def test_iif_without_else_gives_null():
    assert call_builtin("IIF", False, "yes") is None


def test_iif_is_registered_lazy():
    spec = default_function_registry().function_spec("iif")
    assert spec.lazy and spec.names == ("iif", "if")
