"""Webhooks: ``WEBHOOK "name"`` scripts as HTTP endpoints (DIALECT §9.7.8, §11 A-33).

``GET`` or ``POST /api/bots/{bot}/webhooks/{name}`` (and the spec's spelling
``/api/{bot}/webhook/{name}``) runs the script that declares ``WEBHOOK "name"`` in system
context, with the request in its variables: ``method``, ``path``, ``headers`` (object),
``params`` (query string object; a repeated key gives an array), ``body`` (parsed JSON
for a JSON content type, fields for a form, else text; NULL when empty) and
``timestamp`` (ISO, UTC).

The response (``webhook_response``):

1. the script ended with ``RETURN value``: an object with an integer ``status`` -> that
   status, its ``headers`` and its ``body`` (default: the object without ``status`` and
   ``headers``) as JSON; any other value -> 200 with the value as JSON;
2. else ``result_<key>`` variables -> 200 ``{"<key>": value, ...}``;
3. else 200 ``{"status": "ok"}``.

A bot whose config sets ``webhook-secret`` accepts only requests that carry it, as
``X-Webhook-Secret: <secret>`` or ``Authorization: Bearer <secret>``; others get 401 before
the body is read or any script runs. Without it, webhooks are open (as in General Bots):
an operator exposes them only where that is intended.

An untrapped script error is 500 ``{"error": message}``; malformed JSON under a JSON
content type is 400; a body over the bot's ``webhook-max-bytes`` (default 1 MiB) is 413;
an unknown bot or webhook name is 404. The script is looked up on every request, so
webhooks follow hot reload: a new declaration works at once, a removed one is a 404.
"""
from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import parse_qsl

from aiohttp import web

from ..interpreter.schedules import webhook_name
from ..runtime.values import BasicObject, to_json
from .appkeys import BOTS, METRICS
from .channels import CHANNELS
from .inbound import MessageTooLarge
from .routes import bot_runtime, error_response, read_limited
from .system_runs import SystemResult, run_system_script

log = logging.getLogger("botbasic.webhooks")

DEFAULT_MAX_BYTES = 1024 * 1024
RESULT_PREFIX = "result_"
# Set by aiohttp from the body, or meaningless for a reply built here.
_SKIPPED_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))


class BadWebhookRequest(ValueError):
    """The request cannot be given to the script (-> 400)."""


@dataclass
class WebhookReply:
    """The HTTP response of a webhook run: status, extra headers and body text."""

    status: int
    body: str
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"

    def to_response(self) -> web.Response:
        response = web.Response(status=self.status, text=self.body,
                                content_type=self.content_type, charset="utf-8")
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


# ---------------------------------------------------------------- finding the script


def webhook_script(bot, name: str) -> Optional[str]:
    """The script key of ``bot`` that declares webhook ``name`` (normalised), or None.
    When two scripts declare one name, the first by script name wins (logged)."""
    wanted = webhook_name(name)
    found = [key for key, info in sorted(getattr(bot, "infos", {}).items())
             if wanted in info.webhooks]
    if len(found) > 1:
        log.warning("webhook %s is declared by %s; %s serves it", wanted, ", ".join(found),
                    found[0], extra={"bot": bot.name})
    return found[0] if found else None


# ---------------------------------------------------------------- the request


def parse_body(raw: bytes, content_type: str, charset: Optional[str]) -> Any:
    """The ``body`` variable: JSON values for a JSON type, an object for a form, text
    otherwise; NULL for an empty body. Malformed JSON raises BadWebhookRequest."""
    if not raw:
        return None
    text = raw.decode(charset or "utf-8", errors="replace")
    kind = content_type.lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text, object_pairs_hook=BasicObject)
        except (ValueError, RecursionError):
            raise BadWebhookRequest("malformed JSON body") from None
    if kind == "application/x-www-form-urlencoded":
        return _multi_object(parse_qsl(text, keep_blank_values=True))
    return text


def _multi_object(pairs) -> BasicObject:
    """An object of name/value pairs; a name given several times holds an array."""
    result = BasicObject()
    for name, value in pairs:
        name = str(name)
        if name in result:
            earlier = result[name]
            result[name] = (earlier if isinstance(earlier, list) else [earlier]) + [value]
        else:
            result[name] = value
    return result


def request_variables(request: web.Request, body: Any) -> dict:
    """The variables a webhook script gets (see module doc)."""
    headers = BasicObject()
    for name in request.headers:
        # str(): multidict keys are ``istr``, which BASIC's case-insensitive lookup skips.
        headers[str(name)] = ", ".join(request.headers.getall(name))
    return {
        "method": request.method,
        "path": request.path,
        "headers": headers,
        "params": _multi_object(request.query.items()),
        "body": body,
        "timestamp": datetime.now(timezone.utc).isoformat(),
    }


# ---------------------------------------------------------------- the response


