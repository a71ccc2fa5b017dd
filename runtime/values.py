"""The BASIC value model: types, conversions, operators, member access (§3, §4.2–§4.7).

Representation (see docs/DESIGN.md): NULL is ``None``; booleans, integers, floats and
strings are the Python types; arrays are ``list`` (``RowSet`` for FIND results); objects
are ``BasicObject``; datetimes are ``runtime.datetimes.DateTime``; files are ``FileValue``.

These functions sit on the VM's hot path, so each tests exact types first
(``type(a) is int``) and falls back to the general rules only when needed.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import operator
import re
from datetime import datetime
from typing import Any, Callable

from .datetimes import DateTime, parse_date
from .errors import BasicError, DIVISION_BY_ZERO, OVERFLOW, TYPE_MISMATCH

_log = logging.getLogger(__name__)
_MISSING = object()


# ======================================================================================
# Value types
# ======================================================================================

def _find_key(mapping: dict, key) -> Any:
    """The stored key matching ``key`` case-insensitively (exact case first), or None."""
    if key in mapping:
        return key
    if type(key) is not str:
        key = to_str(key)
        if key in mapping:
            return key
    folded = key.lower()
    for existing in mapping:
        if type(existing) is str and existing.lower() == folded:
            return existing
    return None


def _dict_lookup(mapping: dict, key):
    """Case-insensitive read from any dict; None when absent."""
    value = mapping.get(key, _MISSING)
    if value is not _MISSING:
        return value
    found = _find_key(mapping, key)
    return None if found is None else mapping[found]


def _dict_assign(mapping: dict, key, value) -> None:
    """Case-insensitive write: update the matching key, else add ``key`` as spelled."""
    found = _find_key(mapping, key)
    if found is None:
        found = key if type(key) is str else to_str(key)
    mapping[found] = value


class BasicObject(dict):
    """A BASIC object: case-insensitive lookup, case-preserving storage (§2.2).

    Plain ``dict`` indexing stays exact-case; BASIC code goes through ``lookup`` /
    ``assign`` / ``has`` / ``remove``. Serialises with ``json`` as a plain dict.
    """

    __slots__ = ()

    def __init__(self, mapping=None):
        super().__init__()
        if mapping:
            self.update(mapping)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"

    def lookup(self, key):
        """The member ``key`` (case-insensitive; exact case wins), or None."""
        value = dict.get(self, key, _MISSING)
        if value is not _MISSING:
            return value
        found = _find_key(self, key)
        return None if found is None else dict.__getitem__(self, found)

    def assign(self, key, value) -> None:
        """Set member ``key``, reusing the spelling of an existing case-variant."""
        _dict_assign(self, key, value)

    def has(self, key) -> bool:
        """Whether a member named ``key`` (any case) exists."""
        return _find_key(self, key) is not None

    def remove(self, key):
        """Delete member ``key`` (any case); returns its value, or None when absent."""
        found = _find_key(self, key)
        return None if found is None else self.pop(found)

    def copy(self) -> "BasicObject":
        """A shallow copy of the same type."""
        return BasicObject(self)


class RowSet(list):
    """The result of FIND (§3.6): an array whose member access reads the first row.

    An empty rowset is falsy, ``IS NULL`` and ``= NULL``.
    """

    __slots__ = ()

    def copy(self) -> "RowSet":
        """A shallow copy that is still a rowset."""
        return RowSet(self)


_FILE_FIELDS = ("url", "name", "mime_type", "size", "path")
_FILE_ALIASES = {"mimetype": "mime_type", "mime": "mime_type", "content_type": "mime_type"}


class FileValue:
    """A file received or produced by a script; its string form is its url (or path)."""

    __slots__ = _FILE_FIELDS

    def __init__(self, url=None, name=None, mime_type=None, size=None, path=None):
        self.url = url
        self.name = name
        self.mime_type = mime_type
        self.size = size
        self.path = path

    def __str__(self) -> str:
        return self.url or self.path or ""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in _FILE_FIELDS)
        return f"FileValue({fields})"

    def __eq__(self, other):
        if isinstance(other, FileValue):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    __hash__ = None  # mutable, like the other container values

    def member(self, name: str):
        """Field ``name`` (case-insensitive, ``mimetype`` accepted), or None."""
        key = name.lower()
        key = _FILE_ALIASES.get(key, key)
        return getattr(self, key) if key in _FILE_FIELDS else None

    def to_dict(self) -> dict:
        """The fields as a plain dict (its JSON form)."""
        return {k: getattr(self, k) for k in _FILE_FIELDS}


class HttpResponse(BasicObject):
    """Result of POST/PUT/PATCH/DELETE HTTP (§9.7.2): ``status``, ``statusText``,
    ``headers``, ``data``. Reading any other member reads it from ``data``
    (``r.id`` is ``r.data.id``).

    ``HttpResponse(status=201, status_text="Created", headers={...}, data=...)`` or
    ``HttpResponse({"status": ..., "statusText": ..., ...})``.
    """

    __slots__ = ()

    def __init__(self, mapping=None, *, status=200, status_text="", headers=None, data=None):
        super().__init__()
        dict.update(self, status=status, statusText=status_text,
                    headers=BasicObject(headers), data=data)
        for key, value in (mapping or {}).items():
            self.assign(key, value)

    def lookup(self, key):
        """Own member ``key``, else member ``key`` of ``data``."""
        found = _find_key(self, key)
        if found is not None:
            return dict.__getitem__(self, found)
        return get_member(BasicObject.lookup(self, "data"), key)

    def copy(self) -> "HttpResponse":
        """A shallow copy that is still a response."""
        return HttpResponse(self)


# ======================================================================================
# Conversions (§3.1)
# ======================================================================================

# Integral floats below this magnitude print as integers; beyond it Python's repr
# (``1e+16``) is shorter and still has no ".0".
_INTEGRAL_FLOAT_LIMIT = 1e16


def _float_str(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and -_INTEGRAL_FLOAT_LIMIT < value < _INTEGRAL_FLOAT_LIMIT:
        return str(int(value))
    return repr(value)


def to_str(v) -> str:
    """The string form of a value (§3.1); NULL is ``""``."""
    t = type(v)
    if t is str:
        return v
    if v is None:
        return ""
    if t is int:
        return str(v)
    if t is float:
        return _float_str(v)
    if t is bool:
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return to_json(v)
    return str(v)


_NUMBER = re.compile(
    r"[+-]?(?:(?P<int>[0-9]+)|[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?"
    r"|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)")


def parse_number(s: str) -> int | float | None:
    """The number a string holds (trimmed; integer or decimal/scientific), else None.

    Words such as ``inf``/``nan``, underscores and ``,`` decimals are not numbers.
    """
    if len(s) < 19 and s.isdigit() and s.isascii():  # common case: plain digits, no regex
        return int(s)
    text = s.strip()
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    if match["int"] is not None:
        try:
            return int(text)
        except ValueError:  # beyond Python's int-from-string digit limit
            return float(text)
    return float(text)


def to_num(v) -> int | float:
    """A value as a number for arithmetic: NULL 0, booleans 1/0, numeric strings parsed."""
    t = type(v)
    if t is int or t is float:
        return v
    if v is None:
        return 0
    if t is bool:
        return int(v)
    if t is str:
        number = parse_number(v)
        if number is None:
            raise BasicError(f"cannot use '{v}' as a number", TYPE_MISMATCH)
        return number
    raise BasicError(f"cannot use a {type_name(v)} as a number", TYPE_MISMATCH)


_FALSE_STRINGS = frozenset(("false", "0"))


def truthy(v) -> bool:
    """Truthiness of §3.3 (used by IF, WHILE, NOT, AND, OR, IIF)."""
    t = type(v)
    if t is bool:
        return v
    if v is None:
        return False
    if t is int or t is float:
        return v != 0
    if t is str:
        return v != "" and not (len(v) <= 5 and v.lower() in _FALSE_STRINGS)
    if isinstance(v, (list, dict)):
        return len(v) > 0
    return True


def type_name(v) -> str:
    """The TYPEOF name of a value."""
    t = type(v)
    if v is None:
        return "null"
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "float"
    if t is str:
        return "string"
    return _container_type_name(v)


def _container_type_name(v) -> str:
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, DateTime):
        return "datetime"
    if isinstance(v, FileValue):
        return "file"
    return type(v).__name__.lower()


def length(v) -> int:
    """LEN (§10.1): characters of a string, elements of an array, keys of an object,
    0 for NULL, otherwise the length of the string form."""
    if v is None:
        return 0
    if type(v) is str or isinstance(v, (list, dict)):
        return len(v)
    return len(to_str(v))


# ======================================================================================
# Equality and ordering (§3.2)
# ======================================================================================

def _is_number(v) -> bool:
    t = type(v)
    return t is int or t is float


def _is_number_or_bool(v) -> bool:
    t = type(v)
    return t is int or t is float or t is bool


def equals(a, b) -> bool:
    """BASIC ``=`` (§3.2). Symmetric; NULL equals NULL, ``""`` and an empty rowset."""
    ta = type(a)
    if ta is type(b) and (ta is str or ta is int or ta is float or ta is bool):
        return a == b
    if a is None:
        return _equals_null(b)
    if b is None:
        return _equals_null(a)
    if _is_number(a) and _is_number(b):
        return a == b
    if ta is bool or type(b) is bool:
        return _equals_bool(a, b) if ta is bool else _equals_bool(b, a)
    return _equals_mixed(a, b)


def _equals_null(v) -> bool:
    return v is None or (type(v) is str and v == "") or (type(v) is RowSet and not v)


def _equals_bool(flag: bool, other) -> bool:
    """TRUE = 1 numerically; TRUE = "true" by string form (case and spaces ignored)."""
    if _is_number(other):
        return flag == other
    if type(other) is str:
        return other.strip().lower() == ("true" if flag else "false")
    return False


def _equals_mixed(a, b) -> bool:
    if _is_number(a) and type(b) is str:
        return _equals_number_string(a, b)
    if _is_number(b) and type(a) is str:
        return _equals_number_string(b, a)
    if isinstance(a, DateTime) or isinstance(b, DateTime):
        return _equals_datetime(a, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equals(a[k], b[k]) for k in a)
    if isinstance(a, FileValue) and isinstance(b, FileValue):
        return a == b
    return to_str(a) == to_str(b)


def _equals_number_string(number, text: str) -> bool:
    parsed = parse_number(text)
    if parsed is not None:
        return number == parsed
    return to_str(number) == text


def _equals_datetime(a, b) -> bool:
    keys = _datetime_keys(a, b)
    if keys is not None:
        return keys[0] == keys[1]
    return to_str(a) == to_str(b)


def _datetime_keys(a, b):
    """Both operands as datetimes when one is a datetime and the other parses as one."""
    if not isinstance(a, (DateTime, str)) or not isinstance(b, (DateTime, str)):
        return None
    first, second = parse_date(a), parse_date(b)
    if first is None or second is None:
        return None
    return first.value, second.value


def compare(a, b) -> int:
    """-1, 0 or 1 ordering ``a`` against ``b`` (§3.2); arrays/objects are not ordered."""
    x, y = _ordering_keys(a, b)
    return (x > y) - (x < y)


def _ordering_keys(a, b):
    """A pair of mutually comparable Python values standing for ``a`` and ``b``."""
    if a is None:
        a = 0 if _is_number_or_bool(b) else ""
    if b is None:
        b = 0 if _is_number_or_bool(a) else ""
    if _is_number_or_bool(a) and _is_number_or_bool(b):
        return a, b
    numeric = _numeric_pair(a, b)
    if numeric is not None:
        return numeric
    if isinstance(a, DateTime) or isinstance(b, DateTime):
        keys = _datetime_keys(a, b)
        if keys is not None:
            return keys
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        raise BasicError(f"cannot compare {type_name(a)} with {type_name(b)}", TYPE_MISMATCH)
    return to_str(a), to_str(b)


def _numeric_pair(a, b):
    """(number, parsed string) when one side is a number and the other a numeric string."""
    if _is_number_or_bool(a) and type(b) is str:
        parsed = parse_number(b)
        return None if parsed is None else (a, parsed)
    if _is_number_or_bool(b) and type(a) is str:
        parsed = parse_number(a)
        return None if parsed is None else (parsed, b)
    return None


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}


def cmp_op(op: str, a, b) -> bool:
    """Apply a comparison operator: ``=`` ``==`` ``<>`` ``!=`` ``<`` ``>`` ``<=`` ``>=``."""
    if op == "=" or op == "==":
        return equals(a, b)
    if op == "<>" or op == "!=":
        return not equals(a, b)
    test = _ORDER_OPS.get(op)
    if test is None:
        raise ValueError(f"unknown comparison operator {op!r}")
    if _is_number(a) and _is_number(b):
        return test(a, b)  # keeps IEEE semantics (NaN compares false)
    return test(compare(a, b), 0)


# ======================================================================================
# Arithmetic and string operators (§4.2, §4.3)
# ======================================================================================

def add(a, b):
    """``a + b`` with the VB/JS rules of §4.3 (numeric strings add, other strings join)."""
    ta = type(a)
    tb = type(b)
    if ta is tb and (ta is int or ta is float or ta is str):
        return a + b
    if a is None:
        return b
    if b is None:
        return a
    if _is_number_or_bool(a) and _is_number_or_bool(b):
        return a + b
    if tb is str and _is_number(a):
        return _add_number_string(a, b, number_first=True)
    if ta is str and _is_number(b):
        return _add_number_string(b, a, number_first=False)
    return _add_other(a, b)


def _add_number_string(number, text: str, number_first: bool):
    parsed = parse_number(text)
    if parsed is not None:
        return number + parsed
    return to_str(number) + text if number_first else text + to_str(number)


def _add_other(a, b):
    """Datetime + number shifts by days; everything else concatenates string forms."""
    if isinstance(a, DateTime) and _is_number(b):
        return a.shifted(b)
    if isinstance(b, DateTime) and _is_number(a):
        return b.shifted(a)
    return to_str(a) + to_str(b)


def sub(a, b):
    """``a - b``; datetime - datetime is days, datetime - number shifts back."""
    if _is_number(a) and _is_number(b):
        return a - b
    if isinstance(a, DateTime):
        return _datetime_minus(a, b)
    return to_num(a) - to_num(b)


def _datetime_minus(moment: DateTime, other):
    if isinstance(other, (DateTime, str)):
        other_moment = parse_date(other)
        if other_moment is not None:
            return moment - other_moment
    return moment.shifted(-to_num(other))


def mul(a, b):
    """``a * b`` (no string repetition: strings must be numeric)."""
    if _is_number(a) and _is_number(b):
        return a * b
    return to_num(a) * to_num(b)


def _divisor(b):
    divisor = to_num(b)
    if divisor == 0:
        raise BasicError("division by zero", DIVISION_BY_ZERO)
    return divisor


def div(a, b):
    """``a / b``: true division; integer operands with an exact quotient stay integers."""
    x = to_num(a)
    y = _divisor(b)
    if type(x) is int and type(y) is int:
        quotient, remainder = divmod(x, y)
        if remainder == 0:
            return quotient
    try:
        return x / y
    except OverflowError:
        raise BasicError("overflow", OVERFLOW) from None


def _whole(value):
    """Float results of integer operators become ints when finite."""
    if type(value) is float and math.isfinite(value):
        return int(value)
    return value


def intdiv(a, b):
    """``a \\ b``: floor division."""
    x = to_num(a)
    return _whole(x // _divisor(b))


def mod(a, b):
    """``a MOD b``: remainder with the sign of the dividend (VB)."""
    x = to_num(a)
    y = _divisor(b)
    if type(x) is int and type(y) is int:
        remainder = abs(x) % abs(y)
        return -remainder if x < 0 else remainder
    return math.fmod(x, y)


# An exact integer power bigger than this many bits would stall the VM; treat as overflow.
_MAX_POWER_BITS = 1_000_000


def power(a, b):
    """``a ^ b``."""
    x, y = to_num(a), to_num(b)
    if type(x) is int and type(y) is int and y > 0 and y * x.bit_length() > _MAX_POWER_BITS:
        raise BasicError("overflow", OVERFLOW)
    try:
        result = x ** y
    except ZeroDivisionError:
        raise BasicError("division by zero", DIVISION_BY_ZERO) from None
    except OverflowError:
        raise BasicError("overflow", OVERFLOW) from None
    if type(result) is complex:
        raise BasicError("negative number raised to a fractional power", TYPE_MISMATCH)
    return result


def neg(a):
    """Unary minus."""
    if _is_number(a):
        return -a
    return -to_num(a)


def concat(a, b) -> str:
    """``a & b``: always joins string forms."""
    return to_str(a) + to_str(b)


def coalesce(a, b):
    """``a ?? b``: ``b`` when ``a`` is NULL or ``""`` (same test as NVL)."""
    if a is None or (type(a) is str and a == ""):
        return b
    return a


# ======================================================================================
# Predicates (§4.5)
# ======================================================================================

def is_null(v) -> bool:
    """``v IS NULL``: NULL, ``""`` or an empty rowset."""
    return _equals_null(v)


def is_empty(v) -> bool:
    """ISEMPTY: NULL, ``""``, or an empty array/rowset/object."""
    if v is None:
        return True
    if type(v) is str or isinstance(v, (list, dict)):
        return len(v) == 0
    return False


def contains(a, b) -> bool:
    """Infix ``a CONTAINS b``: case-insensitive substring, array membership or key."""
    if a is None:
        return False
    if isinstance(a, list):
        return any(equals(item, b) for item in a)
    if b is None:
        return False
    if isinstance(a, dict):
        return _find_key(a, to_str(b)) is not None
    return to_str(b).lower() in to_str(a).lower()


@functools.lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern:
    """SQL (``%``, ``_``) and glob (``*``, ``?``) wildcards as a case-insensitive regex."""
    wildcards = {"%": ".*", "*": ".*", "_": ".", "?": "."}
    body = "".join(wildcards.get(ch) or re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def like(a, pattern) -> bool:
    """``a LIKE pattern`` (§4.5); NULL on either side is false."""
    if a is None or pattern is None:
        return False
    return _like_regex(to_str(pattern)).fullmatch(to_str(a)) is not None


# ======================================================================================
# Lazy JSON (§3.8) and JSON text
# ======================================================================================

_JSON_START = re.compile(r"\s*[\[{`]")
_CODE_FENCE = re.compile(r"\s*```[\w.+-]*[ \t]*\n?(?P<body>.*?)\n?\s*```\s*", re.DOTALL)

# Parses are cached by string *identity*, not content, so that one variable's parsed view
# keeps its mutations while another variable holding equal text gets a fresh parse.
# Each entry keeps its string alive, so an id can never be reused while cached.
_JSON_CACHE: dict[int, tuple[str, Any]] = {}
_JSON_CACHE_SIZE = 512


def _strip_fence(text: str) -> str:
    match = _CODE_FENCE.fullmatch(text)
    return match["body"] if match else text


def _parse_container(text: str):
    """The parsed object/array held by ``text``, or ``text`` itself when it holds none."""
    body = _strip_fence(text).strip()
    if not body or body[0] not in "[{":
        return text
    try:
        return json.loads(body, object_pairs_hook=BasicObject)
    except ValueError:
        return text


def json_view(v):
    """``v``, or the parsed array/object when ``v`` is a string holding JSON (§3.8)."""
    if type(v) is not str or _JSON_START.match(v) is None:
        return v
    entry = _JSON_CACHE.get(id(v))
    if entry is not None and entry[0] is v:
        return entry[1]
    parsed = _parse_container(v)
    if len(_JSON_CACHE) >= _JSON_CACHE_SIZE:
        del _JSON_CACHE[next(iter(_JSON_CACHE))]
    _JSON_CACHE[id(v)] = (v, parsed)
    return parsed


def _json_float(value: float):
    if value.is_integer() and -_INTEGRAL_FLOAT_LIMIT < value < _INTEGRAL_FLOAT_LIMIT:
        return int(value)
    return value


def _jsonable(v):
    """Plain JSON data for ``v``: datetimes as ISO text, integral floats as integers."""
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return _json_float(v)
    if isinstance(v, dict):
        return {(k if type(k) is str else to_str(k)): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, DateTime):
        return v.to_iso()
    if isinstance(v, FileValue):
        return v.to_dict()
    return to_str(v)


def to_json(v) -> str:
    """Compact JSON text of any value (UTF-8, not ASCII-escaped)."""
    return json.dumps(_jsonable(v), ensure_ascii=False, separators=(",", ":"))


def from_json(text):
    """Parse JSON text (a Markdown code fence is tolerated); objects become BasicObject.

    Non-string values are returned unchanged; invalid text raises BasicError.
    """
    if type(text) is not str:
        return text
    try:
        return json.loads(_strip_fence(text).strip(), object_pairs_hook=BasicObject)
    except ValueError as error:
        raise BasicError(f"invalid JSON: {error}") from None


# ======================================================================================
# Member access and indexing (§3.7, §4.7)
# ======================================================================================

def _is_length(name) -> bool:
    return type(name) is str and len(name) == 6 and name.lower() == "length"


def get_member(obj, name):
    """``obj.name``: case-insensitive, NULL-propagating, never an error."""
    if type(obj) is BasicObject:
        return obj.lookup(name)
    if obj is None:
        return None
    if isinstance(obj, BasicObject):
        return obj.lookup(name)
    if isinstance(obj, dict):
        return _dict_lookup(obj, name)
    if isinstance(obj, list):
        return _list_member(obj, name)
    if type(obj) is str:
        return _string_member(obj, name)
    if isinstance(obj, (DateTime, FileValue)):
        return obj.member(name)
    return None


def _list_member(items: list, name):
    """Rowsets read the first row's member; ``length`` counts elements."""
    if type(items) is RowSet and items:
        value = get_member(items[0], name)
        if value is not None:
            return value
    return len(items) if _is_length(name) else None


