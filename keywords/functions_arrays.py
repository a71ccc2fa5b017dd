"""Array functions (DIALECT §10.6) and MAP(array, "field") of §9.6.10.

Array positions are 0-based. UBOUND is the element *count* (§11 A-1). Strings holding
JSON arrays are used as arrays (§3.8). Functions documented as returning a copy keep a
rowset a rowset; PUSH, POP, SHIFT and UNSHIFT change their array in place.
"""
from __future__ import annotations

import functools

from ..runtime.errors import BasicError
from ..runtime.values import (BasicObject, RowSet, compare, equals, get_member, json_view,
                              length, to_str, type_name)
from .functions_convert import int_arg
from .registry import function


# -- helpers ----------------------------------------------------------------------------

def _items(value, name: str) -> list:
    """The array a function works on: arrays, JSON array text, NULL as ``[]``."""
    view = json_view(value)
    if view is None:
        return []
    if isinstance(view, list):
        return view
    raise BasicError(f"{name} needs an array, not a {type_name(value)}")


def _rows(value) -> list:
    """Like ``_items`` but a single object counts as a one-element array (§9.6.10)."""
    view = json_view(value)
    if isinstance(view, dict):
        return [view]
    return _items(view, "MAP")


def _same_kind(original: list, items: list) -> list:
    """A new array of the original's kind (rowsets stay rowsets)."""
    return RowSet(items) if isinstance(original, RowSet) else list(items)


def _mutable(value, name: str) -> list:
    """An array that in-place functions may change (NULL and text cannot be changed)."""
    if isinstance(value, list):
        return value
    raise BasicError(f"{name} needs an array variable, not a {type_name(value)}")


def _words(text) -> list[str]:
    return to_str(text).split()


# -- size and construction --------------------------------------------------------------

@function("UBOUND", min_args=1, max_args=1)
def ubound(value):
    """Number of elements (empty and NULL 0; object keys; string length) — a count."""
    return length(json_view(value))


@function("LBOUND", min_args=1, max_args=1)
def lbound(value):
    """Always 0 (arrays are 0-based)."""
    return 0


@function("ARRAY", min_args=0)
def array(*values):
    """A new array of the arguments."""
    return list(values)


_MAX_RANGE = 1_000_000  # a typo such as RANGE(1, 1e12) must not exhaust memory


@function("RANGE", min_args=2, max_args=3)
def range_(start, stop, step=None):
    """Inclusive integer range; counts down when ``start > stop`` and no step is given."""
    start, stop = int_arg(start), int_arg(stop)
    step = (1 if stop >= start else -1) if step is None else int_arg(step)
    if step == 0:
        raise BasicError("RANGE: step cannot be 0")
    if abs(stop - start) // abs(step) > _MAX_RANGE:
        raise BasicError("RANGE: too many elements")
    return list(range(start, stop + (1 if step > 0 else -1), step))


# -- ordering ---------------------------------------------------------------------------

_DIRECTIONS = {"ASC": False, "DESC": True}


@function("SORT", min_args=1, max_args=3)
def sort(values, *options):
    """Sorted copy; options: ``"ASC"``/``"DESC"`` and/or a field name to sort rows by."""
    items = _items(values, "SORT")
    words = [to_str(option) for option in options]
    descending = any(_DIRECTIONS.get(word.upper(), False) for word in words)
    fields = [word for word in words if word.upper() not in _DIRECTIONS]
    return _sorted(items, descending, fields[0] if fields else None)


def _sorted(items: list, descending: bool, field=None) -> list:
    pick = (lambda item: get_member(item, field)) if field else (lambda item: item)
    order = functools.cmp_to_key(lambda a, b: compare(pick(a), pick(b)))
    return _same_kind(items, sorted(items, key=order, reverse=descending))


@function("SORT_ASC", min_args=1, max_args=1)
def sort_asc(values):
    """Ascending sorted copy."""
    return _sorted(_items(values, "SORT_ASC"), False)


