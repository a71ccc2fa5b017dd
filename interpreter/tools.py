"""Tool definitions from a script's declarations (DIALECT §8.1–§8.5).

A script's ``PARAM`` lines and its ``DESCRIPTION`` become the JSON schema the LLM sees
(OpenAI function form) and the one the bot's MCP endpoint serves; when the LLM calls
the tool, :func:`bind_arguments` turns its JSON arguments into script variables.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional, Sequence

from . import nodes

_MAX_TOOL_NAME = 64

# BASIC ``AS`` type -> JSON schema fragment (§8.2); unknown words are strings.
_TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    **{word: {"type": "string"} for word in (
        "STRING", "TEXT", "NAME", "PHONE", "MOBILE", "QRCODE", "FILE", "IMAGE",
        "ZIPCODE", "HOUR", "TIME")},
    "EMAIL": {"type": "string", "format": "email"},
    "URL": {"type": "string", "format": "uri"},
    "DATE": {"type": "string", "format": "date"},
    "DATETIME": {"type": "string", "format": "date-time"},
    **{word: {"type": "integer"} for word in ("INTEGER", "INT", "LONG")},
    **{word: {"type": "number"} for word in (
        "NUMBER", "FLOAT", "DOUBLE", "DECIMAL", "MONEY", "CURRENCY")},
    **{word: {"type": "boolean"} for word in ("BOOLEAN", "BOOL")},
    **{word: {"type": "array", "items": {}} for word in ("ARRAY", "LIST")},
    **{word: {"type": "object"} for word in ("OBJECT", "MAP")},
}


def json_type_schema(basic_type: str) -> dict[str, Any]:
    """The JSON-schema fragment (``type`` and extras) of a BASIC ``AS`` type word."""
    fragment = _TYPE_SCHEMAS.get(str(basic_type).strip().upper(), {"type": "string"})
    return {key: (dict(value) if isinstance(value, dict) else value) for key, value in fragment.items()}


# ---------------------------------------------------------------- schemas


def tool_schema(
    name: str, params: Sequence[nodes.Param], description: Optional[str]
) -> dict[str, Any]:
    """The OpenAI-compatible function definition of a tool (§8.4).

    The function name is made provider-safe with :func:`safe_tool_name`.
    """
    return {
        "type": "function",
        "function": {
            "name": safe_tool_name(name),
            "description": description or "",
            "parameters": parameters_schema(params),
        },
    }


def mcp_schema(
    name: str, params: Sequence[nodes.Param], description: Optional[str]
) -> dict[str, Any]:
    """The MCP tool definition of a tool (§8.4), with the standard ``inputSchema`` key."""
    return {
        "name": name,
        "description": description or "",
        "inputSchema": parameters_schema(params),
    }


def parameters_schema(params: Sequence[nodes.Param]) -> dict[str, Any]:
    """The object schema of a tool's arguments: declaration order, required params listed."""
    return {
        "type": "object",
        "properties": {param.name: property_schema(param) for param in params},
        "required": [param.name for param in params if is_required(param)],
    }


def property_schema(param: nodes.Param) -> dict[str, Any]:
    """The schema of one parameter: type (and format/items), description, example, enum."""
    schema = json_type_schema(param.type)
    if param.description is not None:
        schema["description"] = param.description
    if param.has_like:
        schema["example"] = _example_text(_literal_value(param.like))
    if param.enum:
        schema["enum"] = [_literal_value(value) for value in param.enum]
    return schema


def is_required(param: nodes.Param) -> bool:
    """A parameter is required unless OPTIONAL or given a DEFAULT (which implies OPTIONAL)."""
    return not param.optional and param.default is None


def _example_text(value: Any) -> str:
    """LIKE examples are always strings in the schema, spelled as the script would."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _literal_value(value: Any) -> Any:
    """The Python value of a declaration part that may arrive as a Literal node."""
    return value.value if isinstance(value, nodes.Literal) else value


# ---------------------------------------------------------------- names


def safe_tool_name(name: str) -> str:
    """A function name providers accept (``^[A-Za-z0-9_-]{1,64}$``): others become ``_``."""
    safe = re.sub(r"[^A-Za-z0-9_\-]", "_", name)[:_MAX_TOOL_NAME]
    return safe or "_"


def original_tool_name(called: str, names: Iterable[str]) -> Optional[str]:
    """Map a name the LLM called back to the tool name (case-insensitive, safe form allowed)."""
    wanted = called.casefold()
    for name in names:
        if wanted in (name.casefold(), safe_tool_name(name).casefold()):
            return name
    return None


# ---------------------------------------------------------------- binding

_INTEGER_TYPES = frozenset({"INTEGER", "INT", "LONG"})
_NUMBER_TYPES = frozenset({"NUMBER", "FLOAT", "DOUBLE", "DECIMAL", "MONEY", "CURRENCY"})
_BOOLEAN_TYPES = frozenset({"BOOLEAN", "BOOL"})
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def bind_arguments(
    params: Sequence[nodes.Param], arguments: Optional[dict[str, Any]]
) -> dict[str, Any]:
    """Script variables for a tool call (§8.5): one per PARAM, keyed by lower-case name.

    Argument names match case-insensitively; string arguments of INTEGER/NUMBER/BOOLEAN
    params are converted when they parse; a missing (or null) argument takes the
    literal DEFAULT, else None. Undeclared arguments are ignored.
    """
    given = {str(key).casefold(): value for key, value in (arguments or {}).items()}
    bound: dict[str, Any] = {}
    for param in params:
        value = given.get(param.name.casefold())
        variable = param.name.rstrip("$").lower()
        bound[variable] = default_value(param) if value is None else convert_argument(param.type, value)
    return bound


def default_value(param: nodes.Param) -> Any:
    """The value of a literal DEFAULT; None without one.

    Non-literal defaults need the evaluator, so they are left to the caller.
    """
    return param.default.value if isinstance(param.default, nodes.Literal) else None


def convert_argument(basic_type: str, value: Any) -> Any:
    """A JSON argument converted for its PARAM type when it is a string that parses."""
    if not isinstance(value, str):
        return value
    kind = str(basic_type).strip().upper()
    if kind in _INTEGER_TYPES and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    if kind in _NUMBER_TYPES and _NUMBER_TEXT.fullmatch(value):
        return _number(value)
    if kind in _BOOLEAN_TYPES and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _number(text: str) -> Any:
    """Whole numbers stay integers (``"5"`` -> 5), others become floats."""
    return int(text) if _INTEGER_TEXT.fullmatch(text) else float(text)
