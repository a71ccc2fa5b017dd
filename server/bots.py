"""The server's bots: every ``*.gbai`` package of the bots folder, compiled and kept current.

``BotRegistry.load_all`` compiles every script of every package up front, so each mistake
is logged (logger ``botbasic.bots``) and reported by ``Bot.status()`` with file:line:col
at startup. ``BotRegistry.watch`` reloads the packages that change on disk (DIALECT §1.6):

* a reload builds a new ``Bot`` whose ``ScriptLibrary`` adopts the previous one, so only
  files whose text changed are compiled again;
* a script whose new version does not compile keeps serving its last good version (and
  its errors are reported);
* every program ever compiled stays in ``BotRegistry.programs`` by hash, so conversations
  suspended on an old version resume on it; new conversations get the new version.

A bad script or package never stops the others from loading.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable, Optional

from ..interpreter import Diagnostic, ScriptInfo
from ..runtime.config import BotConfig
from ..runtime.package import PACKAGE_EXT, BotPackage, find_packages, load_package
from ..runtime.program import Program, ProgramStore
from ..runtime.scripts import ScriptCompileError, ScriptLibrary
from .watcher import TouchedPackages, watch_packages

log = logging.getLogger("botbasic.bots")

STATUS_OK = "ok"          # every script compiles
STATUS_ERRORS = "errors"  # some script has errors; what compiled (or compiled before) is served
STATUS_FAILED = "failed"  # the package cannot be read, or its entry script has nothing to serve

ProgramHook = Callable[[Program, "Bot", str], None]
BotHook = Callable[["Bot"], None]


class Bot:
    """One loaded bot package, as of its last (re)load: settings and compiled scripts.

    A reload makes a new ``Bot``; an object once handed out never changes, so a
    conversation holding one sees a consistent bot.
    """

    def __init__(self, package: BotPackage, library: ScriptLibrary,
                 load_error: Optional[Diagnostic] = None):
        self.name: str = package.name
        self.package = package
        self.config: BotConfig = package.config
        self.library = library
        self.load_error = load_error
        # Declarations of the version each script serves: the tool schema sent to the LLM
        # must describe the program that will run.
        self.infos: dict[str, ScriptInfo] = {
            key: served[0].info for key in sorted(library.scripts)
            if (served := library.serving(key)) is not None
        }
        self.errors: list[Diagnostic] = _collect_diagnostics(package, library, load_error)

    def program(self, script_name: str) -> Optional[Program]:
        """The program served for ``script_name`` (``order``, ``Order.bas``...): its current
        version, or its last good one when the current does not compile; else None."""
        served = self.library.serving(script_name)
        if served is not None:
            return served[1]
        try:
            return self.library.program(script_name)
        except (KeyError, ScriptCompileError):
            return None

    def entry_program(self) -> Optional[Program]:
        """The program of the conversation entry script (``start.bas``), if there is one."""
        return self.program(self.package.entry) if self.package.entry else None

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.errors)

    def status(self) -> dict:
        """The bot as ``/api/bots`` shows it: overall status, scripts and diagnostics."""
        if self.load_error is not None or (self.package.entry and self.entry_program() is None):
            status = STATUS_FAILED
        else:
            status = STATUS_ERRORS if self.has_errors else STATUS_OK
        return {
            "name": self.name,
            "status": status,
            "entry": self.package.entry,
            "scripts": [self._script_status(key) for key in sorted(self.library.scripts)],
            "errors": [d.as_dict() for d in self.errors],
        }

    def _script_status(self, key: str) -> dict:
        """``ok``: compiles; ``errors``: does not compile, an older version is served;
        ``failed``: does not compile and there is nothing to serve."""
        current = self.library.analyze(key)
        program = self.program(key)
        if current.ok and program is not None:
            status = STATUS_OK
        else:
            status = STATUS_ERRORS if program is not None else STATUS_FAILED
        return {
            "name": key,
            "file": str(self.library.scripts[key]),
            "status": status,
            "hash": program.hash if program is not None else None,
        }

    def __repr__(self) -> str:
        return f"Bot({self.name!r}, scripts={sorted(self.library.scripts)})"


def _collect_diagnostics(package: BotPackage, library: ScriptLibrary,
                         load_error: Optional[Diagnostic]) -> list[Diagnostic]:
    """Package problems first (no line: they concern folders), then each script's."""
    found = [load_error] if load_error is not None else []
    found += [Diagnostic(str(package.root), 0, 0, "warning", text) for text in package.warnings]
    for key in sorted(library.scripts):
        found += library.analyze(key).diagnostics
    return found


