"""Tool schemas from PARAM/DESCRIPTION and argument binding (DIALECT §8.1–§8.5)."""
import json

import pytest

from botbasic.interpreter.nodes import Literal, Name, Param, Span
from botbasic.interpreter.tools import (
    bind_arguments,
    mcp_schema,
    original_tool_name,
    safe_tool_name,
    tool_schema,
)

SPAN = Span("t.bas", 1, 1)


def param(name, type_="STRING", **fields):
    """A PARAM node as the parser would build it (``like`` implies ``has_like``)."""
    if "like" in fields:
        fields.setdefault("has_like", True)
    return Param(SPAN, name, type_, **fields)


CREATE_TICKET_PARAMS = [
    param("description", like="My computer won't turn on",
          description="Description of the IT issue or problem"),
    param("category", like="hardware",
          description="Category: hardware, software, network, email, account, other", optional=True),
    param("priority", like="medium",
          description="Priority level: critical, high, medium, low", optional=True),
]
CREATE_TICKET_DESCRIPTION = "Create a new IT support ticket with issue details and priority assignment"
CREATE_TICKET_PROPERTIES = {
    "description": {"type": "string", "description": "Description of the IT issue or problem",
                    "example": "My computer won't turn on"},
    "category": {"type": "string",
                 "description": "Category: hardware, software, network, email, account, other",
                 "example": "hardware"},
    "priority": {"type": "string", "description": "Priority level: critical, high, medium, low",
                 "example": "medium"},
}


# ---------------------------------------------------------------- §8.4 golden


def test_create_ticket_openai_schema_is_exactly_the_spec():
    schema = tool_schema("create-ticket", CREATE_TICKET_PARAMS, CREATE_TICKET_DESCRIPTION)
    assert schema == {
        "type": "function",
        "function": {
            "name": "create-ticket",
            "description": CREATE_TICKET_DESCRIPTION,
            "parameters": {
                "type": "object",
                "properties": CREATE_TICKET_PROPERTIES,
                "required": ["description"],
            },
        },
    }
    # Key order matters for humans reading the JSON: the same as in the spec.
    properties = schema["function"]["parameters"]["properties"]
    assert list(properties) == ["description", "category", "priority"]
    assert list(properties["description"]) == ["type", "description", "example"]


def test_create_ticket_mcp_schema_is_exactly_the_spec():
    schema = mcp_schema("create-ticket", CREATE_TICKET_PARAMS, CREATE_TICKET_DESCRIPTION)
    assert schema == {
        "name": "create-ticket",
        "description": CREATE_TICKET_DESCRIPTION,
        "inputSchema": {"type": "object", "properties": CREATE_TICKET_PROPERTIES,
                        "required": ["description"]},
    }
    json.dumps(schema)  # serialisable as written to <stem>.mcp.json


def test_script_without_params_or_description():
    assert tool_schema("job", [], None)["function"] == {
        "name": "job", "description": "",
        "parameters": {"type": "object", "properties": {}, "required": []},
    }
    assert mcp_schema("job", [], None)["inputSchema"] == {
        "type": "object", "properties": {}, "required": []}


# ---------------------------------------------------------------- type mapping


@pytest.mark.parametrize(
    "basic_type, fragment",
    [
        *[(word, {"type": "string"}) for word in (
            "STRING", "TEXT", "NAME", "PHONE", "MOBILE", "QRCODE", "FILE", "IMAGE", "ZIPCODE",
            "HOUR", "TIME", "SOMETHINGELSE", "text")],
        ("EMAIL", {"type": "string", "format": "email"}),
        ("URL", {"type": "string", "format": "uri"}),
        ("DATE", {"type": "string", "format": "date"}),
        ("date", {"type": "string", "format": "date"}),
        ("DATETIME", {"type": "string", "format": "date-time"}),
        *[(word, {"type": "integer"}) for word in ("INTEGER", "INT", "LONG")],
        *[(word, {"type": "number"}) for word in (
            "NUMBER", "number", "FLOAT", "DOUBLE", "DECIMAL", "MONEY", "CURRENCY")],
        *[(word, {"type": "boolean"}) for word in ("BOOLEAN", "BOOL")],
        *[(word, {"type": "array", "items": {}}) for word in ("ARRAY", "LIST")],
        *[(word, {"type": "object"}) for word in ("OBJECT", "MAP")],
    ],
)
def test_type_mapping(basic_type, fragment):
    properties = mcp_schema("t", [param("x", basic_type)], None)["inputSchema"]["properties"]
    assert properties == {"x": fragment}


