"""FORMAT (§10.7): date, number, text and JSON patterns.

``format_value(value, pattern, lang)`` picks the mode from the value and the pattern:

1. pattern ``JSON`` -> compact JSON text;
2. a date value (or date text) with a pattern holding date tokens -> date formatting;
3. a number (or numeric text) with a number pattern -> number formatting;
4. a pattern with ``@ ! > &`` -> text pattern; a pattern without any token -> the pattern
   itself; an empty or unusable pattern -> the value's string form.

Rounding is always half away from zero (``round_half_away``), never Python's banker's
rounding.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from .datetimes import DateTime, parse_date
from .values import parse_number, to_json, to_str


# -- rounding ---------------------------------------------------------------------------

def _decimal_of(number) -> Decimal:
    """Exact decimal of the number as it prints, so 2.675 rounds like the text "2.675"."""
    if isinstance(number, float):
        return Decimal(repr(number))
    return Decimal(number)


def round_decimal(number, digits: int = 0) -> Decimal:
    """``number`` rounded half away from zero to ``digits`` decimals, as a Decimal."""
    exponent = Decimal(1).scaleb(-digits)
    return _decimal_of(number).quantize(exponent, rounding=ROUND_HALF_UP)


def round_half_away(number, digits: int = 0):
    """ROUND semantics: half away from zero; an int for ``digits <= 0``, else a float.

    Infinite and NaN floats are returned unchanged.
    """
    if isinstance(number, float) and not math.isfinite(number):
        return number
    if digits <= 0:  # negative digits round to tens, hundreds ... (ROUND(1234, -2) = 1200)
        return int(round_decimal(number, digits))
    if isinstance(number, int):
        return number
    return float(round_decimal(number, digits))


# -- mode selection ---------------------------------------------------------------------

def format_value(value, pattern=None, lang: str = "en") -> str:
    """FORMAT(value [, pattern]) as text; ``lang`` names month/weekday and currency locale."""
    if pattern is None:
        return to_str(value)
    pattern = to_str(pattern)
    if pattern.strip().upper() == "JSON":
        return to_json(value)
    formatted = _format_by_pattern(value, pattern, lang or "en")
    return to_str(value) if formatted is None else formatted


def _format_by_pattern(value, pattern: str, lang: str) -> str | None:
    """The formatted text, or ``None`` when the pattern does not apply to the value."""
    date = _date_of(value)
    if date is not None and has_date_tokens(pattern):
        return format_date(date.value, pattern, lang)
    number = _number_of(value)
    if number is not None and is_number_pattern(pattern):
        return format_number(number, pattern, lang)
    if _TEXT_TOKEN.search(pattern):
        return format_text(to_str(value), pattern)
    if pattern and not has_date_tokens(pattern) and not is_number_pattern(pattern):
        return pattern
    return None


def _date_of(value) -> DateTime | None:
    """Datetimes and date-shaped strings; numbers are never dates here."""
    if isinstance(value, (DateTime, str)):
        return parse_date(value)
    return None


def _number_of(value):
    """Numbers and numeric strings; NULL counts as 0 (§10: numeric NULL arguments)."""
    if value is None:
        return 0
    if type(value) in (int, float):
        return value
    if isinstance(value, str):
        return parse_number(value.strip())
    return None


# -- dates ------------------------------------------------------------------------------

_LANG_NAMES = {
    "en": ("January February March April May June July August September October November "
           "December", "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"),
    "pt": ("janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
           "dezembro", "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira "
           "sábado domingo"),
    "es": ("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
           "diciembre", "lunes martes miércoles jueves viernes sábado domingo"),
    "fr": ("janvier février mars avril mai juin juillet août septembre octobre novembre "
           "décembre", "lundi mardi mercredi jeudi vendredi samedi dimanche"),
    "de": ("Januar Februar März April Mai Juni Juli August September Oktober November "
           "Dezember", "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag"),
    "it": ("gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
           "novembre dicembre", "lunedì martedì mercoledì giovedì venerdì sabato domenica"),
}


def _language(lang: str) -> str:
    """``pt-BR`` / ``pt_br`` / ``PT`` -> ``pt``."""
    return re.split(r"[-_]", (lang or "en").strip().lower())[0]


def _names(lang: str) -> tuple[list[str], list[str]]:
    """(month names January-first, weekday names Monday-first) for the language."""
    months, weekdays = _LANG_NAMES.get(_language(lang), _LANG_NAMES["en"])
    return months.split(), weekdays.split()


def _date_fields(value: datetime, lang: str) -> dict[str, str]:
    """Every date token's text for ``value``."""
    months, weekdays = _names(lang)
    hour12 = value.hour % 12 or 12
    pm = value.hour >= 12
    return {
        "yyyy": f"{value.year:04d}", "yy": f"{value.year % 100:02d}",
        "MMMM": months[value.month - 1], "MMM": months[value.month - 1][:3],
        "MM": f"{value.month:02d}", "M": str(value.month),
        "dddd": weekdays[value.weekday()], "ddd": weekdays[value.weekday()][:3],
        "dd": f"{value.day:02d}", "d": str(value.day),
        "HH": f"{value.hour:02d}", "H": str(value.hour),
        "hh": f"{hour12:02d}", "h": str(hour12),
        "mm": f"{value.minute:02d}", "m": str(value.minute),
        "ss": f"{value.second:02d}", "s": str(value.second),
        "fff": f"{value.microsecond // 1000:03d}",
        "tt": "PM" if pm else "AM", "t": "P" if pm else "A",
        "am/pm": "pm" if pm else "am", "AM/PM": "PM" if pm else "AM",
    }


