"""In-memory evaluation of filter conditions (DIALECT §9.6.2, §3.2).

Used for file tables, for FILTER over arrays, and for the parts of a database filter
that SQL cannot express the way BASIC compares values (``filter_sql`` leaves those as a
*residual* condition checked on the rows the SQL returns). Comparisons follow §3.2
(``"5" = 5``, NULL equals ""); ordering comparisons never match a missing value.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

from ..datetimes import DateTime, date_add, date_diff, parse_date
from ..errors import BasicError
from ..values import BasicObject, cmp_op, compare, equals, get_member, is_null, parse_number, to_str
from .filters import (AllOf, AnyOf, Bare, Between, Column, Compare, Condition, Func, InSet,
                      Interval, IsNull, Not, OrderKey, Value)


@dataclass(frozen=True)
class Env:
    """What evaluation needs besides the row: the current time (NOW, TODAY) and whether
    text comparisons ignore case (file tables, §11 A-52)."""

    now: DateTime
    fold_case: bool = False


def matches(condition: Condition, row, env: Env) -> bool:
    """Whether ``row`` (an object) satisfies ``condition``."""
    return _MATCHERS[type(condition)](condition, row, env)


def _match_all(c: AllOf, row, env) -> bool:
    return all(matches(item, row, env) for item in c.items)


def _match_any(c: AnyOf, row, env) -> bool:
    return any(matches(item, row, env) for item in c.items)


def _match_not(c: Not, row, env) -> bool:
    return not matches(c.item, row, env)


def _match_compare(c: Compare, row, env) -> bool:
    left, right = operand_value(c.left, row, env), operand_value(c.right, row, env)
    if c.op == "=":
        return same_value(left, right, env)
    if c.op == "<>":
        return not same_value(left, right, env)
    if c.op == "LIKE":
        return left is not None and right is not None and like(to_str(left), to_str(right))
    if c.op == "CONTAINS":
        return left is not None and right is not None and \
            to_str(right).lower() in to_str(left).lower()
    return _ordered(c.op, left, right, env)


def _match_in(c: InSet, row, env) -> bool:
    value = operand_value(c.operand, row, env)
    found = any(same_value(value, operand_value(item, row, env), env) for item in c.items)
    return found != c.negated


def _match_null(c: IsNull, row, env) -> bool:
    return is_null(operand_value(c.operand, row, env)) != c.negated


def _match_between(c: Between, row, env) -> bool:
    value = operand_value(c.operand, row, env)
    return (_ordered(">=", value, operand_value(c.low, row, env), env)
            and _ordered("<=", value, operand_value(c.high, row, env), env))


_MATCHERS = {AllOf: _match_all, AnyOf: _match_any, Not: _match_not, Compare: _match_compare,
             InSet: _match_in, IsNull: _match_null, Between: _match_between}


def _folded(value, env: Env):
    return value.lower() if env.fold_case and type(value) is str else value


def same_value(a, b, env: Env) -> bool:
    """§3.2 equality (NULL = ""), ignoring case on file tables."""
    return equals(_folded(a, env), _folded(b, env))


def _ordered(op: str, a, b, env: Env) -> bool:
    """An ordering comparison; a missing value (NULL or "") never satisfies one."""
    if a is None or b is None or a == "" or b == "":
        return False
    try:
        return cmp_op(op, _folded(a, env), _folded(b, env))
    except BasicError:
        return False  # an array or object compared with a scalar


def like(value: str, pattern: str) -> bool:
    """SQL LIKE, case-insensitive: ``%`` (or ``*``) any run, ``_`` one character."""
    return _like_regex(pattern).fullmatch(value) is not None


_LIKE_CACHE: dict[str, re.Pattern] = {}


def _like_regex(pattern: str) -> re.Pattern:
    compiled = _LIKE_CACHE.get(pattern)
    if compiled is None:
        body = "".join(".*" if ch in "%*" else "." if ch == "_" else re.escape(ch)
                       for ch in pattern)
        compiled = re.compile(body, re.IGNORECASE | re.DOTALL)
        if len(_LIKE_CACHE) < 512:
            _LIKE_CACHE[pattern] = compiled
    return compiled


def operand_value(operand, row, env: Env):
    """The value of an operand for one row."""
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Column):
        return get_member(row, operand.name)
    if isinstance(operand, Bare):
        return _bare_value(operand, row)
    if isinstance(operand, Func):
        return call_function(operand, [_argument_value(arg, row, env) for arg in operand.args], env)
    raise BasicError("INTERVAL is only allowed inside DATE_SUB/DATE_ADD")


def _argument_value(arg, row, env: Env):
    """A function argument's value; an INTERVAL keeps its unit."""
    if isinstance(arg, Interval):
        return Interval(operand_value(arg.amount, row, env), arg.unit)
    return operand_value(arg, row, env)


