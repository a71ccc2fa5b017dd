"""Bot settings from ``<bot>.gbot/config.csv`` (DIALECT §1.4).

Real files are sloppier than two-column CSV: values contain commas, keys come in
kebab-case (``bot-name``) and in the legacy "Title Case With Spaces" style
(``Bot Name``), and comment or separator lines (``#...``, ``,``) are scattered around.
This module turns such a file into a :class:`BotConfig` whose lookups ignore those
differences, and derives the ``param-*`` script variables of §1.4.2.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

CONFIG_FILE_NAME = "config.csv"

_PARAM_KEY = re.compile(r"param[\s_\-]+(\S.*)", re.IGNORECASE)
_HEADER_LINES = {"name,value", "key,value"}
_KEY_SEPARATORS = re.compile(r"[\s_\-]+")
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_TRUE_WORDS = {"true", "yes", "on", "1"}
_FALSE_WORDS = {"false", "no", "off", "0"}

ScriptValue = Union[str, int, float, bool]


def normalize_key(key: str) -> str:
    """The lookup form of a key: lower case, runs of spaces/``_``/``-`` become one ``-``.

    ``Start Dialog``, ``start_dialog`` and ``start-dialog`` all give ``start-dialog``.
    """
    return _KEY_SEPARATORS.sub("-", key.strip().lower()).strip("-")


class BotConfig:
    """The settings of one bot: case/separator-insensitive keys, string values.

    Later entries with the same (normalised) key replace earlier ones; ``items()``
    reports the spelling of the entry that won.
    """

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._entries: dict[str, tuple[str, str]] = {}
        for key, value in entries:
            self.set(key, value)

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing any entry with an equivalent key)."""
        self._entries[normalize_key(key)] = (key, value)

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """The raw string value of ``key``, or ``default`` when the key is absent."""
        entry = self._entries.get(normalize_key(key))
        return default if entry is None else entry[1]

    def get_bool(self, key: str, default: Optional[bool] = None) -> Optional[bool]:
        """``key`` read as a boolean (true/false, yes/no, on/off, 1/0); else ``default``."""
        word = (self.get(key) or "").strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        return default

    def get_int(self, key: str, default: Optional[int] = None) -> Optional[int]:
        """``key`` read as an integer; ``default`` when absent or not an integer."""
        text = (self.get(key) or "").strip()
        return int(text) if _INTEGER.fullmatch(text) else default

    def get_float(self, key: str, default: Optional[float] = None) -> Optional[float]:
        """``key`` read as a number; ``default`` when absent or not a number."""
        text = (self.get(key) or "").strip()
        return float(text) if _FLOAT.fullmatch(text) else default

    def items(self) -> list[tuple[str, str]]:
        """Every ``(key, value)`` pair, keys as written in the file, in file order."""
        return list(self._entries.values())

    def script_variables(self) -> dict[str, ScriptValue]:
        """The ``param-*`` entries as typed script variables (§1.4.2).

        ``param-blingClientID,abc`` gives ``{"blingclientid": "abc"}``; values that
        are whole integers, floats or ``true``/``false`` get those types.
        """
        variables: dict[str, ScriptValue] = {}
        for key, value in self._entries.values():
            match = _PARAM_KEY.fullmatch(key.strip())
            if match:
                variables[match.group(1).lower()] = typed_value(value)
        return variables

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and normalize_key(key) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._entries.values())

    def __repr__(self) -> str:
        return f"BotConfig({self.items()!r})"


def typed_value(text: str) -> ScriptValue:
    """A config value typed as §1.4.2 says: integer, float, boolean, else the string."""
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        return float(stripped)
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    return text


def parse_config_text(text: str) -> BotConfig:
    """Parse the text of a ``config.csv`` with the rules of §1.4.1."""
    config = BotConfig()
    first_content_line = True
    for line in text.lstrip("\ufeff").splitlines():
        if _is_blank_or_comment(line):
            continue
        if first_content_line and _is_header(line):
            first_content_line = False
            continue
        first_content_line = False
        entry = _split_entry(line)
        if entry is not None:
            config.set(*entry)
    return config


def load_config(path: Union[str, Path]) -> BotConfig:
    """Read a ``config.csv`` (or the ``config.csv`` inside a ``.gbot`` folder).

    A missing file gives an empty configuration: settings are optional.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_FILE_NAME
    if not path.is_file():
        return BotConfig()
    # Undecodable bytes must not make a whole bot unloadable; they only spoil a value.
    return parse_config_text(path.read_text(encoding="utf-8-sig", errors="replace"))


def _is_blank_or_comment(line: str) -> bool:
    """Empty lines, separator lines made of commas, and ``#`` comments carry no entry."""
    stripped = line.strip()
    return not stripped.strip(",").strip() or stripped.startswith("#")


def _is_header(line: str) -> bool:
    return "".join(line.split()).lower() in _HEADER_LINES


def _split_entry(line: str) -> Optional[tuple[str, str]]:
    """``key,value with, commas`` -> ``("key", "value with, commas")``; None without a key."""
    key, _, value = line.partition(",")
    key = key.strip()
    if not key:
        return None
    return key, _unquote(value.strip())


def _unquote(value: str) -> str:
    """Remove CSV double quotes around a value and un-double the inner ``""``."""
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('""', '"')
    return value
