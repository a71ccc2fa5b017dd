"""In-memory collection keywords (DIALECT §9.6.10): FILTER, GROUP BY, JOIN, PIVOT, MAP,
FILL, SORT ... BY, and the arithmetic of AGGREGATE (its keyword is in data.py).

They work on arrays or rowsets of objects (a single object counts as a one-element
array; a string holding JSON is read as its value) and return new values, leaving their
inputs unchanged. JOIN, MAP and SORT are also built-in functions: written with the
function's arguments (``JOIN(arr, ",")``, ``MAP(rows, "field")``, ``SORT(arr)``) the
keyword hands the call to the function.
"""
from __future__ import annotations

import re
from typing import Optional

from ..runtime.errors import BasicError
from ..runtime.services.filter_memory import Env, matches, order_rows
from ..runtime.services.filters import ColumnMap, Query, parse_filter, resolve
from ..runtime.values import (BasicObject, RowSet, equals, get_member, is_null, json_view,
                              parse_number, to_str)
from .calls import DeferredExpr, KeywordCall, deferred
from .data_where import query_of
from .registry import keyword

AGGREGATE_OPS = frozenset(("SUM", "AVG", "AVERAGE", "COUNT", "MIN", "MAX"))
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def rows_of(value) -> list:
    """The elements a collection operation works on (see module doc)."""
    value = json_view(value)
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return [value]
    raise BasicError(f"expected an array of objects, not '{to_str(value)[:40]}'")


def _like_input(data, rows: list) -> list:
    """A rowset in, a rowset out; otherwise a plain array."""
    return RowSet(rows) if isinstance(data, RowSet) else rows


async def _function(ctx, name: str, args: list):
    """Call the built-in function ``name`` (the parenthesised forms of these keywords)."""
    spec = ctx.registry.function_spec(name)
    if spec is None:
        raise BasicError(f"{name.upper()} is not available in this version")
    return spec.handler(ctx, *args) if spec.needs_ctx else spec.handler(*args)


# ---------------------------------------------------------------- FILTER


@deferred("WHERE")
@keyword("FILTER", section="9.6.10")
async def filter_(ctx, call: KeywordCall):
    """``FILTER data, "condition"`` / ``FILTER data WHERE condition``: the matching rows."""
    if len(call.args) != 2:
        raise BasicError("FILTER needs data and a condition")
    data, condition_arg = call.args[0].value, call.args[1]
    query = query_of(ctx, condition_arg) if isinstance(condition_arg.value, DeferredExpr) \
        else parse_filter(condition_arg.value)
    rows = rows_of(data)
    return _like_input(data, filter_rows(rows, query, Env(ctx.now())))


def filter_rows(rows: list, query: Query, env: Env) -> list:
    """Rows satisfying the query, ordered and limited as it says."""
    keys: dict = {}
    for row in rows:
        if isinstance(row, dict):
            keys.update((to_str(k), None) for k in row)
    condition = resolve(query.condition, ColumnMap((k, "text") for k in keys))
    found = order_rows([row for row in rows if matches(condition, row, env)], query.order_by)
    return found if query.limit is None else found[:query.limit]


# ---------------------------------------------------------------- AGGREGATE arithmetic


def aggregate_values(operation, rows: list, field: str):
    """SUM/AVG/AVERAGE/COUNT/MIN/MAX of ``field`` over ``rows``: numeric values only
    (numeric strings count); COUNT counts non-null values; empty -> 0 (MIN/MAX NULL)."""
    op = to_str(operation).strip().upper()
    if op not in AGGREGATE_OPS:
        raise BasicError(f"AGGREGATE: unknown operation '{to_str(operation)}' "
                         "(SUM, AVG, COUNT, MIN or MAX)")
    cells = [get_member(row, field) for row in rows]
    if op == "COUNT":
        return sum(1 for cell in cells if not is_null(cell))
    numbers = [n for n in (_number(cell) for cell in cells) if n is not None]
    if op in ("MIN", "MAX"):
        return (min if op == "MIN" else max)(numbers) if numbers else None
    total = sum(numbers)
    if op == "SUM":
        return total
    return total / len(numbers) if numbers else 0


def _number(value) -> Optional[float]:
    if type(value) in (int, float):
        return value
    if isinstance(value, str):
        return parse_number(value)
    return None


# ---------------------------------------------------------------- GROUP BY, JOIN, PIVOT


