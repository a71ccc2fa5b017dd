"""LLM, model selection and the §9.3.6 helper keywords, run as BASIC scripts against the
local fake model server: the exact requests they send and what scripts get back."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from botbasic.keywords.llm import KEYWORD_PROMPT
from botbasic.keywords.llm_helpers import (calculate_prompt, generate_code_prompt,
                                           improve_prompt, rewrite_prompt, sentiment_prompt,
                                           validate_prompt)
from botbasic.runtime.memory_store import InMemoryStore
from botbasic.runtime.services.llm import LLMService
from llm_fixture import (QUIET_LITELLM, error_reply, hang_reply, model_config,  # noqa: F401
                         model_server)
from vm_support import run_script

pytestmark = QUIET_LITELLM


def run(server, source: str, answers=(), **config):
    """Run ``source`` for a bot whose model is the fake server (config as keywords)."""
    llm = LLMService.from_config(model_config(server, **config), environ={})
    return run_script(source, answers, services=SimpleNamespace(memory=InMemoryStore(), llm=llm))


def says(server, source: str, **config) -> list[str]:
    transcript = run(server, source, **config)
    assert transcript.error is None, transcript.error
    return transcript.messages


def sent_prompt(server, index: int = -1) -> str:
    """The user message of a request the server received."""
    return server.requests[index]["messages"][-1]["content"]


# ---------------------------------------------------------------- LLM


def test_llm_sends_the_fixed_system_message_and_the_prompt_only(model_server):
    model_server.enqueue("Paris")
    source = '''
SET CONTEXT "persona" AS "You are a pirate."
BEGIN SYSTEM PROMPT
Always rhyme.
END SYSTEM PROMPT
city = LLM "Capital of France?"
TALK city
'''
    assert says(model_server, source) == ["Paris"]
    # No contexts, system prompt, history, tools or sampling settings: §9.3.4.
    assert model_server.requests == [{"model": "test-model", "messages": [
        {"role": "system", "content": KEYWORD_PROMPT},
        {"role": "user", "content": "Capital of France?"}]}]


def test_the_keyword_prompt_and_the_language_come_from_the_config(model_server):
    model_server.enqueue("ok")
    says(model_server, 'x = LLM "hi"', llm_keyword_prompt="You are terse.",
         default_language="pt-BR", llm_temperature="0.3")
    body = model_server.last
    assert body["messages"][0]["content"] == ("You are terse. Unless the request asks for "
                                              "another language, answer in pt-BR.")
    assert body["temperature"] == 0.3


def test_values_embedded_in_the_prompt_arrays_as_json(model_server):
    model_server.enqueue("b")
    says(model_server, 'cats = ["a", "b"]\nx = LLM "Classify into: " + cats')
    assert sent_prompt(model_server) == 'Classify into: ["a","b"]'


def test_an_answer_holding_json_reads_as_an_object(model_server):
    model_server.enqueue('```json\n{"name": "Ann", "items": [{"sku": "A1"}, {"sku": "B2"}]}\n```')
    source = '''
info = LLM "Return JSON with name and items"
TALK info.name
FOR EACH item IN info.items
    TALK item.sku
NEXT
'''
    assert says(model_server, source) == ["Ann", "A1", "B2"]


def test_a_provider_error_is_trapped_by_on_error_resume_next(model_server):
    model_server.enqueue(error_reply(500, "overloaded"))
    source = 'ON ERROR RESUME NEXT\nx = LLM "hi"\nTALK "after: " + ERROR MESSAGE'
    assert says(model_server, source) == ["after: model error: overloaded"]


def test_an_untrapped_provider_error_stops_the_script_at_its_line(model_server):
    model_server.enqueue(error_reply(503, "down"))
    transcript = run(model_server, 'TALK "before"\nx = LLM "hi"\nTALK "never"')
    assert transcript.messages == ["before"]
    assert "model error: down" in transcript.error


def test_with_max_latency_shortens_the_timeout(model_server):
    model_server.enqueue(hang_reply())
    # The corpus spelling, MAX_LATENCY, on a continuation line (content-moderation).
    source = 'ON ERROR RESUME NEXT\nx = LLM "hi"\n    WITH MAX_LATENCY 200\nTALK ERROR MESSAGE'
    assert says(model_server, source) == ["the model did not answer within 0.2 s"]


@pytest.mark.parametrize("services", [
    SimpleNamespace(memory=InMemoryStore()),  # no model service at all
    SimpleNamespace(memory=InMemoryStore(), llm=LLMService.from_config({}, environ={})),
])
def test_without_a_model_llm_is_a_trappable_error(services):
    source = 'ON ERROR RESUME NEXT\nx = LLM "hi"\nTALK ERROR MESSAGE\ny = SUMMARIZE "t"\nTALK y'
    transcript = run_script(source, services=services)
    assert transcript.messages == ["no model is configured", ""]


# ---------------------------------------------------------------- model selection


def test_use_model_changes_the_model_sent(model_server):
    model_server.enqueue("a", "b")
    source = 'x = LLM "one"\nUSE MODEL "other-model"\ny = LLM "two"\nm = GET CURRENT MODEL\nTALK m'
    assert says(model_server, source) == ["other-model"]
    assert [body["model"] for body in model_server.requests] == ["test-model", "other-model"]


def test_use_model_aliases_map_through_the_config(model_server):
    model_server.enqueue("a", "b", "c")
    source = '''
USE MODEL "fast"
x = LLM "one"
USE MODEL "quality"
x = LLM "two"
USE MODEL "default"
x = LLM "three"
'''
    says(model_server, source, model_fast="small", model_quality="large")
    assert [body["model"] for body in model_server.requests] == ["small", "large", "test-model"]


def test_the_choice_travels_with_the_saved_session(model_server):
    model_server.enqueue("a")
    source = 'USE MODEL "kept-model"\nHEAR name\nx = LLM "hi " + name'
    llm = LLMService.from_config(model_config(model_server), environ={})
    transcript = run_script(source, ["Ann"], save=True,
                            services=SimpleNamespace(memory=InMemoryStore(), llm=llm))
    assert transcript.error is None
    assert model_server.last["model"] == "kept-model"


def test_routing_and_optimize_for_hints_pick_aliases(model_server):
    model_server.enqueue("a", "b", "c", "d")
    source = '''
x = LLM "one" WITH OPTIMIZE FOR "speed"
SET MODEL ROUTING "quality"
x = LLM "two"
SET MODEL ROUTING "manual"
x = LLM "three" WITH OPTIMIZE FOR "speed"
USE MODEL "chosen"
x = LLM "four" WITH OPTIMIZE FOR "speed" WITH MAX COST 0.01
'''
    says(model_server, source, model_fast="small", model_quality="large")
    assert [body["model"] for body in model_server.requests] == [
        "small", "large", "test-model", "chosen"]


def test_set_model_routing_rejects_an_unknown_mode(model_server):
    transcript = run(model_server, 'SET MODEL ROUTING "cheapest"')
    assert 'SET MODEL ROUTING expects "auto", "cost", "quality" or "manual"' in transcript.error


def test_list_models_and_the_current_model(model_server):
    source = 'm = LIST MODELS\nTALK UBOUND(m)\nTALK m[1]\nc = GET CURRENT MODEL\nTALK c'
    assert says(model_server, source, llm_models="a;b;c") == ["3", "b", "test-model"]
    assert says(model_server, 'm = LIST MODELS\nTALK m') == ['["test-model"]']
    assert model_server.requests == []  # nothing here asks the model


# ---------------------------------------------------------------- helpers


def test_summarize_and_translate_send_short_fixed_prompts(model_server):
    model_server.enqueue("Short.", "Olá")
    source = ('s = SUMMARIZE "A long text."\nTALK s\n'
              't = TRANSLATE "Hello", "Portuguese"\nTALK t')
    assert says(model_server, source) == ["Short.", "Olá"]
    assert sent_prompt(model_server, 0) == (
        "Summarize the text below in a few sentences. Reply with the summary only.\n\n"
        "A long text.")
    assert sent_prompt(model_server, 1) == (
        "Translate the text below into Portuguese. Reply with the translation only.\n\nHello")
    assert all(body["messages"][0]["content"] == KEYWORD_PROMPT
               for body in model_server.requests)


def test_classify_parses_the_json_answer(model_server):
    model_server.enqueue('Sure! {"category": "billing", "confidence": 0.9} Hope that helps.')
    source = ('r = CLASSIFY "I was charged twice", ["billing", "tech"]\n'
              'TALK r.category\nTALK r.confidence')
    assert says(model_server, source) == ["billing", "0.9"]
    assert sent_prompt(model_server) == (
        'Classify the text below into exactly one of these categories: ["billing","tech"].\n'
        'Reply with JSON only: {"category": "<one of the categories>", '
        '"confidence": <a number from 0 to 1>}.\n\nText:\nI was charged twice')


def test_sentiment_forms_share_one_prompt_and_add_label(model_server):
    answer = '{"overall": "negative", "score": 0.1, "escalation_risk": "high"}'
    model_server.enqueue(answer, answer, answer)
    source = '''
s = SENTIMENT "This is awful"
TALK s.overall + " " + s.label + " " + s.score + " " + s.escalation_risk
s = ANALYZE SENTIMENT "session-1", "Still awful"
answers = ["bad", "worse"]
t = ANALYZE SENTIMENT FROM answers
TALK t.label
'''
    assert says(model_server, source) == ["negative negative 0.1 high", "negative"]
    assert [sent_prompt(model_server, i) for i in range(3)] == [
        sentiment_prompt("This is awful"), sentiment_prompt("Still awful"),
        sentiment_prompt('["bad","worse"]')]


def test_validate_reads_valid_as_a_boolean(model_server):
    model_server.enqueue('{"valid": "false", "message": "not an email"}')
    source = 'r = VALIDATE "ann@", "an email address"\nIF NOT r.valid THEN TALK r.message'
    assert says(model_server, source) == ["not an email"]
    assert sent_prompt(model_server) == validate_prompt("ann@", "an email address")


def test_a_helper_answer_without_json_is_a_trappable_error(model_server):
    model_server.enqueue("I cannot classify that.")
    source = 'ON ERROR RESUME NEXT\nr = CLASSIFY "x", "a, b"\nTALK ERROR MESSAGE'
    assert says(model_server, source) == [
        "model error: CLASSIFY expected a JSON object, the model answered: "
        "I cannot classify that."]


def test_calculate_returns_a_number_when_the_answer_is_one(model_server):
    model_server.enqueue("42", "about forty")
    source = '''
x = CALCULATE "6 * 7"
TALK x + 1
y = CALCULATE "total of the items", [{"price": 3}]
TALK y
'''
    assert says(model_server, source) == ["43", "about forty"]
    assert sent_prompt(model_server, 0) == calculate_prompt("6 * 7")
    assert sent_prompt(model_server, 1) == calculate_prompt("total of the items",
                                                            '[{"price":3}]')


def test_text_helpers_send_their_prompts(model_server):
    model_server.enqueue("Better.", "Welcome!", "```python\nprint(1)\n```")
    source = '''
better = IMPROVE TEXT "teh text" WITH TONE "friendly"
TALK better
name = "Acme"
welcome = REWRITE "Write a welcome for ${name}"
TALK welcome
code = GENERATE CODE "print one"
TALK code
'''
    assert says(model_server, source) == ["Better.", "Welcome!", "print(1)"]
    assert [sent_prompt(model_server, i) for i in range(3)] == [
        improve_prompt("teh text", "friendly"), rewrite_prompt("Write a welcome for Acme"),
        generate_code_prompt("print one")]
    assert "in a friendly tone" in sent_prompt(model_server, 0)
