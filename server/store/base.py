"""The persistence contract of the chat server.

Two implementations share it: SQLite (default, embedded, ``server/store/sqlite.py``) and
PostgreSQL (``DATABASE_URL=postgresql://...``, ``server/store/postgres.py``). Several
server processes may share one PostgreSQL database, so everything that must be atomic
across processes (one turn of one session at a time; a message id processed once) is
done by the store, not by in-process locks alone.

A *turn* is the handling of one inbound message of one session::

    async with store.turn(session_id) as turn:        # waits for other turns of it
        earlier = await turn.reply_for(message_id)     # a retried delivery?
        if earlier is not None:
            return earlier                             # (no commit: nothing changes)
        record = turn.session                          # SessionRecord, mutable
        ... run the script ...
        await turn.commit(record, history, message_id, reply)

``commit`` writes the session record, the history items, and the reply under the message
id in one transaction; a turn left without commit changes nothing. A reply is stored
before the server acknowledges it, so an acknowledged turn survives a crash.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncContextManager, Optional, Protocol


@dataclass
class SessionRecord:
    """Everything the server keeps about one conversation (plain JSON-ready data)."""

    id: str
    bot: str
    user_id: str
    created_at: float
    data: dict = field(default_factory=dict)  # runtime.context.SessionData.to_dict()
    execution: Optional[dict] = None  # a waiting execution: {"snapshot": ..., "script": ..., "kind": ...}
    start_done: bool = False  # start.bas has run for this session (§7.2)
    version: int = 0  # bumped by every commit


@dataclass
class HistoryItem:
    role: str  # "user" | "bot"
    content: str
    at: float = 0.0
    message_id: Optional[str] = None


class Turn(Protocol):
    session: SessionRecord
    warm_hit: bool  # ``session`` is the caller's warm record (see ``SessionStore.turn``)

    async def reply_for(self, message_id: Optional[str]) -> Optional[dict]:
        """The reply stored for ``message_id`` by an earlier commit, else None."""

    async def commit(self, session: SessionRecord, history: list[HistoryItem],
                     message_id: Optional[str], reply: Optional[dict]) -> None:
        """Save the turn atomically (see module doc)."""


class SessionStore(Protocol):
    """Sessions, history, idempotency and memory (see module doc)."""

    async def open(self) -> None:
        """Connect and apply pending schema migrations."""

    async def close(self) -> None:
        ...

    async def create_session(self, bot: str, user_id: str,
                             session_id: Optional[str] = None) -> SessionRecord:
        ...

    async def get_session(self, session_id: str) -> Optional[SessionRecord]:
        ...

    def turn(self, session_id: str, *, message_id: Optional[str] = None,
             warm: Optional[SessionRecord] = None) -> AsyncContextManager[Turn]:
        """Exclusive access to one session for one turn, across processes.

        ``message_id``: the reply stored for it is read with the session (``reply_for``
        answers it without another query). ``warm``: the record of this session's last
        commit, still held by the caller; when nothing was committed since (same
        ``version``), the turn's ``session`` is that very object and ``warm_hit`` is True,
        and the stored data are not read again."""

    async def history(self, session_id: str, limit: int = 100) -> list[HistoryItem]:
        """The last ``limit`` stored messages, oldest first."""

    @property
    def memory(self) -> Any:
        """A ``runtime.memory_store.MemoryStore`` over the same database."""
