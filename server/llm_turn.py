"""The LLM turn of message routing (DIALECT §7.3 step 5), as a replaceable part.

Until a language model is wired in, ``NoModelTurn`` answers every message that no script
takes with the bot's ``no-model-message`` (§7.3 step 6). The real LLM turn implements the
same ``LlmTurn.answer`` and is passed to ``Conversations``.
"""
from __future__ import annotations

from typing import Protocol


class LlmTurn(Protocol):
    """Answers a message no script took. ``ctx`` is the turn's ExecutionContext (session
    data, tools, contexts, memory); the answer is sent with ``ctx.say``."""

    async def answer(self, bot, ctx, text: str) -> None:
        ...


class NoModelTurn:
    """The answer of a bot without a model: its configured ``no-model-message``."""

    async def answer(self, bot, ctx, text: str) -> None:
        ctx.say(bot.settings.no_model_message)
