"""JSON, serialisers, GUID, USERNAME and error built-ins (DIALECT §10.1, §10.8, §6.4, §6.5)."""
import random
import re
from datetime import datetime

import pytest

from botbasic.keywords.functions import call_builtin, default_function_registry
from botbasic.runtime.context import ExecutionContext, SessionData
from botbasic.runtime.datetimes import DateTime
from botbasic.runtime.errors import BasicError
from botbasic.runtime.values import BasicObject, RowSet


class FakeError:
    def __init__(self, active=False, message="", number=0):
        self.active, self.message, self.number = active, message, number


class FakeContext:
    """Error state and the user name, as the VM provides them."""

    def __init__(self, error=None, username="Ana Souza"):
        self.error = error or FakeError()
        self.username = username

    def clear_error(self):
        self.error = FakeError()


def obj(**fields):
    return BasicObject(fields)


# -- JSON -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, expected", [
    ("TOJSON", obj(a=1, b=[True, None]), '{"a":1,"b":[true,null]}'),
    ("TOJSON", "text", '"text"'),
    ("TOJSON", 2.0, "2"),
    ("TOJSON", DateTime(datetime(2024, 3, 5, 14, 7, 9)), '"2024-03-05T14:07:09"'),
    ("JSON", obj(nome="João"), '{"nome":"João"}'),
    ("JSON", [1, 2], "[1,2]"),
    ("JSON", None, "null"),
])
def test_to_json(name, value, expected):
    assert call_builtin(name, value) == expected


@pytest.mark.parametrize("name, text, expected", [
    ("JSON", '{"a": {"b": 2}}', {"a": {"b": 2}}),
    ("PARSE_JSON", "[1, 2]", [1, 2]),
    ("PARSE_JSON", '```json\n{"x": 1}\n```', {"x": 1}),
    ("PARSE_JSON", 5, 5),
])
def test_parse_json(name, text, expected):
    assert call_builtin(name, text) == expected


def test_parsed_objects_have_case_insensitive_members():
    parsed = call_builtin("JSON", '{"Name": "x"}')
    assert isinstance(parsed, BasicObject) and parsed.lookup("name") == "x"


@pytest.mark.parametrize("name", ["JSON", "PARSE_JSON"])
def test_invalid_json_is_an_error(name):
    with pytest.raises(BasicError):
        call_builtin(name, "{not json")


# -- YAML, CSV, XML ---------------------------------------------------------------------

PRODUCTS = RowSet([obj(id=1, name="Widget", price=9.5, tags=["a", "b"]),
                   obj(id=2, name="Gadget: Pro", price=12, tags=[])])


@pytest.mark.parametrize("value, expected", [
    (PRODUCTS, "- id: 1\n  name: Widget\n  price: 9.5\n  tags:\n    - a\n    - b\n"
               "- id: 2\n  name: \"Gadget: Pro\"\n  price: 12\n  tags: []"),
    (obj(a=obj(b=obj(c=1))), "a:\n  b:\n    c: 1"),
    (obj(on="yes", n="42", empty="", none=None, ok=True), '"on": "yes"\nn: "42"\nempty: ""\n'
                                                          "none: null\nok: true"),
    ([[1, 2], [3]], "- - 1\n  - 2\n- - 3"),
    (obj(text="line1\nline2", lead=" x", hash="a #b"),
     'text: "line1\\nline2"\nlead: " x"\nhash: "a #b"'),
    ([], "[]"),
    (obj(), "{}"),
    ("plain", "plain"),
    ('[{"id": 1}]', "- id: 1"),
    (obj(when=DateTime(datetime(2024, 3, 5), True)), "when: 2024-03-05"),
])
def test_toyaml(value, expected):
    assert call_builtin("TOYAML", value) == expected


