"""The SQLite session store (the default; one file in WAL mode).

Writes go through ONE writer thread with group commit (``sqlite_writer.SQLiteWriter``):
commits of concurrent turns are applied together in one transaction, and each caller
resumes only once its data is committed. Plain ``sqlite3`` on a dedicated thread is used
rather than aiosqlite because the commit rate is bound by the per-transaction cost, which
batching amortises.

Durability: ``synchronous=FULL`` by default. In WAL mode it syncs the log at every commit,
so an acknowledged turn survives a process kill (SIGKILL) and also a power loss or an OS
crash. ``synchronous=NORMAL`` in WAL mode also survives SIGKILL (committed pages are in the
OS cache) but may lose the last turns on power loss; ``SQLiteStore(path,
synchronous="NORMAL")`` chooses it. With group commit one sync serves a whole batch, so
FULL costs little throughput (tests/store_support.py measures both).

Reads (``get_session``, ``history``, ``reply_for``, memory ``get`` ...) run on the event-loop
thread on a second, read-only connection: they are indexed point lookups of microseconds,
and in WAL mode readers never wait for the writer, so a thread hop would cost more than
the read.

One turn per session at a time, also across processes sharing the file:

1. inside the process, ``common.SessionLocks`` (FIFO: messages keep their order);
2. across processes, an OS byte-range lock on the side file ``<database>-turns``, at an
   offset given by a hash of the session id (``_TurnFileLocks``). It costs one system call
   and no database write, and the kernel drops it when a process dies, so a crash never
   leaves a session blocked. On Linux it is an open-file-description lock, which also
   excludes two stores of one process; elsewhere a POSIX record lock (per process);
3. a database-level version check: ``commit`` updates the session only if its ``version``
   is still the one the turn read, in the same transaction as the history and the reply,
   so a turn that was not exclusive after all (no lock support, e.g. on Windows or a
   network file system) fails with ``TurnConflict`` instead of overwriting a newer state.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import sqlite3
import struct
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, NamedTuple, Optional

from .base import HistoryItem, SessionRecord
from .common import (SESSION_COLUMNS, SessionExists, SessionLocks, SessionNotFound, StoreTurn,
                     TurnConflict, dump_json, history_from_row,
                     new_session_id, program_from_row, session_from_row)
from .memory import SQLiteMemoryStore
from .migrations import migrate_sqlite
from .sqlite_writer import SQLiteWriter, WriteGroup

try:
    import fcntl
except ImportError:  # Windows: turns are exclusive per process, guarded by versions
    fcntl = None

log = logging.getLogger("botbasic.store")

_SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")
_BUSY_TIMEOUT_S = 30.0  # how long a connection waits for another process's write lock
_LOCK_POLL_FIRST_S = 0.001
_LOCK_POLL_MAX_S = 0.05
_CHECKPOINT_PAGES = 10_000


# ---------------------------------------------------------------- cross-process locks


class _TurnFileLocks:
    """One exclusive byte-range lock per session on a side file, taken without blocking.

    The byte is at a 62-bit hash of the session id (locks beyond the end of a file are
    allowed, the file stays empty), so two sessions share a lock only by a hash collision.
    """

    # struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid, padding.
    _FLOCK = "hhqqi4x"

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if fcntl else None
        self._ofd = fcntl is not None and hasattr(fcntl, "F_OFD_SETLK")

    def try_lock(self, session_id: str) -> bool:
        """Take the session's lock if no other holder has it; False when busy."""
        if self._fd is None:
            return True
        try:
            self._set(fcntl.F_WRLCK, _offset(session_id))
        except (BlockingIOError, PermissionError):  # EAGAIN / EACCES: held elsewhere
            return False
        return True

    def unlock(self, session_id: str) -> None:
        if self._fd is not None:
            self._set(fcntl.F_UNLCK, _offset(session_id))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases every lock still held through it
            self._fd = None

    def _set(self, kind: int, offset: int) -> None:
        if self._ofd:
            request = struct.pack(self._FLOCK, kind, os.SEEK_SET, offset, 1, 0)
            fcntl.fcntl(self._fd, fcntl.F_OFD_SETLK, request)
        else:
            operation = fcntl.LOCK_UN if kind == fcntl.F_UNLCK else fcntl.LOCK_EX | fcntl.LOCK_NB
            fcntl.lockf(self._fd, operation, 1, offset, os.SEEK_SET)


