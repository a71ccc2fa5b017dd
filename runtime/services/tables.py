"""Tables of the data keywords (DIALECT §9.6.1, §9.6.12).

Keywords reach tables through ``ctx.service("tables")``, an object with the
``TableService`` coroutines. Every call carries a ``TableScope`` (which bot, who asks,
the current time) and plain data: rows are objects keyed by column name, conditions are
the AST of ``filters``.

* ``Tables`` is the service the host installs: it sends each table name to its back-end
  (``"x.csv"`` -> the file tables, ``".Produtos"``/``"orders"`` -> the bot database, or
  ``orders.csv`` in the bot's data folder when the database has no such table) and
  enforces ``TABLE ... READ BY / WRITE BY``.
* ``SqlTables`` keeps the tables of every bot in one SQLite or PostgreSQL database (a
  table prefix or a schema per bot, ``sql_backends``): tables are created on first write
  with an ``id`` text key and columns inferred from the rows, later writes add columns,
  and ``apply_table_defs`` creates or extends tables from TABLE blocks.
* ``file_tables.FileTables`` serves CSV/TSV/JSON/XLSX files.
"""
from __future__ import annotations

import asyncio
import logging
import random
import re
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Protocol, Sequence

from ...interpreter import nodes as N
from ..datetimes import DateTime
from ..errors import BasicError
from ..values import BasicObject, is_null, to_str
from .filter_memory import Env, matches, order_rows
from .filter_sql import (MARK, TEXT, Fragment, NotCoercible, coerce, compile_condition,
                         compile_order, from_stored, kind_for_value, quote_identifier, render)
from .filters import ColumnMap, Condition, Query, resolve
from .sql_backends import PostgresBackend, SqliteBackend, SqlBackend, TableShape
from .table_defs import table_ddl

log = logging.getLogger("botbasic.tables")

FILE_EXTENSIONS = (".csv", ".tsv", ".xlsx", ".xls", ".ods", ".json")
_SQL_TYPES = {"text": "TEXT", "decimal": "NUMERIC", "boolean": "BOOLEAN", "datetime": "TIMESTAMP"}
_CHUNK = 500  # keys per "WHERE key IN (...)" when a filter is finished in memory
_ATTEMPTS = 5  # runs of a transaction the database aborted to break a deadlock


@dataclass(frozen=True)
class TableScope:
    """Who is asking: the bot, the user's roles (None in system runs: no access check),
    the current time (NOW/TODAY in filters) and whether writes may create tables."""

    bot: str
    now: DateTime
    roles: Optional[frozenset] = None
    auto_create: bool = True


class TableService(Protocol):
    """What the data keywords need from the tables of a bot."""

    async def find(self, scope: TableScope, table: str, query: Query) -> list[BasicObject]:
        """Matching rows (``query.limit`` None: all of them)."""

    async def insert(self, scope: TableScope, table: str, rows: Sequence[dict]) -> list:
        """Insert rows; the key (``id``) of each, generated when missing."""

    async def merge(self, scope: TableScope, table: str, rows: Sequence[dict],
                    key: str) -> tuple[int, int]:
        """Upsert by column ``key``: ``(inserted, updated)``; rows without a key value are
        skipped."""

    async def update(self, scope: TableScope, table: str, condition: Condition,
                     values: dict) -> int:
        """Set ``values`` on the matching rows; how many."""

    async def delete(self, scope: TableScope, table: str, condition: Condition) -> int:
        """Delete the matching rows; how many."""

    async def columns(self, scope: TableScope, table: str) -> Optional[list[str]]:
        """Column names in table order; None when the table does not exist."""

    async def apply_table_defs(self, bot: str, defs: Sequence[N.TableDef]) -> None:
        """Create or extend the tables of TABLE blocks (migrations only add)."""


# ======================================================================================
# Table names and access control
# ======================================================================================


def is_file_table(name: str) -> bool:
    return name.strip().lower().endswith(FILE_EXTENSIONS)


