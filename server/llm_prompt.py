"""The request of an LLM turn (DIALECT §7.3 step 5, §9.3.1, §9.3.2, §9.3.7): the messages.

In order:

1. one system message: the base prompt (``.gbot/PROMPT.md``, else config
   ``system-prompt`` / ``bot-system-prompt``, else a built-in default), the session
   system prompt (``BEGIN SYSTEM PROMPT``), then the contexts of ``SET CONTEXT``: the
   selected one first, then the unnamed one, then every named one in the order they were
   first set, each introduced by ``[context: name]`` and cut to ``context-max-chars``
   (default 16,000) characters;
2. a system message with the knowledge-base excerpts found for the user's message,
   each with its source, within ``rag-max-chars`` (default 16,000, about 4,000 tokens);
3. the history: the last ``history-limit`` stored messages (user and bot);
4. the user's message.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

DEFAULT_CONTEXT_CHARS = 16_000
DEFAULT_KB_CHARS = 16_000
DEFAULT_PROMPT = (
    "You are {title}, a helpful assistant in a chat. Answer clearly and briefly, in the "
    "language of the user. Use the knowledge-base excerpts and the contexts you are given "
    "when they are relevant, and say so when you do not know. When a tool has already "
    "shown something to the user, do not repeat it: refer to it.")
KB_HEADER = ("Knowledge-base excerpts that may help to answer the user's next message "
             "(cite the source when you use one):")


def base_prompt(bot: Any, title: str) -> str:
    """The first part of every system message of the bot (§9.3.7)."""
    package = getattr(bot, "package", None)
    prompt = getattr(package, "prompt", None)
    if prompt and prompt.strip():
        return prompt.strip()
    config = getattr(bot, "config", None)
    for key in ("system-prompt", "bot-system-prompt"):
        value = config.get(key) if config is not None else None
        if value and value.strip():
            return value.strip()
    return DEFAULT_PROMPT.format(title=title)


def context_sections(session: Any, budget: int = DEFAULT_CONTEXT_CHARS) -> list[str]:
    """The SET CONTEXT texts in the order of §9.3.1, each under its header."""
    named: dict = session.contexts or {}
    selected = session.active_context if session.active_context in named else None
    sections = []
    if selected is not None:
        sections.append(f"[context: {selected}] (selected)\n{named[selected][:budget]}")
    if session.context:
        sections.append(f"[context]\n{session.context[:budget]}")
    sections += [f"[context: {name}]\n{text[:budget]}" for name, text in named.items()
                 if name != selected]
    return sections


def system_prompt(bot: Any, title: str, session: Any, context_budget: int = DEFAULT_CONTEXT_CHARS) -> str:
    """The system message's text: base prompt, session prompt, contexts."""
    parts = [base_prompt(bot, title)]
    if session.system_prompt and session.system_prompt.strip():
        parts.append(session.system_prompt.strip())
    parts += context_sections(session, context_budget)
    return "\n\n".join(parts)


def knowledge_message(results: Iterable[dict], budget: int = DEFAULT_KB_CHARS) -> Optional[dict]:
    """The system message of the KB excerpts (best first, within ``budget``); None for none."""
    blocks, used = [], 0
    for number, result in enumerate(results, 1):
        block = (f"[{number}] source: {result['kb_name']}/{result['source']}"
                 f" (relevance {result['relevance']:.2f})\n{result['content']}")
        if blocks and used + len(block) > budget:
            break
        blocks.append(block[:budget])
        used += len(block)
    if not blocks:
        return None
    return {"role": "system", "content": KB_HEADER + "\n\n" + "\n\n".join(blocks)}


def history_messages(items: Iterable[Any]) -> list[dict]:
    """Stored history items as chat messages (bot -> assistant); empty ones left out."""
    roles = {"user": "user", "bot": "assistant"}
    return [{"role": roles[item.role], "content": item.content} for item in items
            if item.role in roles and item.content]


def assemble(system: str, knowledge: Optional[dict], history: list[dict], text: str) -> list[dict]:
    """The messages of the request, in the order of the module doc."""
    messages = [{"role": "system", "content": system}]
    if knowledge is not None:
        messages.append(knowledge)
    return messages + history + [{"role": "user", "content": text}]
