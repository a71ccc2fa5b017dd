"""``TABLE name ... END TABLE`` blocks (DIALECT §9.6.12): parsed from their raw lines.

Field lines come in three styles: ``name type[(len[,prec])] [KEY] [REFERENCES t]``,
``FIELD name AS type`` and SQL-style lines (``id UUID PRIMARY KEY DEFAULT ...``). The
declaration is static; the data layer creates or migrates the table from it.
"""
from __future__ import annotations

import re

from . import nodes as n
from .diagnostics import DiagnosticSink
from .literals import RawBlock

_HEADER = re.compile(
    r"""(?ix)TABLE\s+"?(?P<name>[\w.]+)"?
        (?:\s+ON\s+"?(?P<conn>[\w.-]+)"?)?
        (?:\s+READ\s+BY\s+"(?P<read>[^"]*)")?
        (?:\s+WRITE\s+BY\s+"(?P<write>[^"]*)")?\s*$""")
_FIELD_AS = re.compile(r"(?i)FIELD\s+(\w+)\*?\s+AS\s+(.+)$")
_FIELD = re.compile(r"(\w+)\*?\s+(.+)$")
_CONSTRAINT = re.compile(r"(?i)(\(|UNIQUE\b|PRIMARY\s+KEY\b|CONSTRAINT\b|CHECK\b|FOREIGN\b|INDEX\b)")
_REFERENCES = re.compile(r"(?i)\bREFERENCES\s+(\w+)")


def parse_table(raw: RawBlock, span: n.Span, sink: DiagnosticSink) -> n.TableDef:
    """The TableDef of one captured block; malformed lines are reported, not fatal."""
    lines = raw.text.split("\n")
    header = _HEADER.match(lines[0].strip())
    if not header:
        sink.at(span, "expected TABLE name [ON connection] [READ BY \"roles\"] [WRITE BY \"roles\"]")
        return n.TableDef(span, "", ())
    fields = []
    for offset, line in enumerate(lines[1:-1], start=1):
        item = _field(line.strip(), n.Span(span.file, span.line + offset, 1), sink)
        if item is not None:
            fields.append(item)
    return n.TableDef(span, header["name"], tuple(fields), header["conn"], header["read"],
                      header["write"])


def _field(line: str, span: n.Span, sink: DiagnosticSink):
    if not line or line.startswith(("'", "//", "#")) or line.upper().startswith("REM "):
        return None
    if _CONSTRAINT.match(line):  # UNIQUE(a, b), (generated expression) STORED ...
        return None
    m = _FIELD_AS.match(line) or _FIELD.match(line)
    if not m:
        sink.at(span, f"expected a field definition, found {line!r}")
        return None
    name, rest = m.group(1), m.group(2).strip()
    type_word = rest.split()[0] if rest else "string"
    ref = _REFERENCES.search(rest)
    key = bool(re.search(r"(?i)\b(KEY|PRIMARY\s+KEY)\b", rest))
    return n.TableField(span, name, type_word, rest, key, ref.group(1) if ref else None)
