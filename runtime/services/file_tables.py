"""File tables: CSV, TSV, JSON and XLSX files in the bot's ``.gbdata`` folder (DIALECT §9.6.1).

The header row (the keys, for JSON) names the columns. FIND reads every row and filters
in memory, with text comparisons ignoring case (§11 A-52); writes rewrite the whole file
(atomically: a temporary file then a rename). A file is created on first write with the
row's keys as header; new keys append columns. CSV/TSV cells are text — datetimes
ISO-8601, objects and arrays JSON — and come back as strings; JSON and XLSX keep numbers,
booleans and dates.

The service offers the ``tables.TableService`` coroutines with file names for tables.
File work runs in a worker thread, one file at a time (a lock per path).
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import threading
from datetime import datetime
from pathlib import Path, PurePath
from typing import Callable, Optional, Sequence

from ..datetimes import DateTime
from ..errors import BasicError
from ..values import BasicObject, from_json, get_member, iterate, to_json, to_str
from .filter_memory import Env, matches, order_rows, same_value
from .filter_sql import TEXT, coerce
from .filters import ColumnMap, Condition, Query, resolve

Folders = Callable[[str], Sequence[Path]]


# ======================================================================================
# Formats
# ======================================================================================

Table = tuple[list, list]  # (header, rows as BasicObjects)


class _Delimited:
    """CSV and TSV: every cell is text."""

    def __init__(self, delimiter: str):
        self.delimiter = delimiter

    def read(self, path: Path) -> Table:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = [line for line in csv.reader(handle, delimiter=self.delimiter) if any(line)]
        if not lines:
            return [], []
        header = _header(lines[0])
        rows = [BasicObject({name: line[i] if i < len(line) else ""
                             for i, name in enumerate(header)}) for line in lines[1:]]
        return header, rows

    def write(self, path: Path, header: list, rows: list) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell_text(get_member(row, name)) for name in header])
        _replace(path, buffer.getvalue().encode("utf-8"))


class _Json:
    """An array of objects; values keep their JSON types (datetimes as ISO text)."""

    def read(self, path: Path) -> Table:
        text = path.read_text(encoding="utf-8-sig").strip()
        data = from_json(text) if text else []
        rows = [row for row in iterate(data) if isinstance(row, dict)]
        header: list = []
        for row in rows:
            header.extend(key for key in row if key not in header)
        return header, [BasicObject(row) for row in rows]

    def write(self, path: Path, header: list, rows: list) -> None:
        plain = [{name: get_member(row, name) for name in header} for row in rows]
        text = json.dumps(json.loads(to_json(plain)), ensure_ascii=False, indent=2)
        _replace(path, (text + "\n").encode("utf-8"))


class _Xlsx:
    """The first worksheet of an Excel workbook (openpyxl)."""

    def read(self, path: Path) -> Table:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            lines = [list(line) for line in book.worksheets[0].iter_rows(values_only=True)
                     if any(cell is not None and cell != "" for cell in line)]
        finally:
            book.close()
        if not lines:
            return [], []
        header = _header(["" if cell is None else to_str(cell) for cell in lines[0]])
        rows = [BasicObject({name: _from_cell(line[i] if i < len(line) else None)
                             for i, name in enumerate(header)}) for line in lines[1:]]
        return header, rows

    def write(self, path: Path, header: list, rows: list) -> None:
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append([_to_cell(get_member(row, name)) for name in header])
        buffer = io.BytesIO()
        book.save(buffer)
        _replace(path, buffer.getvalue())


_FORMATS = {".csv": _Delimited(","), ".tsv": _Delimited("\t"), ".json": _Json(),
            ".xlsx": _Xlsx()}


def _format(name: str):
    suffix = PurePath(name).suffix.lower()
    found = _FORMATS.get(suffix)
    if found is None:
        raise BasicError(f"{suffix} tables are not available in this version "
                         "(use .csv, .tsv, .json or .xlsx)")
    return found


def _header(cells: list) -> list:
    """Column names: trimmed, blanks named ``col<N>``."""
    return [cell.strip() or f"col{i + 1}" for i, cell in enumerate(cells)]


def _cell_text(value) -> str:
    return "" if value is None else coerce(value, TEXT)


def _from_cell(value):
    if isinstance(value, datetime):
        return DateTime(value, date_only=value.time() == datetime.min.time())
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel keeps every number as a float
    return value


def _to_cell(value):
    if isinstance(value, DateTime):
        return value.value
    if isinstance(value, (list, dict)):
        return to_json(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return to_str(value)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, then rename)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# ======================================================================================
# The service
# ======================================================================================


class FileTables:
    """File tables of every bot; ``folders(bot)`` lists where its files are looked for
    (the ``.gbdata`` folder, then the drive root); new files go to the first folder."""

    def __init__(self, folders: Folders):
        self.folders = folders
        self._locks: dict[Path, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    @classmethod
    def in_folder(cls, folder) -> "FileTables":
        """One folder for every bot (tests, single-bot tools)."""
        return cls(lambda bot: [Path(folder)])

    @classmethod
    def for_packages(cls, packages) -> "FileTables":
        """Folders of loaded bot packages (``{bot_id: runtime.package.BotPackage}``)."""
        def folders(bot: str) -> list[Path]:
            package = packages.get(bot)
            if package is None:
                return []
            data = package.data_dir or package.root / f"{package.name}.gbdata"
            return [data] + ([package.drive_dir] if package.drive_dir else [])
        return cls(folders)

    # -- TableService
    async def exists(self, bot: str, name: str) -> bool:
        return self._path(bot, name) is not None

    async def columns(self, scope, name: str) -> Optional[list[str]]:
        path = self._path(scope.bot, name)
        if path is None:
            return None
        header, _ = await self._run(path, lambda: _format(name).read(path))
        return list(header)

    async def find(self, scope, name: str, query: Query) -> list[BasicObject]:
        path = self._existing(scope.bot, name)
        header, rows = await self._run(path, lambda: _format(name).read(path))
        condition = resolve(query.condition, _columns(header), strict=bool(header))
        env = Env(scope.now, fold_case=True)
        found = order_rows([row for row in rows if matches(condition, row, env)],
                           query.order_by, fold_case=True)
        return found if query.limit is None else found[:query.limit]

    async def insert(self, scope, name: str, rows: Sequence[dict]) -> list:
        def add(header: list, stored: list) -> list:
            for row in rows:
                stored.append(_aligned(header, row))
            return [get_member(row, "id") for row in rows]
        return await self._rewrite(scope.bot, name, add, create=True)

    async def merge(self, scope, name: str, rows: Sequence[dict], key: str) -> tuple[int, int]:
        env = Env(scope.now, fold_case=True)

        def upsert(header: list, stored: list) -> tuple[int, int]:
            inserted = updated = 0
            for row in rows:
                value = get_member(row, key)
                if value is None or value == "":
                    continue
                match = [r for r in stored if same_value(get_member(r, key), value, env)]
                for existing in match:
                    _update(header, existing, row)
                if not match:
                    stored.append(_aligned(header, row))
                inserted, updated = inserted + (not match), updated + bool(match)
            return inserted, updated
        return await self._rewrite(scope.bot, name, upsert, create=True)

    async def update(self, scope, name: str, condition: Condition, values: dict) -> int:
        env = Env(scope.now, fold_case=True)

        def change(header: list, stored: list) -> int:
            test = resolve(condition, _columns(header), strict=bool(header))
            hits = [row for row in stored if matches(test, row, env)]
            for row in hits:
                _update(header, row, values)
            return len(hits)
        self._existing(scope.bot, name)
        return await self._rewrite(scope.bot, name, change)

    async def delete(self, scope, name: str, condition: Condition) -> int:
        env = Env(scope.now, fold_case=True)

        def remove(header: list, stored: list) -> int:
            test = resolve(condition, _columns(header), strict=bool(header))
            kept = [row for row in stored if not matches(test, row, env)]
            removed = len(stored) - len(kept)
            stored[:] = kept
            return removed
        self._existing(scope.bot, name)
        return await self._rewrite(scope.bot, name, remove)

    async def apply_table_defs(self, bot: str, defs) -> None:
        return None  # TABLE blocks describe database tables

    # -- files
    def _path(self, bot: str, name: str, create: bool = False) -> Optional[Path]:
        """The file of table ``name``; with ``create``, where a new one goes."""
        relative = _safe_relative(name)
        folders = list(self.folders(bot))
        for folder in folders:
            candidate = Path(folder) / relative
            if candidate.is_file():
                return candidate
        if create:
            if not folders:
                raise BasicError(f"no data folder for file table '{name}'")
            return Path(folders[0]) / relative
        return None

    def _existing(self, bot: str, name: str) -> Path:
        path = self._path(bot, name)
        if path is None:
            raise BasicError(f"table '{name}' not found")
        return path

    async def _run(self, path: Path, work: Callable):
        """``work()`` in a worker thread while holding the file's lock."""
        lock = self._lock(path)

        def locked():
            with lock:
                return work()
        return await asyncio.to_thread(locked)

    async def _rewrite(self, bot: str, name: str, change: Callable, create: bool = False):
        """Read the file (empty when new), let ``change(header, rows)`` edit the lists in
        place, write it back; the result of ``change``."""
        path = self._path(bot, name, create=create) or self._existing(bot, name)
        table_format = _format(name)

        def work():
            header, rows = table_format.read(path) if path.is_file() else ([], [])
            result = change(header, rows)
            path.parent.mkdir(parents=True, exist_ok=True)
            table_format.write(path, header, rows)
            return result
        return await self._run(path, work)

    def _lock(self, path: Path) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(path.resolve(), threading.Lock())


def _safe_relative(name: str) -> PurePath:
    """A table file name as a path inside the bot's folders (no ``..``, not absolute)."""
    relative = PurePath(name.strip().replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.name:
        raise BasicError(f"invalid file table name '{name}'")
    return relative


def _columns(header: list) -> ColumnMap:
    return ColumnMap((name, TEXT) for name in header)


def _column_for(header: list, key) -> str:
    """The header spelling of ``key`` (any case), appended when new."""
    name = to_str(key)
    for existing in header:
        if existing.lower() == name.lower():
            return existing
    header.append(name)
    return name


def _aligned(header: list, row: dict) -> BasicObject:
    stored = BasicObject()
    for key, value in row.items():
        stored[_column_for(header, key)] = value
    return stored


def _update(header: list, stored: BasicObject, values: dict) -> None:
    for key, value in values.items():
        stored[_column_for(header, key)] = value
