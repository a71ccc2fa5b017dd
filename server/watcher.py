"""Watching the bots folder: file changes -> the bot packages they touch (DIALECT §1.6).

``watch_packages`` runs ``watchfiles.awatch`` on the bots folder, groups each burst of
events (an editor save or a ``cp -r`` is many events) and reports which ``*.gbai`` packages
were touched. It knows nothing about compiling: the registry (server/bots.py) decides what
a touched package means. Changes inside a ``.gbkb`` folder are reported apart
(``kb_roots``): they re-index the knowledge base and do not reload the package.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from watchfiles import Change, DefaultFilter, awatch

from ..runtime.package import PACKAGE_EXT

log = logging.getLogger("botbasic.bots")

# A burst of events ends after STEP_MS without a new one, and lasts at most DEBOUNCE_MS:
# a change takes effect well within the 2 s promised, even while files keep changing.
DEBOUNCE_MS = 500
STEP_MS = 50

# Package parts that do not change a bot's scripts or settings. Scripts write to the
# drive and data folders at run time; reloading the package for each write would be waste.
# (The theme has its own consumer; the knowledge base is reported as ``kb_roots``.)
IGNORED_FOLDER_EXTS = (".gbdrive", ".gbdata", ".gbtheme", ".gbui")
KB_FOLDER_EXT = ".gbkb"


@dataclass
class TouchedPackages:
    """What one burst of file events touched: package folders, and whether some change
    outside any package (a folder of packages added, moved or removed) needs a rescan."""

    roots: set[Path] = field(default_factory=set)
    rescan: bool = False
    kb_roots: set[Path] = field(default_factory=set)  # packages whose .gbkb files changed

    def __bool__(self) -> bool:
        return bool(self.roots) or self.rescan or bool(self.kb_roots)


class PackageFilter(DefaultFilter):
    """watchfiles' default filter (editor swap files, ``.git``...) minus the package
    folders listed in ``IGNORED_FOLDER_EXTS``."""

    def __call__(self, change: Change, path: str) -> bool:
        return super().__call__(change, path) and not _in_ignored_folder(Path(path))


def _in_ignored_folder(path: Path) -> bool:
    return any(part.lower().endswith(IGNORED_FOLDER_EXTS) for part in path.parts)


def touched_packages(bots_dir: Path, paths: Iterable[str]) -> TouchedPackages:
    """The packages below ``bots_dir`` that contain (or are) the changed ``paths``."""
    touched = TouchedPackages()
    for raw in paths:
        relative = _relative_to(Path(raw), bots_dir)
        root = _package_root(bots_dir, relative) if relative is not None else None
        if root is None:
            touched.rescan = True
        elif any(part.lower().endswith(KB_FOLDER_EXT) for part in relative.parts):
            touched.kb_roots.add(root)
        else:
            touched.roots.add(root)
    return touched


def _relative_to(path: Path, folder: Path):
    """``path`` relative to ``folder``; watchers may report resolved paths (symlinked
    temporary folders), so the resolved forms are tried too. None when outside."""
    for candidate, base in ((path, folder), (path.resolve(), folder.resolve())):
        try:
            return candidate.relative_to(base)
        except ValueError:
            continue
    return None


def _package_root(bots_dir: Path, relative: Path):
    """The first ``*.gbai`` folder on the way from ``bots_dir`` to ``relative``."""
    for depth, part in enumerate(relative.parts):
        if len(part) > len(PACKAGE_EXT) and part.lower().endswith(PACKAGE_EXT):
            return bots_dir.joinpath(*relative.parts[: depth + 1])
    return None


async def watch_packages(bots_dir: Path, on_change: Callable[[TouchedPackages], None],
                         stop: asyncio.Event) -> None:
    """Call ``on_change`` after every burst of changes below ``bots_dir`` until ``stop``.

    A failing ``on_change`` is logged and watching goes on: one bad reload must not end
    hot reload for every bot.
    """
    async for changes in awatch(bots_dir, watch_filter=PackageFilter(), debounce=DEBOUNCE_MS,
                                step=STEP_MS, stop_event=stop):
        touched = touched_packages(bots_dir, (path for _, path in changes))
        if not touched:
            continue
        try:
            on_change(touched)
        except Exception:
            log.exception("reloading bots after a change in %s failed", bots_dir)
