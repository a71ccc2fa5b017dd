"""Datetime values (spec §3.5) and DATEADD / DATEDIFF arithmetic (§10.3)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from botbasic.runtime import datetimes
from botbasic.runtime.datetimes import (
    DateTime, date_add, date_diff, normalize_unit, now, parse_date, reset_clock, set_clock,
    today,
)
from botbasic.runtime.errors import BasicError

MOMENT = DateTime(datetime(2024, 3, 5, 14, 7, 9))  # a Tuesday
DAY = DateTime(datetime(2024, 3, 5), date_only=True)


def local(*fields, offset_minutes: int) -> datetime:
    """The naive local time of an instant given with a UTC offset (TZ-independent tests)."""
    zone = timezone(timedelta(minutes=offset_minutes))
    return datetime(*fields, tzinfo=zone).astimezone().replace(tzinfo=None)


def dt(*fields, date_only=False) -> DateTime:
    return DateTime(datetime(*fields), date_only=date_only)


def same(a, b) -> bool:
    return (isinstance(a, DateTime) and isinstance(b, DateTime)
            and a.value == b.value and a.date_only == b.date_only)


# --------------------------------------------------------------------------------------
# Parsing (§3.5)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, date_only", [
    ("2024-03-05", datetime(2024, 3, 5), True),
    ("  2024-3-5 ", datetime(2024, 3, 5), True),
    ("2024-03-05 14:07", datetime(2024, 3, 5, 14, 7), False),
    ("2024-03-05 14:07:09", datetime(2024, 3, 5, 14, 7, 9), False),
    ("2024-03-05T14:07:09", datetime(2024, 3, 5, 14, 7, 9), False),
    ("2024-03-05T14:07:09.250", datetime(2024, 3, 5, 14, 7, 9, 250000), False),
    ("2024-03-05t9:07", datetime(2024, 3, 5, 9, 7), False),
    ("2024-03-05T14:07:09Z", local(2024, 3, 5, 14, 7, 9, offset_minutes=0), False),
    ("2024-03-05T14:07:09.123Z", local(2024, 3, 5, 14, 7, 9, 123000, offset_minutes=0), False),
    ("2024-03-05T14:07:09-03:00", local(2024, 3, 5, 14, 7, 9, offset_minutes=-180), False),
    ("2024-03-05T14:07:09+0530", local(2024, 3, 5, 14, 7, 9, offset_minutes=330), False),
    ("2024-03-05 23:30:00+01", local(2024, 3, 5, 23, 30, offset_minutes=60), False),
    ("05/03/2024", datetime(2024, 3, 5), True),              # DD/MM preferred
    ("01/02/2024", datetime(2024, 2, 1), True),
    ("13/02/2024", datetime(2024, 2, 13), True),
    ("02/13/2024", datetime(2024, 2, 13), True),              # MM/DD when DD/MM impossible
    ("5/3/2024 08:15", datetime(2024, 3, 5, 8, 15), False),
    ("25/12/2024 18:00:30", datetime(2024, 12, 25, 18, 0, 30), False),
    ("2024/03/05", datetime(2024, 3, 5), True),
    ("2024/03/05 14:07:09", datetime(2024, 3, 5, 14, 7, 9), False),
    ("2024-02-29", datetime(2024, 2, 29), True),
])
def test_parse_date_formats(text, value, date_only):
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == value and parsed.date_only is date_only


@pytest.mark.parametrize("value", [
    "", "hello", "2024-02-30", "2023-02-29", "32/01/2024", "13/13/2024", "2024-13-01",
    "2024-03-05 25:00", "2024-03-05 10:61", "05-03-2024", "2024-03", "20240305", "12:30",
    "2024-03-05 14:07 tomorrow", None, 5, 2024.5, True, [2024, 3, 5],
])
def test_parse_date_rejects(value):
    assert parse_date(value) is None


def test_parse_date_passes_datetimes_through():
    assert parse_date(MOMENT) is MOMENT
    assert same(parse_date(datetime(2024, 3, 5, 1, 2)), dt(2024, 3, 5, 1, 2))
    assert same(parse_date(date(2024, 3, 5)), DAY)


# --------------------------------------------------------------------------------------
# Values: string forms, members, arithmetic, comparison
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text, iso", [
    (MOMENT, "2024-03-05 14:07:09", "2024-03-05T14:07:09"),
    (DAY, "2024-03-05", "2024-03-05"),
    (dt(2024, 3, 5, 14, 7, 9, 999999), "2024-03-05 14:07:09", "2024-03-05T14:07:09"),
    (DateTime(datetime(2024, 3, 5, 14, 7, 9), date_only=True), "2024-03-05", "2024-03-05"),
])
def test_string_forms(value, text, iso):
    assert str(value) == text and value.to_iso() == iso


@pytest.mark.parametrize("name, result", [
    ("year", 2024), ("MONTH", 3), ("Day", 5), ("hour", 14), ("minute", 7), ("second", 9),
    ("weekday", 3), ("weekday_name", "Tuesday"), ("month_name", "March"),
    ("formatted", "2024-03-05 14:07:09"), ("time", "14:07:09"), ("iso", "2024-03-05T14:07:09"),
    ("quarter", 1), ("day_of_year", 65), ("is_weekend", False), ("is_pm", True),
    ("ampm", "PM"), ("hour12", 2), ("nonsense", None),
])
def test_members(name, result):
    assert MOMENT.member(name) == result


def test_member_date_and_timestamp():
    assert same(MOMENT.member("date"), DAY)
    assert MOMENT.member("timestamp") == int(datetime(2024, 3, 5, 14, 7, 9).timestamp())


@pytest.mark.parametrize("value, weekday, name, weekend", [
    (dt(2024, 3, 3), 1, "Sunday", True), (dt(2024, 3, 4), 2, "Monday", False),
    (dt(2024, 3, 9), 7, "Saturday", True),
])
def test_weekday_counts_from_sunday(value, weekday, name, weekend):
    assert value.member("weekday") == weekday
    assert value.member("weekday_name") == name
    assert value.member("is_weekend") is weekend


@pytest.mark.parametrize("hour, hour12, ampm", [(0, 12, "AM"), (11, 11, "AM"), (12, 12, "PM"), (23, 11, "PM")])
def test_twelve_hour_clock(hour, hour12, ampm):
    value = dt(2024, 1, 1, hour)
    assert value.member("hour12") == hour12 and value.member("ampm") == ampm


@pytest.mark.parametrize("month, quarter", [(1, 1), (3, 1), (4, 2), (9, 3), (12, 4)])
def test_quarter(month, quarter):
    assert dt(2024, month, 1).member("quarter") == quarter


def test_adding_numbers_shifts_days():
    assert same(DAY + 1, dt(2024, 3, 6, date_only=True))
    assert same(2 + DAY, dt(2024, 3, 7, date_only=True))
    assert same(DAY + 0.25, dt(2024, 3, 5, 6))
    assert same(MOMENT - 1.5, dt(2024, 3, 4, 2, 7, 9))
    assert same(DAY - 31, dt(2024, 2, 3, date_only=True))


def test_difference_of_datetimes_is_float_days():
    assert dt(2024, 3, 7) - DAY == 2.0
    assert dt(2024, 3, 5, 12) - DAY == 0.5
    assert DAY - dt(2024, 3, 6) == -1.0


def test_datetime_arithmetic_rejects_other_types():
    with pytest.raises(TypeError):
        MOMENT + "1"
    with pytest.raises(TypeError):
        MOMENT + True


def test_arithmetic_out_of_range_is_a_basic_error():
    with pytest.raises(BasicError, match="out of range"):
        DAY + 10 ** 7


def test_comparison_and_hash_use_the_instant():
    midnight = dt(2024, 3, 5)
    assert midnight == DAY and hash(midnight) == hash(DAY)
    assert DAY < MOMENT <= MOMENT and MOMENT > DAY >= midnight
    assert DAY != "2024-03-05" and len({DAY, midnight, MOMENT}) == 2


# --------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------

def test_clock_can_be_frozen_and_reset():
    set_clock(lambda: datetime(2030, 6, 7, 8, 9, 10))
    try:
        assert same(now(), dt(2030, 6, 7, 8, 9, 10))
        assert same(today(), dt(2030, 6, 7, date_only=True))
        assert str(today()) == "2030-06-07"
    finally:
        reset_clock()
    assert datetimes._clock == datetime.now
    assert abs(now().value - datetime.now()) < timedelta(days=1)


def test_clock_with_aware_time_gives_local_time():
    set_clock(lambda: datetime(2030, 6, 7, 8, 0, tzinfo=timezone.utc))
    try:
        assert now().value == local(2030, 6, 7, 8, 0, offset_minutes=0)
    finally:
        reset_clock()


# --------------------------------------------------------------------------------------
# DATEADD / DATEDIFF (§10.3)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, unit", [
    ("day", "day"), ("Days", "day"), ("d", "day"), (" D ", "day"),
    ("week", "week"), ("weeks", "week"), ("w", "week"),
    ("month", "month"), ("MONTHS", "month"),
    ("year", "year"), ("years", "year"), ("y", "year"), ("yyyy", "year"),
    ("hour", "hour"), ("hours", "hour"), ("h", "hour"),
    ("minute", "minute"), ("minutes", "minute"), ("min", "minute"), ("n", "minute"),
    ("m", "minute"), ("M", "minute"),
    ("second", "second"), ("seconds", "second"), ("sec", "second"), ("s", "second"),
    ("quarter", "quarter"), ("q", "quarter"),
    ("fortnight", None), ("", None), (None, None), (3, None),
])
def test_normalize_unit(text, unit):
    assert normalize_unit(text) == unit


@pytest.mark.parametrize("start, n, unit, result", [
    (DAY, 1, "day", dt(2024, 3, 6, date_only=True)),
    (DAY, -5, "days", dt(2024, 2, 29, date_only=True)),
    (DAY, 2, "w", dt(2024, 3, 19, date_only=True)),
    (DAY, 1.5, "day", dt(2024, 3, 6, 12)),
    (DAY, 3, "hours", dt(2024, 3, 5, 3)),
    (DAY, 24, "hour", dt(2024, 3, 6, date_only=True)),
    (MOMENT, 15, "m", dt(2024, 3, 5, 14, 22, 9)),            # m = minute
    (MOMENT, 15, "minute", dt(2024, 3, 5, 14, 22, 9)),
    (MOMENT, 90, "n", dt(2024, 3, 5, 15, 37, 9)),
    (MOMENT, -10, "s", dt(2024, 3, 5, 14, 6, 59)),
    (dt(2024, 1, 31), 1, "month", dt(2024, 2, 29)),           # clamp to month end
    (dt(2023, 1, 31), 1, "month", dt(2023, 2, 28)),
    (dt(2024, 3, 31), -1, "months", dt(2024, 2, 29)),
    (dt(2024, 10, 31, 9, 30), 2, "month", dt(2024, 12, 31, 9, 30)),
    (dt(2024, 11, 15), 3, "month", dt(2025, 2, 15)),
    (dt(2024, 2, 29, date_only=True), 1, "year", dt(2025, 2, 28, date_only=True)),
    (dt(2024, 2, 29), -4, "yyyy", dt(2020, 2, 29)),
    (dt(2024, 11, 30), 1, "quarter", dt(2025, 2, 28)),
    (DAY, "2", "day", dt(2024, 3, 7, date_only=True)),        # numeric string amount
    (DAY, None, "day", DAY),
    ("2024-03-05", 1, "day", dt(2024, 3, 6, date_only=True)),  # string date input
    ("2024-03-05 10:00", 30, "min", dt(2024, 3, 5, 10, 30)),
])
def test_date_add(start, n, unit, result):
    assert same(date_add(start, n, unit), result)


@pytest.mark.parametrize("garbage", ["not a date", "", None, 42])
def test_date_add_returns_unparseable_input_unchanged(garbage):
    assert date_add(garbage, 1, "day") is garbage


@pytest.mark.parametrize("n, unit, message", [
    (1, "fortnight", "unknown date unit"), ("abc", "day", "as a number"),
    (10 ** 6, "year", "out of range"), (10 ** 9, "day", "out of range"),
])
def test_date_add_errors(n, unit, message):
    with pytest.raises(BasicError, match=message):
        date_add(DAY, n, unit)


@pytest.mark.parametrize("first, second, unit, result", [
    (DAY, dt(2024, 3, 8), "day", 3),
    (dt(2024, 3, 8), DAY, "day", -3),
    (DAY, dt(2024, 3, 6, 12), "day", 1),                       # truncated
    (dt(2024, 3, 6, 12), DAY, "day", -1),                      # toward zero
    (DAY, dt(2024, 3, 5, 23, 59), "d", 0),
    (DAY, dt(2024, 3, 20), "week", 2),
    (DAY, MOMENT, "hour", 14),
    (DAY, MOMENT, "m", 847),
    (DAY, MOMENT, "minutes", 847),
    (DAY, MOMENT, "second", 50829),
    (dt(2024, 1, 31), dt(2024, 2, 1), "month", 1),             # calendar months
    (dt(2024, 2, 1), dt(2024, 1, 31), "month", -1),
    (dt(2023, 11, 15), dt(2024, 2, 14), "months", 3),
    (dt(2023, 12, 31), dt(2024, 1, 1), "year", 1),
    (dt(2024, 3, 31), dt(2024, 4, 1), "quarter", 1),
    ("2024-03-05", "2024-03-15", "day", 10),
    ("05/03/2024", "2024-03-05T12:00:00", "hour", 12),
])
def test_date_diff(first, second, unit, result):
    assert date_diff(first, second, unit) == result


def test_date_diff_defaults_to_days():
    assert date_diff(DAY, dt(2024, 4, 5)) == 31


@pytest.mark.parametrize("first, second", [("nope", DAY), (DAY, None), (3, DAY)])
def test_date_diff_of_unparseable_dates_is_zero(first, second):
    assert date_diff(first, second, "day") == 0


def test_date_diff_rejects_unknown_units():
    with pytest.raises(BasicError, match="unknown date unit"):
        date_diff(DAY, MOMENT, "decade")


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))


@given(moments, st.integers(-20_000, 20_000))
def test_day_add_then_diff_gives_back_the_amount(start, n):
    assert date_diff(start, date_add(start, n, "day"), "day") == n


@given(moments, st.integers(-1_000, 1_000))
def test_month_add_then_diff_gives_back_the_amount(start, n):
    moved = date_add(DateTime(start), n, "month")
    assert date_diff(start, moved, "month") == n and moved.value.day <= start.day


@given(moments.map(lambda m: m.replace(microsecond=0)), st.booleans())
def test_string_form_parses_back(moment, date_only):
    value = DateTime(moment, date_only)
    assert same(parse_date(str(value)), value)
    assert same(parse_date(value.to_iso()), value)
