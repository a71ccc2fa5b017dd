"""The SQLite session store (the default; one file in WAL mode).

Writes go through ONE writer thread with group commit (``sqlite_writer.SQLiteWriter``):
commits of concurrent turns are applied together (``sqlite_turns``: one statement per
batch), and each caller resumes only once its data is committed. Plain ``sqlite3`` on a
dedicated thread is used rather than aiosqlite because the commit rate is bound by the
per-transaction cost, which batching amortises.

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
   offset given by a hash of the session id (``sqlite_leases.TurnFileLocks``). It costs no
   database write, and the kernel drops it when a process dies, so a crash never leaves a
   session blocked. The store keeps the lock after a turn, until another process asks for
   it (``sqlite_leases``): the next turn then needs neither a system call nor a read to
   know that its warm session is current;
3. a database-level version check: ``commit`` updates the session only if its ``version``
   is still the one the turn read, in the same transaction as the history and the reply,
   so a turn that was not exclusive after all (no lock support, e.g. on Windows or a
   network file system) fails with ``TurnConflict`` instead of overwriting a newer state.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from pathlib import Path
from typing import Optional

from .base import HistoryItem, SessionRecord
from .common import (SESSION_COLUMNS, SessionExists, SessionLocks, SessionNotFound, StoreTurn,
                     dump_json, history_from_row, new_session_id, program_from_row,
                     session_from_row)
from .memory import SQLiteMemoryStore
from .migrations import migrate_sqlite
from .sqlite_leases import (REQUEST_POLL_S, REQUEST_TTL_S, YIELD_PAUSE_S, Lease,
                            RequestSignal, SeenMessageIds, TurnFileLocks, TurnLeases)
from .sqlite_turns import TURN_COMMITS, TURN_ROWS_SQL, turn_commit
from .sqlite_writer import SQLiteWriter, WriteGroup

log = logging.getLogger("botbasic.store")

_SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")
_BUSY_TIMEOUT_S = 30.0  # how long a connection waits for another process's write lock
_LOCK_POLL_FIRST_S = 0.001
_LOCK_POLL_MAX_S = 0.01  # holders give a lock back within REQUEST_POLL_S of a request
_REQUEST_RENEW_S = 0.5  # a waiting turn renews its request this often
_CHECKPOINT_PAGES = 10_000


# ---------------------------------------------------------------- connections and writes


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    # Room for the multi-row statements of every batch size (three tables, up to 256 rows).
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False, cached_statements=1024)
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
        # A multi-row statement inside a savepoint keeps a statement journal; in a file
        # it was created and deleted for every batch.
        conn.execute("PRAGMA temp_store = MEMORY")
        migrate_sqlite(conn)
        conn.executescript(TURN_ROWS_SQL)
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
_SELECT_REQUESTS = "SELECT session_id FROM turn_requests WHERE requested_at > ?"


def _ask_for_turn(session_id: str, at: float, conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO turn_requests (session_id, requested_at) VALUES (?, ?) "
                 "ON CONFLICT (session_id) DO UPDATE SET requested_at = excluded.requested_at",
                 (session_id, at))


def _withdraw_request(session_id: str, conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM turn_requests WHERE session_id = ?", (session_id,))


# ---------------------------------------------------------------- the store


class SQLiteTurn(StoreTurn):
    """One turn of one session on the SQLite store (see ``base.Turn``); ``lease`` is what
    the store keeps of the session between turns (see ``sqlite_leases``)."""

    def __init__(self, store: "SQLiteStore", session: SessionRecord,
                 lease: Optional[Lease] = None, **read) -> None:
        super().__init__(session, **read)
        self._store = store
        self._read_version = session.version
        self.lease = lease if lease is not None else Lease(session.version)

    async def _stored_reply(self, message_id: str) -> Optional[str]:
        rows = self._store._read(
            "SELECT reply FROM replies WHERE session_id = ? AND message_id = ?",
            (self.session.id, message_id))
        return rows[0][0] if rows else None

    async def commit(self, session: SessionRecord, history: list[HistoryItem],
                     message_id: Optional[str], reply: Optional[dict]) -> None:
        self._check_commit(session)
        commit = turn_commit(session, self._read_version, history, message_id, reply)
        await self._store._write(commit, TURN_COMMITS)
        self.committed = True
        session.version = self.lease.version = self._read_version + 1
        if commit.reply_row is not None:
            self.lease.seen.add(message_id)
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
        self._leases: Optional[TurnLeases] = None
        self._requests: Optional[RequestSignal] = None
        self._poller: Optional[asyncio.Task] = None
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
            locks = TurnFileLocks(self.path.with_name(self.path.name + "-turns"))
            self._leases = TurnLeases(locks)
            self._requests = RequestSignal(self.path.with_name(self.path.name + "-requests"))
        except BaseException:
            await self.close()
            raise
        self._memory = SQLiteMemoryStore(self._read, self._write)
        self._poller = asyncio.create_task(self._answer_requests(), name="sqlite-turn-requests")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.hand_over_now()  # writes of this loop iteration go before the stop
            await asyncio.to_thread(writer.stop)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._leases is not None:
            self._leases.locks.close()  # gives back every lock this store holds
            self._leases = None
        if self._requests is not None:
            self._requests.close()
            self._requests = None

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

    def turn(self, session_id: str, *, message_id: Optional[str] = None,
             warm: Optional[SessionRecord] = None) -> "_TurnContext":
        """See ``base.SessionStore.turn``."""
        return _TurnContext(self, session_id, message_id, warm)

    async def _begin_turn(self, session_id: str, message_id: Optional[str],
                          warm: Optional[SessionRecord]) -> SQLiteTurn:
        """The session's lock (kept from an earlier turn, or taken now), then the turn."""
        lease = self._leases.get(session_id)
        if lease is not None and warm is not None and lease.version == warm.version:
            # Nobody else can have committed while this store held the lock: no read.
            if message_id is not None and lease.seen.may_contain(message_id):
                message_id = None  # perhaps a retried delivery: reply_for reads the reply
            return SQLiteTurn(self, warm, lease, warm_hit=True, message_id=message_id)
        if lease is None:
            await self._lock_across_processes(session_id)
        try:
            # Read after locking: every earlier turn of the session has committed.
            return self._read_turn(session_id, message_id, warm, lease)
        except BaseException:
            self._leases.release(session_id)
            raise

    def _end_turn(self, session_id: str, lease: Lease, keep: bool) -> None:
        lease.busy = False
        if lease.wanted:
            self._leases.give_back(session_id)
        elif not (keep and self._leases.keep(session_id, lease)):
            self._leases.release(session_id)

    def _read_turn(self, session_id: str, message_id: Optional[str],
                   warm: Optional[SessionRecord], lease: Optional[Lease]) -> SQLiteTurn:
        params = {"sid": session_id, "mid": message_id}
        if warm is not None:
            rows = self._read(_SELECT_TURN_VERSION, params)
            if rows and rows[0][0] == warm.version:  # nothing committed since: keep it
                lease = self._lease_at(session_id, warm.version, lease)
                return SQLiteTurn(self, warm, lease, warm_hit=True, message_id=message_id,
                                  earlier=rows[0][1])
        rows = self._read(_SELECT_TURN, params)
        if not rows:
            raise SessionNotFound(session_id)
        session = session_from_row(rows[0][:-1])
        lease = self._lease_at(session_id, session.version, lease)
        return SQLiteTurn(self, session, lease, message_id=message_id, earlier=rows[0][-1])

    def _lease_at(self, session_id: str, version: int, lease: Optional[Lease]) -> Lease:
        """The lease of a session just read under its lock, at the version read."""
        if lease is None:
            rows = self._read("SELECT message_id FROM replies WHERE session_id = ?",
                              (session_id,))
            return Lease(version, SeenMessageIds(row[0] for row in rows))
        lease.version = version
        return lease

    async def _lock_across_processes(self, session_id: str) -> None:
        """Wait until no other process (or store) holds the session's lock, asking the
        holder for it (``sqlite_leases``) when it is taken."""
        leases = self._leases
        if leases.recently_given(session_id):
            await asyncio.sleep(YIELD_PAUSE_S)  # let the process we gave it to go first
        delay, asked_at = _LOCK_POLL_FIRST_S, None
        try:
            while not leases.locks.try_lock(session_id):
                if asked_at is None or time.monotonic() - asked_at > _REQUEST_RENEW_S:
                    await self._write(functools.partial(_ask_for_turn, session_id, time.time()))
                    self._requests.raise_signal()
                    asked_at = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LOCK_POLL_MAX_S)
        finally:
            if asked_at is not None:
                await self._write(functools.partial(_withdraw_request, session_id))

    async def _answer_requests(self) -> None:
        """Give back the locks other processes ask for, and those unused for a while
        (runs while the store is open)."""
        while True:
            await asyncio.sleep(REQUEST_POLL_S)
            if not self._leases:
                continue
            try:
                self._leases.release_idle()
                if self._requests.due():
                    rows = self._read(_SELECT_REQUESTS, (time.time() - REQUEST_TTL_S,))
                    self._leases.requested(row[0] for row in rows)
            except Exception:  # a busy disk, a failed unlock ...: look again next time
                # (this task must survive: other processes wait for what it gives back)
                log.exception("could not answer the requests for session locks")

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


