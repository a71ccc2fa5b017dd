"""Inbound user messages: validation shared by the HTTP API and the WebSocket.

A message is a JSON object ``{"content": str, "session_id"?: str, "user_id"?: str,
"message_id"?: str, "message_type"?: int, "context_name"?: str}`` (``text`` is accepted
for ``content``, as in §7.7). Anything else is a ``BadMessage`` -> HTTP 400.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

_OPTIONAL_TEXT = ("session_id", "user_id", "message_id", "context_name")
MAX_ID_LENGTH = 200


class BadMessage(ValueError):
    """The message cannot be handled; ``str()`` says why (shown to the client)."""


class MessageTooLarge(BadMessage):
    """The message is larger than the bot's ``max-message-bytes``."""


@dataclass(frozen=True)
class InboundMessage:
    """One validated user message."""

    content: str
    session_id: Optional[str] = None
    user_id: Optional[str] = None
    message_id: Optional[str] = None
    message_type: int = 1
    context_name: Optional[str] = None

    def for_script(self) -> str:
        """What a waiting HEAR receives."""
        return self.content


def checked_id(name: str, value: object) -> str:
    """``value`` if it is a usable id (non-empty string, bounded length); else BadMessage."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise BadMessage(f"{name} must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    return value


def parse_message(data: object) -> InboundMessage:
    """Validate a decoded JSON value; raises ``BadMessage``."""
    if not isinstance(data, dict):
        raise BadMessage("the message must be a JSON object")
    content = data.get("content", data.get("text"))
    if content is None:
        raise BadMessage("missing field: content")
    if not isinstance(content, str):
        raise BadMessage("content must be a string")
    fields = {"content": content}
    for name in _OPTIONAL_TEXT:
        value = data.get(name)
        if value is not None:
            fields[name] = checked_id(name, value)
    message_type = data.get("message_type")
    if message_type is not None:
        if type(message_type) is not int:
            raise BadMessage("message_type must be an integer")
        fields["message_type"] = message_type
    return InboundMessage(**fields)


def decode_message(raw: bytes | str, limit: Optional[int] = None) -> InboundMessage:
    """Check the size (bytes, when ``limit`` is given), decode JSON and validate; raises
    ``BadMessage`` / ``MessageTooLarge``. (The WebSocket checks frame sizes itself.)"""
    if limit is not None and len(raw) > limit:
        raise MessageTooLarge(f"message larger than {limit} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise BadMessage("malformed JSON") from None
    return parse_message(data)
