"""Pieces shared by the SQLite and PostgreSQL session stores.

* the errors a store raises (``SessionNotFound``, ``SessionExists``, ``TurnConflict``,
  ``TurnFinished``);
* ``SessionLocks``: one FIFO asyncio lock per session inside a process, taken before the
  database-level guard so that waiting turns hold no database resource and messages of one
  session are handled in the order they arrived;
* JSON and row conversion, so both backends store exactly the same text.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Optional, Sequence

from .base import HistoryItem, SessionRecord

# Columns of the ``sessions`` table, in the order both backends select them.
SESSION_COLUMNS = "id, bot, user_id, created_at, data, execution, start_done, version"


class SessionNotFound(LookupError):
    """``turn()`` was asked for a session that was never created."""


class SessionExists(ValueError):
    """``create_session()`` was given the id of an existing session."""


class TurnConflict(RuntimeError):
    """The session changed under a turn (its database guard was lost); nothing was saved."""


class TurnFinished(RuntimeError):
    """``commit()`` was called twice, or after the turn ended."""


def new_session_id() -> str:
    return uuid.uuid4().hex


# One encoder for every call: ``json.dumps`` with options builds a new encoder each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump_json(value: Any) -> str:
    """JSON text as both databases store it (compact; key order preserved)."""
    return _ENCODER.encode(value)


def load_json(text: Optional[str]) -> Any:
    return None if text is None else json.loads(text)


def session_from_row(row: Sequence[Any]) -> SessionRecord:
    """Build a record from a row selected with ``SESSION_COLUMNS``."""
    sid, bot, user_id, created_at, data, execution, start_done, version = row
    return SessionRecord(id=sid, bot=bot, user_id=user_id, created_at=float(created_at),
                         data=load_json(data) or {}, execution=load_json(execution),
                         start_done=bool(start_done), version=int(version))


def history_from_row(row: Sequence[Any]) -> HistoryItem:
    """Build a history item from a ``role, content, at, message_id`` row."""
    role, content, at, message_id = row
    return HistoryItem(role=role, content=content, at=float(at), message_id=message_id)


def program_from_row(row: Sequence[Any]) -> dict:
    """The dict ``load_program_source`` returns, from a ``hash, bot, script, file, source``
    row."""
    hash_, bot, script, file, source = row
    return {"hash": hash_, "bot": bot, "script": script, "file": file, "source": source}


class StoreTurn:
    """What the SQLite and PostgreSQL turns share (``base.Turn``): the session, whether it
    is the caller's warm record, the reply read with it for one message id, and the checks
    before a commit. Subclasses read other replies (``_stored_reply``) and commit."""

    def __init__(self, session: SessionRecord, *, warm_hit: bool = False,
                 message_id: Optional[str] = None, earlier: Optional[str] = None) -> None:
        self.session = session
        self.warm_hit = warm_hit
        self._prefetched = (message_id, earlier)  # read in the turn's first statement
        self.committed = False
        self.finished = False

    async def reply_for(self, message_id: Optional[str]) -> Optional[dict]:
        if message_id is None:
            return None
        if message_id == self._prefetched[0]:
            return load_json(self._prefetched[1])
        return load_json(await self._stored_reply(message_id))

    async def _stored_reply(self, message_id: str) -> Optional[str]:
        raise NotImplementedError

    def _check_commit(self, session: SessionRecord) -> None:
        if self.committed or self.finished:
            raise TurnFinished("a turn commits at most once, before it ends")
        if session.id != self.session.id:
            raise ValueError(f"turn of {self.session.id} cannot commit session {session.id}")


class SessionLocks:
    """One FIFO ``asyncio.Lock`` per session, dropped when nobody holds or awaits it.

    ``asyncio.Lock`` wakes waiters in arrival order, and ``hold`` awaits nothing before the
    lock, so turns of one session run in the order ``turn()`` was entered.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def hold(self, session_id: str) -> "_HeldSession":
        """``async with locks.hold(session_id):`` runs the block alone for that session.
        (A class, not an async generator: it is entered for every turn.)"""
        return _HeldSession(self._locks, session_id)

    def __len__(self) -> int:
        return len(self._locks)


class _HeldSession:
    """The context of ``SessionLocks.hold``."""

    __slots__ = ("_locks", "_session_id", "_lock")

    def __init__(self, locks: dict, session_id: str) -> None:
        self._locks = locks
        self._session_id = session_id

    async def __aenter__(self) -> None:
        locks, session_id = self._locks, self._session_id
        lock, users = locks.get(session_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        locks[session_id] = (lock, users + 1)
        self._lock = lock
        try:
            await lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc_info) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        locks, session_id = self._locks, self._session_id
        lock, users = locks[session_id]
        if users == 1:
            del locks[session_id]
        else:
            locks[session_id] = (lock, users - 1)
