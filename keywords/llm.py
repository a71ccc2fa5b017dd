"""The LLM keyword and model selection (DIALECT §9.3.4, §9.3.5).

``x = LLM prompt`` is a one-shot call: a short fixed system message and the prompt, with
no history, contexts, knowledge base or tools; it returns the model's text, which scripts
read as JSON when they asked for JSON (§3.8). The model comes from ``ctx.service("llm")``
(``runtime.services.llm.LLMService``); without one, or with no model configured, the
call raises the trappable error "no model is configured".

``USE MODEL`` and ``SET MODEL ROUTING`` are session settings, kept in the session's
read-only built-ins (``session.llm_model``, ``session.model_routing``) so they travel
with the saved session; ``chosen_model`` and ``model_routing`` read them for the LLM turn.
``GET CURRENT MODEL`` tells which model a call would use now; ``LIST MODELS`` lists the
bot's ``llm-models``.

``ask_model`` is the one-shot request the helper keywords (``llm_helpers.py``) share.
"""
from __future__ import annotations

from typing import Optional

from ..runtime.errors import BasicError
from ..runtime.services.llm import ROUTING_MODES
from ..runtime.values import to_num, to_str
from .calls import KeywordCall
from .registry import keyword

MODEL_KEY = "llm_model"
ROUTING_KEY = "model_routing"

# The system message of LLM (§9.3.4, §11 A-35): neutral, replaceable by llm-keyword-prompt.
KEYWORD_PROMPT = ("You are a function called from a bot script. Answer the request "
                  "concisely. When JSON is requested, return only the JSON, with no "
                  "Markdown fence and no comment.")


# ---------------------------------------------------------------- session settings


def chosen_model(session) -> Optional[str]:
    """The session's ``USE MODEL`` choice (an alias or a model id), or None."""
    return session.builtins.get(MODEL_KEY)


def model_routing(session) -> Optional[str]:
    """The session's ``SET MODEL ROUTING`` mode, or None."""
    return session.builtins.get(ROUTING_KEY)


def llm_service(ctx):
    """The bot's model service; "no model is configured" when it has none."""
    service = ctx.service("llm")
    if service is None or not service.configured:
        raise BasicError("no model is configured")
    return service


def current_model(ctx, service, hint: Optional[str] = None) -> Optional[str]:
    """The model id a call of this session uses (§9.3.5: choice, routing, hint)."""
    return service.settings.pick_model(chosen_model(ctx.session), model_routing(ctx.session),
                                       hint)


# ---------------------------------------------------------------- one-shot requests


def keyword_system_prompt(settings) -> str:
    """The fixed system message of one-shot calls, with the bot's language when set."""
    prompt = settings.keyword_prompt or KEYWORD_PROMPT
    if settings.language:
        prompt += f" Unless the request asks for another language, answer in {settings.language}."
    return prompt


async def ask_model(ctx, request: str, *, hint: Optional[str] = None,
                    timeout: Optional[float] = None) -> str:
    """Send one request (system message + ``request``) and return the answer's text."""
    service = llm_service(ctx)
    messages = [{"role": "system", "content": keyword_system_prompt(service.settings)},
                {"role": "user", "content": request}]
    result = await service.complete(messages, model=current_model(ctx, service, hint),
                                    timeout=timeout)
    return result.text


# ---------------------------------------------------------------- LLM


class _Options:
    """The ``WITH ...`` hints of one LLM call (§9.3.4)."""

    def __init__(self, call: KeywordCall):
        self.hint: Optional[str] = None
        self.timeout: Optional[float] = None
        for arg in call.args[1:]:
            if arg.sep == "WITH OPTIMIZE FOR":
                self.hint = to_str(arg.value).strip().lower()
            elif arg.sep == "WITH MAX LATENCY":
                self.timeout = self._latency(arg.value)
            # WITH MAX COST: no prices are known offline, so the cap is not enforced.

    @staticmethod
    def _latency(value) -> Optional[float]:
        """``WITH MAX LATENCY ms`` shortens the call's timeout to that many milliseconds."""
        milliseconds = to_num(value)
        return milliseconds / 1000 if milliseconds > 0 else None


@keyword("LLM", shapes=["x( WITH OPTIMIZE FOR x| WITH MAX COST x| WITH MAX LATENCY x)*"],
         connectors=["WITH OPTIMIZE FOR", "WITH MAX COST", "WITH MAX LATENCY"])
async def llm(ctx, call: KeywordCall):
    """``x = LLM prompt [WITH OPTIMIZE FOR ...]``: one-shot text generation (§9.3.4)."""
    options = _Options(call)
    prompt = to_str(call.args[0].value)  # arrays and objects embed as JSON
    return await ask_model(ctx, prompt, hint=options.hint, timeout=options.timeout)


# ---------------------------------------------------------------- model selection


@keyword("USE MODEL", shapes=["x"], value=False)
async def use_model(ctx, call: KeywordCall):
    """Select the session's model: ``fast``/``quality``/``code``/``default``/``auto`` or an
    id passed to the provider as it is (§9.3.5). An empty name forgets the choice."""
    name = to_str(call.args[0].value).strip()
    if name:
        ctx.session.builtins[MODEL_KEY] = name
    else:
        ctx.session.builtins.pop(MODEL_KEY, None)


@keyword("SET MODEL ROUTING", shapes=["x"], value=False)
async def set_model_routing(ctx, call: KeywordCall):
    """``auto`` | ``cost`` | ``quality`` | ``manual`` (§9.3.5; see LLMSettings.pick_model)."""
    mode = to_str(call.args[0].value).strip().lower()
    if mode not in ROUTING_MODES:
        raise BasicError(f'SET MODEL ROUTING expects "auto", "cost", "quality" or "manual", '
                         f'not "{to_str(call.args[0].value)}"')
    ctx.session.builtins[ROUTING_KEY] = mode


@keyword("GET CURRENT MODEL", shapes=[""])
async def get_current_model(ctx, call: KeywordCall):
    """The model id the next LLM call of this session would use; NULL when there is none."""
    service = ctx.service("llm")
    if service is None:
        return chosen_model(ctx.session)
    return current_model(ctx, service)


@keyword("LIST MODELS", shapes=[""])
async def list_models(ctx, call: KeywordCall):
    """The bot's ``llm-models`` (``a;b;c``); else its one ``llm-model``; else empty."""
    service = ctx.service("llm")
    if service is None:
        return []
    settings = service.settings
    if settings.models:
        return list(settings.models)
    return [settings.model] if settings.model else []