def database_table(name: str) -> str:
    """The stored name of a database table: ``".Produtos"`` -> ``produtos``,
    ``"gb.rob"`` -> ``gb_rob`` (each bot has its own namespace, so no schemas)."""
    text = name.strip()
    if text.startswith("."):
        text = text[1:]
    text = text.replace(".", "_").lower()
    quote_identifier(text)  # refuses anything that is not a plain name
    return text


def _role_set(text: Optional[str]) -> frozenset:
    return frozenset(r.strip().lower() for r in re.split(r"[;,]", text or "") if r.strip())


@dataclass(frozen=True)
class TableAccess:
    """The roles a TABLE block allows to read and to write (empty: everyone)."""

    read: frozenset = frozenset()
    write: frozenset = frozenset()

    @classmethod
    def of(cls, table_def: N.TableDef) -> "TableAccess":
        return cls(_role_set(table_def.read_by), _role_set(table_def.write_by))

    def allows(self, roles: Optional[frozenset], write: bool) -> bool:
        needed = self.write if write else self.read
        return roles is None or not needed or bool(needed & roles)


class Tables:
    """The ``tables`` service: routing by table name (§9.6.1) and access control.

    Without a database, database-style names are CSV files in the bot's data folder."""

    def __init__(self, sql: Optional["SqlTables"] = None, files=None):
        self.sql = sql
        self.files = files
        self._access: dict[tuple[str, str], TableAccess] = {}

    async def close(self) -> None:
        if self.sql is not None:
            await self.sql.close()

    async def find(self, scope: TableScope, table: str, query: Query) -> list[BasicObject]:
        backend, name = await self._target(scope, table, write=False)
        return await backend.find(scope, name, query)

    async def insert(self, scope: TableScope, table: str, rows: Sequence[dict]) -> list:
        backend, name = await self._target(scope, table, write=True)
        return await backend.insert(scope, name, rows)

    async def merge(self, scope: TableScope, table: str, rows: Sequence[dict],
                    key: str) -> tuple[int, int]:
        backend, name = await self._target(scope, table, write=True)
        return await backend.merge(scope, name, rows, key)

    async def update(self, scope: TableScope, table: str, condition: Condition,
                     values: dict) -> int:
        backend, name = await self._target(scope, table, write=True)
        return await backend.update(scope, name, condition, values)

    async def delete(self, scope: TableScope, table: str, condition: Condition) -> int:
        backend, name = await self._target(scope, table, write=True)
        return await backend.delete(scope, name, condition)

    async def columns(self, scope: TableScope, table: str) -> Optional[list[str]]:
        backend, name = await self._target(scope, table, write=False)
        return await backend.columns(scope, name)

    async def apply_table_defs(self, bot: str, defs: Sequence[N.TableDef]) -> None:
        for table_def in defs:
            self._access[(bot, database_table(table_def.name))] = TableAccess.of(table_def)
        if self.sql is not None:
            await self.sql.apply_table_defs(bot, defs)

    async def _target(self, scope: TableScope, table: str, write: bool):
        """``(back-end, name)`` for a table name, after the access check."""
        if is_file_table(table):
            return self._file_tables(), table.strip()
        name = database_table(table)
        access = self._access.get((scope.bot, name), TableAccess())
        if not access.allows(scope.roles, write):
            raise BasicError(f"access denied: {'writing' if write else 'reading'} table '{table}'")
        if self.sql is not None and await self.sql.exists(scope.bot, name):
            return self.sql, name
        if self.files is not None and await self.files.exists(scope.bot, name + ".csv"):
            return self.files, name + ".csv"
        if self.sql is not None:
            return self.sql, name
        return self._file_tables(), name + ".csv"

    def _file_tables(self):
        if self.files is None:
            raise BasicError("file tables are not available in this version")
        return self.files


# ======================================================================================
# Tables in SQLite / PostgreSQL
# ======================================================================================


