"""Running scripts for the server: execution contexts, and programs that outlive a process.

``BotRuntime`` is what a turn needs of a loaded bot, computed once per bot version (its
settings, services and script variables), never per message. ``ProgramArchive`` keeps the
BASIC source of every program a waiting execution refers to in the store, and recompiles
the exact version in a process that has never seen it (after a restart, on another server,
or after the script was edited) — a suspended execution resumes on the version it began
on (DIALECT §7.4).
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, fields
from types import SimpleNamespace
from typing import Any, Callable, Optional

from ..interpreter import analyze_source
from ..interpreter.compiler import compile_script
from ..runtime.context import ExecutionContext, SessionData
from ..runtime.program import Program
from ..runtime.scripts import script_key
from ..runtime.services.bundle import bot_services
from ..runtime.values import BasicObject, from_plain
from ..runtime.outcome import Outcome, ScriptError
from ..runtime.vm import Execution
from .config import BotSettings
from .tables_host import BotTables
from .logs import ScriptLogger
from .tool_catalog import BotTools

log = logging.getLogger("botbasic.server")
script_log = logging.getLogger("botbasic.script")

# One random source for every turn: seeding a new one per message costs more than the
# rest of building the context, and RND needs no per-session sequence.
_RANDOM = random.Random()
_SESSION_FIELDS = frozenset(f.name for f in fields(SessionData))


@dataclass
class BotRuntime:
    """A loaded bot as conversations use it; rebuilt when the bot reloads."""

    name: str
    bot: Any  # server.bots.Bot
    settings: BotSettings
    services: SimpleNamespace
    title: str

    def entry_program(self) -> Optional[Program]:
        """The compiled entry script (start.bas), None when the bot has none or it does
        not compile (its errors were reported when the bot loaded)."""
        try:
            return self.bot.entry_program()
        except Exception:  # noqa: BLE001 - a broken start.bas must not break the bot
            return None

    def program(self, name: str) -> Optional[Program]:
        try:
            return self.bot.program(name)
        except Exception:  # noqa: BLE001 - unknown or broken script
            return None

    def tool_program(self, name: str, session: SessionData) -> Optional[Program]:
        """The script a tool button may run: a declared tool (PARAM/DESCRIPTION), or one
        the session offers with ``ADD SUGGESTION TOOL``. Other scripts (scheduled jobs,
        webhooks, sub-dialogs) cannot be started by a client."""
        key = script_key(name)
        info = getattr(self.bot, "infos", {}).get(key)
        offered = any(s.get("kind") == "invoke_tool" and script_key(str(s.get("tool") or "")) == key
                      for s in session.suggestions)
        if not offered and not (info is not None and info.is_tool):
            return None
        return self.program(key)


class BotRuntimes:
    """``BotRuntime`` by bot name, rebuilt only when the registry holds a new Bot object."""

    def __init__(self, bots, memory, default_max_bytes: int, knowledge=None, tables=None):
        self.bots = bots
        self.memory = memory
        self.default_max_bytes = default_max_bytes
        self.knowledge = knowledge  # knowledge.KnowledgeHub: the bots' ``kb`` services
        self.tables = tables  # runtime.services.tables.Tables: the bots' ``tables`` services
        self._cache: dict[str, BotRuntime] = {}

    def get(self, name: str) -> Optional[BotRuntime]:
        bot = self.bots.get(name)
        if bot is None:
            return None
        key = bot.name.lower()  # URLs may spell the name in any case; sessions store one
        cached = self._cache.get(key)
        if cached is not None and cached.bot is bot:
            return cached
        runtime = self._build(bot.name, bot)
        self._cache[key] = runtime
        return runtime

    def _build(self, name: str, bot) -> BotRuntime:
        config = getattr(bot, "config", None)
        settings = BotSettings.from_config(config, self.default_max_bytes)
        title = (config.get("bot-name") if config is not None else None) or name
        extra = {"tools": BotTools(bot)}
        if self.knowledge is not None and getattr(bot, "package", None) is not None:
            extra["kb"] = self.knowledge.for_bot(bot)
        if self.tables is not None:
            extra["tables"] = BotTables(self.tables, bot)
        services = bot_services(getattr(bot, "package", None), config, self.memory, **extra)
        return BotRuntime(name, bot, settings, services, title)


def load_session_data(record, runtime: BotRuntime) -> SessionData:
    """The SessionData stored with ``record`` (a fresh one for a new session).

    The stored dict was just decoded from the database and belongs to this turn alone,
    so it is used as is, without SessionData.from_dict's defensive deep copy."""
    if not record.data:
        return new_session_data(record, runtime.settings.language)
    return SessionData(**{k: v for k, v in record.data.items() if k in _SESSION_FIELDS})