def _string_member(text: str, name):
    view = json_view(text)
    if view is not text:
        return get_member(view, name)
    return len(text) if _is_length(name) else None


def set_member(obj, name, value):
    """``obj.name = value``; returns the container now holding the member.

    NULL becomes a new object (the caller stores it back); a rowset assigns on its first
    row; strings, numbers and other scalars raise BasicError.
    """
    if isinstance(obj, BasicObject):
        obj.assign(name, value)
        return obj
    if obj is None:
        created = BasicObject()
        created.assign(name, value)
        return created
    if isinstance(obj, dict):
        _dict_assign(obj, name, value)
        return obj
    if type(obj) is RowSet:
        return _set_rowset_member(obj, name, value)
    raise BasicError(f"cannot set member '{name}' of a {type_name(obj)}", TYPE_MISMATCH)


def _set_rowset_member(rows: RowSet, name, value) -> RowSet:
    if not rows:
        rows.append(BasicObject())
    rows[0] = set_member(rows[0], name, value)
    return rows


def _as_index(idx):
    """An integer index from ``idx`` (floats truncate, numeric strings parse), or None."""
    t = type(idx)
    if t is int:
        return idx
    if t is float:
        return int(idx) if math.isfinite(idx) else None
    if t is bool:
        return int(idx)
    if t is str:
        number = parse_number(idx)
        return None if number is None else _as_index(number)
    return None


