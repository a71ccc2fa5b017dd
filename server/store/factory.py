"""Choose the session store from ``DATABASE_URL``.

* ``None`` or ``""``        -> SQLite file ``<data_dir>/botbasic.sqlite3``
* ``sqlite:///name.db``     -> SQLite file ``<data_dir>/name.db`` (relative paths live in
  the data folder)
* ``sqlite:////abs/x.db``   -> SQLite file ``/abs/x.db``
* ``postgresql://...`` or ``postgres://...`` -> PostgreSQL (the URL is the asyncpg DSN)
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

from .postgres import PostgresStore
from .sqlite import SQLiteStore

DEFAULT_SQLITE_FILE = "botbasic.sqlite3"
_POSTGRES_SCHEMES = ("postgresql", "postgres")


def open_store(database_url: Optional[str], data_dir: Path):
    """The ``SessionStore`` for ``database_url``, not yet opened: ``await store.open()``
    connects and migrates."""
    if not database_url:
        return SQLiteStore(Path(data_dir) / DEFAULT_SQLITE_FILE)
    scheme = urlsplit(database_url).scheme.lower()
    if scheme == "sqlite":
        return SQLiteStore(sqlite_path(database_url, Path(data_dir)))
    if scheme in _POSTGRES_SCHEMES:
        return PostgresStore(database_url)
    raise ValueError(f"unsupported DATABASE_URL scheme {scheme!r} "
                     "(use sqlite:///file or postgresql://...)")


def sqlite_path(database_url: str, data_dir: Path) -> Path:
    """The file of a ``sqlite:`` URL: ``sqlite:///rel`` is under ``data_dir``,
    ``sqlite:////abs`` is absolute, no path at all is the default file."""
    parts = urlsplit(database_url)
    if parts.netloc:
        raise ValueError(f"a sqlite URL has no host: {database_url!r} (use sqlite:///file)")
    path = unquote(parts.path)[1:]  # drop the "/" that ends "sqlite://"
    if not path:
        return data_dir / DEFAULT_SQLITE_FILE
    return Path(path) if Path(path).is_absolute() else data_dir / path