# Longest match first; quoted text and backslash escapes are literal. Upper-case Y and D
# are accepted as year and day (corpus: "YYYYMMDD"), while M (month) and m (minute) differ.
_DATE_TOKEN = re.compile(
    r"'(?P<quoted>[^']*)'?|\\(?P<escaped>.)|(?P<token>AM/PM|am/pm|yyyy|YYYY|yy|YY|MMMM|MMM|MM|M"
    r"|dddd|ddd|dd|DD|d|D|HH|H|hh|h|mm|m|ss|s|fff|tt|t)")

# Aliases of upper-case spellings to the canonical token keys of ``_date_fields``.
_TOKEN_KEYS = {"YYYY": "yyyy", "YY": "yy", "DD": "dd", "D": "d"}


def has_date_tokens(pattern: str) -> bool:
    """Whether the pattern contains at least one date token outside quotes."""
    if _is_php_pattern(pattern):
        return True
    return any(m["token"] for m in _DATE_TOKEN.finditer(pattern))


def format_date(value: datetime, pattern: str, lang: str = "en") -> str:
    """``value`` formatted with date tokens (or a PHP-style pattern such as ``Ymd_His``)."""
    fields = _date_fields(value, lang)
    if _is_php_pattern(pattern):
        return "".join(fields[_PHP_TOKENS[c]] if c in _PHP_TOKENS else c for c in pattern)
    return _DATE_TOKEN.sub(lambda m: _date_piece(m, fields), pattern)


def _date_piece(match: re.Match, fields: dict[str, str]) -> str:
    if match["token"]:
        return fields[_TOKEN_KEYS.get(match["token"], match["token"])]
    if match["escaped"] is not None:
        return match["escaped"]
    return match["quoted"]


# PHP date letters, used by FORMAT_DATE(NOW(), "Ymd") / "Ymd_His" in the corpus. Such a
# pattern is recognised by a single upper-case Y and no doubled letters ("YYYY" is ours).
_PHP_TOKENS = {"Y": "yyyy", "y": "yy", "m": "MM", "n": "M", "d": "dd", "j": "d",
               "H": "HH", "G": "H", "h": "hh", "g": "h", "i": "mm", "s": "ss",
               "A": "AM/PM", "a": "am/pm", "D": "ddd", "l": "dddd", "M": "MMM", "F": "MMMM"}


def _is_php_pattern(pattern: str) -> bool:
    has_single_y = re.search(r"(?<!Y)Y(?!Y)", pattern) is not None
    return has_single_y and re.search(r"([A-Za-z])\1", pattern) is None and "'" not in pattern


# -- numbers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NumberStyle:
    """How to print a number: decimals, grouping, separators and the text around it."""

    decimals: int = 2
    min_decimals: int = 2
    min_int_digits: int = 1
    grouping: bool = False
    group_sep: str = ","
    decimal_sep: str = "."
    prefix: str = ""
    suffix: str = ""
    percent: bool = False


_STANDARD = re.compile(r"(?P<kind>[nNfFcC])(?P<digits>\d{0,2})(?:\[(?P<loc>[A-Za-z_-]+)\])?")
_EXCEL = re.compile(r"(?P<prefix>[^0#.,]*)(?P<int>[0#,]*)(?:\.(?P<frac>[0#]*))?(?P<suffix>[^0#]*)")

# Currency symbol and separators per language; everything else uses "$" and 1,234.50.
_EURO_LANGS = ("fr", "de", "es", "it")


