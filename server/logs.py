"""Structured logs: one ``key=value`` line per record.

Records carry the context fields ``bot``, ``session`` and ``script`` (``file:line``) when
they have them (``extra=``), so a log search finds everything about one conversation.
``ScriptLogger`` is the logger handed to the VM: it adds the bot and session of the turn,
and the location of a ``ScriptError`` the VM reports.
"""
from __future__ import annotations

import logging
import sys
import time

from ..runtime.outcome import ScriptError

CONTEXT_FIELDS = ("bot", "session", "script")


def _quote(value) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n\t'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=... logger=... bot=... session=... script=... msg="..."``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        parts = [f"ts={stamp}.{int(record.msecs):03d}Z", f"level={record.levelname.lower()}",
                 f"logger={record.name}"]
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                parts.append(f"{name}={_quote(value)}")
        parts.append(f"msg={_quote(record.getMessage())}")
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def configure_logging(level: int = logging.INFO, stream=None) -> None:
    """Send every ``botbasic`` and ``aiohttp`` log record to ``stream`` as key=value lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per HTTP request would cost more than the turn itself under load.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class ScriptLogger(logging.LoggerAdapter):
    """The ``ctx.logger`` of one turn: PRINT/LOG lines and script errors, with context."""

    def __init__(self, logger: logging.Logger, bot: str, session: str):
        super().__init__(logger, {"bot": bot, "session": session})

    def process(self, msg, kwargs):
        extra = dict(self.extra)
        args = kwargs.pop("_args", None)
        if args and isinstance(args[0], ScriptError):
            extra["script"] = f"{args[0].file}:{args[0].line}"
        kwargs["extra"] = {**extra, **kwargs.get("extra", {})}
        return msg, kwargs

    def log(self, level, msg, *args, **kwargs):
        # LoggerAdapter.process does not see the arguments; pass them along to find a
        # ScriptError (the VM logs ``warning("%s", error)``). For the server a failed
        # script is an error: someone has to fix the bot.
        if args and isinstance(args[0], ScriptError):
            level = max(level, logging.ERROR)
        if self.isEnabledFor(level):
            msg, kwargs = self.process(msg, {**kwargs, "_args": args})
            self.logger.log(level, msg, *args, **kwargs)
