"""The single writer of the SQLite store: a thread that applies writes with group commit.

Every write of the store is a function ``fn(connection)``. ``submit(fn)`` queues it and
returns an asyncio future. The thread takes what is queued (at most ``MAX_BATCH``
operations), runs it in ONE ``BEGIN IMMEDIATE`` ... ``COMMIT`` — each operation inside its
own savepoint, so a failing operation is undone alone and gets its exception — and then
resolves all their futures with one wake-up of each event loop. So a future completes only
after its data is committed, and one commit (one WAL sync under ``synchronous=FULL``)
serves every turn that was waiting for it: the busier the server, the larger the batches.

Writes of one kind that are many per batch (the commits of turns, ``sqlite_turns``) can
form a group (``WriteGroup``): a batch of nothing but its members may be written by one
statement that SQLite commits itself (``apply_alone``); otherwise the members are applied
together with a few multi-row statements, after the batch's other writes (members of a
batch never depend on each other: each was submitted before any of them was committed).
Should the group fail as a whole, its members are applied one by one, each in its own
savepoint, so only the failing one fails.

Operations reach the thread in hand-overs, not one by one: what the turns of one
iteration of the event loop commit is handed over together when the iteration ends (one
wake-up of the thread, one transaction and WAL sync for all of them) — or as soon as
``EARLY_HAND_OVER`` operations are pending while nothing waits in the queue, so that an
idle thread starts committing the first turns of a long iteration while the loop runs the
others. Without that, with many clients the turns fall into one wave: the loop runs them
all while the thread is idle, then the thread commits them all while the loop is idle;
the early hand-over turns the two into a pipeline (about 1.5 times the throughput with 50
clients).
"""
from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections import defaultdict
from typing import Any, Callable, Optional, Protocol

WriteFn = Callable[[sqlite3.Connection], Any]


class WriteGroup(Protocol):
    """Writes applied together (see module doc); members are the items given to
    ``submit(item, group)``. ``apply_all`` raises if any member cannot be applied.

    ``apply_alone`` (optional) applies a whole batch that holds nothing but members, as
    ONE statement outside any transaction, so that SQLite commits it itself; it returns
    False when it cannot (the batch is then applied the usual way) and raises, having
    changed nothing, when a member cannot be applied."""

    def apply_all(self, conn: sqlite3.Connection, items: list) -> None: ...

    def apply_one(self, conn: sqlite3.Connection, item) -> Any: ...

MAX_BATCH = 512  # bounds the latency a batch adds to its first operation
# Operations that go to an idle thread without waiting for the rest of the iteration.
# 24 since a batch is one statement: larger batches cost the server ~7 % less CPU per
# turn than 8 (benchmarks/chat_throughput.py, 4 runs each), the pipeline still overlaps.
EARLY_HAND_OVER = 24
_STOP = object()


