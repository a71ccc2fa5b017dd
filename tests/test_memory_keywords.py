"""Memory and session keywords (§9.2) against the in-process memory store, and GET's
dispatch on its target (§9.7.1)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from botbasic.keywords import memory
from botbasic.keywords.memory import duration_seconds
from botbasic.runtime.config import parse_config_text
from botbasic.runtime.context import SessionData
from botbasic.runtime.memory_store import InMemoryStore

from vm_support import FIXED_NOW, run_script, says


def services(store=None, **more):
    return SimpleNamespace(memory=store or InMemoryStore(), **more)


def session(user="u1", bot="bot1", **fields):
    return SessionData(session_id="s-" + user, bot_id=bot, user_id=user, **fields)


# ---------------------------------------------------------------- bot memory


@pytest.mark.parametrize("literal, shown", [
    ("42", "42"), ("1.5", "1.5"), ('"text"', "text"), ("TRUE", "true"),
    ("#{a: [1, 2]}", '{"a":[1,2]}'), ("[1, NULL]", "[1,null]"),
])
def test_bot_memory_keeps_value_types(literal, shown):
    source = f'SET BOT MEMORY "k", {literal}\nv = GET BOT MEMORY("k")\nTALK v\nTALK TYPEOF(v)'
    transcript = run_script(source)
    expected_type = run_script(f"TALK TYPEOF({literal})").messages[0]
    assert transcript.messages == [shown, expected_type]


def test_bot_memory_forms_and_missing_keys():
    source = ('SET BOT MEMORY "a" AS 1\nkey = "b"\nSET BOT MEMORY key, 2\n'
              'TALK GET BOT MEMORY "a"\nx = GET BOT MEMORY "verif_" + key\nTALK ISNULL(x)')
    assert says(source) == ["1", "true"]


def test_bot_memory_is_shared_by_the_sessions_of_a_bot():
    store = InMemoryStore()
    run_script('SET BOT MEMORY "news", "hello"', services=services(store), session=session("u1"))
    other_user = run_script('TALK GET BOT MEMORY("news")', services=services(store),
                            session=session("u2"))
    other_bot = run_script('TALK ISNULL(GET BOT MEMORY("news"))', services=services(store),
                           session=session("u2", bot="bot2"))
    assert other_user.messages == ["hello"] and other_bot.messages == ["true"]


def test_stored_values_are_copies():
    source = 'o = #{n: 1}\nSET BOT MEMORY "o", o\no.n = 2\nTALK GET BOT MEMORY("o")'
    assert says(source) == ['{"n":1}']


# ---------------------------------------------------------------- user memory


def test_user_memory_follows_the_user_across_bots():
    store = InMemoryStore()
    run_script('SET USER MEMORY "lang", "pt"', services=services(store), session=session("u1"))
    same_user = run_script('TALK GET USER MEMORY("lang")', services=services(store),
                           session=session("u1", bot="other"))
    other_user = run_script('TALK ISNULL(GET USER MEMORY("lang"))', services=services(store),
                            session=session("u2"))
    assert same_user.messages == ["pt"] and other_user.messages == ["true"]


def test_clear_user_memory():
    source = 'SET USER MEMORY "a", 1\nCLEAR USER MEMORY\nTALK ISNULL(GET USER MEMORY("a"))'
    assert says(source) == ["true"]


# ---------------------------------------------------------------- REMEMBER / RECALL


def test_remember_forms_and_confirmation():
    source = ('r = REMEMBER "color", "blue"\nTALK r\nREMEMBER "case_" + 7 = #{id: 7}\n'
              'REMEMBER "tmp", 3, "2 hours"\nTALK RECALL("color")\nx = RECALL "case_7"\nTALK x.id')
    assert says(source) == ["Remembered 'color' for forever", "blue", "7"]


def test_recall_after_expiry_is_null():
    store = InMemoryStore()
    run_script('REMEMBER "otp", 1234, "10 minutes"', services=services(store))
    later = FIXED_NOW + timedelta(minutes=9)
    much_later = FIXED_NOW + timedelta(minutes=11)
    assert says('TALK RECALL("otp")', services=services(store), clock=lambda: later) == ["1234"]
    assert says('TALK ISNULL(RECALL("otp"))', services=services(store),
                clock=lambda: much_later) == ["true"]


@pytest.mark.parametrize("duration, seconds", [
    (None, None), ("forever", None), ("Permanent", None), (2, 172800), ("1.5", 129600.0),
    ("30 seconds", 30), ("1 minute", 60), ("3 hours", 10800), ("2 days", 172800),
    ("1 week", 604800), ("1 month", 2592000), ("2 years", 63072000),
])
def test_durations(duration, seconds):
    assert duration_seconds(duration) == seconds


def test_bad_duration_is_an_error():
    transcript = run_script('REMEMBER "k", 1, "soonish"')
    assert transcript.error == "main.bas:1: error: REMEMBER: cannot understand the duration 'soonish'"


# ---------------------------------------------------------------- session variables


def test_session_variable_forms_address_one_store():
    source = """SET "session.case_id" = 41
