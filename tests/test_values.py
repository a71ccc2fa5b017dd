"""The BASIC value model (spec §3, §4.2–§4.7, §5.5): tables of golden results + properties."""
from __future__ import annotations

import json
import math
from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from botbasic.runtime.datetimes import DateTime
from botbasic.runtime.errors import BasicError
from botbasic.runtime.values import (
    BasicObject, FileValue, HttpResponse, RowSet, add, call_method, cmp_op, coalesce,
    compare, concat, contains, div, equals, from_json, from_plain, get_index, get_member,
    intdiv, is_empty, is_null, iterate, json_view, length, like, mod, mul, neg, parse_number,
    power, set_index, set_member, sub, to_json, to_num, to_plain, to_str, truthy, type_name,
)

DAY = DateTime(datetime(2024, 3, 5), date_only=True)
MOMENT = DateTime(datetime(2024, 3, 5, 14, 7, 9))


def same(a, b) -> bool:
    """Exact structural identity: same types all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, DateTime):
        return a.value == b.value and a.date_only == b.date_only
    return a == b


# --------------------------------------------------------------------------------------
# BasicObject
# --------------------------------------------------------------------------------------

def test_object_lookup_is_case_insensitive_and_storage_preserves_case():
    obj = BasicObject({"translatedText": "olá"})
    obj.assign("TRANSLATEDTEXT", "oi")
    assert obj.lookup("translatedtext") == "oi"
    assert list(obj) == ["translatedText"]
    assert obj.has("TranslatedText") and not obj.has("other")


def test_object_exact_case_wins_over_case_variants():
    obj = BasicObject({"Name": "a", "name": "b", "NAME": "c"})
    assert [obj.lookup(k) for k in ("Name", "name", "NAME", "nAmE")] == ["a", "b", "c", "a"]


def test_object_remove_and_json_form():
    obj = BasicObject({"A": 1, "b": [1, 2]})
    assert obj.remove("a") == 1 and obj.remove("zzz") is None
    assert json.dumps(obj) == '{"b": [1, 2]}'
    assert type(obj.copy()) is BasicObject and obj.copy() == obj


def test_http_response_falls_back_to_data():
    response = HttpResponse(status=201, status_text="Created",
                            data=BasicObject({"id": 7, "status": "queued"}))
    assert get_member(response, "status") == 201
    assert get_member(response, "STATUSTEXT") == "Created"
    assert get_member(response, "id") == 7
    assert get_member(get_member(response, "data"), "status") == "queued"
    assert get_member(response, "missing") is None
    assert get_index(response, "id") == 7


def test_http_response_over_text_data_and_mapping_constructor():
    response = HttpResponse({"status": 500, "data": '{"error": "boom"}'})
    assert get_member(response, "status") == 500
    assert get_member(response, "error") == "boom"
    assert list(response) == ["status", "statusText", "headers", "data"]


def test_file_value_string_form_and_members():
    file = FileValue(url="https://x/f.pdf", name="f.pdf", mime_type="application/pdf", size=3)
    assert to_str(file) == "https://x/f.pdf"
    assert to_str(FileValue(path="/drive/f.pdf")) == "/drive/f.pdf"
    assert get_member(file, "MimeType") == "application/pdf"
    assert get_member(file, "size") == 3 and type_name(file) == "file"


# --------------------------------------------------------------------------------------
# Conversions §3.1
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (None, ""), (True, "true"), (False, "false"), (42, "42"), (-7, "-7"),
    (2.0, "2"), (-0.0, "0"), (0.33, "0.33"), (1 / 3, "0.3333333333333333"),
    (1e16, "1e+16"), (1.5e-7, "1.5e-07"),
    (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
    ("x", "x"), ([1, "a", None, 2.0], '[1,"a",null,2]'),
    (BasicObject({"nome": "São Paulo", "n": [True]}), '{"nome":"São Paulo","n":[true]}'),
    (RowSet([BasicObject({"a": 1})]), '[{"a":1}]'),
    (DAY, "2024-03-05"), (MOMENT, "2024-03-05 14:07:09"),
])
def test_to_str(value, text):
    assert to_str(value) == text


@pytest.mark.parametrize("text, number", [
    ("12", 12), (" 12 ", 12), ("-3", -3), ("+4", 4), ("10.5", 10.5), (".5", 0.5),
    ("5.", 5.0), ("1e10", 1e10), ("2E-2", 0.02), ("007", 7),
    ("", None), ("  ", None), ("abc", None), ("12abc", None), ("1,5", None), ("$100", None),
    ("nan", None), ("inf", None), ("1_000", None), ("0x10", None), ("1 2", None),
])
def test_parse_number(text, number):
    result = parse_number(text)
    assert result == number and type(result) is type(number)


@pytest.mark.parametrize("value, number", [
    (None, 0), (True, 1), (False, 0), (3, 3), (2.5, 2.5), (" 42 ", 42), ("1.5", 1.5),
])
def test_to_num(value, number):
    assert same(to_num(value), number)


@pytest.mark.parametrize("value", ["abc", "", [1], BasicObject(), MOMENT])
def test_to_num_rejects_non_numbers(value):
    with pytest.raises(BasicError, match="as a number"):
        to_num(value)


def test_to_num_error_message_quotes_the_string():
    with pytest.raises(BasicError) as caught:
        to_num("abc")
    assert caught.value.message == "cannot use 'abc' as a number"


@pytest.mark.parametrize("value, name", [
    (None, "null"), (True, "boolean"), (1, "integer"), (1.0, "float"), ("", "string"),
    ([], "array"), (RowSet(), "array"), (BasicObject(), "object"), (HttpResponse(), "object"),
    (MOMENT, "datetime"), (FileValue(), "file"),
])
def test_type_name(value, name):
    assert type_name(value) == name


@pytest.mark.parametrize("value, size", [
    (None, 0), ("", 0), ("olá😀", 4), ([1, 2, 3], 3), (RowSet([1]), 1),
    (BasicObject({"a": 1, "b": 2}), 2), (1234, 4), (2.0, 1), (True, 4), ('[1,2]', 5),
])
def test_length(value, size):
    assert length(value) == size


# --------------------------------------------------------------------------------------
# Truthiness §3.3
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, truth", [
    (None, False), (False, False), (True, True), (0, False), (0.0, False), (-0.0, False),
    (1, True), (-1, True), (0.1, True), ("", False), ("false", False), ("FALSE", False),
    ("False", False), ("0", False), (" ", True), ("no", True), ("0.0", True), ("x", True),
    ([], False), ([0], True), (RowSet(), False), (RowSet([BasicObject()]), True),
    (BasicObject(), False), (BasicObject({"a": None}), True), (HttpResponse(), True),
    (MOMENT, True), (FileValue(), True),
])
def test_truthy(value, truth):
    assert truthy(value) is truth


# --------------------------------------------------------------------------------------
# Equality and ordering §3.2
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, result", [
    (1, 1.0, True), (1, 2, False), ("1", 1, True), (1, " 1 ", True), ("1.0", 1, True),
    ("abc", 1, False), ("YES", "yes", False), ("yes", "yes", True),
    (None, None, True), (None, "", True), ("", None, True), (None, 0, False), (0, None, False),
    (None, " ", False), (None, [], False), (None, RowSet(), True), (RowSet(), None, True),
    (None, RowSet([1]), False), (None, False, False),
    (True, True, True), (True, False, False), (True, "true", True), ("True", True, True),
    (False, "false", True), (True, "yes", False), (True, 1, True), (False, 0, True),
    ([1, "2"], [1, 2], True), ([1], [1, 2], False),
    (BasicObject({"a": [1]}), {"a": ["1"]}, True), (BasicObject({"a": 1}), {"A": 1}, False),
    (RowSet([1]), [1], True),
    (MOMENT, DateTime(datetime(2024, 3, 5, 14, 7, 9)), True),
    (DAY, DateTime(datetime(2024, 3, 5)), True),
    (MOMENT, "2024-03-05 14:07:09", True), ("05/03/2024", DAY, True),
    (MOMENT, "2024-03-05", False), (MOMENT, "soon", False), (MOMENT, 5, False),
    (FileValue(url="u"), FileValue(url="u"), True), (FileValue(url="u"), "u", True),
    ([1], "[1]", True), (math.nan, math.nan, False),
])
def test_equals(a, b, result):
    assert equals(a, b) is result
    assert equals(b, a) is result


@pytest.mark.parametrize("a, b, order", [
    (1, 2, -1), (2, 1, 1), (2, 2.0, 0), ("10", 9, 1), (9, "10", -1), ("b", "a", 1),
    ("B", "a", -1), ("10", "9", -1), (None, 1, -1), (None, -1, 1), (None, 0, 0),
    (None, "a", -1), (None, "", 0), (None, None, 0), (True, 0, 1), ("abc", 5, 1),
    (DAY, MOMENT, -1), (MOMENT, "2024-03-06", -1), ("2025-01-01", MOMENT, 1),
])
def test_compare(a, b, order):
    assert compare(a, b) == order


@pytest.mark.parametrize("a, b", [([1], 1), (BasicObject(), "a"), (None, [1])])
def test_compare_rejects_arrays_and_objects(a, b):
    with pytest.raises(BasicError, match="cannot compare"):
        compare(a, b)


@pytest.mark.parametrize("op, a, b, result", [
    ("=", "1", 1, True), ("==", None, "", True), ("<>", None, 0, True), ("!=", "a", "a", False),
    ("<", 1, 2, True), (">", "10", 9, True), ("<=", 2, 2.0, True), (">=", "a", "b", False),
    ("<", math.nan, 1, False), (">=", math.nan, 1, False), ("<", None, 1, True),
    ("<", DAY, MOMENT, True),
])
def test_cmp_op(op, a, b, result):
    assert cmp_op(op, a, b) is result


# --------------------------------------------------------------------------------------
# + (§4.3) and the other operators (§4.2)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, result", [
    # number + number (booleans count as 1/0)
    (1, 2, 3), (1, 2.5, 3.5), (True, 1, 2), (True, True, 2), (False, 2.5, 2.5),
    # number + numeric string, either order
    (0, "10.5", 10.5), ("10.5", 0, 10.5), (5, " 3 ", 8), ("2", 2, 4), (1.5, "1e1", 11.5),
    # number + non-numeric string: concatenation of string forms
    ("Total: ", 3, "Total: 3"), (1, ". ", "1. "), (2.0, "x", "2x"), ("", 7, "7"), (7, "", "7"),
    # string + string: always concatenation
    ("1", "2", "12"), ("a", "b", "ab"),
    # datetime / array / object + anything: string forms
    ("Analyze: ", [1, 2], "Analyze: [1,2]"), ([1], [2], "[1][2]"),
    (BasicObject({"a": 1}), "!", '{"a":1}!'), (DAY, " ok", "2024-03-05 ok"),
    ("at ", MOMENT, "at 2024-03-05 14:07:09"), (DAY, "1", "2024-03-051"),
    (True, "x", "truex"), ("x", False, "xfalse"),
    # NULL + x is x
    (None, 5, 5), (5, None, 5), (None, "a", "a"), ("a", None, "a"), (None, None, None),
    (None, [1], [1]),
])
def test_add(a, b, result):
    assert same(add(a, b), result)


def test_add_datetime_and_number_shifts_days():
    assert same(add(DAY, 1), DateTime(datetime(2024, 3, 6), date_only=True))
    assert same(add(2, DAY), DateTime(datetime(2024, 3, 7), date_only=True))
    assert same(add(MOMENT, 0.5), DateTime(datetime(2024, 3, 6, 2, 7, 9)))


@pytest.mark.parametrize("parts, result", [
    (["a", 1, 2], "a12"), ([1, 2, "a"], "3a"), ([1, "2", "a"], "3a"), (["1", "2", 3], 15),
    ([None, 1, "1"], 2), (["Item ", 1, ": ", 2.5], "Item 1: 2.5"),
])
def test_add_is_left_to_right(parts, result):
    total = parts[0]
    for part in parts[1:]:
        total = add(total, part)
    assert same(total, result)


@pytest.mark.parametrize("fn, a, b, result", [
    (sub, 5, 3, 2), (sub, "5", 3, 2), (sub, None, 3, -3), (sub, 2.5, True, 1.5),
    (mul, "5", 2, 10), (mul, 2, 2.5, 5.0), (mul, None, 4, 0),
    (div, 7, 2, 3.5), (div, 6, 3, 2), (div, -6, 3, -2), (div, 6.0, 3, 2.0), (div, "9", "3", 3),
    (div, 1, 3, 1 / 3), (div, 10 ** 30, 10 ** 10, 10 ** 20),
    (intdiv, 7, 2, 3), (intdiv, -7, 2, -4), (intdiv, 7.5, 2, 3), (intdiv, "9", 4, 2),
    (mod, 7, 3, 1), (mod, -7, 3, -1), (mod, 7, -3, 1), (mod, -7, -3, -1), (mod, 7.5, 2, 1.5),
    (mod, -7.5, 2, -1.5), (mod, "10", 4, 2),
    (power, 2, 10, 1024), (power, 2, -1, 0.5), (power, "3", 2, 9), (power, 4, 0.5, 2.0),
])
def test_arithmetic(fn, a, b, result):
    assert same(fn(a, b), result)


@pytest.mark.parametrize("fn", [div, intdiv, mod])
@pytest.mark.parametrize("zero", [0, 0.0, None, "0"])
def test_division_by_zero_is_a_basic_error(fn, zero):
    with pytest.raises(BasicError, match="division by zero") as caught:
        fn(1, zero)
    assert caught.value.number == 11


@pytest.mark.parametrize("fn, a, b", [
    (mul, "abc", 2), (sub, "x", 1), (power, -8, 1 / 3), (power, 10, 10 ** 9), (power, 0, -1),
])
def test_arithmetic_errors(fn, a, b):
    with pytest.raises(BasicError):
        fn(a, b)


def test_datetime_subtraction():
    assert sub(MOMENT, DAY) == pytest.approx((14 * 3600 + 7 * 60 + 9) / 86400)
    assert sub(DateTime(datetime(2024, 3, 8)), "2024-03-05") == 3.0
    assert same(sub(DAY, 2), DateTime(datetime(2024, 3, 3), date_only=True))


@pytest.mark.parametrize("a, result", [(5, -5), (-2.5, 2.5), ("3", -3), (None, 0), (True, -1)])
def test_neg(a, result):
    assert same(neg(a), result)


@pytest.mark.parametrize("a, b, result", [
    (1, 2, "12"), (None, "x", "x"), ("a", None, "a"), (2.0, [1], "2[1]"), (True, DAY, "true2024-03-05"),
])
def test_concat(a, b, result):
    assert concat(a, b) == result


@pytest.mark.parametrize("a, b, result", [
    (None, "d", "d"), ("", "d", "d"), (0, "d", 0), (False, "d", False), ("x", "d", "x"),
    ([], "d", []),
])
def test_coalesce(a, b, result):
    assert same(coalesce(a, b), result)


# --------------------------------------------------------------------------------------
# Predicates §4.5
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, null, empty", [
    (None, True, True), ("", True, True), (" ", False, False), (0, False, False),
    (RowSet(), True, True), (RowSet([1]), False, False), ([], False, True),
    (BasicObject(), False, True), (False, False, False),
])
def test_is_null_and_is_empty(value, null, empty):
    assert is_null(value) is null
    assert is_empty(value) is empty


@pytest.mark.parametrize("a, b, result", [
    ("Hello World", "world", True), ("Hello", "bye", False), ("abc", "", True),
    ([1, 2, 3], "2", True), (["a"], "A", False), (RowSet([1]), 1, True),
    (BasicObject({"Key": 1}), "key", True), (None, "a", False), ("abc", None, False),
    (12345, 34, True),
])
def test_contains(a, b, result):
    assert contains(a, b) is result


@pytest.mark.parametrize("a, pattern, result", [
    ("Hello World", "hello%", True), ("Hello World", "%WORLD", True),
    ("Hello", "H_llo", True), ("Hello", "H?llo", True), ("Hello", "h*", True),
    ("Hello", "ello", False), ("a.c", "a.c", True), ("abc", "a.c", False),
    ("line1\nline2", "%line2", True), (None, "%", False), ("x", None, False), (123, "1%", True),
])
def test_like(a, pattern, result):
    assert like(a, pattern) is result


# --------------------------------------------------------------------------------------
# Member access and indexing §3.7, §4.7
# --------------------------------------------------------------------------------------

PRODUCT = BasicObject({"Id": 1, "preco": "9.90", "variacoes": [1, 2], "length": 30})


@pytest.mark.parametrize("obj, name, result", [
    (PRODUCT, "id", 1), (PRODUCT, "PRECO", "9.90"), (PRODUCT, "missing", None),
    (PRODUCT, "length", 30), (None, "x", None), (5, "x", None), (True, "x", None),
    ({"Plain": 1}, "plain", 1),
    ("hello", "length", 5), ("hello", "LENGTH", 5), ("hello", "other", None),
    ([1, 2, 3], "length", 3), ([1, 2], "name", None),
    (RowSet([BasicObject({"price": 5})]), "Price", 5), (RowSet(), "price", None),
    (RowSet([BasicObject({"price": 5})]), "length", 1),
    ('{"name": "Echo", "brand": "X"}', "name", "Echo"), ('[1, 2]', "length", 2),
    ("```json\n{\"name\": \"Dot\"}\n```", "NAME", "Dot"), ("{not json", "x", None),
    (DAY, "year", 2024), (MOMENT, "Hour", 14),
])
def test_get_member(obj, name, result):
    assert same(get_member(obj, name), result)


def test_member_chain_on_null_propagates():
    res = None
    assert get_member(get_member(get_member(res, "data"), "items"), "x") is None


def test_set_member_updates_and_adds_preserving_case():
    obj = BasicObject({"Name": "a"})
    assert set_member(obj, "NAME", "b") is obj
    assert set_member(obj, "email", "e") is obj
    assert same(obj, BasicObject({"Name": "b", "email": "e"}))


def test_set_member_on_null_creates_an_object():
    created = set_member(None, "name", "John")
    assert same(created, BasicObject({"name": "John"}))


def test_set_member_on_rowset_assigns_first_row():
    rows = RowSet([BasicObject({"a": 1}), BasicObject({"a": 2})])
    assert set_member(rows, "A", 9) is rows
    assert rows[0] == {"a": 9} and rows[1] == {"a": 2}
    empty = RowSet()
    set_member(empty, "a", 1)
    assert same(empty, RowSet([BasicObject({"a": 1})]))


@pytest.mark.parametrize("obj", ["text", 5, 2.5, True, [1], MOMENT])
def test_set_member_on_scalars_and_arrays_is_an_error(obj):
    with pytest.raises(BasicError, match="cannot set member"):
        set_member(obj, "x", 1)


@pytest.mark.parametrize("obj, idx, result", [
    ([10, 20, 30], 0, 10), ([10, 20, 30], 2, 30), ([10, 20, 30], 3, None),
    ([10, 20, 30], -1, None), ([10, 20, 30], 1.0, 20), ([10, 20, 30], 1.9, 20),
    ([10, 20, 30], "1", 20), ([10, 20], "x", None), (RowSet([BasicObject({"a": 1})]), 0, {"a": 1}),
    (RowSet([BasicObject({"a": 1})]), "a", 1),
    (None, 0, None), (None, "k", None), (BasicObject({"Key": 1}), "key", 1),
    (BasicObject({"1": "one"}), 1, "one"), ("abc", 1, "b"), ("abc", 5, None),
    ('{"results": [{"t": "x"}]}', "results", [{"t": "x"}]), ('["a", "b"]', 1, "b"),
    (MOMENT, "minute", 7), (5, 0, None),
])
def test_get_index(obj, idx, result):
    assert get_index(obj, idx) == result


def test_set_index_extends_arrays_with_null():
    items = []
    assert set_index(items, 2, "c") is items
    assert items == [None, None, "c"]
    set_index(items, "0", "a")
    assert items == ["a", None, "c"]


@pytest.mark.parametrize("idx, container", [
    (0, ["v"]), (1, [None, "v"]), ("k", BasicObject({"k": "v"})), ("K", BasicObject({"K": "v"})),
])
def test_set_index_on_null_auto_creates(idx, container):
    assert same(set_index(None, idx, "v"), container)


def test_set_index_on_object_is_case_insensitive():
    obj = BasicObject({"Key": 1})
    assert set_index(obj, "KEY", 2) is obj and obj == {"Key": 2}


@pytest.mark.parametrize("obj, idx", [([1], -1), ([1], "x"), ("abc", 0), (5, 0)])
def test_set_index_errors(obj, idx):
    with pytest.raises(BasicError):
        set_index(obj, idx, "v")


def test_member_write_through_index_chain_mutates_shared_object():
    """`items[k] = produto` then `produto.sku = ...` — objects are references (§3.7)."""
    product = BasicObject()
    items = set_index([], 0, product)
    set_member(get_index(items, 0), "sku", "X1")
    assert product == {"sku": "X1"}


# --------------------------------------------------------------------------------------
# Lazy JSON §3.8 and JSON text
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, view", [
    ('{"a": 1}', {"a": 1}), ('  [1, 2] \n', [1, 2]),
    ('```json\n{"name": "x"}\n```', {"name": "x"}), ('```\n[1]\n```', [1]),
    ('\n```JSON\n[{"a": 1}]\n```\n', [{"a": 1}]),
    ("plain text", "plain text"), ('{"a": ', '{"a": '), ("42", "42"), ('"quoted"', '"quoted"'),
    ("", ""),
])
def test_json_view(text, view):
    assert json_view(text) == view


def test_json_view_gives_objects_and_caches_per_value():
    text = '{"items": [{"id": 1}]}'
    first = json_view(text)
    assert type(first) is BasicObject and type(first.lookup("items")[0]) is BasicObject
    assert json_view(text) is first


@pytest.mark.parametrize("value", [5, None, [1], BasicObject()])
def test_json_view_passes_non_strings(value):
    assert json_view(value) is value


@pytest.mark.parametrize("value, text", [
    (None, "null"), (True, "true"), (2.0, "2"), (2.5, "2.5"), ("ç", '"ç"'),
    ([1, None], "[1,null]"), (BasicObject({"B": 1, "a": [DAY]}), '{"B":1,"a":["2024-03-05"]}'),
    (MOMENT, '"2024-03-05T14:07:09"'), (RowSet([]), "[]"),
    (HttpResponse(status=200, data=[1]), '{"status":200,"statusText":"","headers":{},"data":[1]}'),
    (FileValue(url="u", size=1), '{"url":"u","name":null,"mime_type":null,"size":1,"path":null}'),
])
def test_to_json(value, text):
    assert to_json(value) == text


def test_from_json_builds_basic_objects():
    value = from_json('{"Data": {"items": [1, 2.5, "x", null, true]}}')
    assert type(value) is BasicObject and type(value.lookup("data")) is BasicObject
    assert get_member(get_member(value, "data"), "ITEMS") == [1, 2.5, "x", None, True]
    assert from_json("```json\n[1]\n```") == [1]
    assert from_json("3") == 3


@pytest.mark.parametrize("text", ["{bad", "", "[1,]"])
def test_from_json_rejects_invalid_text(text):
    with pytest.raises(BasicError, match="invalid JSON"):
        from_json(text)


# --------------------------------------------------------------------------------------
# FOR EACH §5.5
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, items", [
    ([1, 2], [1, 2]), (RowSet([BasicObject({"a": 1})]), [{"a": 1}]), (None, []),
    ("text", ["text"]), (5, [5]), (True, [True]), (MOMENT, [MOMENT]),
    ('[1, 2, 3]', [1, 2, 3]), ('```json\n[{"n": 1}]\n```', [{"n": 1}]),
    (BasicObject({"items": [1, 2], "total": 2}), [1, 2]),
    (BasicObject({"Data": [3]}), [3]), (BasicObject({"value": [4], "count": 1}), [4]),
    ('{"results": [5, 6]}', [5, 6]),
    (BasicObject({"name": "x"}), [{"name": "x"}]),
    (BasicObject({"data": [1], "items": [2]}), [{"data": [1], "items": [2]}]),
    (BasicObject({"data": "not an array"}), [{"data": "not an array"}]),
    (HttpResponse(data=[7, 8]), [7, 8]), (HttpResponse(data=None), []),
])
def test_iterate(value, items):
    assert iterate(value) == items


def test_iterate_is_a_snapshot():
    items = [1, 2]
    snapshot = iterate(items)
    items.append(3)
    assert snapshot == [1, 2] and type(snapshot) is list


# --------------------------------------------------------------------------------------
# Compat JS methods §4.7
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("obj, method, args, result", [
    ("  x  ", "trim", [], "x"), ("AbC", "toLowerCase", [], "abc"), ("AbC", "TOUPPERCASE", [], "ABC"),
    ("Hello", "contains", ["ell"], True), ("Hello", "includes", ["ELL"], False),
    ([1, 2], "includes", ["2"], True), ("Hello", "startsWith", ["He"], True),
    ("Hello", "endsWith", ["lo"], True), ("Hello", "substring", [1, 3], "el"),
    ("Hello", "substring", [3, 1], "el"), ("Hello", "substring", [2], "llo"),
    ("Hello", "substring", [-2, 99], "Hello"), ("Hello", "indexOf", ["l"], 2),
    ("Hello", "indexOf", ["z"], -1), ([1, "2", 3], "indexOf", [2], 1), ([1], "indexOf", [9], -1),
    ("a,b,,c", "split", [","], ["a", "b", "", "c"]), ("ab", "split", [""], ["a", "b"]),
    ("ab", "split", [], ["ab"]), ([1, None, "x"], "join", ["-"], "1--x"), ([1, 2], "join", [], "1,2"),
    ('["a", "b"]', "join", [" "], "a b"), ("aXbX", "replace", ["X", "-"], "a-bX"),
    (12, "trim", [], "12"), (None, "trim", [], None),
    ("  abc ", "trim", [], "abc"),
])
def test_call_method(obj, method, args, result):
    assert call_method(obj, method, args) == result


def test_trim_then_length_chain():
    """bling: `produto.codigo.trim().length`."""
    assert get_member(call_method(" 123 ", "trim", []), "length") == 3


def test_push_and_splice_work_in_place():
    operations = []
    assert call_method(operations, "PUSH", ["+"]) == 1
    call_method(operations, "push", ["-", "*"])
    assert operations == ["+", "-", "*"]
    assert call_method(operations, "splice", [1, 1]) == ["-"]
    assert operations == ["+", "*"]
    call_method(operations, "splice", [-1, 1, "x", "y"])
    assert operations == ["+", "x", "y"]
    assert call_method(operations, "splice", [1]) == ["x", "y"] and operations == ["+"]


@pytest.mark.parametrize("obj, method, args, message", [
    ("x", "toFixed", [], "unknown method"), ([1], "trim", [], "not a method"),
    ("x", "push", [1], "needs an array"), (None, "push", [1], "NULL"),
    ('[1]', "splice", [0, 1], "needs an array"), (BasicObject(), "join", [], "needs an array"),
])
def test_call_method_errors(obj, method, args, message):
    with pytest.raises(BasicError, match=message):
        call_method(obj, method, args)


# --------------------------------------------------------------------------------------
# Saving state: to_plain / from_plain
# --------------------------------------------------------------------------------------

def roundtrip(value):
    return from_plain(json.loads(json.dumps(to_plain(value), allow_nan=False)))


@pytest.mark.parametrize("value", [
    None, True, 0, -5, 10 ** 40, 2.5, 2.0, math.nan, math.inf, -math.inf, "", "$t",
    [1, [2, None]], RowSet([BasicObject({"A": 1})]), RowSet(),
    BasicObject({"Name": "x", "name": "y", "nested": BasicObject({"k": [DAY]})}),
    BasicObject({"$t": "dt", "v": "not a date"}), BasicObject({"$T": 1}),
    HttpResponse(status=404, status_text="Not Found", headers={"X-A": "1"},
                 data=BasicObject({"error": "nope"})),
    DAY, MOMENT, DateTime(datetime(2024, 1, 2, 3, 4, 5, 678901)),
    FileValue(url="https://x/a.png", name="a.png", mime_type="image/png", size=10, path="p"),
])
def test_plain_roundtrip(value):
    assert same(roundtrip(value), value)


def test_plain_dicts_become_objects():
    assert same(roundtrip({"a": {"b": 1}}), BasicObject({"a": BasicObject({"b": 1})}))


def test_to_plain_rejects_unknown_types():
    with pytest.raises(TypeError):
        to_plain(object())


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

datetimes = st.builds(
    DateTime, st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    st.booleans())
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text() | datetimes
           | st.builds(FileValue, st.text(), st.none() | st.text(), st.none(), st.integers()))
keys = st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.lists(inner, max_size=4).map(RowSet)
                   | st.dictionaries(keys, inner, max_size=4).map(BasicObject)
                   | st.builds(lambda s, d: HttpResponse(status=s, data=d), st.integers(), inner)),
    max_leaves=12)
simple = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6) \
    | st.sampled_from(["1", " 2 ", "1.0", "true", "false", "", "2024-03-05"]) | datetimes
comparable = st.recursive(simple, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(keys, inner, max_size=3).map(BasicObject),
                          max_leaves=6)


@given(comparable, comparable)
def test_equals_is_symmetric(a, b):
    assert equals(a, b) is equals(b, a)


@given(values)
def test_plain_roundtrip_property(value):
    assert same(roundtrip(value), value)


@given(st.integers(), st.integers())
def test_int_plus_int_is_python_sum(a, b):
    assert same(add(a, b), a + b)


@given(st.text(), st.text())
def test_string_plus_string_concatenates(a, b):
    assert add(a, b) == a + b


@given(st.integers(-10 ** 12, 10 ** 12), st.integers(-10 ** 12, 10 ** 12))
def test_numeric_string_plus_number_adds(a, b):
    assert add(str(a), b) == a + b
    assert add(b, f" {a} ") == a + b


@given(st.integers(-10 ** 15, 10 ** 15))
def test_integral_float_prints_without_point_zero(n):
    text = to_str(float(n))
    assert not text.endswith(".0") and text == str(n)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_string_form_reads_back(f):
    text = to_str(f)
    assert not text.endswith(".0") and float(text) == f
