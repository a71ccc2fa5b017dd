"""The filter language of the data keywords (DIALECT §9.6.2).

A filter reaches the data layer in one of two ways and both end as the same *condition
AST* (the dataclasses below):

* a filter string (``FIND "t", "status = 'open' AND score > 10"``) is parsed by
  ``parse_filter``, which also reads a trailing ``ORDER BY ... LIMIT n``;
* a BASIC condition after ``WHERE`` (``FIND "t" WHERE email = email``) is converted by
  ``where_query``: the left side of every comparison names a column and the right side is
  evaluated in the script's scope by a callback.

``resolve`` then settles the bare words against the table's columns. A condition is
either evaluated in memory (``filter_memory.matches``: file tables, FILTER, and the parts
of a database filter SQL cannot express) or compiled by ``filter_sql.compile_condition``
into parameterised SQL for SQLite or PostgreSQL. Values only ever travel as parameters and
column names are validated identifiers, so text from a script never becomes SQL.

Templates build filters by concatenating user input (``"name = '" + q + "'"``), so the
parser is forgiving where that helps and strict where it protects:

* an unquoted right-hand side that is not a number, TRUE/FALSE/NULL, a filter function or
  a single word runs verbatim up to the next ``AND``/``OR``/``,`` that starts another
  comparison (``name = Tom and Jerry`` is one value);
* a quote inside a quoted value ends it only where a value can end (end of text, ``)``,
  ``,`` or ``AND``/``OR`` before another comparison); elsewhere it is part of the value, so
  ``name = 'O'Brien'`` and ``name = 'x'; DROP TABLE t; --'`` are plain values;
* every comparison must involve a column: ``'1'='1'`` and ``1=1`` are errors, not
  tautologies.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Union

from ...interpreter import nodes as N
from ..datetimes import normalize_unit
from ..errors import BasicError
from ..values import iterate, parse_number, to_str

# ======================================================================================
# Condition AST
# ======================================================================================


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table (or a member of the rows being filtered)."""

    name: str


@dataclass(frozen=True, slots=True)
class Value:
    """A constant. ``raw`` keeps a number as written (``007``) for text columns."""

    value: Any
    raw: Optional[str] = None


@dataclass(frozen=True, slots=True)
class Bare:
    """An unquoted single word on the right (``status=active``): the column of that name
    when the table has one, else the text itself (§9.6.2)."""

    word: str


@dataclass(frozen=True, slots=True)
class Func:
    """A call of one of the filter functions (``LOWER(name)``, ``DATEDIFF(NOW(), d)``)."""

    name: str
    args: tuple


@dataclass(frozen=True, slots=True)
class Interval:
    """``INTERVAL n DAY`` inside ``DATE_SUB``/``DATE_ADD``."""

    amount: Any
    unit: str


Operand = Union[Column, Value, Bare, Func, Interval]


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right``; ``op`` is ``= <> < > <= >= LIKE CONTAINS``."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class InSet:
    operand: Operand
    items: tuple
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Operand
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every item holds (AND); no items: always true."""

    items: tuple


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Some item holds (OR)."""

    items: tuple


@dataclass(frozen=True, slots=True)
class Not:
    item: Any


Condition = Union[Compare, InSet, IsNull, Between, AllOf, AnyOf, Not]
MATCH_ALL = AllOf(())


@dataclass(frozen=True, slots=True)
class OrderKey:
    column: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """What to select: a condition, an ordering and a row limit (None: no limit)."""

    condition: Condition = MATCH_ALL
    order_by: tuple = ()
    limit: Optional[int] = None


ORDERING_OPS = ("<", ">", "<=", ">=")

# Filter functions and their (minimum, maximum) argument counts. The spec's list plus
# DATE, CURDATE and DATE_ADD, which templates use next to them.
FUNCTIONS = {
    "LOWER": (1, 1), "UPPER": (1, 1), "NOW": (0, 0), "TODAY": (0, 0), "CURDATE": (0, 0),
    "DATE": (1, 1), "DATEDIFF": (2, 3), "DATE_SUB": (2, 2), "DATE_ADD": (2, 2),
    "COALESCE": (1, 16),
}


