"""Session tools (DIALECT §9.5.1, §9.5.2, §11 A-9, A-10, A-54).

``ADD TOOL "name"`` (synonym ``USE TOOL``) makes a script (§8) available to the LLM for
the rest of the session; the names live in ``ctx.session.tools`` (plain data, saved with
the session), in the canonical form of ``runtime.scripts.script_key`` (``.gbdialog/`` and
``.bas`` stripped, lower case). ``REMOVE TOOL``, ``CLEAR TOOLS`` and ``LIST TOOLS`` edit
and read that list.

Whether a tool exists is asked of the bot's ``tools`` service (``find(name)`` -> the
canonical name or None; ``auto_discovered()`` -> what ``tools-auto-discover`` offers):
the server provides it from the bot's compiled scripts. Without one (a script run on the
console) the script resolver decides. A tool that does not exist, or does not compile,
is a warning in the log and the script goes on (§11 A-10, A-54).
"""
from __future__ import annotations

import inspect
from typing import Optional

from ..runtime.errors import BasicError
from ..runtime.scripts import script_key
from ..runtime.values import to_str
from .calls import KeywordCall
from .registry import keyword


async def find_tool(ctx, name: str) -> Optional[str]:
    """The canonical name of tool ``name`` when the bot has it (and it compiles), else None."""
    key = script_key(name)
    if not key:
        return None
    tools = ctx.service("tools")
    if tools is not None:
        return tools.find(key)
    try:
        found = ctx.resolve_script(key)
        if inspect.isawaitable(found):
            found = await found
    except BasicError:  # the script exists but does not compile
        return None
    return key if found is not None else None


def active_tools(ctx) -> list[str]:
    """The tools the LLM sees in this session: added ones, then auto-discovered ones."""
    names = list(ctx.session.tools)
    tools = ctx.service("tools")
    if tools is not None:
        names += [name for name in tools.auto_discovered() if name not in names]
    return names


@keyword("ADD TOOL", shapes=["x( AS x)?"], connectors=["AS"])
async def add_tool(ctx, call: KeywordCall):
    """``ADD TOOL "name"`` / ``USE TOOL "name"``: offer a tool to the LLM (idempotent).

    ``ADD_TOOL "x.bas" AS MCP`` (botserver-2025) is accepted; exposing a tool over MCP is
    a bot setting, so the ``AS`` part changes nothing here."""
    wanted = to_str(call.args[0].value).strip()
    name = await find_tool(ctx, wanted)
    if name is None:
        ctx.logger.warning("%s:%s: ADD TOOL: there is no tool '%s' (or it does not compile);"
                           " skipped", call.file, call.line, wanted)
        return f"Tool '{wanted}' is not available"
    if name not in ctx.session.tools:
        ctx.session.tools.append(name)
    return f"Tool '{name}' is now available in this conversation"


@keyword("REMOVE TOOL", shapes=["x"])
async def remove_tool(ctx, call: KeywordCall):
    """Take one tool away from the session; says whether it was active."""
    name = script_key(to_str(call.args[0].value))
    if name not in ctx.session.tools:
        return f"Tool '{name}' was not active in this conversation"
    ctx.session.tools.remove(name)
    return f"Tool '{name}' removed from this conversation"


@keyword("CLEAR TOOLS", shapes=[""])
async def clear_tools(ctx, call: KeywordCall):
    """Take every added tool away from the session; the message gives the count."""
    count = len(ctx.session.tools)
    ctx.session.tools = []
    return f"{count} tool(s) removed from this conversation"


@keyword("LIST TOOLS", shapes=[""])
async def list_tools(ctx, call: KeywordCall):
    """The array of the tools the LLM sees in this session (§9.5.2)."""
    return active_tools(ctx)
