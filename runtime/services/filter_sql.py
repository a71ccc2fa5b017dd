"""Filter conditions as parameterised SQL for SQLite and PostgreSQL (DIALECT §9.6.2).

``compile_condition`` turns what SQL can express the way BASIC compares values into a
``Fragment`` (SQL text whose parameters are marked, with their values) and returns the
rest as a *residual* condition that ``filter_memory.matches`` checks on the rows. Values
always travel as parameters, converted to the column's kind (``coerce``); identifiers go
through ``quote_identifier``. Every comparison is made two-valued (``COALESCE(..., FALSE)``)
so NOT and NULLs behave as in memory.

The column *kinds* and ``coerce`` are shared with the writes of ``tables.SqlTables``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

from ..datetimes import DateTime, parse_date
from ..errors import BasicError
from ..values import FileValue, parse_number, to_json, to_str
from .filter_memory import Env, call_function
from .filters import (ORDERING_OPS, AllOf, AnyOf, Bare, Between, Column, ColumnMap, Compare,
                      Condition, Func, InSet, IsNull, Not, OrderKey, Value)

_MIRRORED = {"=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

# ---------------------------------------------------------------- column kinds and coercion

TEXT, INTEGER, DECIMAL, FLOAT = "text", "integer", "decimal", "float"
BOOLEAN, DATETIME, DATE = "boolean", "datetime", "date"
NUMBER_KINDS = (INTEGER, DECIMAL, FLOAT)
_TRUE_WORDS = {"true", "yes", "on", "1", "sim"}
_FALSE_WORDS = {"false", "no", "off", "0", "não", "nao"}


class NotCoercible(Exception):
    """A value a column of that kind cannot hold (``"abc"`` in a number column)."""


def kind_of(declared_type: str) -> str:
    """The kind of a column from its SQL type (``VARCHAR(50)`` -> text ...)."""
    text = declared_type.upper()
    if "BOOL" in text:
        return BOOLEAN
    if "TIMESTAMP" in text or "DATETIME" in text:
        return DATETIME
    if text.startswith("DATE"):
        return DATE
    if "INT" in text and "INTERVAL" not in text and "POINT" not in text:
        return INTEGER
    if "NUMERIC" in text or "DECIMAL" in text:
        return DECIMAL
    if "REAL" in text or "DOUB" in text or "FLOA" in text:
        return FLOAT
    return TEXT


def kind_for_value(value) -> str:
    """The kind of a column created for ``value`` (§9.6.1 inference)."""
    if type(value) is bool:
        return BOOLEAN
    if isinstance(value, (int, float, Decimal)):
        return DECIMAL
    if isinstance(value, (DateTime, datetime, date)):
        return DATETIME
    return TEXT


def coerce(value, kind: str):
    """``value`` as the Python value a column of ``kind`` stores (None stays None).

    Text: strings, numbers in their BASIC form, datetimes ISO-8601, objects as JSON.
    Numbers: numbers and numeric strings. Booleans: booleans, 0/1 and true/false words.
    Datetimes/dates: datetimes and parsable strings. ``""`` is NULL outside text.
    Raises NotCoercible otherwise.
    """
    if value is None:
        return None
    if kind == TEXT:
        return _as_text(value)
    if isinstance(value, str) and value.strip() == "":
        return None
    if kind in NUMBER_KINDS:
        return _as_number(value, kind)
    if kind == BOOLEAN:
        return _as_boolean(value)
    return _as_moment(value, kind)


def _as_text(value) -> str:
    if isinstance(value, DateTime):
        return value.to_iso()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return to_json(value)
    if isinstance(value, Decimal):
        return to_str(_plain_number(value))
    if isinstance(value, FileValue):
        return str(value)
    return to_str(value)


def _as_number(value, kind: str):
    if type(value) is bool:
        number = int(value)
    elif isinstance(value, (int, float)):
        number = value
    elif isinstance(value, Decimal):
        number = _plain_number(value)
    elif isinstance(value, str):
        number = parse_number(value.strip())
        if number is None:
            raise NotCoercible(value)
    else:
        raise NotCoercible(value)
    if kind == INTEGER:
        return int(round(number))
    return float(number) if kind == FLOAT else number


def _plain_number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def _as_boolean(value) -> bool:
    if type(value) is bool:
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise NotCoercible(value)


def _as_moment(value, kind: str):
    moment = parse_date(value)
    if moment is None:
        raise NotCoercible(value)
    return moment.value.date() if kind == DATE else moment.value


def from_stored(value, kind: str):
    """A stored value as a BASIC value (numbers plain, datetimes DateTime, booleans)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return _plain_number(value)
    if kind == BOOLEAN and isinstance(value, int):
        return bool(value)
    if kind in (DATETIME, DATE) and isinstance(value, (str, datetime, date)):
        moment = parse_date(value)
        if moment is None:
            return value
        return DateTime(moment.value, date_only=kind == DATE)
    return value


