"""The model provider (runtime/services/llm.py) through litellm against the local fake
model server of llm_fixture.py: what is sent, what comes back, how failures read."""
from __future__ import annotations

import asyncio
import socket

import pytest

from botbasic.runtime.config import BotConfig
from botbasic.runtime.errors import BasicError
from botbasic.runtime.services.embeddings import LiteLLMEmbedder
from botbasic.runtime.services.llm import (DEFAULT_TIMEOUT_SECS, Completion, LLMService,
                                           LLMSettings, load_litellm)
from llm_fixture import (QUIET_LITELLM, embedding_of, error_reply, hang_reply,  # noqa: F401
                         model_config, model_server, text_reply, tool_call_reply,
                         tool_calls_reply)

pytestmark = QUIET_LITELLM

USER_HI = [{"role": "user", "content": "hi"}]
LOOKUP_TOOL = {"type": "function", "function": {
    "name": "lookup", "description": "Find a record",
    "parameters": {"type": "object", "properties": {"id": {"type": "integer"}},
                   "required": ["id"]}}}


def service(server, **settings) -> LLMService:
    """A service pointed at the fake server; the environment plays no part."""
    return LLMService.from_config(model_config(server, **settings), environ={})


def complete(llm: LLMService, messages=USER_HI, **options):
    return asyncio.run(llm.complete(messages, **options))


def stream(llm: LLMService, messages=USER_HI, **options) -> tuple[list[str], Completion]:
    async def read():
        answer = await llm.complete(messages, stream=True, **options)
        pieces = [piece async for piece in answer]
        return pieces, answer.result

    return asyncio.run(read())


def failure(llm: LLMService, **options) -> str:
    with pytest.raises(BasicError) as caught:
        complete(llm, **options)
    return caught.value.message


# ---------------------------------------------------------------- answers


def test_a_plain_answer_and_the_request_as_sent(model_server):
    model_server.enqueue(text_reply("Hello there", usage={
        "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]

    result = complete(service(model_server), messages)

    assert (result.text, result.finish_reason, result.tool_calls) == ("Hello there", "stop", [])
    assert result.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    # Exactly this was sent: no temperature, max_tokens, tools or stream unless asked for.
    assert model_server.requests == [{"model": "test-model", "messages": messages}]


def test_the_key_goes_in_the_authorization_header(model_server):
    model_server.enqueue("ok")
    complete(service(model_server, llm_key="sk-test-123"))
    assert model_server.headers[0]["Authorization"] == "Bearer sk-test-123"


def test_temperature_and_max_tokens_come_from_the_config(model_server):
    model_server.enqueue("ok", "ok")
    llm = service(model_server, llm_temperature="0.2", max_tokens="64")
    complete(llm)
    complete(llm, temperature=0.9, max_tokens=8)  # a call's own values win
    first, second = model_server.requests
    assert (first["temperature"], first["max_tokens"]) == (0.2, 64)
    assert (second["temperature"], second["max_tokens"]) == (0.9, 8)


def test_a_streamed_answer_arrives_in_pieces(model_server):
    model_server.enqueue("Hello streaming world")
    pieces, result = stream(service(model_server))
    assert len(pieces) > 1 and "".join(pieces) == "Hello streaming world"
    assert (result.text, result.finish_reason) == ("Hello streaming world", "stop")
    assert model_server.last["stream"] is True


def test_a_tool_call_is_parsed_and_the_tools_are_sent_as_given(model_server):
    model_server.enqueue(tool_call_reply("lookup", {"id": 7}, call_id="call_42"))
    result = complete(service(model_server), tools=[LOOKUP_TOOL])
    assert result.tool_calls == [{"id": "call_42", "name": "lookup", "arguments": {"id": 7}}]
    assert result.finish_reason == "tool_calls"
    assert model_server.last["tools"] == [LOOKUP_TOOL]


def test_a_tool_result_goes_back_with_the_assistant_message(model_server):
    model_server.enqueue(tool_call_reply("lookup", {"id": 7}), "Record 7 is Ann.")
    llm = service(model_server)
    first = complete(llm, tools=[LOOKUP_TOOL])
    follow_up = USER_HI + [first.as_message(),
                           {"role": "tool", "tool_call_id": "call_1", "content": "Ann"}]
    second = complete(llm, follow_up, tools=[LOOKUP_TOOL])
    assert second.text == "Record 7 is Ann."
    sent = model_server.last["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["tool_calls"] == [{"id": "call_1", "type": "function", "function": {
        "name": "lookup", "arguments": '{"id": 7}'}}]
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "Ann"}


def test_streamed_tool_calls_are_put_together(model_server):
    model_server.enqueue(tool_calls_reply(("lookup", {"id": 7}), ("lookup", {"id": 8})))
    pieces, result = stream(service(model_server), tools=[LOOKUP_TOOL])
    assert pieces == []
    assert result.tool_calls == [{"id": "call_1", "name": "lookup", "arguments": {"id": 7}},
                                 {"id": "call_2", "name": "lookup", "arguments": {"id": 8}}]
    assert result.finish_reason == "tool_calls"