class SQLiteWriter:
    """Owns one autocommit-mode connection and the thread that writes through it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue = queue.SimpleQueue()  # lists of operations, _STOP
        self._thread = threading.Thread(target=self._run, name="botbasic-sqlite-writer",
                                        daemon=True)
        self._pending: dict[Any, list] = {}  # event loop -> its operations not handed over
        self._backlog: list = []  # handed over, not applied yet (thread side)
        self._stopping = False
        self.transactions = 0  # statistics: operations / transactions = batching factor
        self.operations = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn, group: Optional[WriteGroup] = None) -> asyncio.Future:
        """Queue ``fn(connection)`` (with ``group``: the member ``fn`` of that group); the
        future gets its result once it is committed.

        The operations submitted during one iteration of the event loop are handed to the
        thread together when it ends: one hand-over, and at most one wake-up of the
        thread, for all the turns that iteration finished, which also go into one batch.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._hand_over, loop)
        pending.append((fn, future, loop, group))
        if len(pending) >= EARLY_HAND_OVER and self._queue.empty():
            self._hand_over(loop)  # the thread commits these while the loop goes on
        return future

    def _hand_over(self, loop) -> None:
        pending = self._pending.pop(loop, None)
        if pending:
            self._queue.put(pending)

    def hand_over_now(self) -> None:
        """Hand over at once what the running loop has submitted (before ``stop``)."""
        self._hand_over(asyncio.get_running_loop())

    def stop(self) -> None:
        """Apply what is queued, then end the thread and close the connection (blocks)."""
        self._queue.put(_STOP)
        self._thread.join()

    # -- the thread

    def _run(self) -> None:
        try:
            while not (self._stopping and not self._backlog):
                batch = self._next_batch()
                if batch:
                    _settle_all(self._apply(batch))
        finally:
            self._conn.close()

    def _next_batch(self) -> list:
        """Wait for a hand-over (unless some are left), take whatever else is already
        queued, and return at most ``MAX_BATCH`` operations (the rest comes next)."""
        if not self._backlog and not self._stopping:
            self._take(self._queue.get())
        while len(self._backlog) < MAX_BATCH and not self._stopping:
            try:
                self._take(self._queue.get_nowait())
            except queue.Empty:
                break
        batch, self._backlog = self._backlog[:MAX_BATCH], self._backlog[MAX_BATCH:]
        return batch

    def _take(self, item) -> None:
        if item is _STOP:
            self._stopping = True
        else:
            self._backlog.extend(item)

    def _apply(self, batch: list) -> list[tuple]:
        """Run a batch in one transaction; returns (future, loop, result, error) tuples.

        When the transaction itself fails (the lock was not obtained in time, the disk is
        full ...), every operation of the batch fails with that error.
        """
        if self._applied_alone(batch):
            return [(future, loop, None, None) for _, future, loop, _ in batch]
        conn = self._conn
        groups: dict[Any, list] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes = []
            for fn, future, loop, group in batch:
                if group is None:
                    outcomes.append(self._apply_one(fn, future, loop))
                else:
                    groups.setdefault(group, []).append((fn, future, loop))
            for group, members in groups.items():
                outcomes.extend(self._apply_group(group, members))
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(future, loop, None, exc) for _, future, loop, _ in batch]
        self.transactions += 1
        self.operations += len(batch)
        return outcomes

    def _applied_alone(self, batch: list) -> bool:
        """Apply a batch of one group's members with the group's ``apply_alone``: one
        statement, which SQLite commits itself, so this thread takes the interpreter lock
        back once for the whole batch instead of at each of BEGIN, SAVEPOINT, every
        statement, RELEASE and COMMIT (each time waiting for the event loop to yield it).
        False when the batch does not qualify or the statement failed (it changed nothing:
        the usual way then finds out which member fails)."""
        group = batch[0][3]
        apply_alone = getattr(group, "apply_alone", None)
        if apply_alone is None or any(member[3] is not group for member in batch):
            return False
        try:
            if not apply_alone(self._conn, [fn for fn, _, _, _ in batch]):
                return False
        except Exception:
            return False
        self.transactions += 1
        self.operations += len(batch)
        return True

    def _apply_group(self, group: WriteGroup, members: list) -> list[tuple]:
        conn = self._conn
        conn.execute("SAVEPOINT grp")
        try:
            group.apply_all(conn, [item for item, _, _ in members])
        except Exception:  # find the failing member(s): one by one
            conn.execute("ROLLBACK TO grp")
            conn.execute("RELEASE grp")
            return [self._apply_one(lambda c, item=item: group.apply_one(c, item), future, loop)
                    for item, future, loop in members]
        conn.execute("RELEASE grp")
        return [(future, loop, None, None) for _, future, loop in members]

    def _apply_one(self, fn: WriteFn, future, loop) -> tuple:
        conn = self._conn
        conn.execute("SAVEPOINT op")
        try:
            result = fn(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            return future, loop, None, exc
        conn.execute("RELEASE op")
        return future, loop, result, None


def _settle_all(outcomes: list[tuple]) -> None:
    """Resolve the futures of a finished batch: one wake-up per event loop."""
    by_loop: dict[Any, list] = defaultdict(list)
    for future, loop, result, error in outcomes:
        by_loop[loop].append((future, result, error))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # the loop was closed meanwhile: nobody is waiting
            pass


def _settle(items: list) -> None:
    for future, result, error in items:
        if future.done():  # cancelled by its waiter
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
