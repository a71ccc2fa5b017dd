"""FORMAT (DIALECT §10.7) through ``runtime.formatting.format_value``."""
from datetime import datetime

import pytest

from botbasic.runtime.datetimes import DateTime
from botbasic.runtime.formatting import format_value, round_half_away
from botbasic.runtime.values import BasicObject

# Tuesday 5 March 2024, 14:07:09.250 — every field differs so swapped tokens show.
MOMENT = DateTime(datetime(2024, 3, 5, 14, 7, 9, 250000))
MORNING = DateTime(datetime(2024, 11, 23, 9, 4, 5))


# Every date pattern the corpus uses (§10.7 "Corpus patterns that MUST work").
@pytest.mark.parametrize("pattern, expected", [
    ("YYYYMMDD", "20240305"),
    ("YYYY-MM-DD", "2024-03-05"),
    ("yyyy-MM-dd", "2024-03-05"),
    ("YYYY-MM-DD HH:mm:ss", "2024-03-05 14:07:09"),
    ("yyyy-MM-dd HH:mm:ss", "2024-03-05 14:07:09"),
    ("YYYYMMDD_HHmmss", "20240305_140709"),
    ("YYYYMMDDHHmmss", "20240305140709"),
    ("YYYYMMDD-HHmmss", "20240305-140709"),
    ("DD/MM/YYYY HH:mm", "05/03/2024 14:07"),
    ("DD/MM/YYYY", "05/03/2024"),
    ("dd/MM/yyyy", "05/03/2024"),
    ("MMMM YYYY", "March 2024"),
    ("MMMM yyyy", "March 2024"),
    ("MMMM dd, yyyy", "March 05, 2024"),
    ("MMMM DD, YYYY", "March 05, 2024"),
    ("MMM DD, YYYY HH:mm", "Mar 05, 2024 14:07"),
    ("MM-DD", "03-05"),
    ("YYYY-MM", "2024-03"),
    ("yyyy-MM", "2024-03"),
    ("yyyy-MM-dd-HHmm", "2024-03-05-1407"),
    ("YYYY-MM-DD HH:mm", "2024-03-05 14:07"),
    ("YYYY-MM-01", "2024-03-01"),
    ("YYYY", "2024"),
    ("MM", "03"),
])
def test_corpus_date_patterns(pattern, expected):
    assert format_value(MOMENT, pattern) == expected


@pytest.mark.parametrize("pattern, expected", [
    ("M/d/yy", "3/5/24"),
    ("H:m:s", "14:7:9"),
    ("hh:mm tt", "02:07 PM"),
    ("h:mm t", "2:07 P"),
    ("h:mm AM/PM", "2:07 PM"),
    ("dddd, d MMMM", "Tuesday, 5 March"),
    ("ddd MMM", "Tue Mar"),
    ("HH:mm:ss.fff", "14:07:09.250"),
    ("'Day' d 'of' MMMM", "Day 5 of March"),
    ("d 'unclosed yyyy", "5 unclosed yyyy"),
    (r"\d\a\y d", "day 5"),
    ("Ymd", "20240305"),
    ("Ymd_His", "20240305_140709"),
    ("Y-m-d H:i", "2024-03-05 14:07"),
])
def test_other_date_tokens(pattern, expected):
    assert format_value(MOMENT, pattern) == expected


@pytest.mark.parametrize("pattern, expected", [
    ("hh:mm tt", "09:04 AM"),
    ("H:mm", "9:04"),
    ("d/M", "23/11"),
    ("dddd", "Saturday"),
])
def test_morning_and_one_digit_fields(pattern, expected):
    assert format_value(MORNING, pattern) == expected


@pytest.mark.parametrize("lang, pattern, expected", [
    ("pt", "dd 'de' MMMM 'de' yyyy", "05 de março de 2024"),
    ("pt-BR", "dddd", "terça-feira"),
    ("es", "MMMM", "marzo"),
    ("fr", "dddd d MMMM", "mardi 5 mars"),
    ("de", "MMM", "Mär"),
    ("xx", "MMMM", "March"),
])
def test_month_and_weekday_names_follow_the_language(lang, pattern, expected):
    assert format_value(MOMENT, pattern, lang) == expected


@pytest.mark.parametrize("value, pattern, expected", [
    ("2024-03-05 14:07:09", "DD/MM/YYYY HH:mm", "05/03/2024 14:07"),
    ("2024-03-05", "MMMM dd, yyyy", "March 05, 2024"),
    ("05/03/2024", "yyyy-MM-dd", "2024-03-05"),
    (DateTime(datetime(2024, 3, 5), True), "YYYY-MM-DD HH:mm", "2024-03-05 00:00"),
])
def test_date_strings_and_dates(value, pattern, expected):
    assert format_value(value, pattern) == expected


