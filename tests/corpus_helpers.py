"""Where the shared corpus of real scripts is (test data, read in place, never copied)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("BOTBASIC_CORPUS", REPO.parent / "shared" / "corpus"))

# DIALECT A-58: structurally broken scripts; strict mode must reject them, lenient accept.
BROKEN = {
    "generalbots/bottemplates/bots/communications/quick-broadcast.gbai/default.gbdialog",
    "generalbots/bottemplates/bots/core/api-client.gbai/api-client.gbdialog/msft-partner-center.bas",
    "botserver-2025/prompts/geral.bas",
}


def corpus_scripts() -> list[Path]:
    """Every BASIC file of the corpus: ``*.bas`` and the extension-less default.gbdialog files."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*")
                  if p.is_file() and (p.suffix == ".bas" or p.name == "default.gbdialog"))


def relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
