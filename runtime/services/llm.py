"""The model provider: chat completions through ``litellm`` (DIALECT §9.3, §7.3 step 5).

``LLMService.from_config(config)`` reads the bot's settings (config.csv), with server-wide
defaults from the environment:

| config.csv | environment | meaning |
|---|---|---|
| ``llm-model`` | ``BOTBASIC_LLM_MODEL`` | litellm model (``gpt-4o-mini``, ``ollama/llama3``) |
| ``llm-url`` | ``BOTBASIC_LLM_URL`` | base URL of an OpenAI-compatible server |
| ``llm-key`` | ``BOTBASIC_LLM_KEY`` | its API key (never logged, masked in error messages) |
| ``llm-provider`` | | provider prefix for a model written without one |
| ``llm-temperature`` / ``temperature`` | | sampling temperature (sent only when set) |
| ``max-tokens`` | | answer length limit (sent only when set) |
| ``llm-timeout-secs`` | | seconds to wait for an answer (default 45) |
| ``history-limit`` | | user/assistant pairs of history an LLM turn sends (default 10) |
| ``model-fast`` / ``-quality`` / ``-code`` / ``-default`` | | ``USE MODEL`` aliases |
| ``llm-models`` | | ``a;b;c``: what ``LIST MODELS`` shows |
| ``llm-keyword-prompt`` | | the system message of the ``LLM`` keyword |

Each setting falls back to its environment variable on its own. When ``llm-url`` is set
and the model names no litellm provider, the model goes to litellm's OpenAI-compatible
provider (``openai/<model>`` with ``api_base=llm-url``).

``await service.complete(messages, ...)`` returns a ``Completion`` (text, tool calls,
finish reason, usage); with ``stream=True`` a ``CompletionStream``: ``async for`` gives
the text as it arrives, then ``stream.result`` holds the whole ``Completion``. Provider
errors and timeouts become ``BasicError`` ("the model did not answer within 45 s",
"model error: ..."), so scripts trap them with ``ON ERROR``.

litellm is imported on the first call (its import costs seconds and it is useless to a
bot without a model), in a worker thread so a running server keeps serving meanwhile;
before the import ``LITELLM_LOCAL_MODEL_COST_MAP`` is set so it reads its bundled cost
map instead of fetching one, and its callbacks and log output are switched off.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Mapping, Optional, Union

from ..config import BotConfig
from ..errors import BasicError

DEFAULT_TIMEOUT_SECS = 45.0
DEFAULT_HISTORY_LIMIT = 10
# litellm enforces the timeout on the HTTP exchange; this loop-side deadline, a little
# later, only catches a hang elsewhere. Cancelling litellm before its own timeout would
# cut it mid-setup (its first call spends a fraction of a second preparing clients).
TIMEOUT_GRACE_SECS = 5.0
# The placeholder key sent to a keyless OpenAI-compatible server (llama.cpp, vLLM ...):
# the OpenAI client refuses to send a request without one.
NO_KEY = "no-key"
ENV_MODEL, ENV_URL, ENV_KEY = "BOTBASIC_LLM_MODEL", "BOTBASIC_LLM_URL", "BOTBASIC_LLM_KEY"
MODEL_ALIASES = ("fast", "quality", "code", "default")
ROUTING_MODES = ("auto", "cost", "quality", "manual")
# Which alias a routing mode or an LLM ... WITH OPTIMIZE FOR hint prefers (§9.3.4, §9.3.5).
ROUTING_ALIASES = {"cost": "fast", "quality": "quality"}
HINT_ALIASES = {"speed": "fast", "cost": "fast", "quality": "quality", "balanced": "default"}
# litellm options set before and after its import (see module doc).
_LITELLM_ENVIRONMENT = {"LITELLM_LOCAL_MODEL_COST_MAP": "True",
                        "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
                        "LITELLM_LOG": "ERROR"}
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")

log = logging.getLogger("botbasic.llm")

# litellm's response types trip a pydantic warning the first time a stream is read; it is
# about litellm's own typing and tells a bot's operator nothing. Registered at import, not
# at litellm's import, so that it holds wherever the first stream happens.
warnings.filterwarnings("ignore", category=UserWarning,
                        message=r"Item '\w+' on TypedDict class '\w+' is using the `ReadOnly`")

ConfigLike = Union[BotConfig, Mapping[str, str], None]


# ---------------------------------------------------------------- settings


def _clean(value: Optional[str]) -> Optional[str]:
    """A setting's value, None when absent or blank (config.csv often has ``key,``)."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


