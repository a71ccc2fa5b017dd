"""Date and time built-ins of DIALECT §10.3 with a fixed clock."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from botbasic.keywords.functions import call_builtin
from botbasic.runtime.datetimes import DateTime
from botbasic.runtime.errors import BasicError

# Tuesday 5 March 2024, 14:07:09.250 local time.
FIXED = datetime(2024, 3, 5, 14, 7, 9, 250000)


class FakeContext:
    """A frozen clock and the session language."""

    def __init__(self, moment: datetime = FIXED, language: str = "en"):
        self.moment = moment
        self.session = SimpleNamespace(language=language)

    def now(self) -> DateTime:
        return DateTime(self.moment)


def call(name, *args):
    return call_builtin(name, *args, ctx=FakeContext())


def text(value) -> str:
    """Datetimes compared by their BASIC string form."""
    return str(value) if isinstance(value, DateTime) else value


@pytest.mark.parametrize("name, expected", [
    ("NOW", "2024-03-05 14:07:09"),
    ("TODAY", "2024-03-05"),
    ("TIME", "14:07:09"),
    ("NOW_STR", "2024-03-05 14:07:09"),
    ("TODAY_STR", "2024-03-05"),
    ("TIME_STR", "14:07:09"),
    ("HOUR", 14),
])
def test_clock_functions(name, expected):
    assert text(call(name)) == expected


def test_now_is_a_datetime_and_today_is_date_only():
    assert isinstance(call("NOW"), DateTime) and not call("NOW").date_only
    assert call("TODAY").date_only


def test_timestamps_follow_the_clock():
    assert call("TIMESTAMP") == int(FIXED.timestamp())
    assert call("UNIX_TIMESTAMP") == int(FIXED.timestamp())
    assert call("TIMESTAMP_MS") == int(FIXED.timestamp() * 1000)


def test_now_utc_is_the_same_instant():
    utc = call("NOW_UTC")
    assert utc.value == FIXED.astimezone(timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize("name, value, expected", [
    ("YEAR", "2024-03-05", 2024),
    ("MONTH", "2024-03-05 10:20:30", 3),
    ("DAY", "05/03/2024", 5),
    ("DAY", "12/31/2024", 31),
    ("HOUR", "2024-03-05 10:20:30", 10),
    ("MINUTE", "2024-03-05 10:20:30", 20),
    ("SECOND", "2024-03-05 10:20:30", 30),
    ("WEEKDAY", "2024-03-03", 1),
    ("WEEKDAY", "2024-03-05", 3),
    ("WEEKDAY", "2024-03-09", 7),
    ("YEAR", "not a date", 0),
    ("MONTH", None, 0),
    ("YEAR", DateTime(FIXED), 2024),
])
def test_components(name, value, expected):
    assert call(name, value) == expected


@pytest.mark.parametrize("args, expected", [
    (("2024-01-31", 1, "month"), "2024-02-29"),
    (("2024-01-31", "month", 1), "2024-02-29"),
    (("2024-03-05", -7, "day"), "2024-02-27"),
    (("2024-03-05", "day", -30), "2024-02-04"),
    (("2024-03-05", "days", "2"), "2024-03-07"),
    (("2024-03-05 10:00:00", 90, "m"), "2024-03-05 11:30:00"),
    (("2024-03-05 10:00:00", "m", 90), "2024-03-05 11:30:00"),
    (("2024-03-05 10:00:00", 15, "minute"), "2024-03-05 10:15:00"),
    (("2024-03-05 10:00:00", 2, "h"), "2024-03-05 12:00:00"),
    (("2024-03-05 10:00:00", 30, "s"), "2024-03-05 10:00:30"),
    (("2024-03-05", 1, "yyyy"), "2025-03-05"),
    (("2024-02-29", 1, "year"), "2025-02-28"),
    (("2024-03-05", 1, "q"), "2024-06-05"),
    (("2024-03-05", 2, "w"), "2024-03-19"),
    (("2024-03-05", 3), "2024-03-08"),
    (("d", 5, "2024-03-05"), "2024-03-10"),
    (("not a date", 1, "day"), "not a date"),
])
def test_dateadd_detects_argument_roles(args, expected):
    assert text(call("DATEADD", *args)) == expected


def test_dateadd_keeps_datetimes_and_dates():
    assert text(call("DATEADD", DateTime(FIXED), 1, "day")) == "2024-03-06 14:07:09"
    assert call("DATEADD", call("TODAY"), 7, "day").date_only


def test_dateadd_rejects_unknown_units():
    with pytest.raises(BasicError):
        call("DATEADD", "2024-03-05", 1, "fortnight")


@pytest.mark.parametrize("args, expected", [
    (("2024-03-01", "2024-03-05"), 4),
    (("2024-03-05", "2024-03-01"), -4),
    (("2024-03-01", "2024-03-05", "day"), 4),
    (("2024-03-01", "2024-03-05", "d"), 4),
    (("2024-03-05 10:00", "2024-03-05 11:30", "minute"), 90),
    (("2024-03-05 10:00", "2024-03-05 11:30", "hour"), 1),
    (("2024-03-05 11:30", "2024-03-05 10:00", "hour"), -1),
    (("minute", "2024-03-05 10:00", "2024-03-05 11:30"), 90),
    (("second", "2024-03-05 10:00:00", "2024-03-05 10:01:05"), 65),
    (("day", "2024-03-01", "2024-03-05"), 4),
    (("2024-01-31", "2024-02-01", "month"), 1),
    (("2023-12-31", "2024-01-01", "year"), 1),
    (("garbage", "2024-03-05"), 0),
    (("2024-03-05", None, "day"), 0),
])
def test_datediff(args, expected):
    assert call("DATEDIFF", *args) == expected


def test_datediff_of_now_against_an_older_date_is_negative():
    # crm writes DATEDIFF(NOW(), last_contact) meaning an age: d2 - d1 is negative (§11 A-17).
    assert call("DATEDIFF", call("NOW"), "2024-03-01") == -4


@pytest.mark.parametrize("name, args, expected", [
    ("DAYS_BETWEEN", ("2024-03-01", "2024-03-05"), 4),
    ("HOURS_BETWEEN", ("2024-03-05 08:00", "2024-03-05 14:59"), 6),
    ("SECONDS_BETWEEN", ("2024-03-05 08:00:00", "2024-03-05 08:01:00"), 60),
    ("ADD_DAYS", ("2024-03-05", 30), "2024-04-04"),
    ("ADD_DAYS", ("2024-03-05", -90), "2023-12-06"),
    ("EOMONTH", ("2024-01-15", 1), "2024-02-29"),
    ("EOMONTH", ("2024-01-15",), "2024-01-31"),
    ("EOMONTH", ("2024-01-15", -2), "2023-11-30"),
    ("EOMONTH", ("nope", 0), None),
    ("DATEVALUE", ("2024-03-05 10:20:30",), "2024-03-05"),
    ("DATEVALUE", ("2024-3-7",), "2024-03-07"),
    ("DATEVALUE", ("never",), None),
    ("CDATE", ("2024-03-05 10:20:30",), "2024-03-05 10:20:30"),
    ("CDATE", ("05/03/2024",), "2024-03-05"),
    ("CDATE", ("",), None),
    ("TIMEVALUE", ("14:30",), "14:30:00"),
    ("TIMEVALUE", ("2:30 PM",), "14:30:00"),
    ("TIMEVALUE", ("12:05:09 am",), "00:05:09"),
    ("TIMEVALUE", ("25:00",), None),
    ("TIMEVALUE", ("soon",), None),
    ("ISDATE", ("2024-03-05",), True),
    ("IS_DATE", ("31/12/2024 10:00",), True),
    ("ISDATE", ("2024-02-30",), False),
    ("ISDATE", ("hello",), False),
    ("ISDATE", (20240305,), False),
])
def test_date_helpers(name, args, expected):
    assert text(call(name, *args)) == expected


@pytest.mark.parametrize("args, expected", [
    ((DateTime(FIXED), "YYYY-MM-DD"), "2024-03-05"),
    (("2024-03-05 14:07:09", "dd/MM/yyyy HH:mm"), "05/03/2024 14:07"),
    ((DateTime(FIXED), "Ymd"), "20240305"),
    ((DateTime(FIXED), "Ymd_His"), "20240305_140709"),
    ((DateTime(FIXED),), "2024-03-05 14:07:09"),
    (("not a date", "YYYY"), "not a date"),
])
def test_format_date(args, expected):
    assert call("FORMAT_DATE", *args) == expected


def test_format_date_uses_the_session_language():
    ctx = FakeContext(language="pt")
    assert call_builtin("FORMAT_DATE", DateTime(FIXED), "dddd, d MMMM", ctx=ctx) == "terça-feira, 5 março"


def test_hour_with_an_argument_reads_it():
    assert call("HOUR", "2024-03-05 09:00") == 9