def get_index(obj, idx):
    """``obj[idx]``: 0-based for arrays and strings; out of range or NULL gives NULL."""
    t = type(obj)
    if t is list or t is RowSet:
        return _list_item(obj, idx)
    if obj is None:
        return None
    if isinstance(obj, dict):
        return get_member(obj, idx if type(idx) is str else to_str(idx))
    if t is str:
        return _string_item(obj, idx)
    if isinstance(obj, list):
        return _list_item(obj, idx)
    if type(idx) is str:
        return get_member(obj, idx)
    return None


def _list_item(items: list, idx):
    position = _as_index(idx)
    if position is None:
        return get_member(items, idx) if type(idx) is str else None
    if 0 <= position < len(items):
        return items[position]
    return None


def _string_item(text: str, idx):
    view = json_view(text)
    if view is not text:
        return get_index(view, idx)
    position = _as_index(idx)
    if position is not None and 0 <= position < len(text):
        return text[position]
    return None


def set_index(obj, idx, value):
    """``obj[idx] = value``; returns the container (NULL auto-creates one).

    Arrays grow to reach ``idx`` (gaps are NULL); negative indexes are an error.
    """
    if isinstance(obj, list):
        return _set_list_item(obj, idx, value)
    if isinstance(obj, dict):
        _dict_assign(obj, idx if type(idx) is str else to_str(idx), value)
        return obj
    if obj is None:
        container = BasicObject() if type(idx) is str else []
        return set_index(container, idx, value)
    raise BasicError(f"cannot set an element of a {type_name(obj)}", TYPE_MISMATCH)