def filter_error(text: str, reason: str) -> BasicError:
    return BasicError(f"invalid filter '{text}': {reason}")


# ======================================================================================
# Filter strings
# ======================================================================================

_IDENT = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SYMBOL_OP = re.compile(r"==|!=|<>|<=|>=|=|<|>")
_WORD_OP = re.compile(r"(?i)(NOT\s+)?(ILIKE|LIKE|IN|BETWEEN)\b|IS\b")
_TERM_START = re.compile(
    r"(?i)\s*(?:NOT\b|\(|[^\W\d]\w*(?:\.\w+)?\s*"
    r"(?:==|!=|<>|<=|>=|=|<|>|\(|(?:NOT\s+)?(?:ILIKE|LIKE|IN|BETWEEN)\b|IS\b))")
_JOIN_WORD = re.compile(r"(?i)(AND|OR)\b")
_WORD = re.compile(r"[^\W\d]\w*")
_UNIT_WORD = re.compile(r"[A-Za-z]+")
_CONSTANT_WORDS = {"TRUE": True, "FALSE": False, "NULL": None}
_ORDER_ITEM = r"[^\W\d]\w*(?:\.\w+)?(?:\s+(?:ASC|DESC))?"
_TAIL = re.compile(
    rf"(?i)(?:^|\s)(?:ORDER\s+BY\s+(?P<order>{_ORDER_ITEM}(?:\s*,\s*{_ORDER_ITEM})*)"
    rf"(?:\s+LIMIT\s+(?P<limit>\d+))?|LIMIT\s+(?P<only_limit>\d+))\s*$")


def parse_filter(text) -> Query:
    """The Query of a filter string; an empty filter or ``"*"`` matches every row."""
    source = to_str(text).strip()
    body, order_by, limit = _split_tail(source)
    if body in ("", "*"):
        return Query(MATCH_ALL, order_by, limit)
    condition = _FilterParser(body, source).parse()
    return Query(condition, order_by, limit)


def _split_tail(text: str) -> tuple[str, tuple, Optional[int]]:
    """Cut a trailing ``ORDER BY col [ASC|DESC], ... [LIMIT n]`` / ``LIMIT n`` off."""
    match = _TAIL.search(text)
    if match is None:
        return text, (), None
    order = tuple(_order_key(item) for item in (match["order"] or "").split(",") if item.strip())
    limit = match["limit"] or match["only_limit"]
    return text[:match.start()].strip(), order, None if limit is None else int(limit)


def _order_key(item: str) -> OrderKey:
    words = item.split()
    descending = len(words) > 1 and words[1].upper() == "DESC"
    return OrderKey(words[0].split(".")[-1], descending)


