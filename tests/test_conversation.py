"""Conversation keywords (§9.1): TALK, BEGIN TALK, HEAR in all its forms, ASK, WAIT,
suggestions, PRINT/LOG, TALK TO, contexts and system prompts."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from botbasic.runtime.memory_store import InMemoryStore

from vm_support import run_script, says


def suggestion_texts(transcript) -> list[str]:
    return [s["text"] for s in transcript.ctx.session.suggestions]


# ---------------------------------------------------------------- TALK


@pytest.mark.parametrize("source, expected", [
    ('TALK "plain"', ["plain"]),
    ("TALK NULL", [""]),
    ("TALK 2.0", ["2"]),
    ('TALK #{a: [1, TRUE]}', ['{"a":[1,true]}']),
    ('x = "**bold** ${1 + 1}"\nTALK x', ["**bold** 2"]),
    ('SEND MESSAGE "compat"', ["compat"]),
])
def test_talk(source, expected):
    assert says(source) == expected


def test_begin_talk_is_one_message():
    source = 'name = "Ann"\nBEGIN TALK\n**Welcome, ${name}!**\n\n• one\nEND TALK'
    assert says(source) == ["**Welcome, Ann!**\n\n• one"]


def test_print_and_log_go_to_the_log_not_the_user():
    transcript = run_script('PRINT "debug", 1\nLOG "info"\nLOG_ERROR "bad"\nTALK "user"')
    assert transcript.messages == ["user"]
    assert ("INFO", "debug 1") in transcript.logs and ("ERROR", "bad") in transcript.logs


def test_talk_to_uses_the_channel_service():
    sent = []

    class Channels:
        async def send(self, recipient, text):
            sent.append((recipient, text))

    services = SimpleNamespace(memory=InMemoryStore(), channels=Channels())
    transcript = run_script('TALK TO "+5511999", "hi"', services=services)
    assert transcript.error is None and sent == [("+5511999", "hi")]


def test_talk_to_without_a_channel_is_an_error():
    transcript = run_script('TALK TO "someone@example.com", "hi"')
    assert transcript.error == "main.bas:1: error: no channel for someone@example.com"


# ---------------------------------------------------------------- HEAR

HEAR_FORMS = [
    ("any text is trimmed", "HEAR x\nTALK x", ["  hello  "], ["hello"]),
    ("typed integer", "HEAR x AS INTEGER\nTALK x + 1", ["1,234"], ["1235"]),
    ("typed boolean", 'HEAR ok AS BOOLEAN\nIF NOT ok THEN TALK "no"', ["nope"], ["no"]),
    ("name", "HEAR n AS NAME\nTALK n", ["john doe"], ["John Doe"]),
    ("with prompt", 'HEAR e AS EMAIL WITH "Your email?"\nTALK e', ["A@B.COM"],
     ["Your email?", "a@b.com"]),
    ("menu", 'HEAR c AS "Red", "Green"\nTALK c', ["2"], ["Green"]),
    ("as menu", 'HEAR c AS MENU "Red", "Green"\nTALK c', ["red"], ["Red"]),
    ("array menu", 'opts = ["Yes", "Later"]\nHEAR c AS opts\nTALK c', ["lat"], ["Later"]),
    ("single string prompt", 'HEAR c AS "What now? (1-3)"\nTALK "<" + c + ">"', ["2"],
     ["What now? (1-3)", "<2>"]),
    ("default on empty", 'HEAR d AS INTEGER DEFAULT 5\nTALK d', ["  "], ["5"]),
    ("default on skip", 'HEAR d AS INTEGER WITH "n?" DEFAULT 5\nTALK d', ["skip"], ["n?", "5"]),
    ("expression form", "x = HEAR AS INTEGER\nTALK x * 2", ["21"], ["42"]),
    ("expression prompt", 'x = HEAR "Say something"\nTALK x', ["ok"], ["Say something", "ok"]),
    ("ask", 'x = ASK "Question?"\nTALK "A: " + x', ["yes"], ["Question?", "A: yes"]),
    ("member target", "HEAR p.age AS INTEGER\nTALK p", ["30"], ['{"age":30}']),
    ("date", "HEAR d AS DATE\nTALK d", ["tomorrow"], ["2025-03-15"]),
]


@pytest.mark.parametrize("source, answers, expected", [(s, a, e) for _, s, a, e in HEAR_FORMS],
                         ids=[name for name, _, _, _ in HEAR_FORMS])
def test_hear_forms(source, answers, expected):
    assert says(source, answers, save=True) == expected


def test_hear_values_are_typed():
    transcript = run_script("HEAR a AS INTEGER\nHEAR b AS BOOLEAN\nHEAR c AS MONEY",
                            ["12", "yes", "R$ 1.234,50"])
    assert [transcript.variables[k] for k in "abc"] == [12, True, 1234.5]


def test_invalid_answers_are_retried_then_empty():
    transcript = run_script('HEAR n AS INTEGER\nTALK "[" + n + "]"', ["x", "y", "z"], save=True)
    assert transcript.messages == ["Please enter a whole number.", "Please enter a whole number.",
                                   "[]"]


def test_a_valid_answer_after_a_retry():
    assert says("HEAR n AS INTEGER\nTALK n", ["x", "7"]) == ["Please enter a whole number.", "7"]


def test_menu_options_are_suggestions_while_waiting():
    source = 'ADD SUGGESTION "Help"\nHEAR c AS "Red", "Help", "Blue"\nTALK c'
    waiting = run_script(source)
    assert waiting.status == "waiting" and suggestion_texts(waiting) == ["Help", "Red", "Blue"]
    done = run_script(source, ["blue"], save=True)
    assert done.messages == ["Blue"] and suggestion_texts(done) == ["Help"]


def test_menu_error_lists_the_options():
    transcript = run_script('HEAR c AS "Red", "Blue"', ["green"])
    assert transcript.messages == ["Please choose one of the options: Red, Blue."]


def test_password_reaches_only_the_secret_service():
    kept = []

    class Secrets:
        async def put(self, name, value):
            kept.append((name, value))

    services = SimpleNamespace(memory=InMemoryStore(), secrets=Secrets())
    transcript = run_script("HEAR pw AS PASSWORD\nTALK pw", ["s3cret-pass"], services=services)
    assert transcript.messages == ["[PASSWORD SET]"] and kept == [("pw", "s3cret-pass")]


def test_file_answer_from_an_attachment():
    message = {"text": "", "attachments": [{"url": "https://f/x.pdf", "name": "x.pdf"}]}
    transcript = run_script("HEAR f AS FILE\nTALK f\nTALK f.name", [message])
    assert transcript.messages == ["https://f/x.pdf", "x.pdf"]


def test_hear_without_a_user_is_an_error():
    transcript = run_script("HEAR x", interactive=False)
    assert transcript.error == "main.bas:1: error: no user to hear from"


def test_hear_inside_a_loop_keeps_the_loop():
    source = 'FOR i = 1 TO 3\nHEAR v\nTALK i + "=" + v\nNEXT'
    assert says(source, ["a", "b", "c"], save=True) == ["1=a", "2=b", "3=c"]


# ---------------------------------------------------------------- WAIT


def test_wait_sleeps_through_the_context_and_is_capped():
    sleeps = []
    assert says("WAIT 0.33\nWAIT 1000", sleeps=sleeps) == []
    assert sleeps == [0.33, 300.0]


@pytest.mark.parametrize("value", ["-1", '"soon"'])
def test_wait_rejects_bad_durations(value):
    assert run_script(f"WAIT {value}").status == "error"


# ---------------------------------------------------------------- suggestions


def test_suggestion_forms():
    source = """ADD SUGGESTION "Plain"
