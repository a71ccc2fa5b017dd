"""Memory and session keywords (DIALECT §9.2): BOT/USER MEMORY, REMEMBER/RECALL, session
variables (GET/SET SESSION, ``GET "session.x"``, ``SET "session.x" = v``), GET CONFIG,
and the dispatch of GET by its target (§9.7.1).

Persistent values go through ``ctx.services.memory`` (runtime/memory_store.py), converted
with ``values.to_plain``/``from_plain`` so the store sees JSON only. Session variables live
in ``ctx.session.variables`` (plain form, lower-case keys).
"""
from __future__ import annotations

import re
from typing import Awaitable, Callable, Optional

from ..interpreter import nodes as N
from ..runtime.errors import BasicError
from ..runtime.values import BasicObject, from_plain, to_num, to_plain, to_str
from .calls import KeywordCall, assignment_form
from .registry import keyword

# Read-only session keys (§9.2.7): writes to them are ignored with a warning.
BUILTIN_SESSION_KEYS = frozenset((
    "id", "user_id", "bot_id", "channel", "user_email", "user_name", "user_phone", "phone",
    "ip", "client_ip", "user_agent", "language", "created_at"))

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
          "month": 30 * 86400, "year": 365 * 86400}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*", re.IGNORECASE)
_FOREVER = ("", "forever", "permanent")


def _memory(ctx):
    store = ctx.service("memory")
    if store is None:
        raise BasicError("memory is not available in this version")
    return store


def _bot_scope(ctx) -> str:
    return f"bot/{ctx.session.bot_id}"


def _user_scope(ctx) -> str:
    return f"user/{ctx.session.user_id}"


def _remember_scope(ctx) -> str:
    return f"remember/{ctx.session.bot_id}/{ctx.session.user_id}"


async def _read(ctx, scope: str, key) -> object:
    stored = await _memory(ctx).get(scope, to_str(key), ctx.timestamp())
    return None if stored is None else from_plain(stored)


async def _write(ctx, scope: str, key, value, expires_at: Optional[float] = None) -> None:
    await _memory(ctx).set(scope, to_str(key), to_plain(value), expires_at)


# ---------------------------------------------------------------- bot and user memory


@keyword("SET BOT MEMORY", shapes=["x(,| AS )x"], connectors=["AS"], value=False)
async def set_bot_memory(ctx, call: KeywordCall):
    """Store a value for the whole bot; awaited, so a GET right after sees it (§9.2.1)."""
    await _write(ctx, _bot_scope(ctx), call.values[0], call.values[1])


@keyword("GET BOT MEMORY", shapes=["x"])
async def get_bot_memory(ctx, call: KeywordCall):
    """The stored value, NULL when absent (§9.2.2)."""
    return await _read(ctx, _bot_scope(ctx), call.values[0])


@keyword("SET USER MEMORY", shapes=["x,x"], value=False)
async def set_user_memory(ctx, call: KeywordCall):
    """Store a value for the user across bots (§9.2.3)."""
    await _write(ctx, _user_scope(ctx), call.values[0], call.values[1])


@keyword("GET USER MEMORY", shapes=["x"])
async def get_user_memory(ctx, call: KeywordCall):
    return await _read(ctx, _user_scope(ctx), call.values[0])


@keyword("CLEAR USER MEMORY", shapes=[""], value=False)
async def clear_user_memory(ctx, call: KeywordCall):
    await _memory(ctx).clear(_user_scope(ctx))


@assignment_form
@keyword("REMEMBER", shapes=["x(,x){0,2}"])
async def remember(ctx, call: KeywordCall):
    """``REMEMBER key, value[, duration]`` / ``REMEMBER key = value`` (§9.2.4)."""
    values = call.values
    if len(values) < 2:
        raise BasicError("REMEMBER needs a key and a value")
    key = to_str(values[0])
    duration = values[2] if len(values) > 2 else None
    seconds = duration_seconds(duration)
    expires_at = None if seconds is None else ctx.timestamp() + seconds
    await _write(ctx, _remember_scope(ctx), key, values[1], expires_at)
    shown = "forever" if seconds is None else to_str(duration).strip()
    return f"Remembered '{key}' for {shown}"


def duration_seconds(duration) -> Optional[float]:
    """Seconds of a REMEMBER duration: days as a number, ``"<n> <unit>"``, or None for
    ever (``"forever"``, ``"permanent"``, NULL)."""
    if duration is None or (isinstance(duration, str) and duration.strip().lower() in _FOREVER):
        return None
    if not isinstance(duration, str):
        return to_num(duration) * _UNITS["day"]
    match = _DURATION.fullmatch(duration)
    if match is None or match[2].lower() not in _UNITS:
        try:
            return to_num(duration) * _UNITS["day"]
        except BasicError:
            raise BasicError(f"REMEMBER: cannot understand the duration '{duration}'") from None
    return float(match[1]) * _UNITS[match[2].lower()]


@keyword("RECALL", shapes=["x"])
async def recall(ctx, call: KeywordCall):
    """The remembered value, NULL when absent or expired."""
    return await _read(ctx, _remember_scope(ctx), call.values[0])


