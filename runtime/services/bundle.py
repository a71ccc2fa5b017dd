"""The services of one bot, built once per bot version by any host (server or console).

Keywords reach the outside world only through these objects (``ctx.service(name)``); a
service a bot is not configured for is simply absent, and the keyword says so.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

from ..memory_store import InMemoryStore
from .drive import Drive
from .http import HttpService
from .llm import LLMService
from .mail import MailService


def bot_services(package: Any = None, config: Any = None, memory: Any = None,
                 **extra: Any) -> SimpleNamespace:
    """``memory``, ``config``, ``http``, ``drive`` (when the bot has a package), ``mail``
    (when config.csv names an email server) and ``llm``; ``extra`` adds or replaces
    services."""
    services = SimpleNamespace(
        memory=memory if memory is not None else InMemoryStore(),
        config=config,
        http=HttpService.from_config(config),
        drive=Drive.for_package(package) if package is not None else None,
        mail=MailService.from_config(config),
        llm=LLMService.from_config(config),
    )
    for name, service in extra.items():
        setattr(services, name, service)
    return services


def folder_drive(folder) -> Optional[Drive]:
    """For scripts run outside a package: a ``drive/`` folder next to them, if present."""
    from pathlib import Path
    root = Path(folder) / "drive"
    return Drive(root) if root.is_dir() else None