ADD SUGGESTION "billing" AS "Check my balance"
ADD SUGGESTION "Label", "action:open"
ADD SUGGESTION TEXT "value" AS "Text button"
ADD SUGGESTION TOOL "create-ticket" AS "New ticket"
ADD SUGGESTION "Plain"
"""
    items = run_script(source).ctx.session.suggestions
    assert [(s["kind"], s["text"], s["context"], s["value"], s["tool"]) for s in items] == [
        ("text_value", "Plain", None, "Plain", None),
        ("context", "Check my balance", "billing", None, None),
        ("text_value", "Label", None, "action:open", None),
        ("text_value", "Text button", None, "value", None),
        ("invoke_tool", "New ticket", None, None, "create-ticket"),
    ]


def test_clear_suggestions_and_events():
    transcript = run_script('ADD SUGGESTION "a"\nCLEAR SUGGESTIONS')
    updates = [e["items"] for e in transcript.events if e["type"] == "suggestions"]
    assert [[s["text"] for s in items] for items in updates] == [["a"], []]
    assert transcript.ctx.session.suggestions == []


# ---------------------------------------------------------------- contexts and prompts


def test_set_context_forms():
    source = """SET CONTEXT "persona" AS "You are helpful."
SET CONTEXT "data", "rows: 3"
SET CONTEXT "General background"
SET CONTEXT "persona"
"""
    session = run_script(source).ctx.session
    assert session.contexts == {"persona": "You are helpful.", "data": "rows: 3"}
    assert session.context == "General background" and session.active_context == "persona"


def test_clear_context():
    session = run_script('SET CONTEXT "a" AS "x"\nSET CONTEXT "b" AS "y"\nCLEAR CONTEXT "a"').ctx.session
    assert session.contexts == {"b": "y"}


def test_system_prompt_block_captures_current_values():
    source = 'role = "admin"\nBEGIN SYSTEM PROMPT\nYou help.\nRole: ${role}\nEND SYSTEM PROMPT\nrole = "x"'
    assert run_script(source).ctx.session.system_prompt == "You help.\nRole: admin"


def test_begin_mail_needs_a_mail_service():
    source = 'BEGIN MAIL "a@b.com"\nSubject: Hi\nBody\nEND MAIL'
    assert run_script(source).error == "main.bas:1: error: BEGIN MAIL is not available in this version"
    sent = []

    class Mail:
        async def send(self, to, subject, body):
            sent.append((to, subject, body))

    services = SimpleNamespace(memory=InMemoryStore(), mail=Mail())
    assert run_script(source, services=services).error is None
    assert sent == [("a@b.com", "Hi", "Body")]
