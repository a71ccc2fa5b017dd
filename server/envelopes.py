"""Bot message envelopes (DIALECT §7.7): what a client receives for each bot message.

The field names are those of the reference ``BotResponse`` so that existing clients work.
A suggestion of the session (keywords/conversation.py) becomes ``{text, context, action,
icon}``: ``action`` says what a click does (``send_message`` with the ``value`` to send,
``invoke_tool`` with the ``tool``, or ``select_context``).
"""
from __future__ import annotations

import itertools
import os
from typing import Iterable, Optional

BOT_RESPONSE = 2  # message_type of a bot message (§7.7)
USER = 1
TOOL_EXEC = 6

# Envelope ids: a random per-process prefix and a counter. Unique across the processes of
# a pool without a system call per message (uuid4 reads the OS entropy pool each time).
_ID_PREFIX = os.urandom(6).hex()
_ID_COUNTER = itertools.count(1)


def new_envelope_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):010x}"


def suggestion_view(entry: dict) -> dict:
    """The client form of one session suggestion."""
    kind = entry.get("kind")
    if kind == "invoke_tool":
        action = {"type": "invoke_tool", "tool": entry.get("tool")}
    elif kind == "context":
        action = {"type": "select_context", "context": entry.get("context")}
    else:
        value = entry.get("value")
        action = {"type": "send_message", "value": entry.get("text") if value is None else value}
    return {"text": entry.get("text", ""), "context": entry.get("context"), "action": action,
            "icon": None}


def bot_envelope(bot: str, user_id: str, session_id: str, content: str, channel: str = "web",
                 suggestions: Iterable[dict] = (), reply_to: Optional[str] = None) -> dict:
    """One complete (non-streamed) bot message."""
    return {
        "id": new_envelope_id(),
        "bot_id": bot,
        "user_id": user_id,
        "session_id": session_id,
        "channel": channel,
        "content": content,
        "message_type": BOT_RESPONSE,
        "stream_token": None,
        "is_complete": True,
        "suggestions": [suggestion_view(s) for s in suggestions],
        "switchers": [],
        "context_name": None,
        "context_length": 0,
        "context_max_length": 0,
        "reply_to": reply_to,
    }