def _set_list_item(items: list, idx, value) -> list:
    position = _as_index(idx)
    if position is None:
        if type(items) is RowSet and type(idx) is str:
            return set_member(items, idx, value)
        raise BasicError(f"array index must be a number, not '{to_str(idx)}'", TYPE_MISMATCH)
    if position < 0:
        raise BasicError(f"negative array index {position}")
    if position >= len(items):
        items.extend([None] * (position + 1 - len(items)))
    items[position] = value
    return items


# ======================================================================================
# FOR EACH (§5.5)
# ======================================================================================

# Members that API envelopes use to hold their rows (api-client iterates `list` where
# `list.items` holds them).
_ROW_MEMBERS = ("data", "items", "results", "value", "rows")


def iterate(v) -> list:
    """The snapshot a FOR EACH walks over (§5.5)."""
    if isinstance(v, list):
        return list(v)
    if v is None:
        return []
    if type(v) is str:
        view = json_view(v)
        return [v] if view is v else iterate(view)
    if isinstance(v, HttpResponse):
        return iterate(v.lookup("data"))
    if isinstance(v, dict):
        return _iterate_object(v)
    return [v]


def _iterate_object(obj: dict) -> list:
    """An envelope's single row-array member, else the object itself as one element."""
    arrays = [value for name in _ROW_MEMBERS
              if isinstance(value := _dict_lookup(obj, name), list)]
    if len(arrays) != 1:
        return [obj]
    _log.warning("FOR EACH over an object: iterating its array member instead")
    return list(arrays[0])