def _bare_value(operand: Bare, row):
    """In memory a bare word is the row's member when the row has one, else the text."""
    if isinstance(row, BasicObject) and row.has(operand.word):
        return row.lookup(operand.word)
    if isinstance(row, dict) and any(k.lower() == operand.word.lower() for k in row):
        return get_member(row, operand.word)
    return operand.word


def call_function(func: Func, args: list, env: Env):
    """The value of a filter function for evaluated ``args``."""
    if func.name in ("LOWER", "UPPER"):
        if args[0] is None:
            return None
        text = to_str(args[0])
        return text.lower() if func.name == "LOWER" else text.upper()
    if func.name == "NOW":
        return env.now
    if func.name in ("TODAY", "CURDATE"):
        return DateTime(env.now.value, date_only=True)
    if func.name == "DATE":
        moment = parse_date(args[0])
        return None if moment is None else DateTime(moment.value, date_only=True)
    if func.name == "DATEDIFF":
        return _datediff(args)
    if func.name in ("DATE_SUB", "DATE_ADD"):
        return _date_shift(func.name, args)
    return next((arg for arg in args if arg is not None and arg != ""), None)  # COALESCE


def _datediff(args: list):
    """``DATEDIFF(a, b[, unit])`` = b − a in whole units, as the BASIC function (§10.3)."""
    first, second = args[0], args[1]
    if parse_date(first) is None or parse_date(second) is None:
        return None
    return date_diff(first, second, args[2] if len(args) > 2 else "day")


def _date_shift(name: str, args: list):
    """``DATE_SUB(d, INTERVAL n unit)`` / ``DATE_ADD``; a plain number counts days."""
    interval = args[1]
    amount, unit = (interval.amount, interval.unit) if isinstance(interval, Interval) \
        else (interval, "day")
    number = parse_number(to_str(amount))
    if number is None:
        raise BasicError(f"{name}: '{to_str(amount)}' is not a number")
    if parse_date(args[0]) is None:
        return None
    return date_add(args[0], -number if name == "DATE_SUB" else number, unit)




def order_rows(rows: Iterable, order_by: Iterable[OrderKey], fold_case: bool = False) -> list:
    """``rows`` sorted by the keys (stable); NULLs first ascending, last descending — the
    order the SQL back-ends use too."""
    ordered = list(rows)
    for key in reversed(tuple(order_by)):
        pick = functools.partial(get_member, name=key.column)
        order = functools.cmp_to_key(lambda a, b: _compare_cells(pick(a), pick(b), fold_case))
        ordered.sort(key=order, reverse=key.descending)
    return ordered


def _compare_cells(a, b, fold_case: bool) -> int:
    if a is None or b is None:
        return (a is not None) - (b is not None)
    if type(a) is str and type(b) is str:
        numbers = parse_number(a), parse_number(b)
        if None not in numbers:  # CSV cells hold numbers as text: "9" before "10"
            a, b = numbers
        elif fold_case:
            a, b = a.lower(), b.lower()
    try:
        return compare(a, b)
    except BasicError:  # arrays/objects: order by their text
        return compare(to_str(a), to_str(b))
