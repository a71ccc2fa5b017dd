"""Knowledge-base statistics of one bot (DIALECT §9.4.5: ``KB STATISTICS`` and friends).

Documents are the files of a collection on disk (their modification time tells when
they were added); vectors are the points of its Qdrant collection. Disk sizes are known
in local mode (the collection's folder); RAM is estimated as the vectors' float32 size.
A collection's ``status`` is ``red`` when the last indexing run of the bot failed,
``yellow`` while it is being indexed or when it has documents but no vectors yet, and
``green`` otherwise.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

from ..runtime.services.kb_index import KnowledgeBase, discover_collections, qdrant_collection_name

WEEK_SECONDS = 7 * 86400
MONTH_SECONDS = 30 * 86400
_MB = 1024 * 1024
_PUBLIC_FIELDS = ("name", "status", "points_count", "vectors_count", "disk_data_size", "ram_data_size")


def collection_statistics(base: KnowledgeBase, bot: str, kb_dir: Optional[Path],
                          local_path: Optional[Path], indexing: bool,
                          failure: Optional[str]) -> list[dict]:
    """One entry per collection (on disk or indexed), sorted by name (worker thread)."""
    files = discover_collections(kb_dir, bot) if kb_dir is not None and kb_dir.is_dir() else {}
    names = {name.lower(): name for name in base.collections(bot)}
    names.update({name.lower(): name for name in files})
    now = time.time()
    entries = []
    for key in sorted(names):
        name = names[key]
        target = qdrant_collection_name(bot, name)
        points = _points(base, target)
        documents = files.get(name) or next((v for k, v in files.items() if k.lower() == key), [])
        ages = [now - _mtime(path) for path in documents]
        entries.append({
            "name": name,
            "status": _status(points, len(documents), indexing, failure),
            "points_count": points,
            "vectors_count": points,
            "disk_data_size": _folder_size(local_path / "collection" / target) if local_path else 0,
            "ram_data_size": points * int(base.embedder.dims) * 4,
            "documents": len(documents),
            "added_week": sum(age <= WEEK_SECONDS for age in ages),
            "added_month": sum(age <= MONTH_SECONDS for age in ages),
        })
    return entries


def statistics_summary(entries: list[dict]) -> dict:
    """The ``KB STATISTICS`` object from the collection entries."""
    return {
        "total_collections": len(entries),
        "total_documents": sum(entry["documents"] for entry in entries),
        "total_vectors": sum(entry["vectors_count"] for entry in entries),
        "total_disk_size_mb": round(sum(entry["disk_data_size"] for entry in entries) / _MB, 3),
        "total_ram_size_mb": round(sum(entry["ram_data_size"] for entry in entries) / _MB, 3),
        "documents_added_last_week": sum(entry["added_week"] for entry in entries),
        "documents_added_last_month": sum(entry["added_month"] for entry in entries),
        "collections": [{key: entry[key] for key in _PUBLIC_FIELDS} for entry in entries],
    }


def _points(base: KnowledgeBase, target: str) -> int:
    if not base.store.collection_exists(target):
        return 0
    return int(base.store.count(target).count)


def _status(points: int, documents: int, indexing: bool, failure: Optional[str]) -> str:
    if failure:
        return "red"
    if indexing or (documents and not points):
        return "yellow"
    return "green"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _folder_size(folder: Path) -> int:
    total = 0
    for current, _, names in os.walk(folder):
        for name in names:
            try:
                total += (Path(current) / name).stat().st_size
            except OSError:
                continue
    return total


def documents_added_since(kb_dir: Optional[Path], bot: str, days: float) -> int:
    """How many files of the bot's collections changed in the last ``days`` days."""
    if kb_dir is None or not kb_dir.is_dir():
        return 0
    limit = time.time() - days * 86400
    return sum(_mtime(path) >= limit
               for paths in discover_collections(kb_dir, bot).values() for path in paths)