@function("SORT_DESC", min_args=1, max_args=1)
def sort_desc(values):
    """Descending sorted copy."""
    return _sorted(_items(values, "SORT_DESC"), True)


@function("UNIQUE", "DISTINCT", min_args=1, max_args=1)
def unique(values):
    """Copy without duplicates (§3.2 equality), first occurrence kept."""
    items = _items(values, "UNIQUE")
    kept: list = []
    for item in items:
        if not any(equals(item, seen) for seen in kept):
            kept.append(item)
    return _same_kind(items, kept)


@function("REVERSE", min_args=1, max_args=1)
def reverse(values):
    """Reversed copy; a string is reversed character by character."""
    if type(values) is str and not isinstance(json_view(values), list):
        return values[::-1]
    items = _items(values, "REVERSE")
    return _same_kind(items, items[::-1])


# -- membership -------------------------------------------------------------------------

@function("CONTAINS", "INCLUDES", "HAS", min_args=2, max_args=2)
def contains(container, value):
    """Array membership (§3.2 equality), object key, or case-sensitive substring."""
    if isinstance(container, list):
        return any(equals(item, value) for item in container)
    if isinstance(container, dict):
        return _has_key(container, to_str(value))
    if container is None or value is None:
        return False
    return to_str(value) in to_str(container)


def _has_key(mapping: dict, name: str) -> bool:
    folded = name.lower()
    return any(to_str(key).lower() == folded for key in mapping)


@function("IN_ARRAY", min_args=2, max_args=2)
def in_array(value, values):
    """Whether ``values`` holds an element equal to ``value``."""
    return any(equals(item, value) for item in _items(values, "IN_ARRAY"))


@function("INDEX_OF", min_args=2, max_args=2)
def index_of(values, value):
    """0-based index of the first equal element (or substring), -1 when absent."""
    if type(values) is str and not isinstance(json_view(values), list):
        return values.find(to_str(value))
    items = _items(values, "INDEX_OF")
    return next((i for i, item in enumerate(items) if equals(item, value)), -1)


@function("LAST_INDEX_OF", min_args=2, max_args=2)
def last_index_of(values, value):
    """0-based index of the last equal element (or substring), -1 when absent."""
    if type(values) is str and not isinstance(json_view(values), list):
        return values.rfind(to_str(value))
    items = _items(values, "LAST_INDEX_OF")
    found = [i for i, item in enumerate(items) if equals(item, value)]
    return found[-1] if found else -1


# -- in-place changes -------------------------------------------------------------------

@function("PUSH", min_args=2)
def push(values, *new_items):
    """Append in place and return the array (NULL gives a new array)."""
    if values is None:
        return list(new_items)
    items = _mutable(values, "PUSH")
    items.extend(new_items)
    return items


@function("POP", min_args=1, max_args=1)
def pop(values):
    """Remove and return the last element (NULL when empty)."""
    items = [] if values is None else _mutable(values, "POP")
    return items.pop() if items else None


@function("SHIFT", min_args=1, max_args=1)
def shift(values):
    """Remove and return the first element (NULL when empty)."""
    items = [] if values is None else _mutable(values, "SHIFT")
    return items.pop(0) if items else None


@function("UNSHIFT", "PREPEND", min_args=2)
def unshift(values, *new_items):
    """Insert at the front in place and return the array."""
    if values is None:
        return list(new_items)
    items = _mutable(values, "UNSHIFT")
    items[:0] = new_items
    return items


# -- slices -----------------------------------------------------------------------------

@function("SLICE", "SUBARRAY", min_args=2, max_args=3)
def slice_(values, start, end=None):
    """0-based ``[start, end)`` copy; negative positions count from the end."""
    stop = None if end is None else int_arg(end)
    if type(values) is str and not isinstance(json_view(values), list):
        return values[int_arg(start):stop]
    items = _items(values, "SLICE")
    return _same_kind(items, items[int_arg(start):stop])