SET "session.lead", "L1"
SET SESSION "Count", 2
role = "admin"
SET role, role
case_id = GET "session.CASE_ID"
TALK case_id + 1
TALK GET SESSION "session.lead"
TALK GET SESSION "count"
TALK GET "session.role"
"""
    transcript = run_script(source)
    assert transcript.messages == ["42", "L1", "2", "admin"]
    assert transcript.ctx.session.variables == {"case_id": 41, "lead": "L1", "count": 2,
                                                "role": "admin"}


def test_session_builtins_are_read_only():
    transcript = run_script('SET "session.user_email" = "x@y"\nTALK GET "session.user_email"',
                            session=session(builtins={"user_email": "me@bot.com"}))
    assert transcript.messages == ["me@bot.com"]
    assert any("read-only" in message for _, message in transcript.logs)


def test_get_of_a_null_name_reads_the_session_variable():
    transcript = run_script("role = GET role\nTALK role",
                            session=session(variables={"role": "manager"}))
    assert transcript.messages == ["manager"]


def test_session_survives_between_executions():
    shared = session()
    run_script('SET SESSION "step", 3', session=shared)
    assert says('TALK GET SESSION "step"', session=shared) == ["3"]


def test_other_sessions_need_a_service():
    transcript = run_script('x = GET SESSION "other-id", "name"')
    assert transcript.error == ("main.bas:1: error: access to other sessions is not "
                                "available in this version")


# ---------------------------------------------------------------- config and GET


def test_get_config():
    config = parse_config_text("name,value\nBot Name,Helper\nparam-limit,10\n")
    transcript = run_script('TALK GET CONFIG "bot-name"\nTALK ISNULL(GET CONFIG "nope")',
                            services=services(config=config))
    assert transcript.messages == ["Helper", "true"]


@pytest.mark.parametrize("target, kind", [
    ('"https://api.example.com/x"', "http"), ('"http://h/x"', "http"), ('"/api/queue"', "api"),
    ('"docs/file.pdf"', "file"), ('"session.k"', "session"),
])
def test_get_dispatches_on_its_target(monkeypatch, target, kind):
    seen = []

    async def fake(ctx, call, text):
        seen.append((kind, text))
        return "fetched"

    monkeypatch.setitem(memory.GET_TARGETS, kind, fake)
    assert says(f"x = GET {target}\nTALK x") == ["fetched"]
    assert seen == [(kind, target.strip('"'))]


@pytest.mark.parametrize("target, what", [
    ('"https://api.example.com/x"', "a URL"), ('"/api/queue"', "the bot server API"),
    ('"docs/file.pdf"', "a file"),
])
def test_get_of_a_target_no_family_serves(monkeypatch, target, what):
    monkeypatch.setattr(memory, "GET_TARGETS", {"session": memory.GET_TARGETS["session"]})
    transcript = run_script(f"x = GET {target}")
    assert transcript.error == f"main.bas:1: error: GET of {what} is not available in this version"


def test_memory_without_a_service():
    transcript = run_script('SET BOT MEMORY "a", 1', services=SimpleNamespace())
    assert transcript.error == "main.bas:1: error: memory is not available in this version"


def test_in_memory_store_interface():
    async def scenario():
        store = InMemoryStore()
        await store.set("s", "k", {"a": 1}, expires_at=100.0)
        first = await store.get("s", "k", now=50.0)
        expired = await store.get("s", "k", now=150.0)
        await store.set("s", "j", 1)
        await store.delete("s", "j")
        return first, expired, store.keys("s")

    assert asyncio.run(scenario()) == ({"a": 1}, None, [])