def test_array_items_are_not_shared_between_schemas():
    first = mcp_schema("t", [param("a", "ARRAY")], None)
    first["inputSchema"]["properties"]["a"]["items"]["type"] = "string"
    second = mcp_schema("t", [param("a", "ARRAY")], None)
    assert second["inputSchema"]["properties"]["a"]["items"] == {}


# ---------------------------------------------------------------- LIKE, OPTIONAL, DEFAULT, ENUM


@pytest.mark.parametrize(
    "like, example",
    [
        ("text", "text"), (12312312, "12312312"), (1.5, "1.5"), (False, "false"), (True, "true"),
        ("{name: 'John'}", "{name: 'John'}"), ("", ""), (Literal(SPAN, 7), "7"),
    ],
)
def test_like_example_is_always_a_string(like, example):
    prop = mcp_schema("t", [param("x", "NUMBER", like=like)], None)["inputSchema"]["properties"]["x"]
    assert prop == {"type": "number", "example": example}


def test_no_example_without_like():
    prop = mcp_schema("t", [param("x", like=None, has_like=False)], None)["inputSchema"]["properties"]["x"]
    assert "example" not in prop


@pytest.mark.parametrize(
    "fields, required",
    [
        ({}, True),
        ({"optional": True}, False),
        ({"default": Literal(SPAN, "medium")}, False),
        ({"default": Name(SPAN, "x")}, False),
    ],
)
def test_required_list(fields, required):
    schema = mcp_schema("t", [param("a"), param("b", **fields), param("c")], None)
    expected = ["a", "b", "c"] if required else ["a", "c"]
    assert schema["inputSchema"]["required"] == expected


def test_enum_and_description():
    status = param("Status", "STRING", description="Ticket status", enum=("open", "closed"))
    level = param("level", "INTEGER", enum=(Literal(SPAN, 1), Literal(SPAN, 2)))
    properties = mcp_schema("t", [status, level], "d")["inputSchema"]["properties"]
    assert properties == {
        "Status": {"type": "string", "description": "Ticket status", "enum": ["open", "closed"]},
        "level": {"type": "integer", "enum": [1, 2]},
    }


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name, safe",
    [
        ("create-ticket", "create-ticket"),
        ("send_mail", "send_mail"),
        ("relatório mensal", "relat_rio_mensal"),
        ("a.b", "a_b"),
        ("x" * 70, "x" * 64),
        ("", "_"),
    ],
)
def test_safe_tool_name(name, safe):
    assert safe_tool_name(name) == safe


def test_openai_schema_uses_the_safe_name_and_mcp_the_real_one():
    assert tool_schema("a.b", [], None)["function"]["name"] == "a_b"
    assert mcp_schema("a.b", [], None)["name"] == "a.b"


@pytest.mark.parametrize(
    "called, original",
    [("a_b", "a.b"), ("CREATE-TICKET", "create-ticket"), ("a.b", "a.b"), ("nope", None)],
)
def test_original_tool_name(called, original):
    assert original_tool_name(called, ["create-ticket", "a.b"]) == original


# ---------------------------------------------------------------- binding


