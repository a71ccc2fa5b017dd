"""TABLE blocks as SQL column definitions (DIALECT §9.6.12).

Field types map to a portable SQL subset that SQLite and PostgreSQL both take:
``string(n)`` -> VARCHAR(n) (255 by default, ``max`` -> TEXT), ``number`` -> BIGINT
(the spec's INTEGER, widened so PostgreSQL holds the same range as SQLite's INTEGER),
``number(n)`` -> BIGINT, ``number(n,p)``/``double(n,p)`` -> DECIMAL(n,p), ``double`` ->
DOUBLE PRECISION, ``guid``/``uuid`` -> VARCHAR(36), ``date``, ``datetime``/``timestamp``,
``boolean``, ``text``. A type that names another table of the same batch takes that
table's key type (a foreign key; the constraint itself is not created).

SQL-style field lines keep their type (mapped the same way) and the constraints that
mean the same on both databases — ``PRIMARY KEY``, ``NOT NULL``, ``UNIQUE`` and a
literal ``DEFAULT`` (``NOW()`` becomes CURRENT_TIMESTAMP). Expressions (``GENERATED``,
``CHECK``, ``REFERENCES``, function defaults such as ``uuid_generate_v4()``) are dropped:
the data layer generates text ids itself.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Optional

from ...interpreter import nodes as N
from .filter_sql import quote_identifier

log = logging.getLogger("botbasic.tables")

_TYPE = re.compile(r"(?i)([a-z_]+)\s*(?:\(\s*(\w+)\s*(?:,\s*(\d+)\s*)?\))?")
_SIMPLE_TYPES = {
    "integer": "INTEGER", "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT",
    "serial": "INTEGER", "bigserial": "BIGINT", "date": "DATE", "datetime": "TIMESTAMP",
    "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP", "boolean": "BOOLEAN",
    "bool": "BOOLEAN", "text": "TEXT", "memo": "TEXT", "json": "TEXT", "jsonb": "TEXT",
    "guid": "VARCHAR(36)", "uuid": "VARCHAR(36)", "real": "DOUBLE PRECISION",
    "float": "DOUBLE PRECISION", "time": "VARCHAR(8)",
}
_INTEGER_TYPES = ("INTEGER", "BIGINT", "SMALLINT")
_DEFAULT = re.compile(
    r"(?i)\bDEFAULT\s+('(?:[^']|'')*'|[+-]?\d+(?:\.\d+)?\b|TRUE\b|FALSE\b|NULL\b"
    r"|NOW\(\)|CURRENT_TIMESTAMP\b|CURRENT_DATE\b)")
_CONSTANT_DEFAULT = re.compile(r"(?i)'|[+-]?\d|TRUE|FALSE|NULL")


@dataclass
class TableDDL:
    """``create``: column definitions for CREATE TABLE; ``added``: ``(name, definition)``
    for columns added to an existing table (type and constant default only)."""

    create: list[str] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)


def table_ddl(table_def: N.TableDef, key_types: dict, integer_key_sql: str) -> TableDDL:
    """The DDL of one TABLE block; ``key_types`` maps table names to their key's type."""
    ddl, seen = TableDDL(), set()
    keys = [f for f in table_def.fields if f.key]
    for item in table_def.fields:
        if item.name.lower() in seen:
            continue
        seen.add(item.name.lower())
        name = quote_identifier(item.name)
        sql_type = field_type(item.type, key_types)
        default = _default(item)
        ddl.added.append((item.name, sql_type + _constant(default)))
        ddl.create.append(name + " " + _create_definition(item, sql_type, default, keys,
                                                          integer_key_sql))
    if len(keys) > 1:
        ddl.create.append("PRIMARY KEY (" + ", ".join(quote_identifier(k.name) for k in keys) + ")")
    return ddl


def field_type(type_word: str, key_types: dict, depth: int = 0) -> str:
    """The SQL type of a field type word (see module doc); unknown words are TEXT."""
    match = _TYPE.fullmatch(type_word.strip())
    if match is None:
        log.warning("TABLE: unknown field type %r; using TEXT", type_word)
        return "TEXT"
    base, size, scale = match.group(1).lower(), match.group(2), match.group(3)
    sized = size if size is not None and size.isdigit() else None
    if base == "string":
        return "TEXT" if (size or "").lower() == "max" else f"VARCHAR({sized or 255})"
    if base in ("number", "double", "decimal", "numeric") and sized and scale:
        return f"DECIMAL({sized},{scale})"
    if base == "number":
        return "BIGINT"
    if base == "double":
        return "DOUBLE PRECISION"
    if base in ("decimal", "numeric"):
        return f"DECIMAL({sized},0)" if sized else "NUMERIC"
    if base in ("varchar", "char", "character"):
        return f"VARCHAR({sized})" if sized else "TEXT"
    if base in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[base]
    return _referenced_type(type_word, base, key_types, depth)


def _referenced_type(type_word: str, base: str, key_types: dict, depth: int) -> str:
    """A field typed with a table's name takes that table's key type."""
    if base in key_types and depth < 4:
        key_type = key_types[base]
        return field_type(key_type, key_types, depth + 1) if key_type else "TEXT"
    log.warning("TABLE: unknown field type %r; using TEXT", type_word)
    return "TEXT"


def _constraints_text(item: N.TableField) -> str:
    """The field line after its type, without parenthesised expressions."""
    rest = item.raw.strip()[len(item.type):] if item.raw.strip().startswith(item.type) else item.raw
    return re.sub(r"\([^()]*(\([^()]*\)[^()]*)*\)", " ", rest)


def _default(item: N.TableField) -> Optional[str]:
    match = _DEFAULT.search(item.raw)
    if match is None:
        return None
    value = match.group(1)
    return "CURRENT_TIMESTAMP" if value.upper() == "NOW()" else value


def _constant(default: Optional[str]) -> str:
    """`` DEFAULT x`` for constant defaults (ALTER TABLE ADD COLUMN takes no others in SQLite)."""
    if default is None or _CONSTANT_DEFAULT.match(default) is None:
        return ""
    return " DEFAULT " + default


def _create_definition(item: N.TableField, sql_type: str, default: Optional[str],
                       keys: list, integer_key_sql: str) -> str:
    constraints = _constraints_text(item).upper()
    if item.key and len(keys) == 1:
        if sql_type in _INTEGER_TYPES:
            return integer_key_sql + " PRIMARY KEY"  # numbers new rows itself
        return sql_type + " PRIMARY KEY"
    definition = sql_type
    if re.search(r"\bNOT\s+NULL\b", constraints):
        definition += " NOT NULL"
    if re.search(r"\bUNIQUE\b", constraints):
        definition += " UNIQUE"
    if default is not None:
        definition += " DEFAULT " + default
    return definition
