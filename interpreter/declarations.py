"""Static declarations of a script (DIALECT §1.6): evaluated at compile time, wherever
they stand, and never executed. The analyzer fills a :class:`ScriptInfo`; the host reads it
to register tools, schedules, webhooks, tables and event handlers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import nodes as n
from .tools import mcp_schema, tool_schema


@dataclass(frozen=True)
class Schedule:
    text: str  # as written in SET SCHEDULE
    cron: str  # normalised 5-field cron
    line: int


@dataclass
class ScriptInfo:
    """Everything a host needs to know about one script besides its code."""

    name: str
    file: str
    params: list[n.Param] = field(default_factory=list)
    description: Optional[str] = None
    schedules: list[Schedule] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    websites: list[tuple[str, Optional[str]]] = field(default_factory=list)
    tables: list[n.TableDef] = field(default_factory=list)
    triggers: list[n.Stmt] = field(default_factory=list)  # ON ... lines and handler blocks
    workflow: bool = False

    def tool_schema(self) -> dict:
        """OpenAI function definition of this script as an LLM tool (§8.4)."""
        return tool_schema(self.name, self.params, self.description)

    def mcp_schema(self) -> dict:
        return mcp_schema(self.name, self.params, self.description)

    @property
    def is_tool(self) -> bool:
        return bool(self.params or self.description)
