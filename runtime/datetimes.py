"""Datetime values of BASIC (§3.5) and the date arithmetic of DATEADD / DATEDIFF (§10.3).

A ``DateTime`` wraps a naive ``datetime.datetime`` in the bot's local time. Values made
from a date alone (``TODAY()``, ``"2024-05-01"``) carry ``date_only`` and print without a
time. The current time comes from a replaceable module clock so tests can freeze it.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from .errors import BasicError, OVERFLOW

WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
               "August", "September", "October", "November", "December")

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


def _naive_local(value: datetime) -> datetime:
    """Aware datetimes become naive local time; naive ones are already local."""
    if value.tzinfo is None:
        return value
    return value.astimezone().replace(tzinfo=None)


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return _naive_local(value)
    return datetime(value.year, value.month, value.day)


class DateTime:
    """A BASIC datetime: prints as ``YYYY-MM-DD HH:MM:SS`` (``YYYY-MM-DD`` when date-only).

    ``+ n`` / ``- n`` shift by ``n`` days (fractions allowed); ``a - b`` between two
    datetimes is a float number of days. Comparison and hashing use the instant only, so
    ``TODAY()`` equals the datetime at midnight of the same day.
    """

    __slots__ = ("value", "date_only")

    def __init__(self, value: datetime | date, date_only: bool = False):
        value = _as_datetime(value)
        if date_only:
            value = datetime(value.year, value.month, value.day)
        self.value = value
        self.date_only = date_only

    def __str__(self) -> str:
        if self.date_only:
            return self.value.strftime("%Y-%m-%d")
        return self.value.strftime("%Y-%m-%d %H:%M:%S")

    def __repr__(self) -> str:
        return f"DateTime({str(self)!r})"

    def to_iso(self) -> str:
        """ISO-8601 text used when the value is stored or sent as JSON (no fraction)."""
        if self.date_only:
            return self.value.date().isoformat()
        return self.value.isoformat(timespec="seconds")

    def member(self, name: str):
        """The value of member ``name`` (case-insensitive), ``None`` when unknown."""
        getter = _MEMBERS.get(name.lower())
        return None if getter is None else getter(self.value, self)

    # -- arithmetic -------------------------------------------------------------------

    def shifted(self, days: int | float) -> "DateTime":
        """This value moved by ``days`` days; stays date-only for whole days."""
        try:
            moved = self.value + timedelta(days=days)
        except (OverflowError, ValueError):
            raise BasicError("date out of range", OVERFLOW) from None
        keep_date = self.date_only and float(days).is_integer()
        return DateTime(moved, keep_date)

    def __add__(self, other):
        if type(other) is int or type(other) is float:
            return self.shifted(other)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, DateTime):
            return (self.value - other.value) / _ONE_DAY
        if type(other) is int or type(other) is float:
            return self.shifted(-other)
        return NotImplemented

    # -- comparison -------------------------------------------------------------------

    def __eq__(self, other):
        if isinstance(other, DateTime):
            return self.value == other.value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other):
        if isinstance(other, DateTime):
            return self.value < other.value
        return NotImplemented

    def __le__(self, other):
        if isinstance(other, DateTime):
            return self.value <= other.value
        return NotImplemented

    def __gt__(self, other):
        if isinstance(other, DateTime):
            return self.value > other.value
        return NotImplemented

    def __ge__(self, other):
        if isinstance(other, DateTime):
            return self.value >= other.value
        return NotImplemented


def _hour12(value: datetime) -> int:
    return value.hour % 12 or 12


def _weekday(value: datetime) -> int:
    """1 = Sunday ... 7 = Saturday (isoweekday has Monday = 1, Sunday = 7)."""
    return value.isoweekday() % 7 + 1


# Members of a datetime value (§3.5); each getter receives the naive datetime and the
# wrapper. The reference engine exposes these as a map, so scripts read them as members.
_MEMBERS: dict[str, Callable[[datetime, DateTime], object]] = {
    "year": lambda v, d: v.year,
    "month": lambda v, d: v.month,
    "day": lambda v, d: v.day,
    "hour": lambda v, d: v.hour,
    "minute": lambda v, d: v.minute,
    "second": lambda v, d: v.second,
    "weekday": lambda v, d: _weekday(v),
    "weekday_name": lambda v, d: WEEKDAY_NAMES[_weekday(v) - 1],
    "month_name": lambda v, d: MONTH_NAMES[v.month - 1],
    "timestamp": lambda v, d: int(v.timestamp()),
    "formatted": lambda v, d: str(d),
    "date": lambda v, d: DateTime(v, date_only=True),
    "time": lambda v, d: v.strftime("%H:%M:%S"),
    "iso": lambda v, d: d.to_iso(),
    "quarter": lambda v, d: (v.month - 1) // 3 + 1,
    "day_of_year": lambda v, d: v.timetuple().tm_yday,
    "is_weekend": lambda v, d: _weekday(v) in (1, 7),
    "is_pm": lambda v, d: v.hour >= 12,
    "ampm": lambda v, d: "PM" if v.hour >= 12 else "AM",
    "hour12": lambda v, d: _hour12(v),
}


# -- clock -----------------------------------------------------------------------------

_clock: Callable[[], datetime] = datetime.now


def set_clock(fn: Callable[[], datetime]) -> None:
    """Make ``now()``/``today()`` read the time from ``fn`` (tests freeze time this way)."""
    global _clock
    _clock = fn


def reset_clock() -> None:
    """Go back to the system clock."""
    set_clock(datetime.now)


def now() -> DateTime:
    """The current local datetime."""
    return DateTime(_clock())


def today() -> DateTime:
    """The current local date (date-only, midnight)."""
    return DateTime(_clock(), date_only=True)


# -- parsing ---------------------------------------------------------------------------

_TIME_PART = (r"(?:(?:\s+|T)(?P<H>\d{1,2}):(?P<M>\d{2})"
              r"(?::(?P<S>\d{2})(?:[.,](?P<F>\d+))?)?"
              r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?")
_YMD_DASH = re.compile(r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})" + _TIME_PART, re.I)
_YMD_SLASH = re.compile(r"(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})" + _TIME_PART, re.I)
_DMY_SLASH = re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})" + _TIME_PART, re.I)


def _tz_offset(text: str) -> timezone:
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return timezone(sign * timedelta(minutes=minutes))


def _build(match: re.Match, year: int, month: int, day: int) -> DateTime:
    """A DateTime from matched fields; raises ValueError for impossible dates."""
    if match["H"] is None:
        return DateTime(datetime(year, month, day), date_only=True)
    micro = int((match["F"] or "0")[:6].ljust(6, "0"))
    second = int(match["S"] or 0)
    value = datetime(year, month, day, int(match["H"]), int(match["M"]), second, micro)
    if match["tz"]:
        value = value.replace(tzinfo=_tz_offset(match["tz"]))
    return DateTime(value)


def _parse_ymd(match: re.Match) -> DateTime | None:
    try:
        return _build(match, int(match["y"]), int(match["mo"]), int(match["d"]))
    except ValueError:
        return None


def _parse_dmy(match: re.Match) -> DateTime | None:
    """DD/MM/YYYY, or MM/DD/YYYY when the second field cannot be a month."""
    first, second, year = int(match["a"]), int(match["b"]), int(match["y"])
    for day, month in ((first, second), (second, first)):
        try:
            return _build(match, year, month, day)
        except ValueError:
            continue
    return None


_PARSERS = ((_YMD_DASH, _parse_ymd), (_YMD_SLASH, _parse_ymd), (_DMY_SLASH, _parse_dmy))


def parse_date(value) -> DateTime | None:
    """``value`` as a DateTime, or ``None`` when it is not a date.

    Accepts DateTime, ``datetime``/``date`` and strings in the formats of §3.5:
    ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]``, ``YYYY-MM-DDTHH:MM:SS[.fff][Z|±hh:mm]``
    (converted to local time), ``DD/MM/YYYY`` (``MM/DD/YYYY`` only when DD/MM is
    impossible) and ``YYYY/MM/DD``, each optionally followed by a time.
    """
    if isinstance(value, DateTime):
        return value
    if isinstance(value, (datetime, date)):
        return DateTime(value, date_only=not isinstance(value, datetime))
    if type(value) is not str:
        return None
    text = value.strip()
    for pattern, build in _PARSERS:
        match = pattern.fullmatch(text)
        if match is not None:
            return build(match)
    return None


# -- DATEADD / DATEDIFF ----------------------------------------------------------------

# Canonical unit for every accepted spelling. `m` is a minute, as in the reference engine
# (§11 A-16); months must be spelled out.
_UNIT_ALIASES = {
    "second": ("second", "seconds", "sec", "secs", "s", "ss"),
    "minute": ("minute", "minutes", "min", "mins", "mi", "n", "m"),
    "hour": ("hour", "hours", "h", "hh", "hr", "hrs"),
    "day": ("day", "days", "d", "dd"),
    "week": ("week", "weeks", "w", "ww", "wk"),
    "month": ("month", "months"),
    "quarter": ("quarter", "quarters", "q", "qq"),
    "year": ("year", "years", "y", "yy", "yyyy"),
}
_UNITS = {alias: unit for unit, aliases in _UNIT_ALIASES.items() for alias in aliases}

_FIXED_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_MONTHS_PER_UNIT = {"month": 1, "quarter": 3, "year": 12}


def normalize_unit(text) -> str | None:
    """The canonical unit name (``second`` … ``year``) for ``text``, or ``None``."""
    if type(text) is not str:
        return None
    return _UNITS.get(text.strip().lower())


def _require_unit(text) -> str:
    unit = normalize_unit(text)
    if unit is None:
        raise BasicError(f"unknown date unit '{text}'")
    return unit


def _amount(n) -> int | float:
    """DATEADD's amount as a number (numeric strings accepted, NULL is 0)."""
    if n is None:
        return 0
    if type(n) is bool or type(n) is int or type(n) is float:
        return n
    try:
        return float(str(n).strip())
    except ValueError:
        raise BasicError(f"cannot use '{n}' as a number of date units") from None