def is_number_pattern(pattern: str) -> bool:
    """Standard (``N2``, ``C2[pt]``, ``currency``) or Excel-style (``#,##0.00``) pattern."""
    if pattern.strip().lower() == "currency" or _STANDARD.fullmatch(pattern):
        return True
    match = _EXCEL.fullmatch(pattern)
    return match is not None and re.search(r"[0#]", match["int"] + (match["frac"] or "")) is not None


def format_number(number, pattern: str, lang: str = "en") -> str:
    """``number`` printed with a number pattern (§10.7 table)."""
    if isinstance(number, float) and not math.isfinite(number):
        return to_str(number)
    return render_number(number, number_style(pattern, lang))


def number_style(pattern: str, lang: str = "en") -> NumberStyle:
    """The NumberStyle a number pattern describes."""
    if pattern.strip().lower() == "currency":
        return _currency_style(2, lang)
    standard = _STANDARD.fullmatch(pattern)
    if standard:
        return _standard_style(standard, lang)
    return _excel_style(_EXCEL.fullmatch(pattern))


def _standard_style(match: re.Match, lang: str) -> NumberStyle:
    kind, digits = match["kind"], match["digits"]
    decimals = int(digits) if digits else (0 if kind == "f" else 2)
    if kind in "cC":
        return _currency_style(decimals, match["loc"] or lang)
    return NumberStyle(decimals, decimals, grouping=(kind == "N"))


def _currency_style(decimals: int, lang: str) -> NumberStyle:
    language = _language(lang)
    if language == "pt":
        return NumberStyle(decimals, decimals, grouping=True, group_sep=".", decimal_sep=",",
                           prefix="R$ ")
    if language in _EURO_LANGS:
        return NumberStyle(decimals, decimals, grouping=True, group_sep=".", decimal_sep=",",
                           prefix="€")
    return NumberStyle(decimals, decimals, grouping=True, prefix="$")


def _excel_style(match: re.Match) -> NumberStyle:
    int_part, frac = match["int"], match["frac"] or ""
    prefix, suffix = match["prefix"], match["suffix"]
    # At least one integer digit even for "#.##": "0.5", not ".5", reads better in a chat.
    return NumberStyle(decimals=len(frac), min_decimals=frac.count("0"),
                       min_int_digits=max(1, int_part.count("0")), grouping="," in int_part,
                       prefix=prefix, suffix=suffix, percent="%" in prefix + suffix)


def render_number(number, style: NumberStyle) -> str:
    """Apply a NumberStyle: scale, round half away from zero, group, add the sign."""
    value = _decimal_of(number)
    if style.percent:
        value *= 100
    rounded = round_decimal(value, style.decimals)
    int_digits, frac_digits = _split_digits(abs(rounded), style)
    body = int_digits + (style.decimal_sep + frac_digits if frac_digits else "")
    return _signed(body, rounded < 0, style)


def _split_digits(value: Decimal, style: NumberStyle) -> tuple[str, str]:
    """Integer digits (padded, grouped) and decimals (optional trailing zeros dropped)."""
    text = f"{value:.{style.decimals}f}"
    whole, _, frac = text.partition(".")
    whole = whole.zfill(style.min_int_digits)
    if style.grouping:
        whole = _group(whole, style.group_sep)
    frac = frac.rstrip("0").ljust(style.min_decimals, "0") if frac else ""
    return whole, frac


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def _signed(body: str, negative: bool, style: NumberStyle) -> str:
    """Prefix/suffix around the digits; a literal ``+`` before the digits becomes ``-``."""
    if not negative:
        return style.prefix + body + style.suffix
    if style.prefix.endswith("+"):
        return style.prefix[:-1] + "-" + body + style.suffix
    return "-" + style.prefix + body + style.suffix


# -- text -------------------------------------------------------------------------------

_TEXT_TOKEN = re.compile(r"[@!>&]")
_TEXT_CASES = {"@": str, "!": str.upper, ">": str.upper, "&": str.lower}


def format_text(text: str, pattern: str) -> str:
    """Insert ``text`` at the first placeholder (``@`` as is, ``!``/``>`` upper, ``&`` lower).

    Later placeholder characters are literal, so ``"Hello @!"`` gives ``"Hello John!"``.
    """
    match = _TEXT_TOKEN.search(pattern)
    if match is None:
        return pattern
    inserted = _TEXT_CASES[match.group()](text)
    return pattern[:match.start()] + inserted + pattern[match.end():]


__all__ = ["format_value", "format_date", "format_number", "format_text", "round_half_away",
           "round_decimal", "has_date_tokens", "is_number_pattern", "number_style",
           "render_number", "NumberStyle"]