@dataclass(frozen=True)
class LLMSettings:
    """The model settings of one bot (see module doc)."""

    model: Optional[str] = None
    url: Optional[str] = None
    key: Optional[str] = field(default=None, repr=False)
    provider: Optional[str] = None
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None
    timeout: float = DEFAULT_TIMEOUT_SECS
    history_limit: int = DEFAULT_HISTORY_LIMIT
    aliases: Mapping[str, str] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    keyword_prompt: Optional[str] = None
    language: Optional[str] = None

    @classmethod
    def from_config(cls, config: ConfigLike = None,
                    environ: Optional[Mapping[str, str]] = None) -> "LLMSettings":
        """Read config.csv settings (a ``BotConfig`` or a plain dict), then the environment."""
        config = _as_config(config)
        environ = os.environ if environ is None else environ
        temperature = config.get_float("llm-temperature", config.get_float("temperature"))
        timeout = config.get_float("llm-timeout-secs")
        return cls(
            model=_clean(config.get("llm-model")) or _clean(environ.get(ENV_MODEL)),
            url=_clean(config.get("llm-url")) or _clean(environ.get(ENV_URL)),
            key=_clean(config.get("llm-key")) or _clean(environ.get(ENV_KEY)),
            provider=_clean(config.get("llm-provider")),
            temperature=temperature,
            max_tokens=config.get_int("max-tokens"),
            timeout=timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT_SECS,
            history_limit=config.get_int("history-limit", DEFAULT_HISTORY_LIMIT),
            aliases={alias: value for alias in MODEL_ALIASES
                     if (value := _clean(config.get(f"model-{alias}")))},
            models=tuple(m.strip() for m in (config.get("llm-models") or "").split(";")
                         if m.strip()),
            keyword_prompt=_clean(config.get("llm-keyword-prompt")),
            language=_clean(config.get("default-language")),
        )

    def model_for(self, choice: Optional[str] = None) -> Optional[str]:
        """The model id a session choice means: an alias (``fast`` -> ``model-fast``), an
        explicit id as it is, or ``llm-model`` for no choice, ``auto`` and ``default``."""
        name = _clean(choice)
        if name is None or name.lower() == "auto":
            return self.aliases.get("default") or self.model
        alias = name.lower()
        if alias in MODEL_ALIASES:
            return self.aliases.get(alias) or self.model
        return name

    def pick_model(self, choice: Optional[str] = None, routing: Optional[str] = None,
                   hint: Optional[str] = None) -> Optional[str]:
        """The model of one call (§9.3.5): the session's ``USE MODEL`` choice wins; else,
        unless routing is ``manual``, a call's ``OPTIMIZE FOR`` hint or the session's
        routing (``cost``, ``quality``) selects an alias; else ``llm-model``."""
        if _clean(choice) and choice.strip().lower() != "auto":
            return self.model_for(choice)
        routing = (routing or "").strip().lower()
        if routing == "manual":
            return self.model_for(None)
        hint = (hint or "").strip().lower()
        preference = HINT_ALIASES.get(hint) or ROUTING_ALIASES.get(routing)
        return self.model_for(preference)


def _as_config(config: ConfigLike) -> BotConfig:
    if isinstance(config, BotConfig):
        return config
    return BotConfig((config or {}).items())


# ---------------------------------------------------------------- results


@dataclass
class Completion:
    """One answer of the model.

    ``tool_calls`` are ``{"id", "name", "arguments"}`` dicts with ``arguments`` parsed
    into a dict; a call whose arguments are not a JSON object also has ``"error"``.
    ``usage`` has ``prompt_tokens``, ``completion_tokens`` and ``total_tokens`` when the
    provider reported them.
    """

    text: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: Optional[str] = None
    usage: dict = field(default_factory=dict)
    model: Optional[str] = None

    def as_message(self) -> dict:
        """The assistant message to put back into the conversation (tool loop, history)."""
        message: dict = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": call["id"], "type": "function",
                 "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}
                for call in self.tool_calls]
        elif message["content"] is None:
            message["content"] = ""
        return message


def parse_tool_call(call_id: Optional[str], name: Optional[str], arguments: Any) -> dict:
    """A tool call as ``Completion.tool_calls`` holds it (``arguments`` JSON text or dict)."""
    entry: dict = {"id": call_id or "", "name": name or "", "arguments": {}}
    if isinstance(arguments, dict):
        entry["arguments"] = arguments
        return entry
    text = (arguments or "").strip() or "{}"
    try:
        parsed = json.loads(text)
    except ValueError:
        entry["error"] = f"the arguments are not valid JSON: {text[:200]}"
        return entry
    if isinstance(parsed, dict):
        entry["arguments"] = parsed
    else:
        entry["error"] = f"the arguments are not a JSON object: {text[:200]}"
    return entry


def _usage_of(response: Any) -> dict:
    usage = getattr(response, "usage", None)
    if usage is None:
        return {}
    names = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {name: getattr(usage, name) for name in names if getattr(usage, name, None) is not None}


