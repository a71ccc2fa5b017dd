"""SET SCHEDULE expressions (DIALECT §9.10.1) and WEBHOOK names (§9.7.8)."""
import os
import re
from pathlib import Path

import pytest

from botbasic.interpreter.schedules import ScheduleError, schedule_to_cron, webhook_name

CORPUS = Path(os.environ.get("BOTBASIC_CORPUS", "/work/shared/corpus"))
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} not found (set BOTBASIC_CORPUS)"
)

# A quoted schedule that is the whole argument: a string followed by `+` is only the
# start of an expression built at run time, which is not a static schedule.
SET_SCHEDULE_LINE = re.compile(r'^\s*SET\s+SCHEDULE\s+"([^"]*)"(?!\s*\+)', re.IGNORECASE)


def corpus_schedules() -> list[tuple[str, str]]:
    """(file:line, schedule text) of every static SET SCHEDULE string in the corpus."""
    found = []
    for path in sorted(CORPUS.rglob("*.bas")) if CORPUS.is_dir() else []:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, start=1):
            if re.match(r"\s*(REM\b|')", line, re.IGNORECASE):
                continue
            match = SET_SCHEDULE_LINE.match(line)
            if match:
                found.append((f"{path.relative_to(CORPUS)}:{number}", match.group(1)))
    return found


CORPUS_SCHEDULES = corpus_schedules()


@pytest.mark.corpus
@needs_corpus
def test_the_corpus_has_schedules():
    assert len(CORPUS_SCHEDULES) >= 30


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("where, text", CORPUS_SCHEDULES, ids=[w for w, _ in CORPUS_SCHEDULES])
def test_every_corpus_schedule_converts(where, text):
    cron = schedule_to_cron(text)
    assert len(cron.split()) == 5
    assert schedule_to_cron(cron) == cron  # normal form is stable


# ---------------------------------------------------------------- cron forms


@pytest.mark.parametrize(
    "text, cron",
    [
        ("59 * * * *", "59 * * * *"),
        ("0 9 * * 1", "0 9 * * 1"),
        ("*/30 * * * *", "*/30 * * * *"),
        ("0 8,16 * * *", "0 8,16 * * *"),
        ("0 18 * * 1-5", "0 18 * * 1-5"),
        ("  0   0 1 * *  ", "0 0 1 * *"),
        ("00 09 * * *", "0 9 * * *"),
        ("0 9 * * MON", "0 9 * * 1"),
        ("0 9 * * mon-fri", "0 9 * * 1-5"),
        ("0 12 1 JAN,jul *", "0 12 1 1,7 *"),
        ("0 0 * jan-mar sun", "0 0 * 1-3 0"),
        ("0 0 * * 7", "0 0 * * 0"),
        ("0 0 * * 5-7", "0 0 * * 0,5,6"),
        ("0 0 * * 0-7", "0 0 * * *"),
        ("0 0 * * 1-7/2", "0 0 * * 0,1,3,5"),
        ("0 0 ? * *", "0 0 * * *"),
        ("10-50/20 * * * *", "10-50/20 * * * *"),
        ("5/15 * * * *", "5-59/15 * * * *"),
        # 6 fields: leading seconds dropped (bi-admin's "1 * * * * *" is every minute)
        ("1 * * * * *", "* * * * *"),
        ("0 30 22 * * *", "30 22 * * *"),
        ("0 0 0 */2 * *", "0 0 */2 * *"),
        ("*/10 5 * * * MON", "5 * * * 1"),
        # 4 fields: day-of-week appended
        ("0 9 * *", "0 9 * * *"),
        ("30 8 1 6", "30 8 1 6 *"),
    ],
)
def test_cron_forms(text, cron):
    assert schedule_to_cron(text) == cron


# ---------------------------------------------------------------- natural language