class _FilterParser:
    """Recursive descent over the raw text (values may run verbatim, so no token list)."""

    def __init__(self, text: str, shown: str):
        self.text = text
        self.shown = shown  # the filter as written, for messages
        self.pos = 0
        self.depth = 0  # open parentheses of groups around the current position

    def error(self, reason: str) -> BasicError:
        return filter_error(self.shown, reason)

    # -- driver and logic
    def parse(self) -> Condition:
        condition = self.any_of()
        self.skip_ws()
        if self.pos < len(self.text):
            raise self.error(f"unexpected '{self.text[self.pos:self.pos + 20]}'")
        return condition

    def any_of(self) -> Condition:
        items = [self.all_of()]
        while self.word("OR"):
            items.append(self.all_of())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def all_of(self) -> Condition:
        items = [self.term()]
        while self.word("AND") or self.symbol(","):
            items.append(self.term())
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def term(self) -> Condition:
        if self.word("NOT"):
            return Not(self.term())
        if self.symbol("("):
            self.depth += 1
            inner = self.any_of()
            if not self.symbol(")"):
                raise self.error("missing ')'")
            self.depth -= 1
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        left = self.left_operand()
        self.skip_ws()
        symbol = _SYMBOL_OP.match(self.text, self.pos)
        if symbol is not None:
            self.pos = symbol.end()
            op = {"==": "=", "!=": "<>"}.get(symbol.group(), symbol.group())
            return _checked(Compare(op, left, self.right_operand()), self)
        word = _WORD_OP.match(self.text, self.pos)
        if word is None:
            raise self.error("expected an operator after "
                             f"'{self.text[:self.pos].strip()[-30:]}'")
        self.pos = word.end()
        return self.word_comparison(left, word)

    def word_comparison(self, left: Operand, word: re.Match) -> Condition:
        negated = word.group(1) is not None
        verb = (word.group(2) or "IS").upper()
        if verb in ("LIKE", "ILIKE"):
            found: Condition = _checked(Compare("LIKE", left, self.right_operand()), self)
        elif verb == "IN":
            found = InSet(left, self.in_items())
        elif verb == "BETWEEN":
            low = self.right_operand(between=True)
            if not self.word("AND"):
                raise self.error("BETWEEN needs AND")
            found = Between(left, low, self.right_operand())
        else:
            not_null = self.word("NOT")
            if not self.word("NULL"):
                raise self.error("expected NULL after IS")
            return IsNull(left, not_null)
        return Not(found) if negated else found

    # -- left operands: a column, a function of columns, or a constant
    def left_operand(self) -> Operand:
        self.skip_ws()
        quote = self.peek()
        if quote in ("'", '"'):
            return Value(self.strict_quoted())
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            return Value(parse_number(number.group()), number.group())
        ident = _IDENT.match(self.text, self.pos)
        if ident is None:
            raise self.error(f"expected a column at '{self.text[self.pos:self.pos + 20]}'")
        self.pos = ident.end()
        if self.peek() == "(":
            return self.call(ident.group())
        word = ident.group()
        if word.upper() in _CONSTANT_WORDS:
            return Value(_CONSTANT_WORDS[word.upper()])
        return Column(word.split(".")[-1])

    # -- right operands: typed when the value ends there, else verbatim text
    def right_operand(self, between: bool = False) -> Operand:
        self.skip_ws()
        start = self.pos
        for attempt in (self.quoted_value, self.number_value, self.call_value, self.word_value):
            found = attempt(between)
            if found is not None:
                return found
            self.pos = start
        text, end = self.verbatim(start, between)
        if not text:
            raise self.error("missing value")
        self.pos = end
        return Value(text)

    def quoted_value(self, between: bool):
        if self.peek() not in ("'", '"'):
            return None
        text = self.lenient_quoted(lambda p: self.value_ends(p, between))
        return None if text is None else Value(text)

    def number_value(self, between: bool):
        match = _NUMBER.match(self.text, self.pos)
        if match is None or not self.value_ends(match.end(), between):
            return None
        self.pos = match.end()
        return Value(parse_number(match.group()), match.group())

    def call_value(self, between: bool):
        ident = _IDENT.match(self.text, self.pos)
        if ident is None or ident.group().upper() not in FUNCTIONS:
            return None
        if ident.end() >= len(self.text) or self.text[ident.end()] != "(":
            return None
        self.pos = ident.end()
        try:
            call = self.call(ident.group())
        except BasicError:
            return None
        return call if self.value_ends(self.pos, between) else None

    def word_value(self, between: bool):
        match = _WORD.match(self.text, self.pos)
        if match is None or not self.value_ends(match.end(), between):
            return None
        self.pos = match.end()
        word = match.group()
        if word.upper() in _CONSTANT_WORDS:
            return Value(_CONSTANT_WORDS[word.upper()])
        return Bare(word)

    def verbatim(self, start: int, between: bool) -> tuple[str, int]:
        """The text from ``start`` to where another comparison starts (or the end)."""
        depth, i = 0, start
        while i < len(self.text):
            ch = self.text[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0 and self.depth > 0:
                    break
                depth = max(0, depth - 1)
            elif depth == 0 and (ch.isspace() or ch == ",") and self.joins_at(i, between):
                break
            i += 1
        return self.text[start:i].strip(), i

    # -- where a value may end
    def value_ends(self, p: int, between: bool = False, in_list: bool = False) -> bool:
        q = p
        while q < len(self.text) and self.text[q].isspace():
            q += 1
        if q >= len(self.text):
            return True
        ch = self.text[q]
        if ch == ")":
            return in_list or self.depth > 0
        if in_list:
            return ch == ","
        return self.joins_at(p, between)

    def joins_at(self, p: int, between: bool) -> bool:
        """Whether ``AND``/``OR``/``,`` at ``p`` (after spaces) joins another comparison."""
        q = p
        while q < len(self.text) and self.text[q].isspace():
            q += 1
        if q < len(self.text) and self.text[q] == ",":
            return not between and _TERM_START.match(self.text, q + 1) is not None
        word = _JOIN_WORD.match(self.text, q)
        if word is None or (q == p and p > 0 and self.text[p - 1].isalnum()):
            return False
        if between:
            return word.group(1).upper() == "AND"
        return _TERM_START.match(self.text, word.end()) is not None

    # -- quoted strings
    def strict_quoted(self) -> str:
        """A quoted string ending at the first unescaped quote (doubled quotes escape)."""
        quote, i, parts = self.text[self.pos], self.pos + 1, []
        while i < len(self.text):
            ch = self.text[i]
            if ch == quote:
                if self.text[i + 1:i + 2] == quote:
                    parts.append(quote)
                    i += 2
                    continue
                self.pos = i + 1
                return "".join(parts)
            parts.append(ch)
            i += 1
        raise self.error("unterminated string")

    def lenient_quoted(self, ends: Callable[[int], bool]) -> Optional[str]:
        """A quoted string whose closing quote is the first one where a value can end;
        other quotes are part of the value (see module doc). None when none can end it."""
        quote, i, parts = self.text[self.pos], self.pos + 1, []
        while i < len(self.text):
            ch = self.text[i]
            if ch == quote and ends(i + 1):
                self.pos = i + 1
                return "".join(parts)
            if ch == quote and self.text[i + 1:i + 2] == quote:
                parts.append(quote)
                i += 2
                continue
            parts.append(ch)
            i += 1
        return None

    # -- IN lists and function calls
    def in_items(self) -> tuple:
        if not self.symbol("("):
            raise self.error("IN needs a list in parentheses")
        items = []
        while True:
            items.append(self.list_item())
            if self.symbol(")"):
                return tuple(items)
            if not self.symbol(","):
                raise self.error("expected ',' or ')' in an IN list")

    def list_item(self) -> Value:
        self.skip_ws()
        if self.peek() in ("'", '"'):
            text = self.lenient_quoted(lambda p: self.value_ends(p, in_list=True))
            if text is None:
                raise self.error("unterminated string in an IN list")
            return Value(text)
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",)":
            self.pos += 1
        word = self.text[start:self.pos].strip()
        if not word:
            raise self.error("empty item in an IN list")
        return _typed_word(word)

    def call(self, name: str) -> Func:
        upper = name.upper()
        if upper not in FUNCTIONS:
            raise self.error(f"unknown function {upper}")
        self.symbol("(")
        args = []
        if not self.symbol(")"):
            while True:
                args.append(self.function_argument())
                if self.symbol(")"):
                    break
                if not self.symbol(","):
                    raise self.error(f"expected ',' or ')' in {upper}(...)")
        low, high = FUNCTIONS[upper]
        if not low <= len(args) <= high:
            raise self.error(f"wrong number of arguments for {upper}")
        return Func(upper, tuple(args))

    def function_argument(self) -> Operand:
        self.skip_ws()
        if self.word("INTERVAL"):
            amount = self.function_argument()
            self.skip_ws()
            unit = _UNIT_WORD.match(self.text, self.pos)
            if unit is None or normalize_unit(unit.group()) is None:
                raise self.error("INTERVAL needs a unit (DAY, HOUR, MINUTE, MONTH ...)")
            self.pos = unit.end()
            return Interval(amount, normalize_unit(unit.group()))
        if self.peek() in ("'", '"'):
            return Value(self.strict_quoted())
        return self.left_operand()

    # -- scanning helpers
    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos:self.pos + 1]

    def symbol(self, char: str) -> bool:
        self.skip_ws()
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def word(self, word: str) -> bool:
        self.skip_ws()
        match = _keyword_pattern(word).match(self.text, self.pos)
        if match is None:
            return False
        self.pos = match.end()
        return True


