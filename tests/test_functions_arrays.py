"""Array built-ins of DIALECT §10.6 (and MAP of §9.6.10)."""
import pytest

from botbasic.keywords.functions import call_builtin
from botbasic.runtime.errors import BasicError
from botbasic.runtime.values import BasicObject, RowSet


def row(**fields):
    return BasicObject(fields)


PEOPLE = [row(name="Ana", age=31, city="Rio"), row(name="Bob", age=25, city="Lima")]


@pytest.mark.parametrize("name, args, expected", [
    ("UBOUND", ([],), 0),
    ("UBOUND", ([1, 2, 3],), 3),
    ("UBOUND", (RowSet([row(a=1)]),), 1),
    ("UBOUND", (None,), 0),
    ("UBOUND", (row(a=1, b=2),), 2),
    ("UBOUND", ("hello",), 5),
    ("UBOUND", ('[1, 2]',), 2),
    ("UBOUND", ("2+2".split("+"),), 2),
    ("LBOUND", ([1, 2],), 0),
    ("ARRAY", (1, "a", None), [1, "a", None]),
    ("ARRAY", (), []),
    ("RANGE", (1, 5), [1, 2, 3, 4, 5]),
    ("RANGE", (5, 1), [5, 4, 3, 2, 1]),
    ("RANGE", (0, 10, 5), [0, 5, 10]),
    ("RANGE", (0, 9, 4), [0, 4, 8]),
    ("RANGE", (1, 5, -1), []),
    ("RANGE", (3, 3), [3]),
    ("SORT", ([3, 1, 2],), [1, 2, 3]),
    ("SORT", ([3, 1, 2], "DESC"), [3, 2, 1]),
    ("SORT", (["b", "B", "a"], "asc"), ["B", "a", "b"]),
    ("SORT", (["10", 9, "8"],), ["8", 9, "10"]),
    ("SORT", (PEOPLE, "age"), [PEOPLE[1], PEOPLE[0]]),
    ("SORT", (PEOPLE, "name", "DESC"), [PEOPLE[1], PEOPLE[0]]),
    ("SORT", (None,), []),
    ("SORT_ASC", ([2, 1],), [1, 2]),
    ("SORT_DESC", ([1, 2],), [2, 1]),
    ("UNIQUE", ([1, 2, 1, "2", 3],), [1, 2, 3]),
    ("DISTINCT", (["a", "A", "a"],), ["a", "A"]),
    ("UNIQUE", ([],), []),
    ("REVERSE", ([1, 2, 3],), [3, 2, 1]),
    ("REVERSE", ("abc",), "cba"),
    ("CONTAINS", ([1, 2, 3], "2"), True),
    ("CONTAINS", ([1, 2, 3], 4), False),
    ("CONTAINS", ("Hello World", "World"), True),
    ("CONTAINS", ("Hello World", "world"), False),
    ("CONTAINS", (None, "x"), False),
    ("CONTAINS", (row(Name="x"), "name"), True),
    ("INCLUDES", (["a", "b"], "b"), True),
    ("HAS", (["a", "b"], "c"), False),
    ("IN_ARRAY", ("b", ["a", "b"]), True),
    ("IN_ARRAY", (1, ["1"]), True),
    ("IN_ARRAY", ("z", None), False),
    ("INDEX_OF", (["a", "b", "a"], "a"), 0),
    ("INDEX_OF", (["a", "b"], "z"), -1),
    ("INDEX_OF", ("hello", "l"), 2),
    ("LAST_INDEX_OF", (["a", "b", "a"], "a"), 2),
    ("LAST_INDEX_OF", ([], "a"), -1),
    ("LAST_INDEX_OF", ("hello", "l"), 3),
    ("SLICE", ([1, 2, 3, 4, 5], 1, 3), [2, 3]),
    ("SLICE", ([1, 2, 3, 4, 5], -2), [4, 5]),
    ("SLICE", ([1, 2, 3, 4, 5], 1, -1), [2, 3, 4]),
    ("SUBARRAY", ([1, 2, 3], 5), []),
    ("SLICE", ("hello", 1, 3), "el"),
    ("TAKE", ([1, 2, 3], 2), [1, 2]),
    ("TAKE", ([1, 2, 3], 10), [1, 2, 3]),
    ("TAKE", ([1, 2, 3], -1), []),
    ("DROP", ([1, 2, 3], 1), [2, 3]),
    ("DROP", ([1, 2, 3], 5), []),
    ("HEAD", ([7, 8],), 7),
    ("HEAD", ([],), None),
    ("TAIL", ([7, 8, 9],), [8, 9]),
    ("INIT", ([7, 8, 9],), [7, 8]),
    ("TAIL", ([],), []),
    ("CHUNK", ([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]),
    ("CHUNK", ([], 3), []),
    ("CONCAT", ([1, 2], [3], [4, 5]), [1, 2, 3, 4, 5]),
    ("CONCAT", ([1], 2), [1, 2]),
    ("CONCAT", ("ab", "cd", 1), "abcd1"),
    ("FLATTEN", ([[1, 2], 3, [[4]]],), [1, 2, 3, [4]]),
    ("FIRST", ([10, 20, 30],), 10),
    ("FIRST", ([],), None),
    ("FIRST", (None,), None),
    ("FIRST", ("John Ronald Tolkien",), "John"),
    ("FIRST", ("  spaced   words ",), "spaced"),
    ("FIRST", ("",), ""),
    ("FIRST", ([10, 20, 30], 2), [10, 20]),
    ("FIRST", ([10, 20, 30], "2"), [10, 20]),
    ("FIRST", ("a b c", 2), "a b"),
    ("FIRST", (PEOPLE, "name"), "Ana"),
    ("FIRST", (row(id=7),), row(id=7)),
    ("FIRST", ('[{"id": 1}, {"id": 2}]',), row(id=1)),
    ("LAST", ([10, 20, 30],), 30),
    ("LAST", ([],), None),
    ("LAST", ("John Ronald Tolkien",), "Tolkien"),
    ("LAST", ([10, 20, 30], 2), [20, 30]),
    ("LAST", ([10, 20, 30], 0), []),
    ("LAST", (PEOPLE, "age"), 25),
    ("MAP", (PEOPLE, "name"), ["Ana", "Bob"]),
    ("MAP", (PEOPLE, "NAME"), ["Ana", "Bob"]),
    ("MAP", (PEOPLE, "name, city"), [row(name="Ana", city="Rio"), row(name="Bob", city="Lima")]),
    ("MAP", (row(name="Solo"), "name"), ["Solo"]),
    ("MAP", (None, "name"), []),
])
def test_array_functions(name, args, expected):
    assert call_builtin(name, *args) == expected


@pytest.mark.parametrize("name, args", [
    ("SORT", ("plain text",)),
    ("RANGE", (1, 5, 0)),
    ("RANGE", (0, 10 ** 9)),
    ("CHUNK", ([1], 0)),
    ("PUSH", ("text", 1)),
    ("POP", (5,)),
    ("TAKE", (3, 1)),
])
def test_array_errors(name, args):
    with pytest.raises(BasicError):
        call_builtin(name, *args)


def test_push_appends_in_place_and_returns_the_array():
    items = [1]
    assert call_builtin("PUSH", items, 2) is items
    call_builtin("PUSH", items, 3, 4)
    assert items == [1, 2, 3, 4]


def test_push_onto_null_gives_a_new_array():
    assert call_builtin("PUSH", None, "x") == ["x"]


def test_pop_and_shift_remove_in_place():
    items = [1, 2, 3]
    assert call_builtin("POP", items) == 3
    assert call_builtin("SHIFT", items) == 1
    assert items == [2]
    assert call_builtin("POP", []) is None
    assert call_builtin("SHIFT", None) is None


def test_unshift_and_prepend_insert_at_the_front():
    items = [3]
    assert call_builtin("UNSHIFT", items, 1, 2) is items
    call_builtin("PREPEND", items, 0)
    assert items == [0, 1, 2, 3]


@pytest.mark.parametrize("name, args", [
    ("SORT", ([2, 1],)),
    ("UNIQUE", ([1, 1],)),
    ("REVERSE", ([1, 2],)),
    ("SLICE", ([1, 2], 0)),
    ("TAKE", ([1, 2], 1)),
    ("FIRST", ([1, 2], 1)),
])
def test_copies_keep_rowsets_and_leave_the_input_alone(name, args):
    rows = RowSet(args[0])
    before = list(rows)
    result = call_builtin(name, rows, *args[1:])
    assert isinstance(result, RowSet) and result is not rows
    assert rows == before


def test_first_of_a_rowset_reads_members():
    rows = RowSet([row(title="Deal A"), row(title="Deal B")])
    assert call_builtin("FIRST", rows)["title"] == "Deal A"
