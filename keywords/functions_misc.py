"""JSON and data serialisers, GUID, USERNAME and error functions (DIALECT §10.1, §10.8, §6.4, §6.5).

TOYAML, CSV and XML are small emitters of our own: no YAML or XML library is needed for
the plain data (objects, arrays, scalars) that scripts serialise.
"""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
from xml.sax.saxutils import escape

from ..runtime.datetimes import DateTime
from ..runtime.errors import BasicError
from ..runtime.values import FileValue, from_json, json_view, parse_number, to_json, to_str, truthy
from .registry import function


# -- JSON -------------------------------------------------------------------------------

@function("TOJSON", min_args=1, max_args=1)
def tojson(value):
    """Compact JSON text of any value."""
    return to_json(value)


@function("JSON", min_args=1, max_args=1)
def json_(value):
    """JSON(text) parses the text; JSON(anything else) is its JSON text."""
    return from_json(value) if type(value) is str else to_json(value)


@function("PARSE_JSON", min_args=1, max_args=1)
def parse_json(text):
    """Parse JSON text (invalid text is a runtime error); other values pass through."""
    return from_json(text)


# -- YAML -------------------------------------------------------------------------------

_YAML_WORDS = frozenset(("true", "false", "yes", "no", "on", "off", "null", "~", ""))
_YAML_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


@function("TOYAML", min_args=1, max_args=1)
def toyaml(value):
    """YAML text of a value (block style, two-space indent, no trailing newline)."""
    return "\n".join(_yaml_lines(json_view(value), 0))


def _yaml_scalar(value) -> str:
    """A scalar as YAML: strings quoted only when plain text would be misread."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if isinstance(value, DateTime):
        return value.to_iso()
    if type(value) in (int, float):
        return to_str(value)
    return _yaml_string(to_str(value))


def _yaml_string(text: str) -> str:
    if _needs_quotes(text):
        return json.dumps(text, ensure_ascii=False)  # a JSON string is valid YAML
    return text


def _needs_quotes(text: str) -> bool:
    """Text that YAML would read as another type, or that holds YAML syntax."""
    if text.lower() in _YAML_WORDS or parse_number(text) is not None:
        return True
    if text != text.strip() or text[0] in _YAML_INDICATORS or text.endswith(":"):
        return True
    return ": " in text or " #" in text or any(ord(ch) < 32 for ch in text)


def _yaml_lines(value, indent: int) -> list[str]:
    if isinstance(value, FileValue):
        value = value.to_dict()
    pad = " " * indent
    if isinstance(value, dict):
        return _yaml_mapping(value, indent) if value else [pad + "{}"]
    if isinstance(value, list):
        return _yaml_sequence(value, indent) if value else [pad + "[]"]
    return [pad + _yaml_scalar(value)]


def _is_block(value) -> bool:
    """Non-empty containers are written on their own indented lines."""
    return isinstance(value, FileValue) or (isinstance(value, (dict, list)) and bool(value))


def _yaml_mapping(mapping: dict, indent: int) -> list[str]:
    lines = []
    for key, item in mapping.items():
        head = " " * indent + _yaml_string(to_str(key)) + ":"
        if _is_block(item):
            lines.append(head)
            lines.extend(_yaml_lines(item, indent + 2))
        else:
            lines.append(head + " " + _yaml_lines(item, 0)[0])
    return lines


def _yaml_sequence(items: list, indent: int) -> list[str]:
    lines = []
    for item in items:
        nested = _yaml_lines(item, indent + 2)
        # "- " takes the place of the nested block's own indent on its first line.
        nested[0] = " " * indent + "- " + nested[0][indent + 2:]
        lines.extend(nested)
    return lines


# -- CSV --------------------------------------------------------------------------------

@function("CSV", min_args=1, max_args=1)
def csv_(rows):
    """CSV text: objects give a header (union of keys, first-seen order) and rows."""
    rows = json_view(rows)
    if rows is None:
        return ""
    rows = rows if isinstance(rows, list) else [rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(_csv_table(rows))
    return buffer.getvalue()


def _csv_table(rows: list) -> list[list[str]]:
    if rows and all(isinstance(row, dict) for row in rows):
        header = list(dict.fromkeys(key for row in rows for key in row))
        return [header] + [[_csv_cell(row.get(key)) for key in header] for row in rows]
    return [[_csv_cell(cell) for cell in row] if isinstance(row, list) else [_csv_cell(row)]
            for row in rows]


def _csv_cell(value) -> str:
    return value.to_iso() if isinstance(value, DateTime) else to_str(value)


# -- XML --------------------------------------------------------------------------------

_XML_BAD_NAME_CHARS = re.compile(r"[^\w.-]")


@function("XML", min_args=1, max_args=1)
def xml(value):
    """Simple XML: ``<root><key>value</key>...</root>``; array elements are ``<item>``."""
    return _xml_element("root", json_view(value))


def _xml_name(key) -> str:
    """A key made into a valid element name (invalid characters become ``_``)."""
    name = _XML_BAD_NAME_CHARS.sub("_", to_str(key)) or "_"
    return "_" + name if not (name[0].isalpha() or name[0] == "_") else name


def _xml_element(name: str, value) -> str:
    return f"<{name}>{_xml_content(value)}</{name}>"


def _xml_content(value) -> str:
    if isinstance(value, FileValue):
        value = value.to_dict()
    if isinstance(value, dict):
        return "".join(_xml_element(_xml_name(k), v) for k, v in value.items())
    if isinstance(value, list):
        return "".join(_xml_element("item", v) for v in value)
    if isinstance(value, DateTime):
        return value.to_iso()
    return escape(to_str(value))


# -- identity ---------------------------------------------------------------------------

@function("GUID", "UUID", max_args=0, bare=True)
def guid():
    """A new random UUID v4, lower case."""
    return str(uuid.uuid4())


@function("USERNAME", max_args=0, needs_ctx=True, bare=True)
def username(ctx):
    """The current user's display name (NULL when unknown)."""
    return ctx.username