@functools.lru_cache(maxsize=None)
def _keyword_pattern(word: str) -> re.Pattern:
    return re.compile(rf"(?i){word}\b")


def _typed_word(word: str) -> Value:
    """An unquoted list item: a number, TRUE/FALSE/NULL, else text."""
    if word.upper() in _CONSTANT_WORDS:
        return Value(_CONSTANT_WORDS[word.upper()])
    number = parse_number(word)
    return Value(word) if number is None else Value(number, word)


def _checked(comparison: Compare, parser: _FilterParser) -> Compare:
    """Reject comparisons of two constants (``'1'='1'``): one side must be a column."""
    if not (_mentions_column(comparison.left) or _mentions_column(comparison.right)):
        raise parser.error("a comparison needs a column on one side")
    return comparison


def _mentions_column(operand) -> bool:
    if isinstance(operand, (Column, Bare)):
        return True
    if isinstance(operand, Func):
        return any(_mentions_column(arg) for arg in operand.args)
    if isinstance(operand, Interval):
        return _mentions_column(operand.amount)
    return False


def parse_assignments(text) -> dict:
    """``"col=value, col2=value2"`` (the legacy ``SET "t", filter, assignments``)."""
    source = to_str(text)
    pieces = re.split(r",(?=\s*[^\W\d]\w*\s*=)", source)
    values: dict = {}
    for piece in pieces:
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        name = name.strip()
        if not sep or re.fullmatch(r"[^\W\d]\w*", name) is None:
            raise BasicError(f"invalid assignment '{piece.strip()}': expected column=value")
        values[name] = _assigned_value(value.strip())
    return values