class _TurnContext:
    """``async with store.turn(...) as turn``: the session's locks, then the turn; when the
    block ends, the lock is kept (or given back) and the session unlocked. A class, not an
    async generator: it is entered for every turn."""

    __slots__ = ("_store", "_session_id", "_message_id", "_warm", "_held", "_turn")

    def __init__(self, store: SQLiteStore, session_id: str, message_id: Optional[str],
                 warm: Optional[SessionRecord]) -> None:
        self._store, self._session_id = store, session_id
        self._message_id, self._warm = message_id, warm

    async def __aenter__(self) -> SQLiteTurn:
        store, session_id = self._store, self._session_id
        held = self._held = store._locks.hold(session_id)
        await held.__aenter__()
        try:
            turn = self._turn = await store._begin_turn(session_id, self._message_id, self._warm)
        except BaseException as error:
            await held.__aexit__(type(error), error, error.__traceback__)
            raise
        store._leases.start(session_id, turn.lease)
        return turn

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        turn = self._turn
        try:
            turn.finished = True
            # After a failed turn (e.g. a conflict) the next one reads the session afresh.
            keep = exc_type is None or turn.committed
            self._store._end_turn(self._session_id, turn.lease, keep)
        finally:
            await self._held.__aexit__(exc_type, exc, tb)
        return False
