"""``SET SCHEDULE`` expressions and ``WEBHOOK`` names (DIALECT §9.10.1, §9.7.8).

Both are static declarations read at compile time. A schedule is cron text in one of
the shapes seen in the corpus (5 fields, 6 fields with leading seconds, 4 fields) or
an English phrase from the table of §9.10.1; either way it becomes one normalised
5-field cron expression: numbers instead of month/day names, Sunday as 0, minute
granularity.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional


class ScheduleError(ValueError):
    """A schedule expression that is neither valid cron nor a known phrase."""

    def __init__(self, text: str) -> None:
        super().__init__(f"could not parse schedule '{text}'")
        self.text = text


def schedule_to_cron(text: str) -> str:
    """The normalised 5-field cron expression of a SET SCHEDULE string.

    Raises ScheduleError when ``text`` is neither cron nor a known phrase.
    """
    phrase = " ".join(str(text).lower().split())
    cron = _cron_from_fields(phrase.split()) or _cron_from_phrase(phrase)
    if cron is None:
        raise ScheduleError(str(text))
    return cron


def webhook_name(text: str) -> str:
    """The endpoint name of ``WEBHOOK "name"``: trimmed, lower case, spaces -> ``-``,
    only ``[a-z0-9_-]`` kept (``"Data Sync!"`` -> ``data-sync``)."""
    dashed = re.sub(r"\s+", "-", str(text).strip().lower())
    return re.sub(r"[^a-z0-9_\-]", "", dashed)


# ---------------------------------------------------------------- cron fields


@dataclass(frozen=True)
class _Field:
    """Bounds and accepted names of one cron field."""

    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i


_SECOND = _Field(0, 59)
_MINUTE = _Field(0, 59)
_HOUR = _Field(0, 23)
_DAY_OF_MONTH = _Field(1, 31)
_MONTH = _Field(1, 12, ("jan", "feb", "mar", "apr", "may", "jun",
                        "jul", "aug", "sep", "oct", "nov", "dec"))
# 7 is accepted as a second Sunday and normalised to 0 below.
_DAY_OF_WEEK = _Field(0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"))
_FIVE_FIELDS = (_MINUTE, _HOUR, _DAY_OF_MONTH, _MONTH, _DAY_OF_WEEK)


def _cron_from_fields(parts: list[str]) -> Optional[str]:
    """Normalise 4-, 5- or 6-field cron text; None when it is not cron."""
    if len(parts) == 6:
        if _normalise_field(parts[0], _SECOND) is None:
            return None
        parts = parts[1:]  # scheduling granularity is one minute
    elif len(parts) == 4:
        parts = parts + ["*"]
    if len(parts) != 5:
        return None
    fields = [_normalise_field(part, spec) for part, spec in zip(parts, _FIVE_FIELDS)]
    if any(field is None for field in fields):
        return None
    fields[4] = _sunday_as_zero(fields[4])
    return " ".join(fields)


def _normalise_field(text: str, spec: _Field) -> Optional[str]:
    """One field: comma list of ``*``, ``?``, ``v``, ``a-b``, each optionally ``/step``."""
    items = [_normalise_item(item, spec) for item in text.split(",")]
    return None if any(item is None for item in items) else ",".join(items)


def _normalise_item(item: str, spec: _Field) -> Optional[str]:
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return None
    if base in ("*", "?"):
        base_text = "*"
    else:
        base_text = _normalise_range(base, spec, stepped=bool(slash))
    if base_text is None:
        return None
    return f"{base_text}/{int(step)}" if slash else base_text


def _normalise_range(text: str, spec: _Field, stepped: bool) -> Optional[str]:
    """``v`` or ``a-b`` with names replaced by numbers; ``v/n`` is read as ``v-max/n``."""
    first, dash, last = text.partition("-")
    low = _field_value(first, spec)
    if not dash and not stepped:
        return None if low is None else str(low)
    high = _field_value(last, spec) if dash else _last_value(spec)
    if low is None or high is None or low > high:
        return None
    return f"{low}-{high}"


def _last_value(spec: _Field) -> int:
    """The highest ordinary value of a field (6 for day-of-week, whose 7 is an alias)."""
    return 6 if spec is _DAY_OF_WEEK else spec.high


def _field_value(text: str, spec: _Field) -> Optional[int]:
    if text.isdigit():
        value = int(text)
    elif text in spec.names:
        value = spec.low + spec.names.index(text)
    else:
        return None
    return value if spec.low <= value <= spec.high else None


def _sunday_as_zero(field: str) -> str:
    """Day-of-week 7 (a second Sunday) becomes 0, keeping the set of days the same."""
    if "7" not in re.split(r"[,\-/]", field):
        return field
    days = sorted(_expand_days(field))
    return "*" if len(days) == 7 else _compress_days(days)


def _expand_days(field: str) -> set[int]:
    """The set of days (0–6) a normalised day-of-week field selects."""
    days: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        low, _, high = base.partition("-")
        first, last = (0, 7) if base == "*" else (int(low), int(high or low))
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return days


def _compress_days(days: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``1-3,5``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)) for run in runs)


# ---------------------------------------------------------------- natural language

_CLOCK = r"(?:noon|midnight|\d{1,2}(?::\d{2})?(?: ?[ap]m)?)"
_TIME = f"(?P<time>{_CLOCK})"
_DAY_NUMBERS = {
    "sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "tues": 2,
    "wednesday": 3, "wed": 3, "thursday": 4, "thu": 4, "thur": 4, "thurs": 4,
    "friday": 5, "fri": 5, "saturday": 6, "sat": 6,
}
_DAY = "(?P<day>" + "|".join(sorted(_DAY_NUMBERS, key=len, reverse=True)) + ")"
_AT_TIME = f"(?: at {_TIME})?"
_BUSINESS_HOURS = "9-17"
_WORK_DAYS = "1-5"


def _cron_from_phrase(phrase: str) -> Optional[str]:
    for pattern, build in _PHRASES:
        match = pattern.fullmatch(phrase)
        if match:
            return build(match)
    return None


def _time_fields(match: re.Match) -> Optional[tuple[int, int]]:
    """(minute, hour) of the ``time`` group; midnight when the phrase gives no time."""
    text = match.groupdict().get("time")
    return (0, 0) if text is None else parse_clock(text)


def parse_clock(text: str) -> Optional[tuple[int, int]]:
    """``9am``, ``9:30 pm``, ``14:00``, ``14``, ``noon``, ``midnight`` -> (minute, hour)."""
    named = {"noon": (0, 12), "midnight": (0, 0)}
    if text in named:
        return named[text]
    found = re.fullmatch(r"(\d{1,2})(?::(\d{2}))? ?([ap]m)?", text)
    if not found:
        return None
    hour, minute, half = int(found[1]), int(found[2] or 0), found[3]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    return (minute, hour) if hour <= 23 and minute <= 59 else None


def _at(days: str) -> Callable[[re.Match], Optional[str]]:
    """Builder for phrases that run once a day (at an optional time) on ``days``."""
    def build(match: re.Match) -> Optional[str]:
        when = _time_fields(match)
        return None if when is None else f"{when[0]} {when[1]} * * {days}"
    return build


def _on_day(match: re.Match) -> Optional[str]:
    return _at(str(_DAY_NUMBERS[match["day"]]))(match)


def _every_n(unit_high: int, template: str) -> Callable[[re.Match], Optional[str]]:
    """Builder for ``every N <unit>``: N must be 1..unit_high."""
    def build(match: re.Match) -> Optional[str]:
        count = int(match["n"])
        return template.format(n=count) if 1 <= count <= unit_high else None
    return build


def _hour_window(match: re.Match) -> Optional[str]:
    """``every hour from A to B``: on the hour between A and B (wrapping past midnight)."""
    start, end = parse_clock(match["start"]), parse_clock(match["end"])
    if start is None or end is None or start[0] or end[0]:
        return None
    first, last = start[1], end[1]
    hours = f"{first}-{last}" if first <= last else f"{first}-23,0-{last}"
    return f"0 {hours} * * *"


def _fixed(cron: str) -> Callable[[re.Match], str]:
    return lambda match: cron


_PHRASES: list[tuple[re.Pattern, Callable[[re.Match], Optional[str]]]] = [
    (re.compile(pattern), build)
    for pattern, build in [
        (r"every minute", _fixed("* * * * *")),
        (r"every (?P<n>\d+) minutes?", _every_n(59, "*/{n} * * * *")),
        (r"every hour|hourly", _fixed("0 * * * *")),
        (r"every (?P<n>\d+) hours?", _every_n(23, "0 */{n} * * *")),
        (r"(?:every day|daily)" + _AT_TIME, _at("*")),
        (r"at " + _TIME, _at("*")),
        (r"every week|weekly", _fixed("0 0 * * 0")),
        (r"every month|monthly", _fixed("0 0 1 * *")),
        (r"every year|yearly|annually", _fixed("0 0 1 1 *")),
        (r"every " + _DAY + _AT_TIME, _on_day),
        (r"(?:every weekday|weekdays)" + _AT_TIME, _at(_WORK_DAYS)),
        (r"(?:every weekend|weekends)" + _AT_TIME, _at("0,6")),
        (rf"every hour from (?P<start>{_CLOCK}) to (?P<end>{_CLOCK})", _hour_window),
        (r"(?:every hour during )?business hours", _fixed(f"0 {_BUSINESS_HOURS} * * {_WORK_DAYS}")),
        (r"every (?P<n>\d+) minutes? during business hours",
         _every_n(59, "*/{n} " + _BUSINESS_HOURS + " * * " + _WORK_DAYS)),
    ]
]
