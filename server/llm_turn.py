"""The LLM turn of message routing (DIALECT §7.3 step 5, §7.3 step 6), as a replaceable part.

``Conversations`` calls ``answer(host, text)`` for a message no script took, and
``resume(host, saved, execution)`` when the user answers the HEAR of a tool the model
called; ``host`` is a ``llm_host.TurnHost``. ``create_app(llm=...)`` may inject another
implementation; the server's default is ``ModelTurn``:

* a bot without a model (no ``llm-model``, no ``BOTBASIC_LLM_MODEL``) answers with its
  ``no-model-message`` (``NoModelTurn``);
* otherwise the request is built (``llm_prompt.py``): system prompt, contexts, the
  knowledge-base excerpts found for the message in the session's active collections
  (``rag-top-k`` chunks, default 5, scoring at least ``rag-min-score``), history, the
  user's message, and the schemas of the session's tools; the semantic cache
  (``llm_cache.py``) may answer instead; ``tool_loop.py`` talks with the model and runs
  the tools;
* a provider error or timeout is logged and answered with ``llm-error-message`` (default:
  the bot's ``error-message``). A knowledge base that cannot be searched is logged and
  the turn goes on without excerpts.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Protocol

from ..keywords.llm import current_model
from ..runtime.errors import BasicError
from .llm_cache import CacheSettings, SemanticCache, context_key
from .llm_prompt import (DEFAULT_CONTEXT_CHARS, DEFAULT_KB_CHARS, assemble, history_messages,
                         knowledge_message, system_prompt)
from .tool_loop import DEFAULT_MAX_ROUNDS, LoopResult, ToolLoop, ToolOffer

log = logging.getLogger("botbasic.llm")


class LlmTurn(Protocol):
    """Answers a message no script took (see module doc)."""

    async def answer(self, host, text: str) -> None:
        ...

    async def resume(self, host, saved: dict, execution) -> None:
        ...


class NoModelTurn:
    """The answer of a bot without a model: its configured ``no-model-message``."""

    async def answer(self, host, text: str) -> None:
        host.say(host.runtime.settings.no_model_message)

    async def resume(self, host, saved: dict, execution) -> None:
        """The tool finishes (or waits again); then there is no model to go on with."""
        run = await host.continue_tool(execution)
        if run.outcome.status == "waiting":
            await host.keep_waiting(run, saved.get("script") or "", saved["llm"])
            return
        host.say(host.runtime.settings.no_model_message)

    async def close(self) -> None:
        pass


class ModelTurn:
    """The LLM turn of a bot with a model (see module doc)."""

    def __init__(self, cache: Optional[SemanticCache] = None) -> None:
        self.cache = cache or SemanticCache()
        self._no_model = NoModelTurn()

    async def answer(self, host, text: str) -> None:
        service = _model_service(host)
        if service is None:
            await self._no_model.answer(host, text)
            return
        try:
            await self._answer(host, service, text)
        except BasicError as error:
            self._apologise(host, error)

    async def resume(self, host, saved: dict, execution) -> None:
        # Even when the model was unset meanwhile: the tool finishes (or waits again),
        # and the model call that follows is answered with the apology.
        service = getattr(host.runtime.services, "llm", None)
        if service is None:
            await self._no_model.resume(host, saved, execution)
            return
        try:
            await self._loop(host, service).resume(saved, execution)
        except BasicError as error:
            self._apologise(host, error)

    async def close(self) -> None:
        await self.cache.close()

    # ------------------------------------------------------------ one answer

    async def _answer(self, host, service, text: str) -> None:
        loop = self._loop(host, service)
        system = system_prompt(host.runtime.bot, host.runtime.title, host.session,
                               _setting(host, "context-max-chars", DEFAULT_CONTEXT_CHARS))
        cached = await _CacheTurn.open(self.cache, host, loop, system, text)
        if cached is not None and await cached.answered():
            return
        knowledge = await self._knowledge(host, text)
        history = history_messages(await host.history(service.settings.history_limit))
        result: LoopResult = await loop.run(assemble(system, knowledge, history, text))
        if cached is not None and result.text and not result.used_tools:
            await cached.keep(result.text)

    def _loop(self, host, service) -> ToolLoop:
        offer = ToolOffer.for_session(getattr(host.runtime.services, "tools", None), host.session)
        rounds = _setting(host, "llm-max-tool-rounds", DEFAULT_MAX_ROUNDS)
        return ToolLoop(host, service, current_model(host.ctx, service), offer, rounds)

    async def _knowledge(self, host, text: str) -> Optional[dict]:
        """The KB excerpts message for ``text``; None without active collections."""
        kb = getattr(host.runtime.services, "kb", None)
        active = list(host.session.kb_collections)
        if kb is None or not active:
            return None
        try:
            results = await kb.search(text, active)
        except Exception as error:  # noqa: BLE001 - answer without excerpts rather than not at all
            log.error("knowledge-base search failed: %s", error,
                      extra={"bot": host.runtime.name, "session": host.session_id})
            return None
        return knowledge_message(results, _setting(host, "rag-max-chars", DEFAULT_KB_CHARS))

    def _apologise(self, host, error: BasicError) -> None:
        log.error("LLM turn failed: %s", error.message,
                  extra={"bot": host.runtime.name, "session": host.session_id})
        host.count("llm_errors")
        config = host.runtime.bot.config
        apology = (config.get("llm-error-message") or "").strip() if config is not None else ""
        host.say(apology or host.runtime.settings.error_message)


class _CacheTurn:
    """The semantic cache's part in one answer: lookup, then maybe keep the answer."""

    def __init__(self, cache: SemanticCache, host, settings: CacheSettings, namespace: str,
                 vector) -> None:
        self.cache, self.host, self.settings = cache, host, settings
        self.namespace, self.vector = namespace, vector

    @classmethod
    async def open(cls, cache: SemanticCache, host, loop: ToolLoop, system: str,
                   text: str) -> Optional["_CacheTurn"]:
        """None when the bot does not use the cache (or cannot embed)."""
        settings = CacheSettings.from_config(host.runtime.bot.config)
        kb = getattr(host.runtime.services, "kb", None)
        if not settings.enabled or kb is None:
            return None
        try:
            vector = await kb.embed(text)
        except Exception as error:  # noqa: BLE001 - no embedder: no cache
            log.warning("LLM cache off for this message: %s", error)
            return None
        namespace = context_key(host.runtime.name, loop.model, system, loop.offer.schemas())
        return cls(cache, host, settings, namespace, vector)

    async def answered(self) -> bool:
        """Say the cached answer when there is one (counted as hit or miss)."""
        text = await self.cache.lookup(self.namespace, self.vector, self.settings.threshold)
        self.host.count("llm_cache_hits" if text is not None else "llm_cache_misses")
        if text is None:
            return False
        self.host.say(text)
        return True

    async def keep(self, text: str) -> None:
        await self.cache.store(self.namespace, self.vector, text, self.settings.ttl)


def _model_service(host) -> Any:
    service = getattr(host.runtime.services, "llm", None)
    return service if service is not None and service.configured else None


def _setting(host, key: str, default: int) -> int:
    config = host.runtime.bot.config
    value = config.get_int(key) if config is not None else None
    return value if value is not None and value >= 0 else default