@pytest.mark.parametrize("value, expected", [
    ([obj(a=1, b="x"), obj(b="y, z", c=None)], 'a,b,c\n1,x,\n,"y, z",\n'),
    (obj(name="Ana", age=31), "name,age\nAna,31\n"),
    ([[1, 2], [3, 'say "hi"']], '1,2\n3,"say ""hi"""\n'),
    (["a", "b"], "a\nb\n"),
    ([], ""),
    (None, ""),
    ([obj(when=DateTime(datetime(2024, 3, 5, 9, 0)))], "when\n2024-03-05T09:00:00\n"),
])
def test_csv(value, expected):
    assert call_builtin("CSV", value) == expected


@pytest.mark.parametrize("value, expected", [
    (obj(name="Ana", age=31), "<root><name>Ana</name><age>31</age></root>"),
    (obj(items=[1, 2]), "<root><items><item>1</item><item>2</item></items></root>"),
    (obj(note="a < b & c"), "<root><note>a &lt; b &amp; c</note></root>"),
    (obj(**{"first name": "x", "1st": "y"}), "<root><first_name>x</first_name><_1st>y</_1st></root>"),
    (obj(nothing=None, flag=False), "<root><nothing></nothing><flag>false</flag></root>"),
    ("text", "<root>text</root>"),
])
def test_xml(value, expected):
    assert call_builtin("XML", value) == expected


# -- GUID and USERNAME ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["GUID", "UUID"])
def test_guid_is_a_lower_case_uuid4(name):
    value = call_builtin(name)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value)
    assert value != call_builtin(name)


@pytest.mark.parametrize("username", ["Ana Souza", None])
def test_username_comes_from_the_context(username):
    assert call_builtin("USERNAME", ctx=FakeContext(username=username)) == username


# -- errors -----------------------------------------------------------------------------

RECORDED = FakeError(active=True, message="division by zero", number=11)


@pytest.mark.parametrize("name, expected_when_recorded, expected_when_clear", [
    ("ERROR", True, False),
    ("IS_ERROR", True, False),
    ("ISERROR", True, False),
    ("ERR", 11, 0),
    ("ERR_NUMBER", 11, 0),
    ("ERR_DESCRIPTION", "division by zero", ""),
    ("GET_ERROR_MESSAGE", "division by zero", ""),
])
def test_error_inspection(name, expected_when_recorded, expected_when_clear):
    assert call_builtin(name, ctx=FakeContext(RECORDED)) == expected_when_recorded
    assert call_builtin(name, ctx=FakeContext()) == expected_when_clear


def test_err_clear_forgets_the_error():
    ctx = FakeContext(FakeError(active=True, message="boom", number=1))
    call_builtin("ERR_CLEAR", ctx=ctx)
    assert call_builtin("ERROR", ctx=ctx) is False


@pytest.mark.parametrize("name", ["THROW", "RAISE"])
def test_throw_raises_with_the_message(name):
    with pytest.raises(BasicError, match="payment failed") as caught:
        call_builtin(name, "payment failed")
    assert caught.value.number == 1


def test_assert_passes_on_truthy_and_raises_on_falsy():
    assert call_builtin("ASSERT", 1, "never") is True
    with pytest.raises(BasicError, match="amount required"):
        call_builtin("ASSERT", "", "amount required")
    with pytest.raises(BasicError, match="assertion failed"):
        call_builtin("ASSERT", None)


# -- the registry as a whole ------------------------------------------------------------