# ======================================================================================
# Lossless plain form (saving VM state)
# ======================================================================================

_TAG = "$t"


def to_plain(v):
    """JSON-serialisable data from which ``from_plain`` rebuilds ``v`` exactly.

    Objects become plain dicts unless they hold a ``"$t"`` key; every non-JSON type is a
    tagged dict ``{"$t": kind, ...}``.
    """
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return v if math.isfinite(v) else {_TAG: "float", "v": repr(v)}
    if t is list or t is tuple:
        return [to_plain(x) for x in v]
    return _tagged_plain(v)


def _plain_items(mapping: dict) -> dict:
    return {(k if type(k) is str else to_str(k)): to_plain(x) for k, x in mapping.items()}


def _tagged_plain(v):
    if type(v) is RowSet:
        return {_TAG: "rows", "v": [to_plain(x) for x in v]}
    if isinstance(v, HttpResponse):
        return {_TAG: "http", "v": _plain_items(v)}
    if isinstance(v, dict):
        items = _plain_items(v)
        return {_TAG: "obj", "v": items} if _TAG in items else items
    if isinstance(v, list):
        return [to_plain(x) for x in v]
    if isinstance(v, DateTime):
        return {_TAG: "dt", "v": v.value.isoformat(), "d": v.date_only}
    if isinstance(v, FileValue):
        return {_TAG: "file", "v": _plain_items(v.to_dict())}
    raise TypeError(f"cannot save a value of type {type(v).__name__}")


