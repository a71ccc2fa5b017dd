"""Transcript tests of the example bot bots/reminders.gbai: a table, a schedule and email,
against the real server, a real SMTP server, and both databases."""
import asyncio
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from botbasic.runtime.services.tables import SqlTables
from server_support import BACKENDS, PG_URL, running, say, settings_for, texts
from smtp_support import smtp_server

BOT = Path(__file__).resolve().parent.parent / "bots" / "reminders.gbai"


def install_bot(tmp_path: Path, smtp) -> Path:
    """A copy of the example bot whose config.csv points at the local SMTP server."""
    bots = tmp_path / "bots"
    target = bots / "reminders.gbai"
    shutil.copytree(BOT, target)
    config = target / "reminders.gbot" / "config.csv"
    config.write_text(config.read_text() + f"email-server,{smtp.host}\nemail-port,{smtp.port}\n"
                      "email-from,reminders@example.com\n")
    return bots


async def leave_reminder(client, text: str, day: str, email: str) -> list[str]:
    first = await say(client, "reminders", "hi")
    sid = first["session_id"]
    transcript = texts(first)
    for answer in (text, day, email):
        transcript += texts(await say(client, "reminders", answer, session_id=sid))
    return transcript


def fire_times() -> tuple[str, str]:
    """Two distinct firing minutes never used before: the claims of past runs stay in a
    shared PostgreSQL, and a claimed minute is (rightly) never run again."""
    base = datetime(2100, 1, 1) + timedelta(minutes=random.randrange(10**7) * 2)
    return base.isoformat(), (base + timedelta(days=1)).isoformat()


async def fire(client, when: str) -> dict:
    response = await client.post("/api/bots/reminders/schedules/send-reminders/run",
                                 json={"fire_time": when})
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.mark.parametrize("backend", BACKENDS)
def test_reminder_is_saved_and_emailed_once_on_its_day(backend, tmp_path):
    with smtp_server() as smtp:
        bots = install_bot(tmp_path, smtp)

        async def scenario():
            if backend == "postgres":  # tables outlive a test run in the shared database
                sql = await SqlTables.postgres(PG_URL, schema_prefix="bot_")
                await sql.drop_bot("reminders")
                await sql.close()
            async with running(settings_for(backend, tmp_path, bots)) as client:
                transcript = await leave_reminder(client, "Buy a gift for Ann", "2020-05-01",
                                                  "me@example.com")
                future = await leave_reminder(client, "Renew the passport", "2999-01-01",
                                              "me@example.com")
                today, tomorrow = fire_times()
                first = await fire(client, today)
                second = await fire(client, tomorrow)
                return transcript, future, first, second

        transcript, future, first, second = asyncio.run(scenario())
        assert transcript == [
            "**Reminders**\nI can email you a reminder on the day you choose.",
            "What should I remind you of?", "On which day? (for example 2026-12-24 or tomorrow)",
            "Which email address should I write to?",
            "Saved. You have 1 reminder(s) waiting, the next on May 1, 2020."]
        assert future[-1] == "Saved. You have 2 reminder(s) waiting, the next on January 1, 2999."
        assert first["result"] == "ran" and second["result"] == "ran", (first, second)
        # Only the reminder that was due went out, and only once (it is marked sent).
        assert [m.header("Subject") for m in smtp.received] == ["Reminder: Buy a gift for Ann"]
        assert smtp.received[0].header("To") == "me@example.com"
        assert "Buy a gift for Ann" in smtp.received[0].text()
