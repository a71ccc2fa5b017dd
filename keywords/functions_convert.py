"""Conversion, validation and null-handling functions (DIALECT §10.4, §10.5).

Also home of the small argument helpers the other function families share
(``int_arg``, ``number_or_none``), since they are conversions themselves.
"""
from __future__ import annotations

import math
import re

from ..runtime.datetimes import parse_date
from ..runtime.errors import OVERFLOW, BasicError
from ..runtime.formatting import round_half_away
from ..runtime.values import is_empty, parse_number, to_num, to_str, truthy, type_name
from .registry import function


# -- helpers shared by the function families --------------------------------------------

def int_arg(value) -> int:
    """A count or position argument: a number truncated toward zero (NULL is 0)."""
    number = to_num(value)
    if type(number) is int:
        return number
    if not math.isfinite(number):
        raise BasicError(f"'{to_str(value)}' is not a usable whole number", OVERFLOW)
    return int(number)


def number_or_none(value):
    """The number a value stands for (numbers and numeric strings), else ``None``.

    Booleans and NULL are not numbers here: aggregates skip them.
    """
    if type(value) in (int, float):
        return value
    if type(value) is str:
        return parse_number(value)
    return None


def integral(number):
    """Integral floats as ints (VAL: "result is an integer when integral")."""
    if type(number) is float and number.is_integer():
        return int(number)
    return number


def _number_or_zero(value, zero):
    """``to_num`` that answers ``zero`` instead of failing (CINT/CDBL of junk)."""
    try:
        return to_num(value)
    except BasicError:
        return zero


# -- §10.4 conversion -------------------------------------------------------------------

_NUMERIC_PREFIX = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@function("VAL", "TO_NUMBER", min_args=1, max_args=1)
def val(value):
    """The longest numeric prefix of the trimmed text: VAL("12abc") = 12, VAL("abc") = 0."""
    if type(value) in (int, float):
        return value
    if value is None or type(value) is bool:
        return int(bool(value))
    match = _NUMERIC_PREFIX.match(to_str(value).strip())
    return integral(parse_number(match.group())) if match else 0


@function("CINT", min_args=1, max_args=1)
def cint(value):
    """Round half away from zero to an integer; unparseable text is 0."""
    return round_half_away(_number_or_zero(value, 0))


@function("CDBL", min_args=1, max_args=1)
def cdbl(value):
    """A float; unparseable text is 0.0."""
    try:
        return float(_number_or_zero(value, 0.0))
    except OverflowError:
        raise BasicError("number too large for a float", OVERFLOW) from None


@function("STR", "CSTR", min_args=1, max_args=1)
def cstr(value):
    """The string form of a value (§3.1)."""
    return to_str(value)


@function("CBOOL", min_args=1, max_args=1)
def cbool(value):
    """Truthiness (§3.3) as a boolean."""
    return truthy(value)


@function("CDATE", min_args=1, max_args=1)
def cdate(value):
    """A datetime parsed from the value, NULL when it is not a date."""
    return parse_date(value)


# -- §10.5 validation -------------------------------------------------------------------

@function("ISNULL", min_args=1, max_args=1)
def isnull(value):
    """Whether the value is NULL (``""`` is not; use ISEMPTY or IS NULL for that)."""
    return value is None


@function("ISEMPTY", min_args=1, max_args=1)
def isempty(value):
    """NULL, ``""`` or an empty array/rowset/object."""
    return is_empty(value)


@function("ISNUMERIC", "IS_NUMERIC", "ISNUMBER", min_args=1, max_args=1)
def isnumeric(value):
    """A number, or text that is entirely a number once trimmed ("1e10" yes, "$100" no)."""
    return number_or_none(value) is not None


@function("ISARRAY", min_args=1, max_args=1)
def isarray(value):
    """Arrays and rowsets."""
    return isinstance(value, list)


@function("ISOBJECT", min_args=1, max_args=1)
def isobject(value):
    """Objects (maps)."""
    return isinstance(value, dict)


@function("ISSTRING", min_args=1, max_args=1)
def isstring(value):
    """Strings."""
    return type(value) is str


@function("ISBOOL", min_args=1, max_args=1)
def isbool(value):
    """Booleans."""
    return type(value) is bool


@function("TYPEOF", "TYPENAME", min_args=1, max_args=1)
def typeof(value):
    """"null", "boolean", "integer", "float", "string", "array", "object", "datetime", "file"."""
    return type_name(value)


# -- §10.5 null handling and choice -----------------------------------------------------

def _is_blank(value) -> bool:
    """The "missing" test of NVL and COALESCE: NULL or the empty string."""
    return value is None or (type(value) is str and value == "")


@function("NVL", "IFNULL", min_args=2, max_args=2)
def nvl(value, default):
    """``default`` when ``value`` is NULL or ``""``, else ``value``."""
    return default if _is_blank(value) else value


@function("COALESCE", min_args=1)
def coalesce(*values):
    """The first argument that is neither NULL nor ``""`` (NULL when there is none)."""
    return next((value for value in values if not _is_blank(value)), None)


@function("IIF", "IF", min_args=2, max_args=3, lazy=True)
def iif(condition, when_true, when_false=lambda: None):
    """Evaluate only the branch the condition selects (arguments arrive as thunks)."""
    return when_true() if truthy(condition()) else when_false()


@function("CHOOSE", min_args=1)
def choose(index, *choices):
    """1-based pick among the choices; NULL when out of range."""
    position = int_arg(index)
    return choices[position - 1] if 1 <= position <= len(choices) else None


__all__ = ["int_arg", "number_or_none", "integral"]
