"""Table keywords (DIALECT §9.6.1–§9.6.9): FIND, SAVE, INSERT, UPDATE, DELETE, MERGE,
AGGREGATE and the legacy ``SET "table", "filter", "a=b"``.

Tables are reached through ``ctx.service("tables")`` (``runtime.services.tables``); every
call carries a ``TableScope``: the bot, the user's roles (for TABLE ... READ BY / WRITE BY;
none in system runs), the clock and the ``auto-create-tables`` setting. Filters arrive as
strings (``filters.parse_filter``) or as BASIC conditions after WHERE (``data_where``).
The shapes and connectors of these keywords are the catalog's (keywords/catalog.py).

Results: FIND a rowset (§3.6) or, with FIRST, a row or NULL; SAVE/INSERT an object
``{command, table, id, ...}`` (§11 A-13); UPDATE/DELETE/SET the number of rows; MERGE
``{inserted, updated, table, key_field}``.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from ..interpreter import nodes as N
from ..runtime.errors import BasicError
from ..runtime.services.filters import (MATCH_ALL, Column, Compare, OrderKey, Query, Value,
                                         parse_assignments, parse_filter)
from ..runtime.services.tables import TableScope
from ..runtime.values import BasicObject, RowSet, equals, json_view, to_num, to_str
from .calls import ArgValue, DeferredExpr, KeywordCall, deferred
from .data_collections import AGGREGATE_OPS, aggregate_values, rows_of
from .data_where import assignments, query_of
from .registry import keyword

DEFAULT_MAX_ROWS = 1000
_FILTER_OPERATOR = re.compile(r"(?i)[=<>]|\b(LIKE|ILIKE|IN|IS)\b")


# ---------------------------------------------------------------- context


def tables_service(ctx):
    tables = ctx.service("tables")
    if tables is None:
        raise BasicError("tables are not available in this version")
    return tables


def table_scope(ctx) -> TableScope:
    return TableScope(bot=ctx.session.bot_id, now=ctx.now(), roles=user_roles(ctx),
                      auto_create=_config_bool(ctx, "auto-create-tables", True))


def user_roles(ctx) -> Optional[frozenset]:
    """The roles of the conversation's user; None in system runs (scheduled jobs,
    webhooks), which act for the bot and pass every access check."""
    if not ctx.interactive:
        return None
    found: set = set()
    sources = [ctx.variables.get("user"), ctx.session.builtins]
    for source in sources:
        if isinstance(source, dict):
            for key, value in source.items():
                if str(key).lower() in ("role", "roles", "user_role", "user_roles"):
                    found |= _role_names(value)
    return frozenset(found)


def _role_names(value) -> set:
    items = value if isinstance(value, list) else re.split(r"[;,]", to_str(value))
    return {to_str(item).strip().lower() for item in items if to_str(item).strip()}


def _config_value(ctx, key: str) -> Optional[str]:
    config = ctx.service("config")
    return None if config is None else config.get(key)


def _config_bool(ctx, key: str, default: bool) -> bool:
    text = (_config_value(ctx, key) or "").strip().lower()
    return {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False,
            "off": False, "0": False}.get(text, default)


def _max_rows(ctx) -> int:
    text = (_config_value(ctx, "find-max-rows") or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_ROWS


def _table(value) -> str:
    name = to_str(value).strip()
    if not name:
        raise BasicError("a table name is required")
    return name


def _arg(call: KeywordCall, sep: str) -> Optional[ArgValue]:
    return next((a for a in call.args if a.sep == sep), None)


def _result(**fields) -> BasicObject:
    return BasicObject(fields)


def _object_rows(value, keyword: str) -> list[BasicObject]:
    """The rows an argument holds: an object, or an array of objects."""
    rows = rows_of(value)
    if not all(isinstance(row, dict) for row in rows):
        raise BasicError(f"{keyword} expects an object or an array of objects")
    return [row if isinstance(row, BasicObject) else BasicObject(row) for row in rows]


# ---------------------------------------------------------------- FIND


@deferred("WHERE", "ORDER BY")
@keyword("FIND", section="9.6.3")
async def find(ctx, call: KeywordCall):
    """``FIND "t"[, "filter" | , "col", value | WITH "filter" | WHERE cond] [ORDER BY ...]
    [LIMIT n] [FIRST]`` (§9.6.3)."""
    return await _find(ctx, call, first=False)


@deferred("WHERE", "ORDER BY")
@keyword("FIND ALL", section="9.6.3")
async def find_all(ctx, call: KeywordCall):
    return await _find(ctx, call, first=False)


@deferred("WHERE", "ORDER BY")
@keyword("FIND ONE", section="9.6.3")
async def find_one(ctx, call: KeywordCall):
    return await _find(ctx, call, first=True)


async def _find(ctx, call: KeywordCall, first: bool):
    table = _table(call.args[0].value)
    query = _find_query(ctx, call)
    order_by, limit, first_only = _find_clauses(call)
    first = first or first_only
    limit = 1 if first else limit if limit is not None else query.limit
    query = Query(query.condition, order_by or query.order_by,
                  limit if limit is not None else _max_rows(ctx))
    rows = await tables_service(ctx).find(table_scope(ctx), table, query)
    if first:
        return rows[0] if rows else None
    return RowSet(rows)


def _find_query(ctx, call: KeywordCall) -> Query:
    leading = call.leading()
    for sep in ("WHERE", "WITH"):
        arg = _arg(call, sep)
        if arg is not None:
            return query_of(ctx, arg)
    if len(leading) == 3:  # FIND "t", "column", value
        column = to_str(leading[1].value).strip()
        return Query(Compare("=", Column(column), Value(leading[2].value)))
    if len(leading) == 2:
        return parse_filter(leading[1].value)
    return Query(MATCH_ALL)


def _find_clauses(call: KeywordCall) -> tuple[tuple, Optional[int], bool]:
    """``(ORDER BY keys, LIMIT, FIRST)`` from the clause arguments."""
    order: list[OrderKey] = []
    limit, first, in_order = None, False, False
    for arg in call.args:
        if arg.sep == "ORDER BY" or (in_order and arg.sep == ","):
            order.append(OrderKey(_column_name(arg)))
            in_order = True
        elif arg.sep in ("ASC", "DESC") and in_order and order:
            order[-1] = OrderKey(order[-1].column, arg.sep == "DESC")
        elif arg.sep == "LIMIT":
            limit, in_order = _limit(arg.value), False
        elif arg.sep == "FIRST":
            first, in_order = True, False
        elif arg.sep not in (None, ","):
            in_order = False
    return tuple(order), limit, first


def _column_name(arg: ArgValue) -> str:
    """A column written after ORDER BY: a bare name, a string, or ``table.column``."""
    value = arg.value
    if isinstance(value, DeferredExpr):
        node = value.node
        if isinstance(node, N.Name):
            return (node.raw or node.name).rstrip("$")
        if isinstance(node, N.Member):
            return node.name
        if isinstance(node, N.Literal):
            return to_str(node.value)
        value = value.evaluate()
    return arg.name.rstrip("$") if arg.name else to_str(value)


def _limit(value) -> int:
    number = to_num(value)
    if number < 0 or number != int(number):
        raise BasicError(f"LIMIT needs a whole number, not {to_str(value)}")
    return int(number)


# ---------------------------------------------------------------- SAVE and INSERT


@keyword("SAVE", section="9.6.4")
async def save(ctx, call: KeywordCall):
    """``SAVE "t", obj | array | id, obj | v1, v2 ...``, ``SAVE "t" WITH c AS v, ...``,
    ``SAVE obj TO "t"`` (§9.6.4)."""
    to = _arg(call, "TO")
    if to is not None:
        table, rows = _table(to.value), _object_rows(call.args[0].value, "SAVE")
    elif _arg(call, "WITH") is not None:
        table, rows = _table(call.args[0].value), [_pairs_row(call, "WITH")]
    else:
        table = _table(call.args[0].value)
        values = call.args[1:]
        if len(values) == 2 and isinstance(values[1].value, dict):
            return await _save_by_id(ctx, table, values[0].value, values[1].value)
        rows = await _value_rows(ctx, table, values, "SAVE")
    ids = await tables_service(ctx).insert(table_scope(ctx), table, rows)
    return _result(command="save", table=table, id=ids[-1] if ids else None,
                   rows_affected=len(ids), success=True)


async def _save_by_id(ctx, table: str, id_value, obj: dict):
    """Rule 2: upsert the object under primary key ``id``."""
    row = BasicObject(obj)
    row.assign("id", id_value)
    inserted, updated = await tables_service(ctx).merge(table_scope(ctx), table, [row], "id")
    return _result(command="save", table=table, id=id_value, rows_affected=inserted + updated,
                   success=True)


@keyword("INSERT", section="9.6.5")
async def insert(ctx, call: KeywordCall):
    """``INSERT "t", obj``, ``INSERT INTO "t" VALUES obj``, ``INSERT INTO "t", v1, v2 ...``."""
    table = _table(call.args[0].value)
    values_arg = _arg(call, "VALUES")
    if values_arg is not None:
        rows = _object_rows(values_arg.value, "INSERT")
    else:
        rows = await _value_rows(ctx, table, call.args[1:], "INSERT")
    ids = await tables_service(ctx).insert(table_scope(ctx), table, rows)
    return _result(command="insert", table=table, id=ids[-1] if ids else None, success=True)


async def _value_rows(ctx, table: str, values: list[ArgValue], keyword: str) -> list:
    """Rules 1 and 3 of §9.6.4: one object or array is the row(s); otherwise each
    argument is a column named after it."""
    if not values:
        raise BasicError(f"{keyword} needs values to store")
    if len(values) == 1 and isinstance(json_view(values[0].value), (list, dict)):
        return _object_rows(values[0].value, keyword)
    missing_names = any(not arg.name for arg in values)
    columns = await tables_service(ctx).columns(table_scope(ctx), table) if missing_names else None
    row = BasicObject()
    for position, arg in enumerate(values, start=1):
        row.assign(_column_for(arg, position, columns), arg.value)
    return [row]


def _column_for(arg: ArgValue, position: int, columns: Optional[list]) -> str:
    """Rule 3: the argument's name, else the table's column at that position, else colN."""
    if arg.name:
        return arg.name.rstrip("$")
    if columns and position <= len(columns):
        return columns[position - 1]
    return f"col{position}"


def _section(call: KeywordCall, sep: str) -> list[ArgValue]:
    """The arguments from the one after ``sep`` up to WHERE (``SET``/``WITH`` pairs)."""
    found: list[ArgValue] = []
    for arg in call.args:
        if arg.sep == "WHERE" and found:
            break
        if found or arg.sep == sep:
            found.append(arg)
    return found


def _pairs_row(call: KeywordCall, sep: str) -> BasicObject:
    """``WITH col AS expr, col2 AS expr2`` as an object."""
    row, column = BasicObject(), None
    for arg in _section(call, sep):
        if arg.sep != "AS":
            column = arg.name.rstrip("$") if arg.name else to_str(arg.value)
        elif column is None:
            raise BasicError(f"{call.spec.phrase}: expected column AS value")
        else:
            row.assign(column, arg.value)
            column = None
    if column is not None:
        raise BasicError(f"{call.spec.phrase}: column {column} has no AS value")
    return row


# ---------------------------------------------------------------- UPDATE, DELETE, SET


@deferred("SET", "WHERE")
@keyword("UPDATE", section="9.6.6")
async def update(ctx, call: KeywordCall):
    """``UPDATE "t", filter|id, obj``, ``UPDATE "t", id, "column", value``,
    ``UPDATE "t", filter, var1, var2 ...``, ``UPDATE "t" SET c = v, ... WHERE cond``,
    ``UPDATE "t" WITH c AS v, ... WHERE cond``; the number of rows updated."""
    table = _table(call.args[0].value)
    if _arg(call, "SET") is not None or _arg(call, "WITH") is not None:
        where = _arg(call, "WHERE")
        if where is None:
            raise BasicError("UPDATE needs a WHERE condition")
        values = (assignments(ctx, _section(call, "SET")) if _arg(call, "SET")
                  else _pairs_row(call, "WITH"))
        condition = query_of(ctx, where).condition
    else:
        if len(call.args) < 3:
            raise BasicError("UPDATE needs a table, a filter or id, and the new values")
        condition = _selector(call.args[1].value)
        values = _update_values(call.args[2:])
    return await tables_service(ctx).update(table_scope(ctx), table, _guarded(condition), values)


def _selector(value):
    """UPDATE's second argument: a filter when it is a string with an operator, else the
    ``id`` of one row (§9.6.6)."""
    if isinstance(value, str) and _FILTER_OPERATOR.search(value):
        return parse_filter(value).condition
    return Compare("=", Column("id"), Value(value))


def _update_values(args: list[ArgValue]) -> dict:
    if len(args) == 1 and isinstance(args[0].value, dict):
        return dict(args[0].value)
    if len(args) == 2 and not args[0].name and isinstance(args[0].value, str):
        return {args[0].value: args[1].value}  # UPDATE "t", id, "column", value
    if not all(arg.name for arg in args):
        raise BasicError("UPDATE: name each new value with a variable (UPDATE \"t\", filter, "
                         "status, score) or pass an object")
    return {arg.name.rstrip("$"): arg.value for arg in args}


def _guarded(condition):
    """Changing every row needs an explicit ``"*"``: an empty filter is an error."""
    if condition == MATCH_ALL:
        raise BasicError("a filter is required to change rows (use \"*\" for every row)")
    return condition


@deferred("WHERE")
@keyword("DELETE", section="9.6.7")
async def delete(ctx, call: KeywordCall):
    """``DELETE "t", "filter"`` / ``DELETE FROM "t" WHERE cond`` (rows deleted); a URL
    goes to DELETE HTTP, a path or file value to DELETE FILE (§9.6.7, §11 A-45)."""
    first = call.args[0]
    if first.sep == "FROM":
        where = _arg(call, "WHERE")
        if where is None:
            raise BasicError("DELETE FROM needs a WHERE condition")
        table, condition = _table(first.value), query_of(ctx, where).condition
    elif len(call.args) >= 2:
        table, condition = _table(first.value), _delete_filter(call.args[1].value)
    else:
        target = first.value
        is_url = isinstance(target, str) and target.strip().lower().startswith(("http://", "https://"))
        return await _delegate(ctx, call, "DELETE HTTP" if is_url else "DELETE FILE")
    return await tables_service(ctx).delete(table_scope(ctx), table, condition)


def _delete_filter(value):
    text = to_str(value).strip()
    if not text:
        raise BasicError("a filter is required to delete rows (use \"*\" for every row)")
    return parse_filter(text).condition


async def _delegate(ctx, call: KeywordCall, phrase: str):
    """Run the keyword that owns this form of DELETE (HTTP, files)."""
    spec = ctx.registry.keyword_spec(phrase)
    if spec is None or spec.handler is None:
        what = "a URL" if phrase == "DELETE HTTP" else "a file"
        raise BasicError(f"DELETE of {what} is not available in this version")
    return await spec.handler(ctx, replace(call, spec=spec))


async def set_table(ctx, call: KeywordCall) -> int:
    """``SET "table", "filter", "col=value, ..."`` (§9.6.8): the number of rows updated.
    Called by the SET keyword (keywords/memory.py) for its three-argument form."""
    table, filter_text, assignment_text = call.values[:3]
    condition = _guarded(parse_filter(filter_text).condition)
    values = parse_assignments(assignment_text)
    return await tables_service(ctx).update(table_scope(ctx), _table(table), condition, values)


# ---------------------------------------------------------------- MERGE and AGGREGATE


@keyword("MERGE", section="9.6.9")
async def merge(ctx, call: KeywordCall):
    """``MERGE "t", data, "key"`` / ``MERGE "t" WITH data BY "key"``: upsert by key;
    ``MERGE a, b``: the rows of both result sets, without repeats."""
    with_arg, by_arg = _arg(call, "WITH"), _arg(call, "BY")
    if with_arg is not None and by_arg is not None:
        table, data, key = call.args[0].value, with_arg.value, by_arg.value
    elif len(call.args) == 3:
        table, data, key = call.values
    elif len(call.args) == 2:
        return _merged_sets(call.values[0], call.values[1])
    else:
        raise BasicError("MERGE needs a table, the data and a key column")
    key_name, table = to_str(key).strip(), _table(table)
    rows = _object_rows(data, "MERGE")
    inserted, updated = await tables_service(ctx).merge(table_scope(ctx), table, rows, key_name)
    return _result(inserted=inserted, updated=updated, table=table, key_field=key_name)


def _merged_sets(first, second) -> RowSet:
    merged = RowSet(rows_of(first))
    for row in rows_of(second):
        if not any(equals(row, existing) for existing in merged):
            merged.append(row)
    return merged


@keyword("AGGREGATE", section="9.6.10")
async def aggregate(ctx, call: KeywordCall):
    """``AGGREGATE "SUM", data, "field"`` (in memory) or ``AGGREGATE "table", "COUNT",
    "field"[, "filter"]`` (over a table; recognised when the first argument is not an
    operation name, §11 A-38)."""
    values = call.values
    if len(values) < 3:
        raise BasicError("AGGREGATE needs an operation, the data and a field")
    if to_str(values[0]).strip().upper() in AGGREGATE_OPS:
        return aggregate_values(values[0], rows_of(values[1]), to_str(values[2]))
    table, operation, field = _table(values[0]), values[1], to_str(values[2])
    query = parse_filter(values[3]) if len(values) > 3 else Query()
    rows = await tables_service(ctx).find(table_scope(ctx), table, Query(query.condition))
    return aggregate_values(operation, rows, field)