def from_plain(data):
    """Rebuild a value saved by ``to_plain``."""
    t = type(data)
    if t is list:
        return [from_plain(x) for x in data]
    if t is not dict:
        return data
    tag = data.get(_TAG)
    if tag is None:
        return BasicObject({k: from_plain(x) for k, x in data.items()})
    return _PLAIN_BUILDERS[tag](data)


def _plain_object(data, cls=BasicObject):
    return cls({k: from_plain(x) for k, x in data["v"].items()})


def _plain_datetime(data) -> DateTime:
    return DateTime(datetime.fromisoformat(data["v"]), data.get("d", False))


_PLAIN_BUILDERS: dict[str, Callable[[dict], Any]] = {
    "float": lambda data: float(data["v"]),
    "rows": lambda data: RowSet(from_plain(x) for x in data["v"]),
    "obj": _plain_object,
    "http": lambda data: _plain_object(data, HttpResponse),
    "dt": _plain_datetime,
    "file": lambda data: FileValue(**{k: from_plain(x) for k, x in data["v"].items()}),
}


# ======================================================================================
# Compat JavaScript methods (§4.7)
# ======================================================================================

def _text(obj, method: str) -> str:
    """The receiver of a string method: scalars use their string form."""
    if type(obj) is str:
        return obj
    if isinstance(obj, (list, dict)):
        raise BasicError(f"{method}() is not a method of an {type_name(obj)}")
    return to_str(obj)