def webhook_response(result: SystemResult) -> WebhookReply:
    """The HTTP response of a finished run (see module doc)."""
    if result.error is not None:
        return WebhookReply(500, json.dumps({"error": result.error.message}, ensure_ascii=False))
    value = result.outcome.value
    if value is not None:
        return _returned(value)
    results = {name[len(RESULT_PREFIX):]: value for name, value in result.globals.items()
               if name.lower().startswith(RESULT_PREFIX) and len(name) > len(RESULT_PREFIX)}
    if results:
        return WebhookReply(200, to_json(results))
    return WebhookReply(200, to_json({"status": "ok"}))


def _returned(value: Any) -> WebhookReply:
    """The response for ``RETURN value``."""
    status = _member(value, "status") if isinstance(value, dict) else None
    if type(status) is not int:  # booleans are not statuses
        return WebhookReply(200, to_json(value))
    if not 200 <= status <= 599:
        return WebhookReply(500, to_json({"error": f"the webhook returned an invalid HTTP "
                                                   f"status {status}"}))
    headers = _header_values(_member(value, "headers"))
    content_type = _pop_content_type(headers)
    if _has_member(value, "body"):
        body = _member(value, "body")
    else:
        body = BasicObject({k: v for k, v in value.items()
                            if str(k).lower() not in ("status", "headers")})
    if content_type and not _is_json_type(content_type) and isinstance(body, str):
        return WebhookReply(status, body, headers, content_type)  # e.g. text/plain, XML
    return WebhookReply(status, to_json(body), headers)


def _member(obj: dict, name: str) -> Any:
    return next((v for k, v in obj.items() if str(k).lower() == name), None)


def _has_member(obj: dict, name: str) -> bool:
    return any(str(k).lower() == name for k in obj)


def _header_values(headers: Any) -> dict[str, str]:
    if not isinstance(headers, dict):
        return {}
    return {str(k): _header_text(v) for k, v in headers.items()
            if str(k).lower() not in _SKIPPED_HEADERS}


def _header_text(value: Any) -> str:
    text = value if isinstance(value, str) else to_json(value).strip('"')
    return " ".join(text.split())  # a line break would end the header


def _pop_content_type(headers: dict) -> Optional[str]:
    for name in list(headers):
        if name.lower() == "content-type":
            return headers.pop(name).split(";")[0].strip()
    return None


def _is_json_type(content_type: str) -> bool:
    kind = content_type.lower()
    return kind == "application/json" or kind.endswith("+json")


# ---------------------------------------------------------------- the endpoint


async def handle_webhook(request: web.Request) -> web.StreamResponse:
    runtime = bot_runtime(request)
    name = request.match_info["name"]
    key = webhook_script(runtime.bot, name)
    program = runtime.program(key) if key is not None else None
    if program is None:
        return _count(request, runtime.name, error_response(404, f"unknown webhook: {name}"))
    config = getattr(runtime.bot, "config", None)
    if not _authorised(request, config):
        return _count(request, runtime.name,
                      error_response(401, "this webhook needs the bot's webhook secret"))
    limit = (config.get_int("webhook-max-bytes", DEFAULT_MAX_BYTES) if config is not None
             else DEFAULT_MAX_BYTES) or DEFAULT_MAX_BYTES
    try:
        raw = await read_limited(request, limit)
        body = parse_body(raw, request.content_type, request.charset)
    except MessageTooLarge:
        return _count(request, runtime.name, error_response(413, f"body larger than {limit} bytes"))
    except BadWebhookRequest as exc:
        return _count(request, runtime.name, error_response(400, str(exc)))
    channels = request.app.get(CHANNELS)
    if channels is not None:
        channels.install(runtime)
    result = await run_system_script(runtime, request.app[BOTS].registry, program, "webhook",
                                     request_variables(request, body))
    reply = webhook_response(result)
    log.info("webhook %s -> %s (%s)", webhook_name(name), reply.status, key,
             extra={"bot": runtime.name, "session": result.session_id})
    return _count(request, runtime.name, reply.to_response())


def _authorised(request: web.Request, config) -> bool:
    """Whether the request carries the bot's ``webhook-secret`` (always, when none is set)."""
    secret = config.get("webhook-secret", "") if config is not None else ""
    if not secret:
        return True
    given = request.headers.get("X-Webhook-Secret")
    if given is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(given.encode(), str(secret).encode())


def _count(request: web.Request, bot: str, response: web.StreamResponse) -> web.StreamResponse:
    jobs = getattr(request.app[METRICS], "jobs", None)
    if jobs is not None:
        jobs.webhook_requests.inc(bot, str(response.status))
    return response


def add_routes(app: web.Application) -> None:
    for path in ("/api/bots/{bot}/webhooks/{name}", "/api/{bot}/webhook/{name}"):
        app.router.add_route("GET", path, handle_webhook)
        app.router.add_route("POST", path, handle_webhook)