def dump_session_data(session: SessionData) -> dict:
    """The JSON-ready form of ``session`` to store (no copy: the session ends with the turn)."""
    return dict(vars(session))


def new_session_data(record, language: str = "en") -> SessionData:
    """The SessionData of a session that has none stored yet."""
    builtins = {"id": record.id, "user_id": record.user_id, "bot_id": record.bot,
                "channel": "web", "created_at": record.created_at, "language": language}
    return SessionData(session_id=record.id, bot_id=record.bot, user_id=record.user_id,
                       language=language, builtins=builtins)


def script_variables(runtime: BotRuntime, session: SessionData) -> dict:
    """The variables injected into every execution (§1.4.2, §7.8)."""
    session_object = BasicObject(from_plain(session.builtins))
    for key, value in session.variables.items():
        session_object.assign(key, from_plain(value))
    user = BasicObject({"id": session.user_id, "name": session.user_id})
    bot = BasicObject({"id": runtime.name, "name": runtime.name, "title": runtime.title})
    return {**runtime.settings.script_variables, "session": session_object, "user": user,
            "bot": bot}


def make_context(runtime: BotRuntime, registry, session: SessionData,
                 emit: Callable[[dict], None]) -> ExecutionContext:
    """The ExecutionContext of one turn of one session."""
    library = getattr(runtime.bot, "library", None)
    resolve = library.resolve if library is not None else (lambda name: None)
    return ExecutionContext(
        registry, services=runtime.services, session=session, emit=emit,
        resolve_script=resolve, variables=script_variables(runtime, session), rng=_RANDOM,
        logger=ScriptLogger(script_log, runtime.name, session.session_id))


class ProgramArchive:
    """Program sources in the store, so saved executions can resume in any process.

    ``on_program`` is the BotRegistry hook: it keeps the BASIC source of every program
    compiled in this process (in memory; written to the store only when an execution on
    that program suspends, once per process). ``programs`` is the registry's ProgramStore.
    """

    def __init__(self, store, programs, registry):
        self.store = store
        self.programs = programs
        self.registry = registry
        self._sources: dict[str, str] = {}  # hash -> BASIC source
        self._saved: set[str] = set()  # hashes known to be in the store
        self._recovered: dict[str, Program] = {}  # old versions compiled from the store

    def on_program(self, program: Program, bot, source: str) -> None:
        """BotRegistry ``on_program`` hook (called on the event loop, must not block)."""
        self._sources[program.hash] = source

    async def remember(self, snapshot: dict, bot: str) -> None:
        """Save the source of every program ``snapshot`` refers to (once per process)."""
        for script in snapshot.get("scripts", ()):
            digest = script["program"]
            if digest in self._saved:
                continue
            program = self.get(digest)
            source = self._sources.get(digest)
            if source is None:
                log.warning("no source for program %s (%s); a restart cannot resume it",
                            script.get("name"), digest[:12], extra={"bot": bot})
                continue
            await self.store.save_program(digest, bot, program.name, program.file, source)
            self._saved.add(digest)

    def get(self, digest: str) -> Optional[Program]:
        return self.programs.get(digest) or self._recovered.get(digest)

    async def restore(self, snapshot: dict, ctx: ExecutionContext) -> Execution:
        """``Execution.restore`` after compiling, from the store, any version this process
        lacks. Raises LookupError when a version is nowhere to be found."""
        for script in snapshot.get("scripts", ()):
            digest = script["program"]
            if self.get(digest) is None:
                await self._recover(digest, script.get("name", "?"))
        return Execution.restore(snapshot, self, ctx)

    async def _recover(self, digest: str, name: str) -> None:
        stored = await self.store.load_program_source(digest)
        if stored is None:
            raise LookupError(f"program {name} ({digest[:12]}) is not in the store")
        result = analyze_source(stored["source"], stored["file"], self.registry)
        if not result.ok:
            raise LookupError(f"stored program {name} ({digest[:12]}) no longer compiles")
        program = compile_script(result.script, result.source, self.registry, result.info.params)
        if program.hash != digest:  # another compiler version: the saved pc means nothing
            raise LookupError(f"program {name} ({digest[:12]}) was saved by another compiler version")
        self._recovered[digest] = program
        self._saved.add(digest)


async def start_and_run(program: Program, ctx: ExecutionContext,
                        args: Optional[dict] = None) -> tuple[Execution, "Outcome"]:
    """Start a new execution of ``program`` and run it until it ends or waits; a failure
    while starting (e.g. a PARAM DEFAULT that fails) is an error outcome, not an exception."""
    execution = Execution()
    try:
        execution.start(program, ctx, args)
    except Exception as exc:  # noqa: BLE001 - reported to the user like any script error
        outcome = Outcome("error", error=ScriptError(str(exc), program.file, 0))
        ctx.logger.warning("%s", outcome.error)
        return execution, outcome
    return execution, await execution.run()
