"""Settings of the chat server: the process (``ServerSettings``) and each bot (``BotSettings``).

Process settings come from the command line and the environment (``DATABASE_URL``,
``BOTBASIC_ADMIN_KEY``); bot settings come from the bot's ``.gbot/config.csv``, whose keys
are matched the forgiving way of DIALECT §1.4.1 (``Error Message`` == ``error-message``).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_BOTS_DIR = "bots"
DEFAULT_DATA_DIR = "data"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_ERROR_MESSAGE = "Sorry, something went wrong on my side. Please try again."
DEFAULT_NO_MODEL_MESSAGE = "I can't answer that here: no language model is configured for this bot."


@dataclass(frozen=True)
class ServerSettings:
    """How one server process runs: where bots and data live, what it binds, who is admin."""

    bots_dir: Path = Path(DEFAULT_BOTS_DIR)
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: Optional[str] = None
    admin_key: Optional[str] = None
    watch: bool = True  # hot reload of changed packages
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES  # when a bot does not set its own

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, **values) -> "ServerSettings":
        """Settings from explicit ``values`` plus ``DATABASE_URL`` / ``BOTBASIC_ADMIN_KEY``."""
        values.setdefault("database_url", env.get("DATABASE_URL") or None)
        values.setdefault("admin_key", env.get("BOTBASIC_ADMIN_KEY") or None)
        return cls(**values)

    @property
    def loopback(self) -> bool:
        """True when only this machine can reach the server (admin needs no key then)."""
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1`` and ``localhost`` are loopback; anything else (``0.0.0.0``) not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class BotSettings:
    """The server-side settings of one bot, read once when the bot (re)loads."""

    error_message: str = DEFAULT_ERROR_MESSAGE
    no_model_message: str = DEFAULT_NO_MODEL_MESSAGE
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    start_on_connect: bool = False
    language: str = "en"  # of new sessions (HEAR validation messages, §7.9)
    channel: str = "web"
    script_variables: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, config, default_max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> "BotSettings":
        """Read a ``runtime.config.BotConfig`` (or None: every default)."""
        if config is None:
            return cls(max_message_bytes=default_max_bytes)
        max_bytes = config.get_int("max-message-bytes", default_max_bytes)
        return cls(
            error_message=_text(config, "error-message", DEFAULT_ERROR_MESSAGE),
            no_model_message=_text(config, "no-model-message", DEFAULT_NO_MODEL_MESSAGE),
            max_message_bytes=max_bytes if max_bytes and max_bytes > 0 else default_max_bytes,
            start_on_connect=bool(config.get_bool("start-on-connect", False)),
            language=_text(config, "default-language", "en").strip(),
            script_variables=config.script_variables(),
        )


def _text(config, key: str, default: str) -> str:
    value = config.get(key)
    return value if value and value.strip() else default
