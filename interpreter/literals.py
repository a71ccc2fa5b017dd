"""String literals, interpolations and captured blocks (DIALECT §2.5.2, §2.7).

Positions are absolute offsets in the source text, so an interpolation's expression can be
scanned in place and its diagnostics point at the right line and column.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class StringPart:
    """An interpolation ``${expr}`` inside a string: the expression's text and where it is."""

    start: int  # absolute offset of the expression text in the source
    end: int


@dataclass(frozen=True)
class VerbatimBlock:
    kind: str  # "TALK" | "SYSTEM PROMPT" | "MAIL"
    header: tuple[int, int]  # span of the text after BEGIN MAIL (the recipient)
    lines: tuple[tuple[int, int], ...]  # spans of the raw body lines


@dataclass(frozen=True)
class RawBlock:
    """A TABLE block or an unsupported statement: raw text with its position."""

    start: int
    end: int
    text: str


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def scan_string(text: str, start: int, end: int):
    """Scan a double-quoted literal starting at ``start``.

    Returns ``(value, parts, end_pos, problem)``: ``parts`` is a tuple mixing literal
    strings and :class:`StringPart` when the literal interpolates ``${...}``, else empty;
    ``problem`` is ``(pos, message)`` or None. Returns None when unterminated.
    """
    if text.startswith('""', start) and not text.startswith('"""', start):
        return "", (), start + 2, None
    buf: list[str] = []
    parts: list = []
    i = start + 1
    while i < end:
        ch = text[i]
        if ch == "\\" and i + 1 < end:
            if text.startswith("${", i + 1):
                buf.append("${")
                i += 3
                continue
            nxt = text[i + 1]
            buf.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        elif ch == '"':
            if text.startswith('""', i) and i + 2 < end and text[i + 2] not in "\n,;)+ \t":
                buf.append('"')
                i += 2
                continue
            return _finish_string(buf, parts, i + 1)
        elif ch == "$" and text.startswith("${", i) and not text.startswith("${{", i):
            close = matching_brace(text, i + 1, end)
            if close is None:
                return "".join(buf), (), end, (i, "unterminated ${ in string")
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(StringPart(i + 2, close))
            i = close + 1
        else:
            buf.append(ch)
            i += 1
    return None


def _finish_string(buf, parts, end):
    if parts:
        if buf:
            parts.append("".join(buf))
        return "", tuple(parts), end, None
    return "".join(buf), (), end, None


def interpolation_parts(text: str, start: int, end: int) -> tuple:
    """Split one verbatim-block line into literal text and :class:`StringPart` items."""
    parts: list = []
    buf: list[str] = []
    i = start
    while i < end:
        if text.startswith("\\${", i):
            buf.append("${")
            i += 3
        elif text.startswith("${", i) and not text.startswith("${{", i):
            close = matching_brace(text, i + 1, end)
            if close is None:
                buf.append(text[i:end])
                break
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(StringPart(i + 2, close))
            i = close + 1
        else:
            buf.append(text[i])
            i += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts)


def matching_brace(text: str, open_pos: int, end: int) -> Optional[int]:
    """Position of the ``}`` closing the ``{`` at ``open_pos`` (nested braces and
    strings inside an interpolation are skipped)."""
    depth, i = 0, open_pos
    while i < end:
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        elif ch == '"':
            close = text.find('"', i + 1, end)
            if close < 0:
                return None
            i = close
        elif ch == "\n":
            return None
        i += 1
    return None


def matching_paren(text: str, open_pos: int, end: int) -> Optional[int]:
    depth, i = 0, open_pos
    while i < end:
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        elif ch == '"':
            result = scan_string(text, i, end)
            if result is None:
                return None
            i = result[2] - 1
        i += 1
    return None