def _array(obj, method: str) -> list:
    if isinstance(obj, list):
        return obj
    raise BasicError(f"{method}() needs an array, not a {type_name(obj)}")


def _arg(args: list, position: int, default=None):
    return args[position] if len(args) > position else default


def _js_position(value, size: int, default: int) -> int:
    """JS substring index: NaN/NULL 0, clamped to [0, size]."""
    if value is None:
        return default
    number = to_num(value)
    if number != number:
        return 0
    return max(0, min(size, int(number)))


def _substring(obj, args):
    text = _text(obj, "substring")
    start = _js_position(_arg(args, 0), len(text), 0)
    end = _js_position(_arg(args, 1), len(text), len(text))
    return text[min(start, end):max(start, end)]


def _contains_method(obj, args):
    needle = _arg(args, 0)
    if isinstance(obj, list):
        return any(equals(item, needle) for item in obj)
    if needle is None:
        return False
    if isinstance(obj, dict):
        return _find_key(obj, to_str(needle)) is not None
    return to_str(needle) in _text(obj, "includes")


def _index_of(obj, args):
    needle = _arg(args, 0)
    if isinstance(obj, list):
        return next((i for i, item in enumerate(obj) if equals(item, needle)), -1)
    return _text(obj, "indexOf").find(to_str(needle))