def completion_of(response: Any) -> Completion:
    """A ``Completion`` from a litellm (OpenAI-shaped) response object."""
    choice = response.choices[0]
    message = choice.message
    calls = [parse_tool_call(call.id, call.function.name, call.function.arguments)
             for call in (getattr(message, "tool_calls", None) or [])]
    return Completion(text=message.content or "", tool_calls=calls,
                      finish_reason=choice.finish_reason, usage=_usage_of(response),
                      model=getattr(response, "model", None))


class CompletionStream:
    """A streamed answer: ``async for text in stream`` gives the text pieces as they come;
    afterwards ``stream.result`` is the whole ``Completion`` (tool calls included).

    ``idle_timeout`` bounds the wait for each next piece, so a long answer that keeps
    coming is not cut, while a model that stops sending is reported.
    """

    def __init__(self, chunks: AsyncIterator, idle_timeout: float, fail):
        self._chunks = chunks.__aiter__()
        self._idle_timeout = idle_timeout
        self._fail = fail  # turns a provider exception into a BasicError
        self._text: list[str] = []
        self._calls: dict[int, dict] = {}
        self._finish_reason: Optional[str] = None
        self._usage: dict = {}
        self._model: Optional[str] = None
        self.result: Optional[Completion] = None

    def __aiter__(self) -> "CompletionStream":
        return self

    async def __anext__(self) -> str:
        while True:
            chunk = await self._next_chunk()
            if chunk is None:
                self._finish()
                raise StopAsyncIteration
            text = self._absorb(chunk)
            if text:
                return text

    async def _next_chunk(self) -> Any:
        # asyncio.timeout, not wait_for: wait_for makes a task per chunk and always yields
        # to the loop, which cost ~1.5 ms per streamed answer (benchmarks/llm_overhead.py).
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None
        except Exception as error:  # provider errors, timeouts: see LLMService._error
            raise self._fail(error) from None

    def _absorb(self, chunk: Any) -> str:
        """Take in one chunk; its text (may be empty)."""
        self._usage = _usage_of(chunk) or self._usage
        self._model = getattr(chunk, "model", None) or self._model
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        self._finish_reason = choice.finish_reason or self._finish_reason
        delta = choice.delta
        for call in getattr(delta, "tool_calls", None) or []:
            self._absorb_tool_call(call)
        text = getattr(delta, "content", None) or ""
        if text:
            self._text.append(text)
        return text

    def _absorb_tool_call(self, call: Any) -> None:
        """Tool calls arrive in fragments keyed by index: id and name once, arguments in pieces."""
        index = getattr(call, "index", None) or 0
        entry = self._calls.setdefault(index, {"id": None, "name": None, "arguments": []})
        entry["id"] = getattr(call, "id", None) or entry["id"]
        function = getattr(call, "function", None)
        if function is not None:
            entry["name"] = getattr(function, "name", None) or entry["name"]
            entry["arguments"].append(getattr(function, "arguments", None) or "")

    def _finish(self) -> None:
        if self.result is not None:
            return
        calls = [parse_tool_call(c["id"], c["name"], "".join(c["arguments"]))
                 for _, c in sorted(self._calls.items())]
        self.result = Completion(text="".join(self._text), tool_calls=calls,
                                 finish_reason=self._finish_reason, usage=self._usage,
                                 model=self._model)

    async def aclose(self) -> None:
        """Stop reading early (the user went away): close the provider's stream."""
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing a broken stream must not raise over the real cause
                log.debug("closing a model stream failed", exc_info=True)
        self._finish()

    async def collect(self) -> Completion:
        """Read the rest of the stream; the whole ``Completion``."""
        async for _ in self:
            pass
        self._finish()
        return self.result


# ---------------------------------------------------------------- litellm


_litellm_module = None
_litellm_lock = threading.Lock()


def load_litellm():
    """Import and quiet litellm once (see module doc); the module."""
    global _litellm_module
    with _litellm_lock:
        if _litellm_module is None:
            for name, value in _LITELLM_ENVIRONMENT.items():
                os.environ.setdefault(name, value)
            import litellm  # deferred on purpose: a multi-second import

            _quiet(litellm)
            _litellm_module = litellm
    return _litellm_module


def _quiet(litellm) -> None:
    """No callbacks, no message logging, no "give feedback" prints, errors-only logs."""
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    litellm.turn_off_message_logging = True
    litellm.callbacks = []
    litellm.success_callback = []
    litellm.failure_callback = []
    litellm._async_success_callback = []
    litellm._async_failure_callback = []
    for name in _LITELLM_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