def _bot_state(bot: Bot) -> tuple:
    """What a client can observe of a bot; the registry version changes when it does."""
    programs = tuple((key, program.hash if (program := bot.program(key)) else None)
                     for key in sorted(bot.library.scripts))
    return (bot.package.root, programs, tuple(bot.errors), tuple(bot.config.items()),
            bot.package.entry, bot.package.prompt)


def package_name(root: Path) -> str:
    """The bot name of package folder ``root``: ``Demo.gbai`` -> ``Demo``."""
    name = root.name
    return name[: -len(PACKAGE_EXT)] if name.lower().endswith(PACKAGE_EXT) else name


class BotRegistry:
    """Every bot of ``bots_dir`` by (case-insensitive) name, reloaded when files change.

    ``programs`` holds every program ever compiled, by hash; ``on_program(program, bot,
    source)`` is called once for each program compiled for the first time (the server
    saves sources by hash); ``on_kb_change(bot)`` when a bot's knowledge base may need
    (re)indexing: a bot loaded for the first time, a ``.gbkb`` folder that appeared or
    went, a change to its files; ``version`` grows with every observable change.
    """

    def __init__(self, bots_dir: Path, registry, programs: Optional[ProgramStore] = None,
                 on_program: Optional[ProgramHook] = None, lenient: bool = False,
                 on_kb_change: Optional[BotHook] = None):
        # Resolved, so that paths reported by the file watcher compare equal to ours.
        self.bots_dir = Path(bots_dir).resolve()
        self.registry = registry
        self.programs = programs if programs is not None else ProgramStore()
        self.on_program = on_program
        self.on_kb_change = on_kb_change
        self.lenient = lenient
        self.version = 0
        self._bots: dict[str, Bot] = {}
        self._announced: set[str] = set()

    # ------------------------------------------------------------ lookup

    def get(self, name: str) -> Optional[Bot]:
        """The bot called ``name`` (any case), or None."""
        return self._bots.get(name.lower())

    def bots(self) -> list[Bot]:
        """Every loaded bot, sorted by name."""
        return [self._bots[key] for key in sorted(self._bots)]

    # ------------------------------------------------------------ loading

    def load_all(self) -> None:
        """Load every package below ``bots_dir``; drop bots whose package is gone."""
        if not self.bots_dir.is_dir():
            log.error("bots folder %s does not exist; no bots loaded", self.bots_dir)
        self._sync_with_disk(reload_known=True)
        log.info("%d bot(s) loaded from %s", len(self._bots), self.bots_dir)

    def reload(self, name: str) -> Optional[Bot]:
        """Read package ``name`` again (a new one is looked for on disk); None when it does
        not exist (any bot of that name is removed)."""
        current = self.get(name)
        root = current.package.root if current is not None else self._find_root(name)
        if root is None:
            return None
        return self._reload_root(root)

    def _find_root(self, name: str) -> Optional[Path]:
        wanted = name.lower()
        return next((root for root in self._package_roots()
                     if package_name(root).lower() == wanted), None)

    def _package_roots(self) -> list[Path]:
        return find_packages(self.bots_dir) if self.bots_dir.is_dir() else []

    def _sync_with_disk(self, reload_known: bool) -> None:
        """Load the packages on disk the registry lacks (and, with ``reload_known``, the
        others too); drop the bots whose package is gone."""
        roots = self._package_roots()
        for bot in list(self._bots.values()):
            if bot.package.root not in roots:
                self._remove(bot)
        for root in roots:
            current = self.get(package_name(root))
            # _reload_root settles name clashes between packages in different folders.
            if reload_known or current is None or current.package.root != root:
                self._reload_root(root)

    def _reload_root(self, root: Path) -> Optional[Bot]:
        """(Re)load the package at ``root``; remove its bot when the folder is gone."""
        current = self.get(package_name(root))
        if current is not None and current.package.root != root:
            if current.package.root.is_dir():
                log.warning("bot %s: %s ignored, %s already provides a bot of that name",
                            current.name, root, current.package.root)
                return None
            self._remove(current)
            current = None
        if not root.is_dir():
            if current is not None:
                self._remove(current)
            return None
        bot = self._build(root, current)
        if bot is not None:
            self._install(bot, current)
        return self.get(package_name(root))

    def _build(self, root: Path, previous: Optional[Bot]) -> Optional[Bot]:
        """A new ``Bot`` for ``root``; None keeps ``previous`` (the package could not be read,
        most likely because it is being copied or deleted: the next event retries)."""
        try:
            package = load_package(root)
        except OSError as exc:
            if previous is not None:
                log.error("bot %s: cannot read %s (%s); keeping the loaded version",
                          previous.name, root, exc)
                return None
            return self._failed_bot(root, exc)
        library = ScriptLibrary(self.registry, package.scripts, self.lenient, store=self.programs)
        if previous is not None:
            library.adopt(previous.library)
        fresh = library.compile_all()
        bot = Bot(package, library)
        _log_problems(bot, previous, fresh)
        return bot

    def _failed_bot(self, root: Path, exc: OSError) -> Bot:
        message = f"cannot read the bot package: {exc}"
        log.error("%s: %s", root, message)
        package = BotPackage(name=package_name(root), root=root)
        library = ScriptLibrary(self.registry, {}, self.lenient, store=self.programs)
        return Bot(package, library, Diagnostic(str(root), 0, 0, "error", message))

    def _install(self, bot: Bot, previous: Optional[Bot]) -> None:
        self._bots[bot.name.lower()] = bot
        self._announce(bot)
        if previous is None or previous.package.kb_dir != bot.package.kb_dir:
            self._kb_changed(bot)
        if previous is None or _bot_state(previous) != _bot_state(bot):
            self.version += 1
            log.info("bot %s %s: %s", bot.name, "reloaded" if previous else "loaded",
                     bot.status()["status"])

    def _remove(self, bot: Bot) -> None:
        if self._bots.get(bot.name.lower()) is bot:
            del self._bots[bot.name.lower()]
            self.version += 1
            log.info("bot %s removed", bot.name)

    def _announce(self, bot: Bot) -> None:
        """Hand every program seen for the first time to ``on_program``."""
        for key in sorted(bot.library.scripts):
            served = bot.library.serving(key)
            if served is None or served[1].hash in self._announced:
                continue
            result, program = served
            self._announced.add(program.hash)
            self.programs.add(program)
            if self.on_program is not None:
                try:
                    self.on_program(program, bot, result.source)
                except Exception:  # the hook's failure must not unload the bot
                    log.exception("bot %s: on_program failed for %s", bot.name, key)

    # ------------------------------------------------------------ hot reload

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload the packages that change below ``bots_dir`` until ``stop`` is set."""
        if not self.bots_dir.is_dir():
            log.error("bots folder %s does not exist; not watching it", self.bots_dir)
            return
        await watch_packages(self.bots_dir, self._apply, stop)

    def _apply(self, touched: TouchedPackages) -> None:
        for root in sorted(touched.roots):
            self._reload_root(root)
        for root in sorted(touched.kb_roots - touched.roots):
            self._kb_files_changed(root)
        if touched.rescan:
            self._sync_with_disk(reload_known=False)

    def _kb_files_changed(self, root: Path) -> None:
        """Files below a ``.gbkb`` folder changed: re-index; a folder that appeared or
        went changes the package layout, so the package is read again first."""
        bot = self.get(package_name(root))
        if bot is None or bot.package.root != root:
            return
        kb_dir = bot.package.kb_dir
        if kb_dir is None or not kb_dir.is_dir():
            self._reload_root(root)  # _install reports the new layout
        else:
            self._kb_changed(bot)

    def _kb_changed(self, bot: Bot) -> None:
        if self.on_kb_change is None:
            return
        try:
            self.on_kb_change(bot)
        except Exception:  # the hook's failure must not unload the bot
            log.exception("bot %s: on_kb_change failed", bot.name)


def _log_problems(bot: Bot, previous: Optional[Bot], fresh: list[str]) -> None:
    """Log the diagnostics of the scripts analysed now, and new package warnings (those of
    unchanged scripts were logged when they were first found)."""
    old_warnings = set(previous.package.warnings) if previous is not None else set()
    for text in bot.package.warnings:
        if text not in old_warnings:
            log.warning("bot %s: %s", bot.name, text)
    for key in fresh:
        for diagnostic in bot.library.analyze(key).diagnostics:
            level = logging.ERROR if diagnostic.is_error else logging.WARNING
            log.log(level, "bot %s: %s", bot.name, diagnostic)
        if not bot.library.analyze(key).ok and bot.library.serving(key) is not None:
            log.warning("bot %s: script %s does not compile; serving its last good version",
                        bot.name, key)