def _database_error(error: BaseException) -> bool:
    """Errors the drivers raise for bad data (constraint violations, bad values)."""
    import sqlite3

    try:
        import asyncpg
        pg_errors: tuple = (asyncpg.PostgresError, asyncpg.DataError)
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pg_errors = ()
    return isinstance(error, (sqlite3.Error, *pg_errors))


class SqlTables:
    """Tables of every bot in one SQL database (see module doc)."""

    def __init__(self, backend: SqlBackend):
        self.backend = backend
        self.dialect = backend.dialect
        self._shapes: dict[tuple[str, str], TableShape] = {}

    @classmethod
    async def sqlite(cls, path: str = ":memory:") -> "SqlTables":
        return cls(await SqliteBackend.open(path))

    @classmethod
    async def postgres(cls, dsn: str, schema_prefix: str = "bot_", **pool_options) -> "SqlTables":
        return cls(await PostgresBackend.open(dsn, schema_prefix, **pool_options))

    async def close(self) -> None:
        await self.backend.close()

    async def drop_bot(self, bot: str) -> None:
        """Delete every table of ``bot``."""
        await self.backend.drop_bot(bot)
        self._shapes = {k: v for k, v in self._shapes.items() if k[0] != bot}

    # -- reading
    async def exists(self, bot: str, table: str) -> bool:
        if (bot, table) in self._shapes:
            return True
        async with self._connection(bot, table) as conn:
            return await self._shape(conn, bot, table) is not None

    async def columns(self, scope: TableScope, table: str) -> Optional[list[str]]:
        async with self._connection(scope.bot, table) as conn:
            shape = await self._shape(conn, scope.bot, table)
        return None if shape is None else [c.name for c in shape.columns]

    async def find(self, scope: TableScope, table: str, query: Query) -> list[BasicObject]:
        async with self._connection(scope.bot, table) as conn:
            shape = await self._existing(conn, scope.bot, table)
            return [row for _, row in await self._select(conn, scope, table, shape, query)]

    # -- writing: a table's columns are settled first, in a transaction of their own, so
    #    a data transaction never waits for DDL while it holds row locks.
    async def insert(self, scope: TableScope, table: str, rows: Sequence[dict]) -> list:
        async with self._connection(scope.bot, table) as conn:
            shape = await self._writable(conn, scope, table, rows)

            async def insert_all():
                return [await self._insert_row(conn, scope.bot, table, shape, row)
                        for row in rows]
            return await _transact(conn, insert_all)

    async def merge(self, scope: TableScope, table: str, rows: Sequence[dict],
                    key: str) -> tuple[int, int]:
        keyed = [row for row in rows if not is_null(_member(row, key))]
        if not keyed:
            return 0, 0
        async with self._connection(scope.bot, table) as conn:
            shape = await self._writable(conn, scope, table, keyed)

            async def merge_all():
                inserted = updated = 0
                for row in keyed:
                    if await self._update_by_key(conn, scope.bot, table, shape, row, key):
                        updated += 1
                    else:
                        await self._insert_row(conn, scope.bot, table, shape, row)
                        inserted += 1
                return inserted, updated
            return await _transact(conn, merge_all)

    async def update(self, scope: TableScope, table: str, condition: Condition,
                     values: dict) -> int:
        async with self._connection(scope.bot, table) as conn:
            await self._existing(conn, scope.bot, table)
            shape = await self._writable(conn, scope, table, [values])
            stored = self._stored_row(shape, values, table)
            if not stored:
                return 0
            sets = ", ".join(f"{quote_identifier(name)} = {MARK}" for name in stored)
            head = Fragment(f"UPDATE {self._ref(scope.bot, table)} SET {sets} WHERE",
                            tuple(stored.values()))
            return await _transact(
                conn, lambda: self._change(conn, scope, table, shape, condition, head))

    async def delete(self, scope: TableScope, table: str, condition: Condition) -> int:
        async with self._connection(scope.bot, table) as conn:
            shape = await self._existing(conn, scope.bot, table)
            head = Fragment(f"DELETE FROM {self._ref(scope.bot, table)} WHERE")
            return await _transact(
                conn, lambda: self._change(conn, scope, table, shape, condition, head))

    async def apply_table_defs(self, bot: str, defs: Sequence[N.TableDef]) -> None:
        key_types = _key_types(defs)
        for table_def in defs:
            if table_def.connection:
                log.warning("TABLE %s ON %s: external connections are not available; using "
                            "the bot database", table_def.name, table_def.connection)
            await self._apply_table_def(bot, table_def, key_types)

    # -- connections and shapes
    @asynccontextmanager
    async def _connection(self, bot: str, table: str):
        """One connection for one operation; database errors become script errors, and a
        failed operation forgets what it learnt about the table (DDL may be rolled back)."""
        try:
            async with self.backend.connect() as conn:
                yield conn
        except BasicError:
            self._shapes.pop((bot, table), None)
            raise
        except Exception as error:
            self._shapes.pop((bot, table), None)
            if _database_error(error):
                raise BasicError(f"table '{table}': {error}") from error
            raise

    def _ref(self, bot: str, table: str) -> str:
        return self.backend.table_ref(bot, table)

    async def _shape(self, conn, bot: str, table: str) -> Optional[TableShape]:
        shape = self._shapes.get((bot, table))
        if shape is None:
            shape = await self.backend.shape(conn, bot, table)
            if shape is not None:
                self._shapes[(bot, table)] = shape
        return shape

    async def _existing(self, conn, bot: str, table: str) -> TableShape:
        shape = await self._shape(conn, bot, table)
        if shape is None:
            raise BasicError(f"table '{table}' not found")
        return shape

    async def _writable(self, conn, scope: TableScope, table: str, rows) -> TableShape:
        """The table's shape with a column for every key of ``rows``: the table is created
        (``id`` text key, inferred columns) or extended when needed."""
        bot = scope.bot
        shape = await self._shape(conn, bot, table)
        if shape is not None and not _missing_columns(shape, rows):
            return shape
        if shape is None and not scope.auto_create:
            raise BasicError(f"table '{table}' does not exist")

        async def settle_columns():
            # Read afresh: a rerun must not trust what a rolled-back attempt saw.
            self._shapes.pop((bot, table), None)
            current = await self._shape(conn, bot, table)
            if current is None:
                await self.backend.prepare_bot(conn, bot)
                await conn.ddl(_create_sql(self._ref(bot, table), rows))
                current = await self._existing(conn, bot, table)  # ours, or a racing writer's
            for name, sql_type in _missing_columns(current, rows):
                await conn.ddl(self.backend.add_column_sql(bot, table, name, sql_type))
            self._shapes.pop((bot, table), None)
            return await self._existing(conn, bot, table)
        return await _transact(conn, settle_columns)

    # -- rows
    def _stored_row(self, shape: TableShape, row: dict, table: str) -> dict:
        """Column name -> driver value for every member of ``row``."""
        stored = {}
        for key, value in row.items():
            column = shape.find(to_str(key))
            try:
                stored[column.name] = self.backend.adapt(coerce(value, column.kind), column.kind)
            except NotCoercible:
                raise BasicError(f"table '{table}': column {column.name} cannot hold "
                                 f"'{to_str(value)}' ({column.kind})") from None
        return stored

    def _row(self, shape: TableShape, record: dict) -> BasicObject:
        kinds = {c.name: c.kind for c in shape.columns}
        return BasicObject({name: from_stored(value, kinds.get(name, TEXT))
                            for name, value in record.items()})

    async def _insert_row(self, conn, bot: str, table: str, shape: TableShape, row: dict):
        values = self._stored_row(shape, row, table)
        key = shape.find(shape.key) if shape.key else None
        if key is not None and key.kind == TEXT and values.get(key.name) in (None, ""):
            values[key.name] = str(uuid.uuid4())
        ref = self._ref(bot, table)
        returning = f" RETURNING {quote_identifier(key.name)}" if key is not None else ""
        if values:
            names = ", ".join(quote_identifier(name) for name in values)
            marks = ", ".join([MARK] * len(values))
            fragment = Fragment(f"INSERT INTO {ref} ({names}) VALUES ({marks}){returning}",
                                tuple(values.values()))
        else:
            fragment = Fragment(f"INSERT INTO {ref} DEFAULT VALUES{returning}")
        sql, params = render([fragment], self.dialect)
        records = await conn.fetch(sql, params)
        if key is None or not records:
            return None
        return from_stored(records[0][key.name], key.kind)

    async def _update_by_key(self, conn, bot: str, table: str, shape: TableShape, row: dict,
                             key: str) -> bool:
        """Update the row whose ``key`` column equals the row's; False when none does."""
        values = self._stored_row(shape, row, table)
        column = shape.find(key)
        key_value = values.pop(column.name)
        where = Fragment(f"COALESCE({quote_identifier(column.name)} = {MARK}, FALSE)", (key_value,))
        ref = self._ref(bot, table)
        if not values:
            sql, params = render([Fragment(f"SELECT 1 AS found FROM {ref} WHERE"), where], self.dialect)
            return bool(await conn.fetch(sql, params))
        sets = ", ".join(f"{quote_identifier(name)} = {MARK}" for name in values)
        sql, params = render([Fragment(f"UPDATE {ref} SET {sets} WHERE", tuple(values.values())),
                              where], self.dialect)
        return await conn.execute(sql, params) > 0

    # -- selecting with a condition
    def _compiled(self, scope: TableScope, shape: TableShape, condition: Condition):
        columns = ColumnMap((c.name, c.kind) for c in shape.columns)
        condition = resolve(condition, columns)
        env = Env(scope.now)
        where, residual = compile_condition(condition, columns, self.dialect,
                                            self.backend.adapt, env)
        return columns, where, residual, env

    async def _select(self, conn, scope: TableScope, table: str, shape: TableShape,
                      query: Query) -> list[tuple[dict, BasicObject]]:
        """``(stored record, row)`` pairs; what SQL cannot filter is filtered here."""
        columns, where, residual, env = self._compiled(scope, shape, query.condition)
        order = compile_order(query.order_by, columns, self.dialect)
        # Named columns, not *: a plan PostgreSQL cached before a column was added
        # stays valid.
        names = ", ".join(quote_identifier(c.name) for c in shape.columns)
        pieces = [Fragment(f"SELECT {names} FROM {self._ref(scope.bot, table)} WHERE"), where]
        if residual is None:
            pieces.append(Fragment(order))
            if query.limit is not None:
                pieces.append(Fragment(f"LIMIT {int(query.limit)}"))
        sql, params = render(pieces, self.dialect)
        pairs = [(record, self._row(shape, record)) for record in await conn.fetch(sql, params)]
        if residual is None:
            return pairs
        pairs = [pair for pair in pairs if matches(residual, pair[1], env)]
        rows = order_rows((row for _, row in pairs), query.order_by)
        record_of = {id(row): record for record, row in pairs}
        pairs = [(record_of[id(row)], row) for row in rows]
        return pairs if query.limit is None else pairs[:query.limit]

    async def _change(self, conn, scope: TableScope, table: str, shape: TableShape,
                      condition: Condition, head: Fragment) -> int:
        """Run an UPDATE/DELETE ``head`` on the rows matching ``condition``."""
        _, where, residual, _ = self._compiled(scope, shape, condition)
        if residual is None:
            sql, params = render([head, where], self.dialect)
            return await conn.execute(sql, params)
        if shape.key is None:
            raise BasicError(f"table '{table}' has no key column, so this filter cannot be "
                             "used to change it")
        pairs = await self._select(conn, scope, table, shape, Query(condition))
        keys = [record[shape.key] for record, _ in pairs]
        changed = 0
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ", ".join([MARK] * len(chunk))
            match = Fragment(f"{quote_identifier(shape.key)} IN ({marks})", tuple(chunk))
            sql, params = render([head, match], self.dialect)
            changed += await conn.execute(sql, params)
        return changed

    # -- TABLE blocks
    async def _apply_table_def(self, bot: str, table_def: N.TableDef, key_types: dict) -> None:
        table = database_table(table_def.name)
        ddl = table_ddl(table_def, key_types, self.backend.integer_key_sql())
        async with self._connection(bot, table) as conn:
            async with conn.transaction():
                await self.backend.prepare_bot(conn, bot)
                shape = await self._shape(conn, bot, table)
                if shape is None:
                    await conn.ddl(f"CREATE TABLE IF NOT EXISTS {self._ref(bot, table)} "
                                   f"({', '.join(ddl.create)})")
                else:
                    for name, definition in ddl.added:
                        if shape.find(name) is None:
                            await conn.ddl(self.backend.add_column_sql(bot, table, name, definition))
                self._shapes.pop((bot, table), None)


