"""A bot's tools as the LLM sees them (DIALECT §8, §9.5.1, §11 A-9): the ``tools`` service.

Every compiled script is a possible tool; its schema comes from the declarations of the
version the bot serves (``Bot.infos``), so what the model is told matches the program
that runs. Which tools a session offers is decided by ``ADD TOOL`` (keywords/tools.py)
and, with ``tools-auto-discover=true``, by discovery: every script with a
``DESCRIPTION`` except the entry script, ``tables`` and scripts that declare schedules,
webhooks or event triggers.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ..interpreter.tools import original_tool_name
from ..runtime.program import Program
from ..runtime.scripts import script_key

NOT_DISCOVERED = frozenset({"start", "tables"})


class BotTools:
    """The tool catalog of one bot version (see module doc)."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.infos: dict = getattr(bot, "infos", {})
        config = getattr(bot, "config", None)
        self.auto_discover = bool(config.get_bool("tools-auto-discover", False)) if config else False
        self._discovered: Optional[list[str]] = None

    def find(self, name: str) -> Optional[str]:
        """The canonical name of tool ``name`` when the bot serves such a script."""
        key = script_key(name)
        return key if key in self.infos else None

    def auto_discovered(self) -> list[str]:
        """What ``tools-auto-discover`` offers every session (empty when it is off)."""
        if not self.auto_discover:
            return []
        if self._discovered is None:
            entry = getattr(getattr(self.bot, "package", None), "entry", None)
            self._discovered = [key for key, info in self.infos.items()
                                if _discoverable(key, info) and key != entry]
        return self._discovered

    def schemas(self, names: Iterable[str]) -> list[dict]:
        """The OpenAI function definitions (§8.4) of the tools ``names`` that exist."""
        return [self.infos[key].tool_schema() for key in names if key in self.infos]

    def resolve_call(self, called: str, offered: Iterable[str]) -> Optional[str]:
        """The offered tool a model's function name means (case-insensitive, safe form)."""
        return original_tool_name(called, list(offered))

    def program(self, name: str) -> Optional[Program]:
        try:
            return self.bot.program(name)
        except Exception:  # noqa: BLE001 - unknown or broken script
            return None

    def info(self, name: str):
        return self.infos.get(script_key(name))


def _discoverable(key: str, info: Any) -> bool:
    return (bool(info.description) and key not in NOT_DISCOVERED and not info.schedules
            and not info.webhooks and not info.triggers)
