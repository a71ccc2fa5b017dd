"""The ``web.AppKey``s under which the chat server keeps its state (see app.py)."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .bots import BotRegistry
from .config import ServerSettings
from .conversation import Conversations
from .metrics import ServerMetrics
from .runner import BotRuntimes


@dataclass
class Readiness:
    """What ``/ready`` reports: the store is open and the bots are loaded."""

    store_open: bool = False
    bots_loaded: bool = False

    @property
    def ready(self) -> bool:
        return self.store_open and self.bots_loaded


SETTINGS = web.AppKey("settings", ServerSettings)
METRICS = web.AppKey("metrics", ServerMetrics)
READINESS = web.AppKey("readiness", Readiness)
STORE = web.AppKey("store", object)
BOTS = web.AppKey("bots", BotRegistry)
RUNTIMES = web.AppKey("runtimes", BotRuntimes)
CONVERSATIONS = web.AppKey("conversations", Conversations)
LLM = web.AppKey("llm", object)
KNOWLEDGE = web.AppKey("knowledge", object)  # knowledge.KnowledgeHub
