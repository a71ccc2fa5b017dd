"""``botbasic kb index [BOTS_DIR|PACKAGE] [--data DIR]``: index knowledge bases now.

Indexes the ``.gbkb`` folder of one ``*.gbai`` package, or of every package below a bots
folder, into the store ``botbasic serve`` uses (Qdrant local mode in ``DIR/kb-index``, or
the server of ``QDRANT_URL``), with each bot's embedder (MiniLM unless its config.csv says
``embedding-model``). Indexing is incremental: unchanged files are skipped. A progress
bar on stderr follows the files (one line per file when stderr is not a terminal); a
summary line per bot goes to stdout. Local mode locks its folder: stop a server using
the same data folder first.

Exit status: 0 when every file was indexed, 1 when some file failed or the store cannot
be opened or used (the message names a Qdrant server's URL), 2 when the path holds no
bot package.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

BAR_WIDTH = 30


class ProgressBar:
    """``[#####.....] 12/40 faq/refunds.md`` redrawn in place (or one line per file)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.in_place = stream.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        filled = BAR_WIDTH * min(self.done, self.total) // self.total
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total} {label}"
        if self.in_place:
            self.stream.write("\r\x1b[2K" + line[:120])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.in_place:
            self.stream.write("\n")
            self.stream.flush()


def package_roots(path: Path) -> list[Path]:
    """``path`` itself when it is a package, else every package below it."""
    from .runtime.package import PACKAGE_EXT, find_packages

    if path.name.lower().endswith(PACKAGE_EXT) and path.is_dir():
        return [path]
    return find_packages(path) if path.is_dir() else []


def run_kb_index(path: str, data_dir: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Index the packages of ``path`` (see module doc); the exit status."""
    from .runtime.package import load_package
    from .runtime.services.kb_index import VectorStoreError, discover_collections
    from .server.knowledge import KnowledgeHub, KnowledgeUnavailable

    roots = package_roots(Path(path))
    if not roots:
        err.write(f"botbasic kb index: no *.gbai package in {path}\n")
        return 2
    packages = [load_package(root) for root in roots]
    total = sum(len(files) for package in packages if package.kb_dir is not None
                for files in discover_collections(package.kb_dir, package.name).values())
    hub = KnowledgeHub.from_env(Path(data_dir))
    bar = ProgressBar(total, err)
    status = 0
    try:
        for package in packages:
            status = max(status, _index_one(hub, package, bar, out))
    except (KnowledgeUnavailable, VectorStoreError) as error:  # e.g. the Qdrant server went away
        bar.close()
        err.write(f"botbasic kb index: {error}\n")
        return 1
    finally:
        asyncio.run(hub.close())
    bar.close()
    return status


def _index_one(hub, package, bar: ProgressBar, out: TextIO) -> int:
    def progress(event) -> None:
        if event.source is not None and event.action != "removed":
            bar.step(f"{package.name}: {event.collection}/{event.source} ({event.action})")

    report = hub.knowledge_base(package.config).index_package(package, progress)
    counts: dict[str, int] = {}
    for event in report.events:
        counts[event.action] = counts.get(event.action, 0) + 1
    for event in report.events:
        if event.action == "failed":
            out.write(f"{package.name}: {event.collection}/{event.source}: {event.error}\n")
    summary = ", ".join(f"{counts[action]} {action}" for action in sorted(counts)) or "no files"
    out.write(f"{package.name}: {len(report.collections)} collection(s): {summary};"
              f" {report.chunks_embedded} chunk(s) embedded\n")
    return 1 if counts.get("failed") else 0