@functools.lru_cache(maxsize=4096)  # the sessions talking now ask again at every turn
def _offset(session_id: str) -> int:
    digest = hashlib.blake2b(session_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2  # below 2**62: a valid off_t


# ---------------------------------------------------------------- connections and writes


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    return conn


def _open_writer_connection(path: Path, synchronous: str) -> sqlite3.Connection:
    """Connect, switch the file to WAL, and apply pending migrations (blocking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        # Checkpoint every ~40 MB of log instead of SQLite's ~4 MB: a busy server rewrites
        # the same pages (the sessions talking now) over and over, and a checkpoint copies
        # each page once however often the log holds it.
        conn.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
        migrate_sqlite(conn)
    except BaseException:
        conn.close()
        raise
    return conn


_SELECT_SESSION = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
# What a turn reads, in one statement: the session (or only its version, when the caller
# still holds the record of its last commit) and the reply stored for the message id.
_EARLIER_REPLY = "(SELECT reply FROM replies WHERE session_id = :sid AND message_id = :mid)"
_SELECT_TURN = f"SELECT {SESSION_COLUMNS}, {_EARLIER_REPLY} FROM sessions WHERE id = :sid"
_SELECT_TURN_VERSION = f"SELECT version, {_EARLIER_REPLY} FROM sessions WHERE id = :sid"
_UPDATE_SESSION = """UPDATE sessions SET bot = ?, user_id = ?, data = ?, execution = ?,
    start_done = ?, version = ? WHERE id = ? AND version = ?"""
_INSERT_HISTORY = """INSERT INTO history (session_id, role, content, at, message_id)
    VALUES (?, ?, ?, ?, ?)"""
_UPSERT_REPLY = """INSERT INTO replies (session_id, message_id, reply, created_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT (session_id, message_id) DO UPDATE SET reply = excluded.reply"""


class _TurnCommit(NamedTuple):
    """One turn's rows; JSON is encoded when it is built, on the caller's thread, so the
    record is captured as it is at ``commit`` time."""

    session_id: str
    session_row: tuple
    history_rows: list
    reply_row: Optional[tuple]


def _turn_commit(session: SessionRecord, read_version: int, history: list[HistoryItem],
                 message_id: Optional[str], reply: Optional[dict]) -> _TurnCommit:
    session_row = (session.bot, session.user_id, dump_json(session.data),
                   None if session.execution is None else dump_json(session.execution),
                   int(session.start_done), read_version + 1, session.id, read_version)
    history_rows = [(session.id, item.role, item.content, item.at, item.message_id)
                    for item in history]
    reply_row = None
    if message_id is not None and reply is not None:
        reply_row = (session.id, message_id, dump_json(reply), time.time())
    return _TurnCommit(session.id, session_row, history_rows, reply_row)


def _field(n: int) -> str:
    return f"j.value ->> {n}"


# A batch's rows go in as one JSON array per table, so the writer thread runs three
# statements per batch rather than one per row: each statement (and each row of an
# ``executemany``) takes the interpreter lock again, which the event loop holds most of
# the time. Needs SQLite 3.38 (``->>``); older libraries use ``executemany``.
_UPDATE_SESSIONS = f"""UPDATE sessions SET bot = {_field(0)}, user_id = {_field(1)},
    data = {_field(2)}, execution = {_field(3)}, start_done = {_field(4)}, version = {_field(5)}
    FROM json_each(?) AS j WHERE sessions.id = {_field(6)} AND sessions.version = {_field(7)}"""
_INSERT_HISTORIES = f"""INSERT INTO history (session_id, role, content, at, message_id)
    SELECT {_field(0)}, {_field(1)}, {_field(2)}, {_field(3)}, {_field(4)}
    FROM json_each(?) AS j ORDER BY j.key"""
_UPSERT_REPLIES = f"""INSERT INTO replies (session_id, message_id, reply, created_at)
    SELECT {_field(0)}, {_field(1)}, {_field(2)}, {_field(3)} FROM json_each(?) AS j
    WHERE true ON CONFLICT (session_id, message_id) DO UPDATE SET reply = excluded.reply"""
_JSON_BATCHES = sqlite3.sqlite_version_info >= (3, 38)


class _TurnCommits:
    """The writer's group of turn commits: a whole batch of turns in three statements."""

    def __init__(self, json_batches: bool = _JSON_BATCHES) -> None:
        self._apply = self._apply_json if json_batches else self._apply_rows

    def apply_all(self, conn: sqlite3.Connection, items: list[_TurnCommit]) -> None:
        history = [row for item in items for row in item.history_rows]
        replies = [item.reply_row for item in items if item.reply_row is not None]
        self._apply(conn, [item.session_row for item in items], history, replies)

    @staticmethod
    def _apply_json(conn: sqlite3.Connection, sessions: list, history: list,
                    replies: list) -> None:
        if conn.execute(_UPDATE_SESSIONS, (dump_json(sessions),)).rowcount != len(sessions):
            raise TurnConflict("a session changed since its turn read it")
        if history:
            conn.execute(_INSERT_HISTORIES, (dump_json(history),))
        if replies:
            conn.execute(_UPSERT_REPLIES, (dump_json(replies),))

    @staticmethod
    def _apply_rows(conn: sqlite3.Connection, sessions: list, history: list,
                    replies: list) -> None:
        if conn.executemany(_UPDATE_SESSION, sessions).rowcount != len(sessions):
            raise TurnConflict("a session changed since its turn read it")
        if history:
            conn.executemany(_INSERT_HISTORY, history)
        if replies:
            conn.executemany(_UPSERT_REPLY, replies)

    def apply_one(self, conn: sqlite3.Connection, item: _TurnCommit) -> None:
        if conn.execute(_UPDATE_SESSION, item.session_row).rowcount != 1:
            raise TurnConflict(f"session {item.session_id} changed since this turn read it")
        if item.history_rows:
            conn.executemany(_INSERT_HISTORY, item.history_rows)
        if item.reply_row is not None:
            conn.execute(_UPSERT_REPLY, item.reply_row)


_TURN_COMMITS = _TurnCommits()


# ---------------------------------------------------------------- the store


class SQLiteTurn(StoreTurn):
    """One turn of one session on the SQLite store (see ``base.Turn``)."""

    def __init__(self, store: "SQLiteStore", session: SessionRecord, **read) -> None:
        super().__init__(session, **read)
        self._store = store
        self._read_version = session.version

    async def _stored_reply(self, message_id: str) -> Optional[str]:
        rows = self._store._read(
            "SELECT reply FROM replies WHERE session_id = ? AND message_id = ?",
            (self.session.id, message_id))
        return rows[0][0] if rows else None

    async def commit(self, session: SessionRecord, history: list[HistoryItem],
                     message_id: Optional[str], reply: Optional[dict]) -> None:
        self._check_commit(session)
        commit = _turn_commit(session, self._read_version, history, message_id, reply)
        await self._store._write(commit, _TURN_COMMITS)
        self.committed = True
        session.version = self._read_version + 1
        self.session = session


class SQLiteStore:
    """The session store over one SQLite file (``base.SessionStore``; see module doc).

    ``synchronous`` is SQLite's sync mode for the WAL: ``FULL`` (default) or ``EXTRA``
    survive power loss, ``NORMAL`` only process crashes.
    """

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in _SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS_MODES)}")
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self._locks = SessionLocks()
        self._file_locks: Optional[_TurnFileLocks] = None
        self._writer: Optional[SQLiteWriter] = None
        self._reader: Optional[sqlite3.Connection] = None
        self._memory: Optional[SQLiteMemoryStore] = None

    # -- lifecycle

    async def open(self) -> None:
        conn = await asyncio.to_thread(_open_writer_connection, self.path, self.synchronous)
        self._writer = SQLiteWriter(conn)
        self._writer.start()
        try:
            self._reader = _connect(self.path, readonly=True)
            self._file_locks = _TurnFileLocks(self.path.with_name(self.path.name + "-turns"))
        except BaseException:
            await self.close()
            raise
        self._memory = SQLiteMemoryStore(self._read, self._write)

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.hand_over_now()  # writes of this loop iteration go before the stop
            await asyncio.to_thread(writer.stop)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._file_locks is not None:
            self._file_locks.close()
            self._file_locks = None

    @property
    def memory(self) -> SQLiteMemoryStore:
        return self._memory

    @property
    def write_stats(self) -> tuple[int, int]:
        """(transactions, operations) committed by the writer since ``open``: operations
        per transaction is the group-commit factor."""
        writer = self._writer
        return (writer.transactions, writer.operations) if writer else (0, 0)

    # -- sessions

    async def create_session(self, bot: str, user_id: str,
                             session_id: Optional[str] = None) -> SessionRecord:
        record = SessionRecord(id=session_id or new_session_id(), bot=bot, user_id=user_id,
                               created_at=time.time())
        row = (record.id, bot, user_id, record.created_at, dump_json(record.data))

        def insert(conn: sqlite3.Connection) -> None:
            inserted = conn.execute(
                "INSERT INTO sessions (id, bot, user_id, created_at, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING", row).rowcount
            if not inserted:
                raise SessionExists(record.id)
        await self._write(insert)
        return record

    async def get_session(self, session_id: str) -> Optional[SessionRecord]:
        rows = self._read(_SELECT_SESSION, (session_id,))
        return session_from_row(rows[0]) if rows else None

    async def sessions_count(self) -> int:
        return self._read("SELECT count(*) FROM sessions", ())[0][0]

    async def history(self, session_id: str, limit: int = 100) -> list[HistoryItem]:
        rows = self._read("SELECT role, content, at, message_id FROM history "
                          "WHERE session_id = ? ORDER BY id DESC LIMIT ?", (session_id, limit))
        return [history_from_row(row) for row in reversed(rows)]

    # -- turns

    @asynccontextmanager
    async def turn(self, session_id: str, *, message_id: Optional[str] = None,
                   warm: Optional[SessionRecord] = None) -> AsyncIterator[SQLiteTurn]:
        """See ``base.SessionStore.turn``."""
        async with self._locks.hold(session_id):
            await self._lock_across_processes(session_id)
            try:
                # Read after locking: every earlier turn of the session has committed.
                turn = self._read_turn(session_id, message_id, warm)
                try:
                    yield turn
                finally:
                    turn.finished = True
            finally:
                if self._file_locks is not None:
                    self._file_locks.unlock(session_id)

    def _read_turn(self, session_id: str, message_id: Optional[str],
                   warm: Optional[SessionRecord]) -> SQLiteTurn:
        params = {"sid": session_id, "mid": message_id}
        if warm is not None:
            rows = self._read(_SELECT_TURN_VERSION, params)
            if rows and rows[0][0] == warm.version:  # nothing committed since: keep it
                return SQLiteTurn(self, warm, warm_hit=True, message_id=message_id,
                                  earlier=rows[0][1])
        rows = self._read(_SELECT_TURN, params)
        if not rows:
            raise SessionNotFound(session_id)
        return SQLiteTurn(self, session_from_row(rows[0][:-1]), message_id=message_id,
                          earlier=rows[0][-1])

    async def _lock_across_processes(self, session_id: str) -> None:
        """Wait until no other process (or store) runs a turn of the session. Contention
        across processes is rare (one conversation's messages at once on two servers), so
        polling with back-off is enough."""
        delay = _LOCK_POLL_FIRST_S
        while not self._file_locks.try_lock(session_id):
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LOCK_POLL_MAX_S)

    # -- compiled programs

    async def save_program(self, hash: str, bot: str, script: str, file: str,
                           source: str) -> None:
        """Keep the source of a compiled program under its content hash (first one wins:
        the same hash is the same source)."""
        row = (hash, bot, script, file, source, time.time())
        await self._write(lambda conn: conn.execute(
            "INSERT INTO programs (hash, bot, script, file, source, saved_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING", row))

    async def load_program_source(self, hash: str) -> Optional[dict]:
        """``{"hash", "bot", "script", "file", "source"}`` saved for ``hash``, or None."""
        rows = self._read("SELECT hash, bot, script, file, source FROM programs WHERE hash = ?",
                          (hash,))
        return program_from_row(rows[0]) if rows else None

    # -- plumbing

    def _read(self, sql: str, params) -> list:
        if self._reader is None:
            raise RuntimeError("the store is not open")
        return self._reader.execute(sql, params).fetchall()

    def _write(self, fn, group: Optional[WriteGroup] = None) -> asyncio.Future:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer.submit(fn, group)