# The number-pattern table of §10.7 plus every corpus number pattern.
@pytest.mark.parametrize("value, pattern, expected", [
    (1234.5, "n", "1234.50"),
    (1234.5, "N", "1,234.50"),
    (1234.5, "N0", "1,235"),
    (1234.5, "N2", "1,234.50"),
    (1234.5, "F", "1234.50"),
    (1234.5, "F1", "1234.5"),
    (1234.5, "F0", "1235"),
    (1234.5, "f", "1235"),
    (1234.5, "C", "$1,234.50"),
    (1234.5, "C0", "$1,235"),
    (1234.5, "C2[pt]", "R$ 1.234,50"),
    (1234.5, "C2[fr]", "€1.234,50"),
    (1234.5, "C2[en]", "$1,234.50"),
    (-1234.5, "C2", "-$1,234.50"),
    (1234.5, "currency", "$1,234.50"),
    (0.85, "0%", "85%"),
    (0.856, "0.0%", "85.6%"),
    (0.285, "0%", "29%"),
    (1234.5, "#,##0", "1,235"),
    (1234567.891, "#,##0", "1,234,568"),
    (0, "#,##0", "0"),
    (999.5, "#,##0", "1,000"),
    (1234.5, "#,##0.00", "1,234.50"),
    (12.345, "#,##0.00", "12.35"),
    (-1234.5, "#,##0.00", "-1,234.50"),
    (15.25, "#,##0.0", "15.3"),
    (1234567, "#,###", "1,234,567"),
    (0, "#,###", "0"),
    (3.14159, "#.##", "3.14"),
    (3.1, "#.##", "3.1"),
    (3, "#.##", "3"),
    (0.5, "#.##", "0.5"),
    (2.25, "#.#", "2.3"),
    (3.14159, "0.00", "3.14"),
    (7, "000", "007"),
    (87.65, "#0.0", "87.7"),
    (12.34, "+#.#", "+12.3"),
    (-12.34, "+#.#", "-12.3"),
    (0, "+#.#", "+0"),
    (1500000, "$#,###", "$1,500,000"),
    (1234.5, "R$ #,##0.00", "R$ 1,234.50"),
    (42.5, "#,##0.00 MB", "42.50 MB"),
    (-0.004, "0.00", "0.00"),
    (2.5, "0", "3"),
    (-2.5, "0", "-3"),
    ("1234.5", "#,##0", "1,235"),
    (" 42 ", "0.0", "42.0"),
    (None, "#,##0", "0"),
    (True, "#,##0", "true"),
    (float("nan"), "#,##0", "NaN"),
])
def test_number_patterns(value, pattern, expected):
    assert format_value(value, pattern) == expected


@pytest.mark.parametrize("lang, expected", [
    ("en", "$1,234.50"), ("pt", "R$ 1.234,50"), ("pt-BR", "R$ 1.234,50"),
    ("de", "€1.234,50"), ("es", "€1.234,50"), ("it", "€1.234,50"), ("ja", "$1,234.50"),
])
def test_currency_follows_the_bot_locale(lang, expected):
    assert format_value(1234.5, "currency", lang) == expected


@pytest.mark.parametrize("value, pattern, expected", [
    ("John", "Hello @!", "Hello John!"),
    ("John", "@", "John"),
    ("John", "!", "JOHN"),
    ("John", "> said", "JOHN said"),
    ("John", "&", "john"),
    ("abc", "[@]", "[abc]"),
    (None, "<@>", "<>"),
    (5, "@ items", "5 items"),
])
def test_text_patterns(value, pattern, expected):
    assert format_value(value, pattern) == expected


@pytest.mark.parametrize("value, pattern, expected", [
    (BasicObject({"id": 1, "tags": ["a"]}), "JSON", '{"id":1,"tags":["a"]}'),
    (BasicObject({"id": 1}), "json", '{"id":1}'),
    ("text", "JSON", '"text"'),
    (MOMENT, "JSON", '"2024-03-05T14:07:09"'),
])
def test_json_pattern(value, pattern, expected):
    assert format_value(value, pattern) == expected


@pytest.mark.parametrize("value, pattern, expected", [
    ("3f2a-guid", None, "3f2a-guid"),
    (4821, None, "4821"),
    (2.0, None, "2"),
    (MOMENT, None, "2024-03-05 14:07:09"),
    (12, "", "12"),
    (12, "abc", "abc"),
    ("not a date", "YYYY-MM-DD", "not a date"),
    (None, "YYYY-MM-DD", ""),
    (20240305, "YYYY", "20240305"),
    (MOMENT, "#,##0", "2024-03-05 14:07:09"),
    ("abc", "#,##0", "abc"),
])
def test_mode_selection_falls_back_to_the_string_form(value, pattern, expected):
    assert format_value(value, pattern) == expected


@pytest.mark.parametrize("number, digits, expected", [
    (2.5, 0, 3), (-2.5, 0, -3), (0.5, 0, 1), (1.5, 0, 2), (2.675, 2, 2.68),
    (1.005, 2, 1.01), (-0.125, 2, -0.13), (1234.5, -2, 1200), (5, 0, 5), (7, 3, 7),
])
def test_round_half_away_from_zero(number, digits, expected):
    result = round_half_away(number, digits)
    assert result == expected and type(result) is type(expected)