# ---------------------------------------------------------------- session variables


def session_key(key) -> str:
    """``"session.Case_ID"`` -> ``"case_id"`` (prefix optional, keys case-insensitive)."""
    text = to_str(key).strip()
    if text.lower().startswith("session."):
        text = text[len("session."):]
    return text.lower()


def read_session(ctx, key: str):
    """A session variable, else a built-in session key, else NULL."""
    session = ctx.session
    if key in session.variables:
        return from_plain(session.variables[key])
    for name, value in session.builtins.items():
        if name.lower() == key:
            return from_plain(value)
    return None


def write_session(ctx, key: str, value) -> None:
    """Set a session variable (also on the injected ``session`` object, if any)."""
    if key in BUILTIN_SESSION_KEYS:
        ctx.logger.warning("session key %s is read-only; SET ignored", key)
        return
    ctx.session.variables[key] = to_plain(value)
    session_object = ctx.variables.get("session")
    if isinstance(session_object, BasicObject):
        session_object.assign(key, value)


def _other_sessions(ctx):
    sessions = ctx.service("sessions")
    if sessions is None:
        raise BasicError("access to other sessions is not available in this version")
    return sessions


@keyword("GET SESSION", shapes=["x(,x)?"])
async def get_session(ctx, call: KeywordCall):
    """``GET SESSION "key"`` or ``GET SESSION session_id, "key"`` (§9.2.7)."""
    if len(call.values) == 2:
        sid, key = call.values
        return from_plain(await _other_sessions(ctx).get(to_str(sid), session_key(key)))
    return read_session(ctx, session_key(call.values[0]))


@keyword("SET SESSION", shapes=["x,x(,x)?"], value=False)
async def set_session(ctx, call: KeywordCall):
    """``SET SESSION "key", value`` or ``SET SESSION session_id, "key", value``."""
    if len(call.values) == 3:
        sid, key, value = call.values
        await _other_sessions(ctx).set(to_str(sid), session_key(key), to_plain(value))
        return
    write_session(ctx, session_key(call.values[0]), call.values[1])


@assignment_form
@keyword("SET", shapes=["x(,x){0,2}"], value=False)
async def set_(ctx, call: KeywordCall):
    """``SET "session.k" = v`` / ``SET "k", v`` / ``SET name, v`` (a bare name is the key);
    the three-argument table form belongs to the data keywords (§9.6.8)."""
    if len(call.args) == 3:  # SET "table", "filter", "col=value, ..." (legacy UPDATE)
        from .data import set_table  # the data family owns tables; imported when used
        return await set_table(ctx, call)
    if len(call.args) < 2:
        raise BasicError("SET needs a key and a value")
    written = call.raw_args[0].expr if call.raw_args else None
    if isinstance(written, N.Name):
        key = written.name
    else:
        key = session_key(call.args[0].value)
    write_session(ctx, key, call.args[1].value)


@keyword("GET CONFIG", shapes=["x"])
async def get_config(ctx, call: KeywordCall):
    """The raw ``config.csv`` value of a key, NULL when not configured (§9.2.10)."""
    config = ctx.service("config")
    if config is None:
        return None
    return config.get(to_str(call.values[0]))


# ---------------------------------------------------------------- GET


GetHandler = Callable[[object, KeywordCall, str], Awaitable[object]]


async def _get_session(ctx, call: KeywordCall, target: str):
    return read_session(ctx, session_key(target))


# GET dispatches on its evaluated target (§9.7.1). Families that implement the other
# targets (HTTP, the bot API, drive files) register their handler here.
GET_TARGETS: dict[str, GetHandler] = {"session": _get_session}
_GET_DESCRIPTIONS = {"http": "a URL", "api": "the bot server API", "file": "a file"}


def register_get_target(kind: str, handler: GetHandler) -> None:
    """Let another keyword family serve GET of ``kind`` ("http", "api", "file")."""
    GET_TARGETS[kind] = handler


def get_target_kind(target: str) -> str:
    """"http", "api", "session" or "file" for a GET target string."""
    text = target.strip().lower()
    if text.startswith(("http://", "https://")):
        return "http"
    if text.startswith("/"):
        return "api"
    if text.startswith("session."):
        return "session"
    return "file"


@keyword("GET", shapes=["x(,x)?", "x WITH x(,x)*"], connectors=["WITH"])
async def get(ctx, call: KeywordCall):
    """GET of a session variable, URL, bot API path or file, by its target."""
    first = call.args[0]
    if first.value is None and isinstance(_written(call), N.Name):
        return read_session(ctx, first.name.lower())  # Compat: GET name (office/start)
    target = to_str(first.value)
    kind = "http" if len(call.args) > 1 else get_target_kind(target)
    handler = GET_TARGETS.get(kind)
    if handler is None:
        raise BasicError(f"GET of {_GET_DESCRIPTIONS[kind]} is not available in this version")
    return await handler(ctx, call, target)


def _written(call: KeywordCall):
    return call.raw_args[0].expr if call.raw_args else None