def test_tool_arguments_that_are_not_json_are_reported_not_raised(model_server):
    model_server.enqueue(tool_call_reply("lookup", "{not json"))
    (call,) = complete(service(model_server), tools=[LOOKUP_TOOL]).tool_calls
    assert call["arguments"] == {} and "not valid JSON" in call["error"]


# ---------------------------------------------------------------- failures


def test_a_model_that_does_not_answer_times_out_with_a_clear_error(model_server):
    model_server.enqueue(hang_reply())
    message = failure(service(model_server, llm_timeout_secs="0.2"))
    assert message == "the model did not answer within 0.2 s"


def test_a_stream_that_does_not_start_times_out_too(model_server):
    model_server.enqueue(hang_reply())
    with pytest.raises(BasicError, match="did not answer within 0.2 s"):
        stream(service(model_server, llm_timeout_secs="0.2"))


def test_a_server_error_is_a_model_error_and_is_not_retried(model_server):
    model_server.enqueue(error_reply(500, "the GPU caught fire"))
    assert failure(service(model_server)) == "model error: the GPU caught fire"
    assert len(model_server.requests) == 1


def test_the_key_never_appears_in_an_error(model_server):
    model_server.enqueue(error_reply(401, "Incorrect API key provided: sk-secret-9"))
    message = failure(service(model_server, llm_key="sk-secret-9"))
    assert message == "model error: Incorrect API key provided: ***"


def test_an_unreachable_server_is_a_model_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = LLMService.from_config({"llm-url": f"http://127.0.0.1:{port}/v1",
                                  "llm-model": "m"}, environ={})
    assert failure(llm).startswith("model error: ")


def test_without_a_model_nothing_is_sent():
    llm = LLMService.from_config({}, environ={})
    assert not llm.configured
    assert failure(llm) == "no model is configured"


# ---------------------------------------------------------------- settings


def test_a_model_behind_llm_url_uses_the_openai_compatible_provider():
    options = service_options({"llm-url": "http://h/v1", "llm-model": "qwen2.5"})
    assert options["model"] == "openai/qwen2.5"
    assert (options["api_base"], options["api_key"]) == ("http://h/v1", "no-key")


def test_a_model_naming_its_provider_keeps_it():
    options = service_options({"llm-url": "http://h", "llm-model": "ollama/llama3"})
    assert options["model"] == "ollama/llama3"


def test_a_hosted_model_goes_to_litellm_as_written():
    options = service_options({"llm-model": "gpt-4o-mini", "llm-key": "k"})
    assert options == {"model": "gpt-4o-mini", "api_key": "k", "timeout": DEFAULT_TIMEOUT_SECS,
                       "max_retries": 0}


def test_llm_provider_prefixes_a_bare_model():
    assert service_options({"llm-provider": "anthropic", "llm-model": "claude-x"})["model"] \
        == "anthropic/claude-x"


def test_the_environment_gives_defaults_that_config_overrides():
    environ = {"BOTBASIC_LLM_MODEL": "env-model", "BOTBASIC_LLM_URL": "http://env/v1",
               "BOTBASIC_LLM_KEY": "env-key"}
    from_env = LLMSettings.from_config({}, environ)
    assert (from_env.model, from_env.url, from_env.key) == ("env-model", "http://env/v1",
                                                            "env-key")
    mixed = LLMSettings.from_config({"llm-model": "bot-model", "llm-key": ""}, environ)
    assert (mixed.model, mixed.url, mixed.key) == ("bot-model", "http://env/v1", "env-key")


def test_settings_read_from_a_config_file_text():
    config = BotConfig([("LLM Model", "m"), ("llm-temperature", "0.5"), ("Max Tokens", "100"),
                        ("llm-timeout-secs", "12"), ("history-limit", "4"),
                        ("model-fast", "small"), ("llm-models", "a; b;;c")])
    settings = LLMSettings.from_config(config, environ={})
    assert (settings.model, settings.temperature, settings.max_tokens) == ("m", 0.5, 100)
    assert (settings.timeout, settings.history_limit) == (12.0, 4)
    assert settings.aliases == {"fast": "small"} and settings.models == ("a", "b", "c")
    defaults = LLMSettings.from_config({"llm-model": "m", "llm-timeout-secs": "soon"}, {})
    assert (defaults.timeout, defaults.history_limit, defaults.temperature) == (45.0, 10, None)


def test_the_key_is_not_in_the_settings_repr():
    assert "sk-hidden" not in repr(LLMSettings.from_config({"llm-key": "sk-hidden"}, {}))


def service_options(config: dict) -> dict:
    load_litellm()  # provider prefixes are litellm's list
    return LLMService.from_config(config, environ={}).request_options()


# ---------------------------------------------------------------- the fixture's embeddings


def test_the_fixture_serves_embeddings_to_litellm(model_server):
    load_litellm()  # imported the quiet way before the embedder's plain import
    embedder = LiteLLMEmbedder("openai/text-embedding-3-small", api_base=model_server.url,
                               api_key="k")
    vectors = embedder.embed(["alpha", "beta"])
    assert vectors.shape == (2, 8)
    assert list(vectors[0]) == pytest.approx(embedding_of("alpha"), abs=1e-6)
    assert model_server.embedding_requests[0]["input"] == ["alpha", "beta"]
