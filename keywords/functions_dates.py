"""Date and time functions (DIALECT §10.3).

The clock is ``ctx.now()`` (local time) so that tests and the VM control it. Date
arguments accept datetimes and date strings; unparseable dates give 0 from extractors,
the input back from DATEADD and 0 from DATEDIFF. Argument roles of DATEADD and DATEDIFF
are detected from the values (§11 A-16, A-17).
"""
from __future__ import annotations

import calendar
import re
from datetime import timezone

from ..runtime.datetimes import DateTime, date_add, date_diff, normalize_unit, parse_date
from ..runtime.formatting import format_value
from ..runtime.values import parse_number, to_str
from .functions_convert import int_arg
from .functions_strings import bot_language
from .registry import function


# -- the clock --------------------------------------------------------------------------

@function("NOW", max_args=0, needs_ctx=True, bare=True)
def now(ctx):
    """The current local datetime."""
    return ctx.now()


@function("TODAY", max_args=0, needs_ctx=True, bare=True)
def today(ctx):
    """The current local date (prints as YYYY-MM-DD)."""
    return DateTime(ctx.now().value, date_only=True)


@function("TIME", max_args=0, needs_ctx=True, bare=True)
def time_(ctx):
    """The current time as ``HH:MM:SS`` text."""
    return ctx.now().value.strftime("%H:%M:%S")


@function("NOW_UTC", max_args=0, needs_ctx=True)
def now_utc(ctx):
    """The current datetime in UTC (the local clock converted)."""
    utc = ctx.now().value.astimezone(timezone.utc)
    return DateTime(utc.replace(tzinfo=None))


@function("NOW_STR", max_args=0, needs_ctx=True)
def now_str(ctx):
    """``YYYY-MM-DD HH:MM:SS`` of now."""
    return ctx.now().value.strftime("%Y-%m-%d %H:%M:%S")


@function("TODAY_STR", max_args=0, needs_ctx=True)
def today_str(ctx):
    """``YYYY-MM-DD`` of today."""
    return ctx.now().value.strftime("%Y-%m-%d")


@function("TIME_STR", max_args=0, needs_ctx=True)
def time_str(ctx):
    """``HH:MM:SS`` of now."""
    return ctx.now().value.strftime("%H:%M:%S")


@function("TIMESTAMP", "UNIX_TIMESTAMP", max_args=0, needs_ctx=True)
def timestamp(ctx):
    """Unix time in whole seconds."""
    return int(ctx.now().value.timestamp())


@function("TIMESTAMP_MS", max_args=0, needs_ctx=True)
def timestamp_ms(ctx):
    """Unix time in milliseconds."""
    return int(ctx.now().value.timestamp() * 1000)


# -- components -------------------------------------------------------------------------

def _component(value, name: str) -> int:
    """A member of the parsed date, 0 when the value is not a date."""
    moment = parse_date(value)
    return 0 if moment is None else moment.member(name)


@function("YEAR", min_args=1, max_args=1)
def year(value):
    """The year of a date (0 when unparseable)."""
    return _component(value, "year")


@function("MONTH", min_args=1, max_args=1)
def month(value):
    """The month 1-12 of a date."""
    return _component(value, "month")


@function("DAY", min_args=1, max_args=1)
def day(value):
    """The day of the month."""
    return _component(value, "day")


@function("HOUR", max_args=1, needs_ctx=True, bare=True)
def hour(ctx, *value):
    """HOUR(d) is the hour of ``d``; HOUR with no argument is the current hour (0-23)."""
    return _component(value[0], "hour") if value else ctx.now().value.hour


@function("MINUTE", min_args=1, max_args=1)
def minute(value):
    """The minute of a datetime."""
    return _component(value, "minute")


@function("SECOND", min_args=1, max_args=1)
def second(value):
    """The second of a datetime."""
    return _component(value, "second")


@function("WEEKDAY", min_args=1, max_args=1)
def weekday(value):
    """1 = Sunday ... 7 = Saturday."""
    return _component(value, "weekday")


