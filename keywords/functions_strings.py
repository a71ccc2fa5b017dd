"""String functions (DIALECT §10.1).

Positions in strings are 1-based, lengths count Unicode characters, and NULL arguments
read as ``""`` (strings) or 0 (counts). CONTAINS lives with the array functions because
it is also array membership; TOJSON/TOYAML/CSV/XML live in ``functions_misc``.
"""
from __future__ import annotations

import re

from ..runtime.errors import BasicError
from ..runtime.formatting import format_value
from ..runtime.values import json_view, length, to_str
from .functions_convert import int_arg
from .registry import function


def bot_language(ctx) -> str:
    """The session's language (``ctx.session.language``) for month names and currency."""
    return getattr(getattr(ctx, "session", None), "language", None) or "en"


@function("LEN", "LENGTH", min_args=1, max_args=1)
def len_(value):
    """Characters of a string, elements of an array/object, 0 for NULL."""
    return length(value)


@function("LEFT", min_args=2, max_args=2)
def left(text, count):
    """The first ``count`` characters (none for ``count <= 0``)."""
    count = int_arg(count)
    return to_str(text)[:count] if count > 0 else ""


@function("RIGHT", min_args=2, max_args=2)
def right(text, count):
    """The last ``count`` characters (none for ``count <= 0``)."""
    count = int_arg(count)
    return to_str(text)[-count:] if count > 0 else ""


@function("MID", min_args=2, max_args=3)
def mid(text, start, count=None):
    """Substring from 1-based ``start`` (< 1 counts as 1); on an array, a 0-based slice."""
    if isinstance(text, list):  # bling pages arrays with mid(list, start, size) (§11 A-55)
        return _slice_from(text, max(0, int_arg(start)), count)
    return _slice_from(to_str(text), max(1, int_arg(start)) - 1, count)


def _slice_from(sequence, offset: int, count):
    if count is None:
        return sequence[offset:]
    return sequence[offset:offset + max(0, int_arg(count))]


@function("INSTR", min_args=2, max_args=3)
def instr(*args):
    """INSTR([start,] haystack, needle): 1-based position, 0 when absent or empty."""
    start, haystack, needle = (1, *args) if len(args) == 2 else args
    haystack, needle = to_str(haystack), to_str(needle)
    if not haystack or not needle:
        return 0
    return haystack.find(needle, max(1, int_arg(start)) - 1) + 1


@function("TRIM", min_args=1, max_args=1)
def trim(text):
    """Whitespace removed from both ends."""
    return to_str(text).strip()


@function("LTRIM", min_args=1, max_args=1)
def ltrim(text):
    """Whitespace removed from the left."""
    return to_str(text).lstrip()


@function("RTRIM", min_args=1, max_args=1)
def rtrim(text):
    """Whitespace removed from the right."""
    return to_str(text).rstrip()


@function("UCASE", "UPPER", min_args=1, max_args=1)
def ucase(text):
    """Upper case (Unicode)."""
    return to_str(text).upper()


@function("LCASE", "LOWER", "LOWERCASE", min_args=1, max_args=1)
def lcase(text):
    """Lower case (Unicode)."""
    return to_str(text).lower()


_WORD_START = re.compile(r"(^|\s)(\S)")


@function("CAPITALIZE", min_args=1, max_args=1)
def capitalize(text):
    """The first letter of each whitespace-separated word in upper case; the rest as is."""
    return _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), to_str(text))


@function("REPLACE", min_args=3, max_args=3)
def replace(text, find, replacement):
    """Every occurrence of ``find`` replaced (case-sensitive); an empty ``find`` changes nothing."""
    text, find = to_str(text), to_str(find)
    return text.replace(find, to_str(replacement)) if find else text


@function("SPLIT", min_args=1, max_args=2)
def split(text, delimiter=" "):
    """Array of pieces, untrimmed; ``""`` gives ``[""]``, an empty delimiter gives characters."""
    text, delimiter = to_str(text), to_str(delimiter)
    if not text:
        return [""]
    return list(text) if delimiter == "" else text.split(delimiter)


@function("JOIN", min_args=1, max_args=2)
def join(items, separator=","):
    """Element string forms joined by ``separator`` (default ``","``); NULL gives ``""``."""
    items = json_view(items)
    if items is None:
        return ""
    if not isinstance(items, list):
        return to_str(items)
    return to_str(separator).join(to_str(item) for item in items)


@function("STARTSWITH", min_args=2, max_args=2)
def startswith(text, prefix):
    """Case-sensitive prefix test."""
    return to_str(text).startswith(to_str(prefix))


@function("ENDSWITH", min_args=2, max_args=2)
def endswith(text, suffix):
    """Case-sensitive suffix test."""
    return to_str(text).endswith(to_str(suffix))


@function("EXTRACT_BETWEEN", min_args=3, max_args=3)
def extract_between(text, opening, closing):
    """The text between the first ``opening`` and the next ``closing``; ``""`` if absent."""
    after = extract_after(text, opening)
    closing = to_str(closing)
    end = after.find(closing) if closing else -1
    return after[:end] if end >= 0 else ""


@function("EXTRACT_BEFORE", min_args=2, max_args=2)
def extract_before(text, marker):
    """The text before the first ``marker``; ``""`` if absent."""
    text, marker = to_str(text), to_str(marker)
    position = text.find(marker) if marker else -1
    return text[:position] if position >= 0 else ""


@function("EXTRACT_AFTER", min_args=2, max_args=2)
def extract_after(text, marker):
    """The text after the first ``marker``; ``""`` if absent."""
    text, marker = to_str(text), to_str(marker)
    position = text.find(marker) if marker else -1
    return text[position + len(marker):] if position >= 0 else ""


@function("ASC", min_args=1, max_args=1)
def asc(text):
    """Code point of the first character (0 for ``""``)."""
    text = to_str(text)
    return ord(text[0]) if text else 0


@function("CHR", min_args=1, max_args=1)
def chr_(code):
    """The character of a code point."""
    try:
        return chr(int_arg(code))
    except (ValueError, OverflowError):
        raise BasicError(f"CHR: {to_str(code)} is not a character code") from None


@function("FORMAT", min_args=1, max_args=2, needs_ctx=True)
def format_(ctx, value, pattern=None):
    """FORMAT(value [, pattern]) of §10.7 in the bot's language."""
    return format_value(value, pattern, bot_language(ctx))