SECTION_10_NAMES = """
LEN LENGTH LEFT RIGHT MID INSTR TRIM LTRIM RTRIM UCASE UPPER LCASE LOWER LOWERCASE CAPITALIZE
REPLACE SPLIT JOIN CONTAINS STARTSWITH ENDSWITH EXTRACT_BETWEEN EXTRACT_BEFORE EXTRACT_AFTER
ASC CHR STR CSTR FORMAT TOJSON JSON PARSE_JSON TOYAML CSV XML
ABS ROUND INT FIX FLOOR CEIL CEILING MAX MIN MOD SGN SQR SQRT POW POWER LOG LOG10 EXP
SIN COS TAN ASIN ACOS ATAN ATN PI RND RANDOM SUM AVG AVERAGE COUNT SIZE
NOW TODAY TIME NOW_UTC NOW_STR TODAY_STR TIME_STR TIMESTAMP UNIX_TIMESTAMP TIMESTAMP_MS
YEAR MONTH DAY HOUR MINUTE SECOND WEEKDAY DATEADD DATEDIFF DATEVALUE CDATE TIMEVALUE EOMONTH
FORMAT_DATE ISDATE IS_DATE DAYS_BETWEEN HOURS_BETWEEN SECONDS_BETWEEN ADD_DAYS
VAL TO_NUMBER CINT CDBL CBOOL ISNULL ISEMPTY ISNUMERIC IS_NUMERIC ISNUMBER ISARRAY ISOBJECT
ISSTRING ISBOOL TYPEOF TYPENAME NVL IFNULL COALESCE IIF IF CHOOSE
UBOUND LBOUND ARRAY SORT SORT_ASC SORT_DESC UNIQUE DISTINCT INCLUDES HAS IN_ARRAY INDEX_OF
LAST_INDEX_OF PUSH POP SHIFT UNSHIFT PREPEND REVERSE SLICE SUBARRAY TAKE DROP HEAD TAIL INIT
CHUNK CONCAT FLATTEN RANGE FIRST LAST MAP GUID UUID USERNAME
ERROR IS_ERROR ISERROR ERR ERR_NUMBER ERR_DESCRIPTION GET_ERROR_MESSAGE ERR_CLEAR THROW RAISE
ASSERT
""".split()


@pytest.fixture(scope="module")
def registry():
    return default_function_registry()


@pytest.mark.parametrize("name", SECTION_10_NAMES)
def test_every_section_10_function_is_registered_and_documented(registry, name):
    spec = registry.function_spec(name)
    assert spec is not None and spec.handler.__doc__


def test_bare_names_are_those_of_section_10_10(registry):
    bare = {name for name, spec in registry.functions.items() if spec.bare}
    assert bare == {"now", "today", "time", "pi", "rnd", "guid", "uuid", "error", "err",
                    "username", "hour"}


@pytest.mark.parametrize("name", ["IS_ACTIVE", "DAYS", "HOURS", "FORMAT_TIME", "FILTER",
                                  "GET_NEXT_AVAILABLE_AGENT", "EXCEL"])
def test_functions_nobody_defines_stay_unknown(registry, name):
    assert registry.function_spec(name) is None
    with pytest.raises(BasicError, match="unknown function"):
        call_builtin(name, 1)


@pytest.mark.parametrize("name, args", [("LEFT", ("a",)), ("NOW", (1,)), ("NVL", (1, 2, 3))])
def test_wrong_argument_counts_are_errors(name, args):
    with pytest.raises(BasicError, match="wrong number of arguments"):
        call_builtin(name, *args, ctx=FakeContext())


def test_the_execution_context_provides_what_functions_need(registry):
    ctx = ExecutionContext(registry, clock=lambda: datetime(2024, 3, 5, 14, 7, 9),
                           rng=random.Random(1), username="Ana",
                           session=SessionData(language="pt"))
    assert str(call_builtin("TODAY", ctx=ctx)) == "2024-03-05"
    assert call_builtin("FORMAT", call_builtin("NOW", ctx=ctx), "MMMM", ctx=ctx) == "março"
    assert 1 <= call_builtin("RANDOM", 1, 6, ctx=ctx) <= 6
    assert call_builtin("USERNAME", ctx=ctx) == "Ana"
    ctx.error.record("boom", 5)
    assert (call_builtin("ERROR", ctx=ctx), call_builtin("ERR", ctx=ctx)) == (True, 5)
    call_builtin("ERR_CLEAR", ctx=ctx)
    assert call_builtin("ERR_DESCRIPTION", ctx=ctx) == ""
