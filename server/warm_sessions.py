"""Conversations kept warm in memory between their turns (a per-process cache).

The database holds the whole state of every conversation, and any process can continue
any of them. But most conversations keep talking to the process that served their last
turn, and rebuilding a turn's objects from the stored JSON (session data, the waiting
execution, its context) costs more than running a short script. So after a committed
turn the process keeps those live objects here, with the version the commit gave the
session. The next turn asks the store for the session's version only (``store.turn(...,
warm=record)``): when nothing was committed since, it continues with the live objects;
otherwise (another process served the session meanwhile) it reads and decodes the stored
state as usual. Durability does not change: every turn still commits its full state
before its reply leaves.

An entry is taken out while its turn runs and put back only after that turn committed, so
a turn that failed or did not commit never leaves objects ahead of the database here.
The cache is bounded (least recently used entries go first).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

DEFAULT_CAPACITY = 5000


@dataclass
class WarmSession:
    """The live objects of one conversation after its last committed turn."""

    runtime: Any  # runner.BotRuntime the objects were built for
    record: Any  # store.base.SessionRecord, version as committed
    session: Any  # runtime.context.SessionData
    ctx: Any  # runtime.context.ExecutionContext
    execution: Any  # the waiting runtime.vm.Execution, or None


class WarmSessions:
    """Up to ``capacity`` WarmSession entries by session id (least recently used out)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(0, capacity)
        self._entries: OrderedDict[str, WarmSession] = OrderedDict()

    def take(self, session_id: str, runtime) -> Optional[WarmSession]:
        """Remove and return the entry of ``session_id`` if it was built for ``runtime``
        (a reloaded bot gets a new runtime: its sessions start cold)."""
        entry = self._entries.pop(session_id, None)
        if entry is not None and entry.runtime is not runtime:
            return None
        return entry

    def keep(self, entry: WarmSession) -> None:
        """Remember the live objects of a turn that has just committed."""
        if self.capacity == 0:
            return
        entries = self._entries
        entries[entry.record.id] = entry
        entries.move_to_end(entry.record.id)
        while len(entries) > self.capacity:
            entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
