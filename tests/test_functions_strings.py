"""String built-ins of DIALECT §10.1, called through the function registry."""
from types import SimpleNamespace

import pytest

from botbasic.keywords.functions import call_builtin
from botbasic.runtime.errors import BasicError
from botbasic.runtime.values import BasicObject


class FakeContext:
    """Only what FORMAT reads: the session language."""

    def __init__(self, language: str = "en"):
        self.session = SimpleNamespace(language=language)


@pytest.mark.parametrize("name, args, expected", [
    ("LEN", ("héllo",), 5),
    ("LENGTH", ("",), 0),
    ("LEN", (None,), 0),
    ("LEN", ([1, 2, 3],), 3),
    ("LEN", (BasicObject({"a": 1, "b": 2}),), 2),
    ("LEN", (12.5,), 4),
    ("LEN", ("😀a",), 2),
    ("LEFT", ("Hello", 2), "He"),
    ("LEFT", ("Hello", 0), ""),
    ("LEFT", ("Hello", -1), ""),
    ("LEFT", ("Hello", 99), "Hello"),
    ("LEFT", (None, 3), ""),
    ("RIGHT", ("Hello", 3), "llo"),
    ("RIGHT", ("Hello", 0), ""),
    ("RIGHT", ("Hello", 10), "Hello"),
    ("MID", ("Hello World", 7), "World"),
    ("MID", ("Hello World", 7, 3), "Wor"),
    ("MID", ("Hello", 0, 2), "He"),
    ("MID", ("Hello", -5, 2), "He"),
    ("MID", ("Hello", 9), ""),
    ("MID", ("Hello", 2, 0), ""),
    ("MID", ("Hello", "2", "2"), "el"),
    ("MID", ([10, 20, 30, 40, 50], 1, 2), [20, 30]),
    ("MID", ([10, 20, 30], 2, 100), [30]),
    ("MID", ([10, 20, 30], 0), [10, 20, 30]),
    ("INSTR", ("Hello World", "World"), 7),
    ("INSTR", ("Hello World", "world"), 0),
    ("INSTR", ("Hello World", "xyz"), 0),
    ("INSTR", ("", "a"), 0),
    ("INSTR", ("abc", ""), 0),
    ("INSTR", (None, "a"), 0),
    ("INSTR", (3, "abcabc", "a"), 4),
    ("INSTR", (1, "abcabc", "a"), 1),
    ("INSTR", (0, "abcabc", "c"), 3),
    ("INSTR", (7, "abcabc", "a"), 0),
    ("INSTR", ("2+2", "+"), 2),
    ("TRIM", ("  a b \t\n",), "a b"),
    ("LTRIM", ("  a  ",), "a  "),
    ("RTRIM", ("  a  ",), "  a"),
    ("TRIM", (None,), ""),
    ("UCASE", ("ação",), "AÇÃO"),
    ("UPPER", ("abc",), "ABC"),
    ("LCASE", ("ÀB",), "àb"),
    ("LOWER", ("ABC",), "abc"),
    ("LOWERCASE", ("ABC",), "abc"),
    ("UCASE$", ("x",), "X"),
    ("CAPITALIZE", ("acme corp  inc",), "Acme Corp  Inc"),
    ("CAPITALIZE", ("mcDonald o'neil",), "McDonald O'neil"),
    ("CAPITALIZE", ("",), ""),
    ("REPLACE", ("a-b-c", "-", "+"), "a+b+c"),
    ("REPLACE", ("Hello", "l", ""), "Heo"),
    ("REPLACE", ("Hello", "L", "x"), "Hello"),
    ("REPLACE", ("Hello", "", "x"), "Hello"),
    ("REPLACE", ("{name} hi", "{name}", None), " hi"),
    ("SPLIT", ("a,b", ","), ["a", "b"]),
    ("SPLIT", ("a, b", ","), ["a", " b"]),
    ("SPLIT", ("", ","), [""]),
    ("SPLIT", (None, ","), [""]),
    ("SPLIT", ("abc", ""), ["a", "b", "c"]),
    ("SPLIT", ("2+2", "+"), ["2", "2"]),
    ("SPLIT", ("a,,b", ","), ["a", "", "b"]),
    ("SPLIT", ("one two",), ["one", "two"]),
    ("JOIN", (["a", 1, 2.5, True, None],), "a,1,2.5,true,"),
    ("JOIN", (["a", "b"], " | "), "a | b"),
    ("JOIN", ('["x","y"]', "-"), "x-y"),
    ("JOIN", (None,), ""),
    ("JOIN", ([],), ""),
    ("STARTSWITH", ("Hello", "He"), True),
    ("STARTSWITH", ("Hello", "he"), False),
    ("ENDSWITH", ("Hello", "lo"), True),
    ("ENDSWITH", ("Hello", "x"), False),
    ("EXTRACT_BETWEEN", ("John <john@x.com>", "<", ">"), "john@x.com"),
    ("EXTRACT_BETWEEN", ("no markers", "<", ">"), ""),
    ("EXTRACT_BETWEEN", ("a <b", "<", ">"), ""),
    ("EXTRACT_BEFORE", ("John <john@x.com>", "<"), "John "),
    ("EXTRACT_BEFORE", ("acme.com", "."), "acme"),
    ("EXTRACT_BEFORE", ("acme", "."), ""),
    ("EXTRACT_AFTER", ("john@acme.com", "@"), "acme.com"),
    ("EXTRACT_AFTER", ("john", "@"), ""),
    ("ASC", ("A",), 65),
    ("ASC", ("ção",), 231),
    ("ASC", ("",), 0),
    ("CHR", (65,), "A"),
    ("CHR", ("10",), "\n"),
    ("STR", (2.0,), "2"),
    ("STR", (None,), ""),
    ("CSTR", (True,), "true"),
    ("STR", ([1, "a"],), '[1,"a"]'),
])
def test_string_functions(name, args, expected):
    assert call_builtin(name, *args) == expected


@pytest.mark.parametrize("name, args", [
    ("CHR", (-1,)),
    ("LEFT", ("abc", "x")),
    ("LEFT", ("abc",)),
    ("MID", ("abc", 1, 2, 3)),
])
def test_string_function_errors(name, args):
    with pytest.raises(BasicError):
        call_builtin(name, *args)


@pytest.mark.parametrize("args, expected", [
    ((1234.5, "#,##0.00"), "1,234.50"),
    (("abc",), "abc"),
    ((None,), ""),
    (("John", "Hello @!"), "Hello John!"),
])
def test_format_function(args, expected):
    assert call_builtin("FORMAT", *args, ctx=FakeContext()) == expected


def test_format_uses_the_bot_language():
    ctx = FakeContext("pt-BR")
    assert call_builtin("FORMAT", 1234.5, "currency", ctx=ctx) == "R$ 1.234,50"
    assert call_builtin("FORMAT", "2024-03-05", "d 'de' MMMM", ctx=ctx) == "5 de março"