# -- arithmetic -------------------------------------------------------------------------

def _is_unit_word(value) -> bool:
    """A string naming a date unit (not a number, not a date)."""
    return normalize_unit(value) is not None and parse_number(value) is None


def _dateadd_roles(args: tuple) -> tuple:
    """(date, amount, unit) from DATEADD's arguments in any of the accepted orders.

    ``(d, n, unit)`` reference order, ``(d, unit, n)`` (4 templates, bling keyword form)
    and VB's ``(unit, n, d)``; with two arguments the unit is days.
    """
    if len(args) == 2:
        return args[0], args[1], "day"
    first, middle, last = args
    if _is_unit_word(first) and parse_date(first) is None:
        return last, middle, first
    if _is_unit_word(middle) and not _is_unit_word(last):
        return first, last, middle
    return first, middle, last


@function("DATEADD", min_args=2, max_args=3)
def dateadd(*args):
    """The date moved by an amount of units; ``m`` is minutes, months are ``month``."""
    moment, amount, unit = _dateadd_roles(args)
    return date_add(moment, amount, unit)


@function("DATEDIFF", min_args=2, max_args=3)
def datediff(*args):
    """``d2 - d1`` in whole units (default days); VB order ``(unit, d1, d2)`` accepted."""
    if len(args) == 3 and _is_unit_word(args[0]):
        unit, first, last = args
    else:
        first, last, unit = (*args, "day")[:3]
    return date_diff(first, last, unit)


@function("DAYS_BETWEEN", min_args=2, max_args=2)
def days_between(first, last):
    """Whole days from ``first`` to ``last``."""
    return date_diff(first, last, "day")


@function("HOURS_BETWEEN", min_args=2, max_args=2)
def hours_between(first, last):
    """Whole hours from ``first`` to ``last``."""
    return date_diff(first, last, "hour")


@function("SECONDS_BETWEEN", min_args=2, max_args=2)
def seconds_between(first, last):
    """Whole seconds from ``first`` to ``last``."""
    return date_diff(first, last, "second")


@function("ADD_DAYS", min_args=2, max_args=2)
def add_days(moment, days):
    """DATEADD(d, n, "day")."""
    return date_add(moment, days, "day")


@function("EOMONTH", min_args=1, max_args=2)
def eomonth(value, months=0):
    """The last day of the month ``months`` after the date's month (NULL if no date)."""
    moment = parse_date(value)
    if moment is None:
        return None
    first = date_add(DateTime(moment.value.replace(day=1), True), int_arg(months), "month")
    last_day = calendar.monthrange(first.value.year, first.value.month)[1]
    return DateTime(first.value.replace(day=last_day), date_only=True)


# -- parsing and formatting -------------------------------------------------------------

@function("DATEVALUE", min_args=1, max_args=1)
def datevalue(value):
    """The date part of a parsed date, NULL if unparseable."""
    moment = parse_date(value)
    return None if moment is None else DateTime(moment.value, date_only=True)


_TIME_TEXT = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?")


@function("TIMEVALUE", min_args=1, max_args=1)
def timevalue(value):
    """``HH:MM:SS`` text of a time (``"2:30 PM"`` -> ``"14:30:00"``), NULL if unparseable."""
    if isinstance(value, DateTime):
        return value.value.strftime("%H:%M:%S")
    match = _TIME_TEXT.fullmatch(to_str(value).strip())
    return None if match is None else _clock_text(match)


def _clock_text(match: re.Match) -> str | None:
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        hours = hours % 12 + (12 if match[4].lower() == "pm" else 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


@function("FORMAT_DATE", min_args=1, max_args=2, needs_ctx=True)
def format_date(ctx, value, pattern=None):
    """A date formatted with a FORMAT date pattern (default: its string form)."""
    moment = parse_date(value)
    if moment is None:
        return to_str(value)
    return format_value(moment, pattern, bot_language(ctx))


@function("ISDATE", "IS_DATE", min_args=1, max_args=1)
def isdate(value):
    """Whether the value is or parses as a date."""
    return parse_date(value) is not None