@function("TAKE", min_args=2, max_args=2)
def take(values, count):
    """The first ``count`` elements."""
    items = _items(values, "TAKE")
    return _same_kind(items, items[:max(0, int_arg(count))])


@function("DROP", min_args=2, max_args=2)
def drop(values, count):
    """All but the first ``count`` elements."""
    items = _items(values, "DROP")
    return _same_kind(items, items[max(0, int_arg(count)):])


@function("HEAD", min_args=1, max_args=1)
def head(values):
    """The first element (NULL when empty)."""
    items = _items(values, "HEAD")
    return items[0] if items else None


@function("TAIL", min_args=1, max_args=1)
def tail(values):
    """All elements but the first."""
    items = _items(values, "TAIL")
    return _same_kind(items, items[1:])


@function("INIT", min_args=1, max_args=1)
def init(values):
    """All elements but the last."""
    items = _items(values, "INIT")
    return _same_kind(items, items[:-1])


@function("CHUNK", min_args=2, max_args=2)
def chunk(values, size):
    """Consecutive pieces of ``size`` elements (the last may be shorter)."""
    items, size = _items(values, "CHUNK"), int_arg(size)
    if size <= 0:
        raise BasicError("CHUNK: size must be positive")
    return [items[i:i + size] for i in range(0, len(items), size)]


@function("CONCAT", min_args=1)
def concat(first, *others):
    """Arrays joined into a new array (non-array extras appended); otherwise text joined."""
    view = json_view(first)
    if not isinstance(view, list):
        return "".join(to_str(value) for value in (first, *others))
    joined = list(view)
    for other in others:
        other_view = json_view(other)
        joined.extend(other_view if isinstance(other_view, list) else [other])
    return joined


@function("FLATTEN", min_args=1, max_args=1)
def flatten(values):
    """Nested arrays spliced in, one level deep."""
    flat: list = []
    for item in _items(values, "FLATTEN"):
        flat.extend(item if isinstance(item, list) else [item])
    return flat


# -- FIRST / LAST / MAP -----------------------------------------------------------------

@function("FIRST", min_args=1, max_args=2)
def first(value, count=None):
    """First element (or first ``count``, or a ``"field"`` of it); of text, the first word."""
    return _end_pick(value, count, from_start=True)


@function("LAST", min_args=1, max_args=2)
def last(value, count=None):
    """Last element (or last ``count``, or a ``"field"`` of it); of text, the last word."""
    return _end_pick(value, count, from_start=False)


def _end_pick(value, count, from_start: bool):
    view = json_view(value)
    if isinstance(view, dict):
        view = [view]
    if not isinstance(view, list):
        return _end_words(value, count, from_start)
    if type(count) is str and count.strip() and not _is_count(count):
        return get_member(_end_pick(view, None, from_start), count)
    return _end_elements(view, count, from_start)


def _is_count(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _end_elements(items: list, count, from_start: bool):
    if count is None:
        return (items[0] if from_start else items[-1]) if items else None
    size = max(0, int_arg(count))
    picked = items[:size] if from_start else items[len(items) - size:]
    return _same_kind(items, picked)


def _end_words(value, count, from_start: bool):
    if value is None:
        return None
    words = _words(value)
    if count is None:
        return (words[0] if from_start else words[-1]) if words else ""
    size = max(0, int_arg(count))
    return " ".join(words[:size] if from_start else words[len(words) - size:])


@function("MAP", min_args=2, max_args=2)
def map_(values, fields):
    """One field: the array of its values; ``"a, b"``: rows reduced to those fields."""
    names = [name.strip() for name in to_str(fields).split(",") if name.strip()]
    rows = _rows(values)
    if len(names) == 1:
        return [get_member(row, names[0]) for row in rows]
    return [BasicObject({name: get_member(row, name) for name in names}) for row in rows]