async def _transact(conn, work):
    """``await work()`` in a transaction of ``conn``. PostgreSQL aborts one of two
    transactions that lock the same rows in opposite orders (a deadlock, or a
    serialization failure); as its manual advises, the aborted one is run again, after a
    short random pause so the two do not collide again."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            async with conn.transaction():
                return await work()
        except Exception as error:
            if attempt == _ATTEMPTS or not _rolled_back_by_database(error):
                raise
            log.info("transaction aborted by the database (%s); running it again", error)
            await asyncio.sleep(random.uniform(0.001, 0.005 * attempt))


def _rolled_back_by_database(error: BaseException) -> bool:
    """SQLSTATE class 40: the database rolled the transaction back; running it again
    may succeed."""
    return str(getattr(error, "sqlstate", "") or "").startswith("40")


def _member(row, key: str):
    """``row.key`` for dict rows, any case."""
    lowered = key.lower()
    for name, value in row.items():
        if to_str(name).lower() == lowered:
            return value
    return None


def _create_sql(ref: str, rows) -> str:
    """CREATE TABLE for rows: an ``id`` text key and the columns the rows infer."""
    columns = ['"id" TEXT PRIMARY KEY'] + [
        f"{quote_identifier(name)} {sql_type}"
        for name, sql_type in _inferred_columns(rows) if name.lower() != "id"]
    return f"CREATE TABLE IF NOT EXISTS {ref} ({', '.join(columns)})"


def _missing_columns(shape: TableShape, rows) -> list[tuple[str, str]]:
    """``(name, SQL type)`` of the row keys the table has no column for (validated)."""
    missing = [(name, sql_type) for name, sql_type in _inferred_columns(rows)
               if shape.find(name) is None]
    for name, _ in missing:
        quote_identifier(name)
    return missing


def _inferred_columns(rows: Iterable[dict]) -> list[tuple[str, str]]:
    """``(name, SQL type)`` for every key of ``rows`` in first-seen order; the type comes
    from the first non-NULL value (TEXT when there is none)."""
    found: dict[str, tuple[str, Any]] = {}
    for row in rows:
        for key, value in row.items():
            name = to_str(key)
            current = found.get(name.lower())
            if current is None or (current[1] is None and value is not None):
                found[name.lower()] = (current[0] if current else name, value)
    return [(name, _SQL_TYPES[kind_for_value(value)]) for name, value in found.values()]


def _key_types(defs: Sequence[N.TableDef]) -> dict:
    """Table name (lower case) -> the declared type of its single key field, so a field
    typed with a table's name (``CustomerId Customers``) gets the same type."""
    found = {}
    for table_def in defs:
        keys = [f for f in table_def.fields if f.key]
        found[database_table(table_def.name)] = keys[0].type if len(keys) == 1 else None
    return found