def _assigned_value(text: str):
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    return _typed_word(text).value if text else ""


# ======================================================================================
# WHERE conditions written in BASIC
# ======================================================================================

_CONDITION_NODES = (N.Logical, N.Not, N.IsNull, N.InList, N.Between)
_BASIC_OPS = {"=": "=", "<>": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
              "LIKE": "LIKE", "CONTAINS": "CONTAINS"}

Evaluate = Callable[[N.Expr], Any]


def where_query(node: N.Expr, evaluate: Evaluate) -> Query:
    """The Query of ``WHERE node``: left operands name columns, right operands are
    evaluated in the script's scope by ``evaluate``; a lone string is a filter string."""
    if _is_condition(node):
        return Query(_WhereConverter(evaluate).condition(node))
    value = evaluate(node)
    if isinstance(value, str):
        return parse_filter(value)
    raise BasicError("WHERE needs a condition such as column = value")


def _is_condition(node) -> bool:
    return isinstance(node, _CONDITION_NODES) or (
        isinstance(node, N.Binary) and node.op.upper() in _BASIC_OPS)


class _WhereConverter:
    def __init__(self, evaluate: Evaluate):
        self.evaluate = evaluate

    def condition(self, node) -> Condition:
        if isinstance(node, N.Logical):
            kind = AllOf if node.op.upper() in ("AND", "&&") else AnyOf
            return kind((self.condition(node.left), self.condition(node.right)))
        if isinstance(node, N.Not):
            return Not(self.condition(node.operand))
        if isinstance(node, N.Binary) and node.op.upper() in _BASIC_OPS:
            op = _BASIC_OPS[node.op.upper()]
            return Compare(op, self.column(node.left), Value(self.evaluate(node.right)))
        if isinstance(node, N.IsNull):
            return IsNull(self.column(node.operand), node.negated)
        if isinstance(node, N.InList):
            return InSet(self.column(node.operand), self.items(node), node.negated)
        if isinstance(node, N.Between):
            return Between(self.column(node.operand), Value(self.evaluate(node.low)),
                           Value(self.evaluate(node.high)))
        if isinstance(node, (N.Name, N.Member)):  # WHERE active AND ...: a true column
            return Compare("=", self.column(node), Value(True))
        raise BasicError("WHERE: expected comparisons of columns joined by AND/OR")

    def items(self, node: N.InList) -> tuple:
        if node.collection:
            return tuple(Value(item) for item in iterate(self.evaluate(node.items[0])))
        return tuple(Value(self.evaluate(item)) for item in node.items)

    def column(self, node) -> Operand:
        if isinstance(node, N.Name):
            return Column((node.raw or node.name).rstrip("$"))
        if isinstance(node, N.Member) and isinstance(node.obj, N.Name):
            return Column(node.name)  # table.column
        if isinstance(node, N.Call) and node.name.upper() in FUNCTIONS:
            args = tuple(self.column(a) if isinstance(a, (N.Name, N.Member, N.Call))
                         else Value(self.evaluate(a)) for a in node.args)
            return Func(node.name.upper(), args)
        raise BasicError("WHERE: the left side of a comparison must be a column")


