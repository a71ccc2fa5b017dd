"""Operations endpoints: ``/health`` (the process answers), ``/ready`` (the store is open and
the bots are loaded: send traffic) and ``/metrics`` (Prometheus text format)."""
from __future__ import annotations

from aiohttp import web

from .appkeys import BOTS, CONVERSATIONS, METRICS, READINESS
from .routes import json_response

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    body = {"status": "ready" if readiness.ready else "not ready",
            "store": readiness.store_open, "bots": readiness.bots_loaded}
    return json_response(body, 200 if readiness.ready else 503)


async def metrics(request: web.Request) -> web.Response:
    app_metrics = request.app[METRICS]
    bots = request.app.get(BOTS)
    # The gauge is read when scraped: reloads add and remove bots at any time.
    app_metrics.bots_loaded.set(len(bots.bots()) if bots is not None else 0)
    conversations = request.app.get(CONVERSATIONS)
    app_metrics.warm_sessions.set(len(conversations.warm) if conversations is not None else 0)
    response = web.Response(text=app_metrics.render())
    response.headers["Content-Type"] = PROMETHEUS_TEXT
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