# -- error inspection (§6.4) and raising (§6.5) -----------------------------------------

def _error_active(ctx) -> bool:
    return bool(ctx.error.active)


@function("ERROR", max_args=0, needs_ctx=True, bare=True)
def error(ctx):
    """TRUE when an error is recorded (ON ERROR RESUME NEXT)."""
    return _error_active(ctx)


@function("IS_ERROR", "ISERROR", max_args=0, needs_ctx=True)
def is_error(ctx):
    """Same as ERROR."""
    return _error_active(ctx)


@function("ERR", max_args=0, needs_ctx=True, bare=True)
def err(ctx):
    """The recorded error's number, 0 when none."""
    return ctx.error.number if _error_active(ctx) else 0


@function("ERR_NUMBER", max_args=0, needs_ctx=True)
def err_number(ctx):
    """Same as ERR."""
    return err(ctx)


@function("ERR_DESCRIPTION", "GET_ERROR_MESSAGE", max_args=0, needs_ctx=True)
def err_description(ctx):
    """The recorded error's text, ``""`` when none."""
    return ctx.error.message if _error_active(ctx) else ""


@function("ERR_CLEAR", max_args=0, needs_ctx=True)
def err_clear(ctx):
    """Forget the recorded error."""
    ctx.clear_error()


@function("THROW", "RAISE", max_args=1)
def throw(message=None):
    """Raise a runtime error with this text."""
    raise BasicError(to_str(message) or "error raised by script")


@function("ASSERT", min_args=1, max_args=2)
def assert_(condition, message=None):
    """Raise a runtime error with ``message`` when the condition is falsy."""
    if not truthy(condition):
        raise BasicError(to_str(message) or "assertion failed")
    return True
