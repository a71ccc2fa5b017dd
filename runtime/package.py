"""Bot packages on disk: ``<bot>.gbai`` folders (DIALECT §1.1–§1.3, §1.6).

Sub-folders are recognised by their extension, not their full name, because real
packages contain typos and renamed folders (``announcements.gbai/annoucements.gbot``,
``campaign-manager.gbai/marketing.gbdialog``). Scripts are indexed by file stem; the
legacy layouts of the corpus (``.bas`` files in the package root, an extension-less
``default.gbdialog`` file) are folded into the same index.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from .config import BotConfig, load_config

PACKAGE_EXT = ".gbai"
DIALOG_EXT = ".gbdialog"
SCRIPT_EXT = ".bas"
DEFAULT_SCRIPT = "default"
START_SCRIPT = "start"
PROMPT_FILE_NAMES = ("PROMPT.md", "prompt.md", "PROMPT.txt", "prompt.txt")

# How a script file entered the index; lower ranks win stem clashes at equal depth.
_RANK_DIALOG_FOLDER = 0
_RANK_PACKAGE_ROOT = 1
_RANK_DEFAULT_FILE = 2


@dataclass
class BotPackage:
    """Everything botbasic needs to know about one bot package on disk."""

    name: str
    root: Path
    scripts: dict[str, Path] = field(default_factory=dict)
    entry: Optional[str] = None
    config: BotConfig = field(default_factory=BotConfig)
    prompt: Optional[str] = None
    dialog_dir: Optional[Path] = None
    bot_dir: Optional[Path] = None
    kb_dir: Optional[Path] = None
    drive_dir: Optional[Path] = None
    data_dir: Optional[Path] = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, order=True)
class _ScriptCandidate:
    """A file that may provide a script; ordering = precedence on a stem clash."""

    depth: int
    rank: int
    path: Path


def find_packages(bots_dir: Union[str, Path]) -> list[Path]:
    """Every ``*.gbai`` directory below ``bots_dir`` (recursively), sorted by path.

    The search does not descend into a package: folders inside a bot belong to it.
    """
    found: list[Path] = []
    for current, dirnames, _ in os.walk(bots_dir):
        packages = [name for name in dirnames if _has_ext(name, PACKAGE_EXT)]
        found.extend(Path(current) / name for name in packages)
        dirnames[:] = [name for name in dirnames if name not in packages]
    return sorted(found)


def load_package(path: Union[str, Path]) -> BotPackage:
    """Read the layout, scripts, settings and prompt of the package folder ``path``."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"bot package folder not found: {root}")
    package = BotPackage(name=_strip_ext(root.name, PACKAGE_EXT), root=root)
    package.dialog_dir = _sub_folder(package, DIALOG_EXT)
    package.bot_dir = _sub_folder(package, ".gbot")
    package.kb_dir = _sub_folder(package, ".gbkb")
    package.drive_dir = _sub_folder(package, ".gbdrive")
    package.data_dir = _sub_folder(package, ".gbdata")
    package.scripts = _index_scripts(package)
    if package.bot_dir is not None:
        package.config = load_config(package.bot_dir)
        package.prompt = _read_prompt(package.bot_dir)
    package.entry = _entry_script(package)
    return package


def script_name(file_name: str) -> str:
    """The script (tool) name of a file or reference: stem, lower case.

    ``Create-Ticket.bas`` -> ``create-ticket``; ``default.gbdialog`` -> ``default``.
    """
    name = file_name.strip()
    for ext in (SCRIPT_EXT, DIALOG_EXT):
        name = _strip_ext(name, ext)
    return name.lower()


# ---------------------------------------------------------------- sub-folders


def _sub_folder(package: BotPackage, ext: str) -> Optional[Path]:
    """The package's folder with extension ``ext``; prefers ``<bot><ext>``, warns otherwise."""
    candidates = sorted(
        (entry for entry in package.root.iterdir() if entry.is_dir() and _has_ext(entry.name, ext)),
        key=lambda entry: (_strip_ext(entry.name, ext).lower() != package.name.lower(), entry.name),
    )
    if not candidates:
        return None
    chosen = candidates[0]
    if len(candidates) > 1:
        others = ", ".join(entry.name for entry in candidates[1:])
        package.warnings.append(f"several {ext} folders; using {chosen.name}, ignoring {others}")
    if _strip_ext(chosen.name, ext).lower() != package.name.lower():
        package.warnings.append(
            f"folder {chosen.name} does not match the bot name '{package.name}'; using it anyway"
        )
    return chosen