# ---------------------------------------------------------------- SQL compilation

MARK = "\x01"  # stands for one parameter in a Fragment until ``render`` numbers them
_IDENTIFIER = re.compile(r"[^\W\d]\w*", re.UNICODE)


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL of the two databases."""

    name: str
    like: str  # the case-insensitive LIKE operator
    text_order: str  # appended to text columns in ORDER BY (code-point order)

    def placeholder(self, index: int) -> str:
        return "?" if self.name == "sqlite" else f"${index}"


SQLITE = Dialect("sqlite", "LIKE", "")
POSTGRES = Dialect("postgres", "ILIKE", ' COLLATE "C"')


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier; anything but letters, digits and ``_`` (and
    a leading digit) is refused, so a name can never carry SQL."""
    if not isinstance(name, str) or _IDENTIFIER.fullmatch(name) is None or len(name) > 63:
        raise BasicError(f"'{name}' is not a valid column or table name")
    return f'"{name}"'


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL whose parameters are marked, with their values in order."""

    sql: str
    values: tuple = ()


def render(fragments: Iterable[Fragment], dialect: Dialect, start: int = 1) -> tuple[str, list]:
    """Join fragments with spaces and number their parameters from ``start``."""
    sql_parts, values = [], []
    for fragment in fragments:
        sql_parts.append(fragment.sql)
        values.extend(fragment.values)
    text = " ".join(part for part in sql_parts if part)
    pieces = text.split(MARK)
    out = [pieces[0]]
    for offset, piece in enumerate(pieces[1:]):
        out.append(dialect.placeholder(start + offset))
        out.append(piece)
    return "".join(out), values


Adapt = Callable[[Any, str], Any]


def compile_condition(condition: Condition, columns: ColumnMap, dialect: Dialect,
                      adapt: Adapt, env: Env) -> tuple[Fragment, Optional[Condition]]:
    """``(WHERE fragment, residual)``: the SQL for what SQL can express (parameters
    converted by ``adapt(value, kind)``) and the rest, to evaluate in memory on the rows
    the SQL returns. Conditions on unknown columns are an error."""
    compiler = _SqlCompiler(columns, dialect, adapt, env)
    items = condition.items if isinstance(condition, AllOf) else (condition,)
    pushed, residual = [], []
    for item in items:
        fragment = compiler.condition(item)
        (pushed if fragment is not None else residual).append(fragment or item)
    where = _joined(pushed, "AND", "TRUE")
    rest = None if not residual else residual[0] if len(residual) == 1 else AllOf(tuple(residual))
    return where, rest


def _joined(fragments: list, word: str, empty: str) -> Fragment:
    if not fragments:
        return Fragment(empty)
    if len(fragments) == 1:
        return fragments[0]
    sql = f" {word} ".join(f"({f.sql})" for f in fragments)
    return Fragment(sql, tuple(v for f in fragments for v in f.values))


def compile_order(order_by: Iterable[OrderKey], columns: ColumnMap, dialect: Dialect) -> str:
    """``ORDER BY ...`` text (empty when there is no ordering). NULLs sort as the BASIC
    ordering does: first ascending, last descending."""
    parts = []
    for key in order_by:
        name, kind = _known_column(columns, key.column)
        collate = dialect.text_order if kind == TEXT else ""
        direction = "DESC NULLS LAST" if key.descending else "ASC NULLS FIRST"
        parts.append(f"{quote_identifier(name)}{collate} {direction}")
    return "ORDER BY " + ", ".join(parts) if parts else ""


def _known_column(columns: ColumnMap, name: str) -> tuple[str, str]:
    found = columns.find(name)
    if found is None:
        raise BasicError(f"unknown column '{name}'")
    return found


class _SqlCompiler:
    """Turns conditions into fragments; None for what must be evaluated in memory."""

    def __init__(self, columns: ColumnMap, dialect: Dialect, adapt: Adapt, env: Env):
        self.columns = columns
        self.dialect = dialect
        self.adapt = adapt
        self.env = env

    def condition(self, c) -> Optional[Fragment]:
        if isinstance(c, (AllOf, AnyOf)):
            parts = [self.condition(item) for item in c.items]
            if any(part is None for part in parts):
                return None
            if isinstance(c, AllOf):
                return _joined(parts, "AND", "TRUE")
            return _joined(parts, "OR", "FALSE")
        if isinstance(c, Not):
            inner = self.condition(c.item)
            return None if inner is None else Fragment(f"NOT ({inner.sql})", inner.values)
        method = {Compare: self.compare, InSet: self.in_set, IsNull: self.is_null,
                  Between: self.between}[type(c)]
        return method(c)

    # -- operands
    def column(self, operand) -> Optional[tuple[str, str]]:
        """``(sql, kind)`` of a column expression, or None when it is not one."""
        if isinstance(operand, (Column, Bare)):
            name = operand.name if isinstance(operand, Column) else operand.word
            if isinstance(operand, Bare) and name not in self.columns:
                return None
            stored, kind = _known_column(self.columns, name)
            return quote_identifier(stored), kind
        if isinstance(operand, Func) and operand.name in ("LOWER", "UPPER"):
            inner = self.column(operand.args[0])
            if inner is None:
                return None
            return f"{operand.name}(CAST({inner[0]} AS TEXT))", TEXT
        return None

    def constant(self, operand) -> tuple[bool, Any]:
        """``(True, value)`` for constants (NOW()/TODAY() included), else (False, None)."""
        if isinstance(operand, Value):
            return True, operand
        if isinstance(operand, Bare) and operand.word not in self.columns:
            return True, Value(operand.word)
        if isinstance(operand, Func) and operand.name in ("NOW", "TODAY", "CURDATE"):
            return True, Value(call_function(operand, [], self.env))
        return False, None

    def param(self, value: Value, kind: str, op: str = "=") -> Optional[Any]:
        """The parameter for comparing a ``kind`` column with ``value``; raises
        NotCoercible when SQL would not compare them as §3.2 does."""
        raw = value.value
        if kind == TEXT:
            if op in ORDERING_OPS and isinstance(raw, (int, float, DateTime)) and type(raw) is not bool:
                raise NotCoercible(raw)  # '9' > '10' as text: leave it to §3.2 in memory
            if value.raw is not None:
                return self.adapt(value.raw, TEXT)
        if kind == BOOLEAN and op in ORDERING_OPS:
            raise NotCoercible(raw)
        return self.adapt(coerce(raw, kind), kind)

    # -- comparisons
    def compare(self, c: Compare) -> Optional[Fragment]:
        op, left, right = c.op, c.left, c.right
        if self.column(left) is None and self.column(right) is not None and op in _MIRRORED:
            op, left, right = _MIRRORED[op], right, left
        column = self.column(left)
        if column is None:
            return None
        other = self.column(right)
        if other is not None:
            return self.column_pair(op, column, other)
        is_constant, value = self.constant(right)
        if not is_constant:
            return None
        try:
            return self.column_value(op, column, value)
        except NotCoercible:
            return None

    def column_pair(self, op: str, left, right) -> Optional[Fragment]:
        """Two columns of the same kind; NULL equals NULL as in §3.2."""
        if left[1] != right[1] or op not in _MIRRORED:
            return None
        a, b = left[0], right[0]
        if op in ("=", "<>"):
            equal = f"(COALESCE({a} = {b}, FALSE) OR ({a} IS NULL AND {b} IS NULL))"
            return Fragment(equal if op == "=" else f"NOT {equal}")
        return Fragment(f"COALESCE({a} {op} {b}, FALSE)")

    def column_value(self, op: str, column, value: Value) -> Fragment:
        sql, kind = column
        if op == "LIKE" or op == "CONTAINS":
            return self.like(op, sql, value)
        if op in ("=", "<>"):
            equal = self.equal(sql, kind, value)
            return equal if op == "=" else Fragment(f"NOT ({equal.sql})", equal.values)
        if value.value is None:
            return Fragment("FALSE")
        param = self.param(value, kind, op)
        return Fragment(f"COALESCE({sql} {op} {MARK}, FALSE)", (param,))

    def equal(self, sql: str, kind: str, value: Value) -> Fragment:
        """``=`` with §3.2 NULL rules: NULL equals NULL and (text) ""."""
        if value.value is None or (kind == TEXT and value.value == ""):
            return self.null_test(sql, kind)
        return Fragment(f"COALESCE({sql} = {MARK}, FALSE)", (self.param(value, kind),))

    def null_test(self, sql: str, kind: str) -> Fragment:
        if kind == TEXT:
            return Fragment(f"({sql} IS NULL OR {sql} = '')")
        return Fragment(f"({sql} IS NULL)")

    def like(self, op: str, sql: str, value: Value) -> Fragment:
        if value.value is None:
            return Fragment("FALSE")
        text = to_str(value.value)
        if op == "LIKE":
            pattern, escape = text.replace("*", "%"), ""
        else:
            pattern, escape = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%", " ESCAPE '\\'"
        test = f"CAST({sql} AS TEXT) {self.dialect.like} {MARK}{escape}"
        return Fragment(f"COALESCE({test}, FALSE)", (self.adapt(pattern, TEXT),))

    def in_set(self, c: InSet) -> Optional[Fragment]:
        column = self.column(c.operand)
        if column is None or not all(isinstance(item, Value) for item in c.items):
            return None
        sql, kind = column
        tests, params = [], []
        try:
            for item in c.items:
                if item.value is None or (kind == TEXT and item.value == ""):
                    tests.append(self.null_test(sql, kind).sql)
                else:
                    params.append(self.param(item, kind))
        except NotCoercible:
            return None
        if params:
            marks = ", ".join([MARK] * len(params))
            tests.append(f"COALESCE({sql} IN ({marks}), FALSE)")
        found = " OR ".join(tests) or "FALSE"
        text = f"NOT ({found})" if c.negated else f"({found})"
        return Fragment(text, tuple(params))

    def is_null(self, c: IsNull) -> Optional[Fragment]:
        column = self.column(c.operand)
        if column is None:
            return None
        test = self.null_test(*column)
        return Fragment(f"NOT {test.sql}") if c.negated else test

    def between(self, c: Between) -> Optional[Fragment]:
        column = self.column(c.operand)
        low_ok, low = self.constant(c.low)
        high_ok, high = self.constant(c.high)
        if column is None or not (low_ok and high_ok) or low.value is None or high.value is None:
            return None
        sql, kind = column
        try:
            params = (self.param(low, kind, ">="), self.param(high, kind, "<="))
        except NotCoercible:
            return None
        return Fragment(f"COALESCE({sql} BETWEEN {MARK} AND {MARK}, FALSE)", params)
