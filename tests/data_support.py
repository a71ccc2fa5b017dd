"""Helpers for the table tests (tests/test_data_keywords.py).

``open_world(kind, tmp_path)`` gives a ``DataWorld``: a ``Tables`` service on a fresh
SQLite file, on PostgreSQL at ``$DATABASE_URL_TEST`` (default
``postgresql://postgres@127.0.0.1:5432/test``; each test gets its own bot, whose schema is
dropped afterwards — an unreachable server fails the test), or on CSV files only. Its
``run(source)`` compiles and runs a BASIC script like tests/vm_support.py does, but
awaits it, so one test can run several scripts on one database in one event loop.
"""
from __future__ import annotations

import asyncio
import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

from botbasic.interpreter import analyze_source
from botbasic.runtime.config import parse_config_text
from botbasic.runtime.context import SessionData
from botbasic.runtime.memory_store import InMemoryStore
from botbasic.runtime.program import ProgramStore
from botbasic.runtime.services.file_tables import FileTables
from botbasic.runtime.services.tables import SqlTables, Tables
from botbasic.runtime.vm import Execution

from vm_support import REGISTRY, Transcript, compile_source, make_context

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
SQL_KINDS = ("sqlite", "postgres")
ALL_KINDS = SQL_KINDS + ("files",)
GUARD_S = 60


def run(coro):
    """Run a test coroutine in a fresh event loop (a deadlock fails after GUARD_S)."""
    async def guarded():
        return await asyncio.wait_for(coro, GUARD_S)
    return asyncio.run(guarded())


class DataWorld:
    """One bot with a ``tables`` service (and the folder of its file tables)."""

    def __init__(self, tables: Tables, data_dir: Path, bot: str, sql: Optional[SqlTables]):
        self.tables = tables
        self.data_dir = data_dir
        self.bot = bot
        self.sql = sql
        self.config = parse_config_text("name,value\n")

    def services(self, **extra) -> SimpleNamespace:
        return SimpleNamespace(memory=InMemoryStore(), tables=self.tables, config=self.config,
                               **extra)

    async def run(self, source: str, answers=(), *, user: Optional[dict] = None,
                  interactive: bool = True, **context) -> Transcript:
        """Run ``source`` to its end (answering HEARs from ``answers``)."""
        program = ProgramStore().add(compile_source(source))
        events: list = []
        logs: list = []
        variables = {"user": user} if user is not None else None
        ctx = make_context(events, ProgramStore(), logs=logs,
                           services=context.pop("services", None) or self.services(),
                           session=SessionData(session_id="s1", bot_id=self.bot, user_id="u1"),
                           variables=variables, interactive=interactive, **context)
        execution = Execution().start(program, ctx)
        outcome = await execution.run()
        for answer in answers:
            if outcome.status != "waiting":
                break
            outcome = await execution.run(answer)
        return Transcript(outcome, events, ctx, execution, logs)

    async def says(self, source: str, **kwargs) -> list[str]:
        """The messages of a script that must end without error."""
        transcript = await self.run(source, **kwargs)
        assert transcript.error is None, transcript.error
        return transcript.messages

    async def error(self, source: str, **kwargs) -> str:
        """The error a script ends with (it must end with one)."""
        transcript = await self.run(source, **kwargs)
        assert transcript.error is not None, f"no error; said {transcript.messages}"
        return transcript.error

    async def apply_tables(self, source: str) -> None:
        """Apply the TABLE blocks of ``source`` as the host does when it loads a bot."""
        result = analyze_source(source, "tables.bas", REGISTRY)
        assert result.ok, [str(d) for d in result.diagnostics]
        await self.tables.apply_table_defs(self.bot, result.info.tables)


@asynccontextmanager
async def open_world(kind: str, tmp_path: Path):
    """A DataWorld on ``kind`` ("sqlite", "postgres" or "files"), cleaned up afterwards."""
    data_dir = tmp_path / "bot.gbdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    files = FileTables.in_folder(data_dir)
    bot = "t" + uuid.uuid4().hex[:12]
    sql = None
    if kind == "sqlite":
        sql = await SqlTables.sqlite(str(tmp_path / "tables.db"))
    elif kind == "postgres":
        sql = await SqlTables.postgres(PG_URL)
    world = DataWorld(Tables(sql, files), data_dir, bot, sql)
    try:
        yield world
    finally:
        if sql is not None:
            await sql.drop_bot(bot)
            await sql.close()


def world_test(kind: str, tmp_path: Path, scenario) -> None:
    """Run ``await scenario(world)`` on a fresh world of ``kind``."""
    async def main():
        async with open_world(kind, tmp_path) as world:
            await scenario(world)
    run(main())