def _read_prompt(bot_dir: Path) -> Optional[str]:
    """The base system prompt file of the ``.gbot`` folder, if there is one."""
    for file_name in PROMPT_FILE_NAMES:
        candidate = bot_dir / file_name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8-sig", errors="replace")
    return None


# ---------------------------------------------------------------- scripts


def _index_scripts(package: BotPackage) -> dict[str, Path]:
    """Script name -> file, resolving stem clashes by closeness to the dialog root."""
    by_name: dict[str, list[_ScriptCandidate]] = {}
    for candidate in _script_candidates(package):
        by_name.setdefault(script_name(candidate.path.name), []).append(candidate)
    scripts: dict[str, Path] = {}
    for name in sorted(by_name):
        winner, *losers = sorted(by_name[name])
        scripts[name] = winner.path
        if losers:
            package.warnings.append(_clash_warning(package, name, winner, losers))
    return scripts


def _script_candidates(package: BotPackage) -> list[_ScriptCandidate]:
    """Every file that provides a script: dialog folder, package root, default file."""
    candidates = []
    if package.dialog_dir is not None:
        for path in _bas_files_below(package.dialog_dir):
            depth = len(path.relative_to(package.dialog_dir).parts) - 1
            candidates.append(_ScriptCandidate(depth, _RANK_DIALOG_FOLDER, path))
    for entry in package.root.iterdir():
        if entry.is_file() and _has_ext(entry.name, SCRIPT_EXT):
            candidates.append(_ScriptCandidate(0, _RANK_PACKAGE_ROOT, entry))
    default_file = package.root / f"{DEFAULT_SCRIPT}{DIALOG_EXT}"
    if default_file.is_file():
        candidates.append(_ScriptCandidate(0, _RANK_DEFAULT_FILE, default_file))
    return candidates


def _bas_files_below(folder: Path) -> list[Path]:
    """``.bas`` files anywhere below ``folder`` (any case of the extension), sorted."""
    return sorted(
        Path(current) / name
        for current, _, files in os.walk(folder)
        for name in files
        if _has_ext(name, SCRIPT_EXT)
    )


def _clash_warning(
    package: BotPackage, name: str, winner: _ScriptCandidate, losers: list[_ScriptCandidate]
) -> str:
    ignored = ", ".join(str(loser.path.relative_to(package.root)) for loser in losers)
    kept = winner.path.relative_to(package.root)
    return f"several files define script '{name}'; using {kept}, ignoring {ignored}"


# ---------------------------------------------------------------- entry point


def _entry_script(package: BotPackage) -> Optional[str]:
    """The conversation entry script (§1.1 rule 3, §7.2).

    The legacy ``Start Dialog`` key names a different entry script when it is set;
    otherwise ``start``, then ``config.json``'s ``entry_dialog``, then ``default``.
    """
    for wanted in _entry_preferences(package):
        if wanted in package.scripts:
            return wanted
    return None


def _entry_preferences(package: BotPackage) -> list[str]:
    preferences = []
    configured = package.config.get("Start Dialog")
    if configured and configured.strip():
        preferences.append(_checked_reference(package, "Start Dialog", configured))
    preferences.append(START_SCRIPT)
    entry_dialog = _config_json_entry(package)
    if entry_dialog:
        preferences.append(_checked_reference(package, "config.json entry_dialog", entry_dialog))
    preferences.append(DEFAULT_SCRIPT)
    return preferences


def _checked_reference(package: BotPackage, source: str, reference: str) -> str:
    """The script name of a configured entry; warns when no such script exists."""
    name = script_name(reference)
    if name not in package.scripts:
        package.warnings.append(f"{source} names script '{reference}', which does not exist")
    return name


def _config_json_entry(package: BotPackage) -> Optional[str]:
    """``entry_dialog`` of the legacy ``config.json`` at the package root, if any."""
    path = package.root / "config.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        package.warnings.append(f"config.json is not valid JSON: {error}")
        return None
    entry = data.get("entry_dialog") if isinstance(data, dict) else None
    return entry if isinstance(entry, str) and entry.strip() else None


# ---------------------------------------------------------------- names


def _has_ext(name: str, ext: str) -> bool:
    """``name`` ends with ``ext`` (case-insensitive) and has a stem before it."""
    return len(name) > len(ext) and name.lower().endswith(ext)


def _strip_ext(name: str, ext: str) -> str:
    return name[: -len(ext)] if _has_ext(name, ext) else name
