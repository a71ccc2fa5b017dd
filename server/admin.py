"""Admin endpoints: ``GET /api/bots`` (every bot with its status, scripts and errors) and
``POST /api/bots/{bot}/reload``.

On a loopback address only local users reach the server, so no key is asked. Bound to any
other address the request must carry ``X-Admin-Key`` equal to ``BOTBASIC_ADMIN_KEY``;
without that variable the admin endpoints are closed (403) rather than open to anyone.
"""
from __future__ import annotations

import hmac
import logging

from aiohttp import web

from .appkeys import BOTS, SETTINGS
from .routes import error_response, json_response

log = logging.getLogger("botbasic.server")

ADMIN_HEADER = "X-Admin-Key"


def admin_denied(request: web.Request):
    """None when the request may use the admin API, else the error response."""
    settings = request.app[SETTINGS]
    if settings.loopback:
        return None
    if not settings.admin_key:
        return error_response(403, "admin API disabled: set BOTBASIC_ADMIN_KEY")
    given = request.headers.get(ADMIN_HEADER, "")
    if not hmac.compare_digest(given.encode(), settings.admin_key.encode()):
        return error_response(401, f"missing or wrong {ADMIN_HEADER}")
    return None


def admin_bot(request: web.Request):
    """(the bot of the URL's ``{bot}``, None) for an admin request, else (None, the error
    response: admin refused, or 404 for an unknown bot)."""
    denied = admin_denied(request)
    if denied is not None:
        return None, denied
    bot = request.app[BOTS].get(request.match_info["bot"])
    if bot is None:
        return None, error_response(404, f"unknown bot: {request.match_info['bot']}")
    return bot, None


async def list_bots(request: web.Request) -> web.Response:
    denied = admin_denied(request)
    if denied is not None:
        return denied
    return json_response({"bots": [bot.status() for bot in request.app[BOTS].bots()]})


async def reload_bot(request: web.Request) -> web.Response:
    denied = admin_denied(request)
    if denied is not None:
        return denied
    name = request.match_info["bot"]
    bot = request.app[BOTS].reload(name)
    if bot is None:
        return error_response(404, f"unknown bot: {name}")
    log.info("bot reloaded by admin request", extra={"bot": bot.name})
    return json_response(bot.status())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/bots", list_bots)
    app.router.add_post("/api/bots/{bot}/reload", reload_bot)