BINDING_PARAMS = [
    param("Count", "INTEGER"),
    param("price", "NUMBER"),
    param("ratio", "FLOAT"),
    param("urgent", "BOOLEAN"),
    param("title", "STRING"),
    param("Priority", "STRING", default=Literal(SPAN, "medium")),
    param("limit", "INTEGER", default=Literal(SPAN, 10)),
    param("computed", "STRING", default=Name(SPAN, "other")),
    param("Name$", "STRING"),
]


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ({}, {"count": None, "price": None, "ratio": None, "urgent": None, "title": None,
              "priority": "medium", "limit": 10, "computed": None, "name": None}),
        ({"count": "5", "PRICE": "9.90", "Ratio": "2", "URGENT": "True", "title": 42,
          "priority": "high", "limit": 3, "computed": "x", "name$": "Ann"},
         {"count": 5, "price": 9.9, "ratio": 2, "urgent": True, "title": 42,
          "priority": "high", "limit": 3, "computed": "x", "name": "Ann"}),
        ({"count": "five", "price": "cheap", "urgent": "yes", "limit": None},
         {"count": "five", "price": "cheap", "ratio": None, "urgent": "yes", "title": None,
          "priority": "medium", "limit": 10, "computed": None, "name": None}),
        ({"count": 7, "price": 3, "urgent": False, "title": "5", "extra": "ignored"},
         {"count": 7, "price": 3, "ratio": None, "urgent": False, "title": "5",
          "priority": "medium", "limit": 10, "computed": None, "name": None}),
        ({"count": " -2 ", "price": "1e3", "urgent": "false"},
         {"count": -2, "price": 1000.0, "ratio": None, "urgent": False, "title": None,
          "priority": "medium", "limit": 10, "computed": None, "name": None}),
    ],
)
def test_bind_arguments(arguments, expected):
    bound = bind_arguments(BINDING_PARAMS, arguments)
    assert bound == expected
    assert {key: type(value) for key, value in bound.items()} == {
        key: type(value) for key, value in expected.items()}


def test_bind_keeps_json_values():
    params = [param("items", "ARRAY"), param("data", "OBJECT"), param("when", "DATE")]
    arguments = {"items": [1, 2], "data": {"a": 1}, "when": "2025-01-31"}
    assert bind_arguments(params, arguments) == arguments


def test_bind_without_arguments():
    assert bind_arguments([param("a")], None) == {"a": None}


# ---------------------------------------------------------------- ADD TOOL and friends (§9.5)

from vm_support import run_script  # noqa: E402

LOOKUP_SOURCE = 'PARAM id AS INTEGER\nDESCRIPTION "Find a record"\nTALK id'


def session_tools(source: str, scripts=None):
    transcript = run_script(source, scripts=scripts if scripts is not None else {"lookup": LOOKUP_SOURCE})
    assert transcript.error is None, transcript.error
    return transcript


@pytest.mark.parametrize("source, tools", [
    ('ADD TOOL "lookup"', ["lookup"]),
    ('USE TOOL "Lookup.bas"', ["lookup"]),
    ('ADD_TOOL ".gbdialog/lookup.bas"', ["lookup"]),
    ('ADD TOOL "lookup" AS MCP', ["lookup"]),
    ('ADD TOOL "lookup"\nADD TOOL "LOOKUP"\nUSE TOOL "lookup"', ["lookup"]),
    ('ADD TOOL "lookup"\nx = REMOVE TOOL "lookup"', []),
    ('ADD TOOL "lookup"\nx = CLEAR TOOLS', []),
])
def test_session_tools(source, tools):
    assert session_tools(source).ctx.session.tools == tools


def test_add_tool_returns_a_status_and_lists():
    transcript = session_tools('a = ADD TOOL "lookup"\nTALK a\nl = LIST TOOLS\nTALK l\n'
                               'r = REMOVE TOOL "nothing"\nTALK r\nc = CLEAR TOOLS\nTALK c')
    assert transcript.messages == ["Tool 'lookup' is now available in this conversation",
                                   '["lookup"]', "Tool 'nothing' was not active in this conversation",
                                   "1 tool(s) removed from this conversation"]


def test_missing_tools_are_warnings_and_the_script_goes_on():
    transcript = session_tools('ADD TOOL "nowhere"\nr = USE TOOL "elsewhere.bas"\nTALK r\n'
                               'TALK "still here"')
    assert transcript.ctx.session.tools == []
    assert transcript.messages == ["Tool 'elsewhere.bas' is not available", "still here"]
    assert [text for level, text in transcript.logs if level == "WARNING"] == [
        "main.bas:1: ADD TOOL: there is no tool 'nowhere' (or it does not compile); skipped",
        "main.bas:2: ADD TOOL: there is no tool 'elsewhere.bas' (or it does not compile); skipped"]
