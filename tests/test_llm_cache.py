"""The semantic cache of LLM answers (server/llm_cache.py) through the real chat server and
the fixture model server: hits for similar messages under the same prompt context, misses
otherwise, no caching of tool turns, the /metrics counters, and the Redis backend (the
running Redis of ``$REDIS_URL_TEST``) shared by two servers."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from botbasic.server.llm_cache import REDIS_PREFIX, SemanticCache
from botbasic.server.llm_turn import ModelTurn
from llm_fixture import QUIET_LITELLM, model_config, model_server, tool_call_reply  # noqa: F401
from server_support import running, say, settings_for, texts, write_bot

pytestmark = QUIET_LITELLM

REDIS_URL = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/0")
QUESTION = "How do I reset my password?"
PARAPHRASE = "how do i reset my password"  # MiniLM cosine to QUESTION: 0.994
OTHER = "What are the office hours?"  # cosine 0.06


def run(coro):
    return asyncio.run(coro)


def cache_config(server, **settings) -> dict:
    return model_config(server, llm_cache="true", **settings)


async def metric(client, name: str, bot: str) -> int:
    text = await (await client.get("/metrics")).text()
    prefix = f'{name}{{bot="{bot}"}} '
    found = [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]
    return int(found[0]) if found else 0


async def counts(client, bot: str) -> tuple[int, int]:
    return (await metric(client, "botbasic_llm_cache_hits_total", bot),
            await metric(client, "botbasic_llm_cache_misses_total", bot))


def test_similar_messages_are_answered_from_the_cache(tmp_path, model_server):
    bots = tmp_path / "bots"
    write_bot(bots, "c", {}, cache_config(model_server))
    model_server.enqueue("Use the reset page.", "8 to 18.")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            first = await say(client, "c", QUESTION)
            again = await say(client, "c", PARAPHRASE)  # another session, same prompt context
            other = await say(client, "c", OTHER)
            history = await (await client.get(
                f"/api/bots/c/sessions/{again['session_id']}/history")).json()
            return first, again, other, history, await counts(client, "c")

    first, again, other, history, (hits, misses) = run(scenario())
    assert [texts(r) for r in (first, again, other)] == [
        ["Use the reset page."], ["Use the reset page."], ["8 to 18."]]
    assert [r["messages"][-1]["content"] for r in model_server.requests] == [QUESTION, OTHER]
    assert (hits, misses) == (1, 2)
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", PARAPHRASE), ("bot", "Use the reset page.")]


def test_cache_is_off_by_default(tmp_path, model_server):
    bots = tmp_path / "bots"
    write_bot(bots, "off", {}, model_config(model_server))
    model_server.enqueue("one", "two")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            answers = [texts(await say(client, "off", QUESTION)) for _ in range(2)]
            return answers, await counts(client, "off")

    answers, (hits, misses) = run(scenario())
    assert answers == [["one"], ["two"]] and (hits, misses) == (0, 0)
    assert len(model_server.requests) == 2


def test_another_prompt_context_or_threshold_misses(tmp_path, model_server):
    bots = tmp_path / "bots"
    start = 'SET CONTEXT "user" AS "The user is " + user.id'
    write_bot(bots, "ctx", {"start": start}, cache_config(model_server))
    write_bot(bots, "strict", {}, cache_config(model_server, llm_cache_threshold="0.999"))
    write_bot(bots, "exact", {}, cache_config(model_server, llm_cache_semantic="false"))
    model_server.respond_with(lambda body: "answer " + body["messages"][-1]["content"])

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            said = []
            for bot, user, text in [("ctx", "ann", QUESTION), ("ctx", "bob", QUESTION),
                                    ("ctx", "ann", QUESTION), ("strict", "u", QUESTION),
                                    ("strict", "u", PARAPHRASE), ("exact", "u", QUESTION),
                                    ("exact", "u", PARAPHRASE), ("exact", "v", QUESTION)]:
                said.append(texts(await say(client, bot, text, user_id=user))[0])
            return said, [await counts(client, bot) for bot in ("ctx", "strict", "exact")]

    said, tallies = run(scenario())
    assert said == [f"answer {QUESTION}", f"answer {QUESTION}", f"answer {QUESTION}",
                    f"answer {QUESTION}", f"answer {PARAPHRASE}", f"answer {QUESTION}",
                    f"answer {PARAPHRASE}", f"answer {QUESTION}"]
    # ctx: bob's context differs (miss), ann's again hits; strict and exact: paraphrases miss.
    assert tallies == [(1, 2), (0, 2), (1, 2)]
    assert len(model_server.requests) == 6  # 8 messages, 2 hits


def test_turns_that_call_tools_are_not_cached(tmp_path, model_server):
    bots = tmp_path / "bots"
    tool = 'DESCRIPTION "Reset a password"\nTALK "Reset link sent."'
    write_bot(bots, "tools", {"start": 'ADD TOOL "reset"', "reset": tool}, cache_config(model_server))
    model_server.enqueue(tool_call_reply("reset", {}), "Check your mail.",
                         tool_call_reply("reset", {}), "Check your mail again.")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            first = await say(client, "tools", QUESTION)
            second = await say(client, "tools", QUESTION)
            return first, second, await counts(client, "tools")

    first, second, tally = run(scenario())
    assert texts(first) == ["Reset link sent.", "Check your mail."]
    assert texts(second) == ["Reset link sent.", "Check your mail again."]
    assert tally == (0, 2) and len(model_server.requests) == 4


# ---------------------------------------------------------------- Redis


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # an unreachable Redis fails the test
    yield client
    client.close()


def test_redis_cache_is_shared_between_servers(tmp_path, model_server, redis_client):
    bot = f"shared{uuid.uuid4().hex[:8]}"
    bots = tmp_path / "bots"
    write_bot(bots, bot, {}, cache_config(model_server, llm_cache_ttl="120"))
    model_server.enqueue("Use the reset page.")

    def server(name: str):  # two servers: own data folders, one Redis
        turn = ModelTurn(SemanticCache(env={"REDIS_URL": REDIS_URL}))
        return running(settings_for("sqlite", tmp_path / name, bots), llm=turn)

    async def scenario():
        async with server("a") as first, server("b") as second:
            asked = await say(first, bot, QUESTION)
            cached = await say(second, bot, PARAPHRASE)
            return asked, cached, await counts(first, bot), await counts(second, bot)

    try:
        asked, cached, tally_a, tally_b = run(scenario())
        keys = redis_client.keys(f"{REDIS_PREFIX}{bot}:*")
        assert len(keys) == 1
        assert 0 < redis_client.ttl(keys[0]) <= 120
        assert redis_client.llen(keys[0]) == 1
    finally:
        for key in redis_client.keys(f"{REDIS_PREFIX}{bot}:*"):
            redis_client.delete(key)
    assert texts(asked) == texts(cached) == ["Use the reset page."]
    assert (tally_a, tally_b) == ((0, 1), (1, 0))
    assert len(model_server.requests) == 1