def _split(obj, args):
    text = _text(obj, "split")
    separator = _arg(args, 0)
    if separator is None:
        return [text]
    separator = to_str(separator)
    return list(text) if separator == "" else text.split(separator)


def _join(obj, args):
    items = _array(json_view(obj), "join")
    separator = to_str(_arg(args, 0, ","))
    return separator.join(to_str(item) for item in items)


def _push(obj, args):
    items = _array(obj, "push")
    items.extend(args)
    return len(items)


def _splice(obj, args):
    """JS splice: remove ``count`` items at ``start`` in place, insert the rest."""
    items = _array(obj, "splice")
    size = len(items)
    start = int(to_num(_arg(args, 0, 0)))
    start = max(0, size + start) if start < 0 else min(start, size)
    count = size - start if len(args) < 2 else max(0, int(to_num(args[1])))
    removed = items[start:start + count]
    items[start:start + count] = args[2:]
    return removed


def _replace(obj, args):
    """JS replace with a string pattern: the first occurrence only."""
    text = _text(obj, "replace")
    return text.replace(to_str(_arg(args, 0)), to_str(_arg(args, 1)), 1)


_METHODS: dict[str, Callable[[Any, list], Any]] = {
    "trim": lambda obj, args: _text(obj, "trim").strip(),
    "tolowercase": lambda obj, args: _text(obj, "toLowerCase").lower(),
    "touppercase": lambda obj, args: _text(obj, "toUpperCase").upper(),
    "contains": _contains_method,
    "includes": _contains_method,
    "startswith": lambda obj, args: _text(obj, "startsWith").startswith(to_str(_arg(args, 0))),
    "endswith": lambda obj, args: _text(obj, "endsWith").endswith(to_str(_arg(args, 0))),
    "substring": _substring,
    "push": _push,
    "splice": _splice,
    "indexof": _index_of,
    "split": _split,
    "join": _join,
    "replace": _replace,
}
# Methods that change their receiver cannot work on NULL (there is nothing to change);
# the others propagate NULL like member access does.
_MUTATING_METHODS = frozenset(("push", "splice"))


def call_method(obj, method: str, args: list):
    """``obj.method(args)`` for the compat JavaScript methods of §4.7."""
    key = method.lower()
    handler = _METHODS.get(key)
    if handler is None:
        raise BasicError(f"unknown method '{method}'")
    if obj is None:
        if key in _MUTATING_METHODS:
            raise BasicError(f"cannot call {method}() on NULL")
        return None
    return handler(obj, list(args))