@pytest.mark.parametrize(
    "text, cron",
    [
        ("every minute", "* * * * *"),
        ("every 5 minutes", "*/5 * * * *"),
        ("every 1 minute", "*/1 * * * *"),
        ("every 59 minutes", "*/59 * * * *"),
        ("every hour", "0 * * * *"),
        ("hourly", "0 * * * *"),
        ("every 2 hours", "0 */2 * * *"),
        ("every 1 hour", "0 */1 * * *"),
        ("every 23 hours", "0 */23 * * *"),
        ("every day", "0 0 * * *"),
        ("daily", "0 0 * * *"),
        ("every week", "0 0 * * 0"),
        ("weekly", "0 0 * * 0"),
        ("every month", "0 0 1 * *"),
        ("monthly", "0 0 1 * *"),
        ("every year", "0 0 1 1 *"),
        ("yearly", "0 0 1 1 *"),
        ("annually", "0 0 1 1 *"),
        ("at 9am", "0 9 * * *"),
        ("at 9:30am", "30 9 * * *"),
        ("at 2pm", "0 14 * * *"),
        ("at 14:00", "0 14 * * *"),
        ("at noon", "0 12 * * *"),
        ("at midnight", "0 0 * * *"),
        ("at 12am", "0 0 * * *"),
        ("at 12pm", "0 12 * * *"),
        ("at 9 pm", "0 21 * * *"),
        ("every monday", "0 0 * * 1"),
        ("every tuesday", "0 0 * * 2"),
        ("every wednesday", "0 0 * * 3"),
        ("every thursday", "0 0 * * 4"),
        ("every friday", "0 0 * * 5"),
        ("every saturday", "0 0 * * 6"),
        ("every sunday", "0 0 * * 0"),
        ("every mon", "0 0 * * 1"),
        ("every tue", "0 0 * * 2"),
        ("every tues", "0 0 * * 2"),
        ("every wed", "0 0 * * 3"),
        ("every thu", "0 0 * * 4"),
        ("every thurs", "0 0 * * 4"),
        ("every fri", "0 0 * * 5"),
        ("every sat", "0 0 * * 6"),
        ("every sun", "0 0 * * 0"),
        ("every monday at 9am", "0 9 * * 1"),
        ("every friday at 5:30pm", "30 17 * * 5"),
        ("weekdays", "0 0 * * 1-5"),
        ("every weekday", "0 0 * * 1-5"),
        ("every weekday at 8am", "0 8 * * 1-5"),
        ("weekdays at 18:15", "15 18 * * 1-5"),
        ("weekends", "0 0 * * 0,6"),
        ("every weekend", "0 0 * * 0,6"),
        ("every weekend at 10am", "0 10 * * 0,6"),
        ("every day at 9am", "0 9 * * *"),
        ("every day at 14:30", "30 14 * * *"),
        ("daily at noon", "0 12 * * *"),
        ("every hour from 9 to 17", "0 9-17 * * *"),
        ("every hour from 9am to 5pm", "0 9-17 * * *"),
        ("every hour from 22 to 6", "0 22-23,0-6 * * *"),
        ("business hours", "0 9-17 * * 1-5"),
        ("every hour during business hours", "0 9-17 * * 1-5"),
        ("every 15 minutes during business hours", "*/15 9-17 * * 1-5"),
        ("  Every  Monday  AT 9AM ", "0 9 * * 1"),
    ],
)
def test_natural_language(text, cron):
    assert schedule_to_cron(text) == cron


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "sometimes", "every", "every 0 minutes", "every 60 minutes", "every 24 hours",
        "at 25:00", "at 13pm", "at 9:75", "every funday", "every hour from 9:30 to 17",
        "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8",
        "* * * * xyz", "5-1 * * * *", "*/0 * * * *", "1,,2 * * * *", "* * *",
        "0 0 0 0 0 0 0", "61 0 0 * * *",
    ],
)
def test_rejections(text):
    with pytest.raises(ScheduleError) as caught:
        schedule_to_cron(text)
    assert str(caught.value) == f"could not parse schedule '{text}'"
    assert caught.value.text == text


def test_schedule_error_is_a_value_error():
    assert issubclass(ScheduleError, ValueError)


# ---------------------------------------------------------------- webhooks


@pytest.mark.parametrize(
    "text, name",
    [
        ("data-sync", "data-sync"),
        ("process-documents", "process-documents"),
        ("  API Gateway  ", "api-gateway"),
        ("Order_Created", "order_created"),
        ("new  lead", "new-lead"),
        ("Pedido Café!", "pedido-caf"),
        ("/internal/consent-changed", "internalconsent-changed"),
        ("", ""),
    ],
)
def test_webhook_name(text, name):
    assert webhook_name(text) == name