# ======================================================================================
# Resolving bare words against known columns
# ======================================================================================


class ColumnMap:
    """Columns of one table: case-insensitive lookup of the stored spelling and kind."""

    def __init__(self, columns: Iterable[tuple[str, str]] = ()):
        self._by_lower: dict[str, tuple[str, str]] = {}
        for name, kind in columns:
            self._by_lower.setdefault(name.lower(), (name, kind))

    def find(self, name: str) -> Optional[tuple[str, str]]:
        """``(stored name, kind)`` of ``name`` (any case), or None."""
        return self._by_lower.get(name.lower())

    def names(self) -> list[str]:
        return [name for name, _ in self._by_lower.values()]

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._by_lower

    def __len__(self) -> int:
        return len(self._by_lower)


def resolve(condition: Condition, columns: ColumnMap, strict: bool = False) -> Condition:
    """``condition`` with every Bare word turned into a Column (when the table has that
    column) or a text Value; comparisons left without a column are an error, and so is,
    when ``strict``, a column the table does not have."""
    return _Resolver(columns, strict).condition(condition)


class _Resolver:
    def __init__(self, columns: ColumnMap, strict: bool):
        self.columns = columns
        self.strict = strict

    def condition(self, c):
        if isinstance(c, (AllOf, AnyOf)):
            return type(c)(tuple(self.condition(item) for item in c.items))
        if isinstance(c, Not):
            return Not(self.condition(c.item))
        if isinstance(c, Compare):
            found = Compare(c.op, self.operand(c.left), self.operand(c.right))
            if not (_mentions_column(found.left) or _mentions_column(found.right)):
                raise BasicError(f"filter: no column named '{_word_of(c)}'")
            return found
        if isinstance(c, InSet):
            return InSet(self.operand(c.operand), c.items, c.negated)
        if isinstance(c, IsNull):
            return IsNull(self.operand(c.operand), c.negated)
        return Between(self.operand(c.operand), self.operand(c.low), self.operand(c.high))

    def operand(self, o):
        if isinstance(o, Bare):
            return Column(o.word) if o.word in self.columns else Value(o.word)
        if isinstance(o, Column) and self.strict and o.name not in self.columns:
            raise BasicError(f"unknown column '{o.name}'")
        if isinstance(o, Func):
            return Func(o.name, tuple(self.operand(arg) for arg in o.args))
        return o


def _word_of(c: Compare) -> str:
    for side in (c.left, c.right):
        if isinstance(side, Bare):
            return side.word
    return "?"