@keyword("GROUP BY", section="9.6.10")
async def group_by(ctx, call: KeywordCall):
    """``GROUP BY data, "field"``: an object mapping each value (as text) to its rows."""
    data, field = call.values
    groups = BasicObject()
    for row in rows_of(data):
        key = to_str(get_member(row, to_str(field)))
        if key not in groups:
            groups[key] = []
        groups[key].append(row)
    return groups


@keyword("JOIN", section="9.6.10")
async def join(ctx, call: KeywordCall):
    """``JOIN left, right, "key"``: inner join on equal key values, the left row's fields
    winning; ``JOIN(array[, separator])`` is the string function."""
    if len(call.args) != 3:
        return await _function(ctx, "join", call.values)
    left, right, key = call.values
    key = to_str(key)
    right_rows = rows_of(right)
    joined = []
    for row in rows_of(left):
        value = get_member(row, key)
        for other in right_rows:
            if value is not None and equals(value, get_member(other, key)):
                merged = BasicObject(other)
                for name, item in row.items():
                    merged.assign(name, item)
                joined.append(merged)
    return _like_input(left, joined)


@keyword("PIVOT", section="9.6.10")
async def pivot(ctx, call: KeywordCall):
    """``PIVOT data, "rowField", "valueField"[, "SUM|COUNT|AVG|MIN|MAX"]``: one object per
    distinct row value (first-seen order) with the aggregate of the value field."""
    values = call.values
    if len(values) not in (3, 4):
        raise BasicError("PIVOT takes data, a row field, a value field and an optional "
                         "operation")
    data, row_field, value_field = values[0], to_str(values[1]), to_str(values[2])
    operation = values[3] if len(values) == 4 else "SUM"
    groups: dict = {}
    for row in rows_of(data):
        groups.setdefault(to_str(get_member(row, row_field)), []).append(row)
    return [BasicObject({row_field: key, value_field: aggregate_values(operation, rows, value_field)})
            for key, rows in groups.items()]


# ---------------------------------------------------------------- MAP, FILL, SORT


@keyword("MAP", section="9.6.10")
async def map_(ctx, call: KeywordCall):
    """``MAP data, "old->new, a->b"``: rows with renamed keys; ``MAP(array, "field")`` is
    the function (the field's values)."""
    if len(call.args) != 2 or "->" not in to_str(call.args[1].value):
        return await _function(ctx, "map", call.values)
    data, spec = call.values
    renames = _renames(to_str(spec))
    mapped = []
    for row in rows_of(data):
        if not isinstance(row, dict):
            raise BasicError("MAP with renames needs an array of objects")
        mapped.append(_renamed(row, renames))
    return _like_input(data, mapped)


def _renames(spec: str) -> dict:
    renames = {}
    for part in spec.split(","):
        old, arrow, new = part.partition("->")
        if not arrow or not old.strip() or not new.strip():
            raise BasicError(f"MAP: expected old->new, found '{part.strip()}'")
        renames[old.strip().lower()] = new.strip()
    return renames


def _renamed(row: dict, renames: dict) -> BasicObject:
    renamed = BasicObject()
    for name, value in row.items():
        renamed.assign(renames.get(to_str(name).lower(), name), value)
    return renamed


@keyword("FILL", section="9.6.10")
async def fill(ctx, call: KeywordCall):
    """``FILL data, template``: per row, a copy of the template whose strings have
    ``{{field}}`` replaced by the row's values."""
    if len(call.args) != 2:
        raise BasicError("FILL of a document template is not available in this version; "
                         "use FILL data, template")
    data, template = call.values
    return [_filled(template, row) for row in rows_of(data)]


def _filled(template, row):
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: to_str(get_member(row, m.group(1))), template)
    if isinstance(template, dict):
        return BasicObject({name: _filled(value, row) for name, value in template.items()})
    if isinstance(template, list):
        return [_filled(item, row) for item in template]
    return template


@keyword("SORT", section="9.6.10")
async def sort(ctx, call: KeywordCall):
    """``SORT array BY "field" [ASC|DESC]``: a sorted copy (numbers numerically, text by
    code point); other forms are the SORT function."""
    by = next((a for a in call.args if a.sep == "BY"), None)
    if by is None:
        return await _function(ctx, "sort", call.values)
    direction = "DESC" if any(a.sep == "DESC" for a in call.args) else "ASC"
    return await _function(ctx, "sort", [call.args[0].value, to_str(by.value), direction])
