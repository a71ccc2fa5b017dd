"""Data tables for the bots a server hosts (DIALECT §9.6).

One ``Tables`` service per server: database tables in the server's own database (a schema
per bot on PostgreSQL, a table prefix per bot in ``<data>/tables.sqlite3`` otherwise) and
file tables in each bot's ``.gbdata`` folder. Each bot sees it through ``BotTables``, which
applies the bot's ``TABLE ... END TABLE`` declarations once per bot version, before the
first table keyword of that version runs.
"""
from __future__ import annotations

import asyncio
from typing import Optional

from aiohttp import web

from ..runtime.services.file_tables import FileTables
from ..runtime.services.tables import SqlTables, Tables

TABLES: web.AppKey["LazyTables"] = web.AppKey("tables")  # set while the bots are loaded


class _Packages:
    """The current package of each bot, looked up at use (packages reload)."""

    def __init__(self, bots) -> None:
        self.bots = bots

    def get(self, name: str):
        bot = self.bots.get(name)
        return bot.package if bot is not None else None


class LazyTables:
    """The table service, opened on the first table keyword (most bots never use tables,
    and a server should not hold the tables database open for nothing)."""

    def __init__(self, settings, bots) -> None:
        self._settings, self._bots = settings, bots
        self._opening: Optional[asyncio.Future] = None

    async def _service(self) -> Tables:
        if self._opening is None:
            self._opening = asyncio.ensure_future(open_tables(self._settings, self._bots))
        return await asyncio.shield(self._opening)

    async def close(self) -> None:
        if self._opening is not None and self._opening.done() and not self._opening.exception():
            await self._opening.result().close()

    def __getattr__(self, name: str):
        async def call(*args, **kwargs):
            return await getattr(await self._service(), name)(*args, **kwargs)
        return call


async def open_tables(settings, bots) -> Tables:
    """The server's table service, in the same database as its sessions."""
    url = settings.database_url or ""
    if url.startswith(("postgres://", "postgresql://")):
        sql = await SqlTables.postgres(url, schema_prefix="bot_")
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        sql = await SqlTables.sqlite(str(settings.data_dir / "tables.sqlite3"))
    return Tables(sql, FileTables.for_packages(_Packages(bots)))


class BotTables:
    """A bot's view of the table service: its TABLE declarations applied first, once."""

    def __init__(self, tables: Tables, bot) -> None:
        self._tables = tables
        self._bot = bot
        self._ready: Optional[asyncio.Future] = None

    def _declarations(self) -> list:
        infos = getattr(self._bot, "infos", {}) or {}
        return [table for info in infos.values() for table in info.tables]

    async def _prepare(self) -> None:
        if self._ready is None:
            self._ready = asyncio.ensure_future(
                self._tables.apply_table_defs(self._bot.name, self._declarations()))
        await asyncio.shield(self._ready)

    def __getattr__(self, name: str):
        if name.startswith("_") or name in ("apply_table_defs", "close"):
            raise AttributeError(name)

        async def prepared(*args, **kwargs):
            await self._prepare()
            return await getattr(self._tables, name)(*args, **kwargs)
        return prepared