def _whole_months(n: int | float) -> int:
    """Months cannot be fractional: round half away from zero (VB DateAdd)."""
    if float(n).is_integer():
        return int(n)
    return int(n + 0.5) if n > 0 else -int(-n + 0.5)


def _add_months(value: datetime, months: int) -> datetime:
    """``value`` moved by calendar months, the day clamped to the month's last day."""
    year, month0 = divmod(value.year * 12 + value.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise BasicError("date out of range", OVERFLOW)
    day = min(value.day, calendar.monthrange(year, month0 + 1)[1])
    return value.replace(year=year, month=month0 + 1, day=day)


def _shift(value: datetime, amount: int | float, unit: str) -> datetime:
    # Overflow (year > 9999) and NaN amounts both surface as "out of range".
    try:
        if unit in _MONTHS_PER_UNIT:
            return _add_months(value, _whole_months(amount) * _MONTHS_PER_UNIT[unit])
        return value + _FIXED_UNITS[unit] * amount
    except (OverflowError, ValueError):
        raise BasicError("date out of range", OVERFLOW) from None


def date_add(d, n, unit):
    """``d`` plus ``n`` units (§10.3); an unparseable ``d`` is returned unchanged.

    A date-only input gives a date-only result unless the result has a time of day.
    """
    start = parse_date(d)
    if start is None:
        return d
    moved = _shift(start.value, _amount(n), _require_unit(unit))
    is_midnight = moved.time() == datetime.min.time()
    return DateTime(moved, date_only=start.date_only and is_midnight)


def _calendar_index(value: datetime, unit: str) -> int:
    """Position of ``value`` on a calendar axis counted in months, quarters or years."""
    if unit == "year":
        return value.year
    if unit == "quarter":
        return value.year * 4 + (value.month - 1) // 3
    return value.year * 12 + value.month - 1


def _truncated_units(delta: timedelta, unit: str) -> int:
    """Whole ``unit``s in ``delta``, truncated toward zero, in exact integer arithmetic."""
    micros = delta // _ONE_MICROSECOND
    per_unit = _FIXED_UNITS[unit] // _ONE_MICROSECOND
    whole = abs(micros) // per_unit
    return whole if micros >= 0 else -whole


def date_diff(d1, d2, unit="day") -> int:
    """``d2 - d1`` in whole units (§10.3); 0 when either date cannot be parsed.

    Months, quarters and years count calendar boundaries (days are ignored); the other
    units count elapsed time truncated toward zero.
    """
    unit = _require_unit(unit)
    first, second = parse_date(d1), parse_date(d2)
    if first is None or second is None:
        return 0
    if unit in _MONTHS_PER_UNIT:
        return _calendar_index(second.value, unit) - _calendar_index(first.value, unit)
    return _truncated_units(second.value - first.value, unit)