async def _litellm_async():
    """litellm, imported in a worker thread the first time (the event loop keeps running)."""
    if _litellm_module is not None:
        return _litellm_module
    return await asyncio.to_thread(load_litellm)


# Prefixes litellm puts in front of provider messages; the script's error shows the rest:
# "litellm.InternalServerError: InternalServerError: OpenAIException - boom" -> "boom".
_ERROR_PREFIX = re.compile(r"^(litellm\.\w+:\s*)?(\w*Error:\s*)?(\w*Exception\s*-\s*)?")


# ---------------------------------------------------------------- the service


class LLMService:
    """Chat completions for one bot (see module doc)."""

    def __init__(self, settings: Optional[LLMSettings] = None):
        self.settings = settings or LLMSettings()

    @classmethod
    def from_config(cls, config: ConfigLike = None,
                    environ: Optional[Mapping[str, str]] = None) -> "LLMService":
        return cls(LLMSettings.from_config(config, environ))

    @property
    def configured(self) -> bool:
        """Whether a model is set (by config.csv or the environment)."""
        return self.settings.model is not None

    def provider_model(self, model: str) -> str:
        """The litellm model string for ``model`` (see module doc: provider prefixes)."""
        prefix, slash, _ = model.partition("/")
        if slash and prefix.lower() in _known_providers():
            return model
        if self.settings.provider:
            return f"{self.settings.provider}/{model}"
        if self.settings.url:
            return f"openai/{model}"
        return model

    def request_options(self, model: Optional[str] = None, *, tools: Optional[list] = None,
                        stream: bool = False, temperature: Optional[float] = None,
                        max_tokens: Optional[int] = None) -> dict:
        """The keyword arguments of ``litellm.acompletion`` (all but ``messages``)."""
        settings = self.settings
        chosen = settings.model_for(model)
        if chosen is None:
            raise BasicError("no model is configured")
        options: dict = {"model": self.provider_model(chosen), "timeout": settings.timeout,
                         "max_retries": 0}  # one try: a retry would double the wait
        if settings.url:
            options["api_base"] = settings.url
        if settings.key or settings.url:
            options["api_key"] = settings.key or NO_KEY
        temperature = settings.temperature if temperature is None else temperature
        if temperature is not None:
            options["temperature"] = temperature
        max_tokens = settings.max_tokens if max_tokens is None else max_tokens
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
        if tools:
            options["tools"] = list(tools)
        if stream:
            options["stream"] = True
        return options

    async def complete(self, messages: list, *, model: Optional[str] = None,
                       tools: Optional[list] = None, stream: bool = False,
                       temperature: Optional[float] = None, max_tokens: Optional[int] = None,
                       timeout: Optional[float] = None) -> Union[Completion, CompletionStream]:
        """Ask the model (see module doc). ``model`` is a session choice: an alias or an id;
        ``timeout`` (seconds) may shorten the configured one for this call."""
        if self.settings.model_for(model) is None:
            raise BasicError("no model is configured")
        await _litellm_async()  # before request_options: provider prefixes come from it
        options = self.request_options(model, tools=tools, stream=stream,
                                       temperature=temperature, max_tokens=max_tokens)
        if timeout is not None and timeout > 0:
            options["timeout"] = min(options["timeout"], timeout)
        litellm = _litellm_module
        wait = options["timeout"]
        try:
            async with asyncio.timeout(wait + TIMEOUT_GRACE_SECS):
                response = await litellm.acompletion(messages=list(messages), **options)
        except Exception as error:
            raise self._error(error, wait) from None
        if stream:
            return CompletionStream(response, wait, lambda error: self._error(error, wait))
        return completion_of(response)

    def _error(self, error: BaseException, timeout: float) -> BasicError:
        """The script-facing error for a provider exception (keys masked)."""
        if _is_timeout(error):
            return BasicError(f"the model did not answer within {timeout:g} s")
        message = str(getattr(error, "message", None) or error or type(error).__name__)
        message = _ERROR_PREFIX.sub("", message.strip(), count=1).strip() or type(error).__name__
        if self.settings.key:
            message = message.replace(self.settings.key, "***")
        log.warning("model error: %s", message)
        return BasicError(f"model error: {message}")


def _is_timeout(error: BaseException) -> bool:
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return True
    litellm = _litellm_module
    return litellm is not None and isinstance(error, litellm.Timeout)


_providers_cache: Optional[frozenset] = None


def _known_providers() -> frozenset:
    """litellm's provider names (``openai``, ``anthropic``, ``ollama`` ...), lower case."""
    global _providers_cache
    if _providers_cache is None:
        litellm = load_litellm()
        _providers_cache = frozenset(str(getattr(p, "value", p)).lower()
                                     for p in litellm.provider_list)
    return _providers_cache
