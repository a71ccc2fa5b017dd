"""The single writer of the SQLite store: a thread that applies writes with group commit.

Every write of the store is a function ``fn(connection)``. ``submit(fn)`` queues it and
returns an asyncio future. The thread takes the first queued operation plus everything
queued behind it (at most ``MAX_BATCH``), runs them in ONE ``BEGIN IMMEDIATE`` ... ``COMMIT``
— each inside its own savepoint, so a failing operation is undone alone and gets its
exception — and then resolves all their futures with one wake-up of each event loop. So
a future completes only after its data is committed, and one commit (one WAL sync under
``synchronous=FULL``) serves every turn that was waiting for it: the busier the server,
the larger the batches.
"""
from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections import defaultdict
from typing import Any, Callable

WriteFn = Callable[[sqlite3.Connection], Any]

MAX_BATCH = 512  # bounds the latency a batch adds to its first operation
_STOP = object()


class SQLiteWriter:
    """Owns one autocommit-mode connection and the thread that writes through it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="botbasic-sqlite-writer",
                                        daemon=True)
        self.transactions = 0  # statistics: operations / transactions = batching factor
        self.operations = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn: WriteFn) -> asyncio.Future:
        """Queue ``fn(connection)``; the future gets its result once it is committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((fn, future, loop))
        return future

    def stop(self) -> None:
        """Apply what is queued, then end the thread and close the connection (blocks)."""
        self._queue.put(_STOP)
        self._thread.join()

    # -- the thread

    def _run(self) -> None:
        try:
            while True:
                batch, stopping = self._next_batch()
                if batch:
                    _settle_all(self._apply(batch))
                if stopping:
                    return
        finally:
            self._conn.close()

    def _next_batch(self) -> tuple[list, bool]:
        """Wait for one operation, then take whatever else is already queued."""
        item = self._queue.get()
        if item is _STOP:
            return [], True
        batch = [item]
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _apply(self, batch: list) -> list[tuple]:
        """Run a batch in one transaction; returns (future, loop, result, error) tuples.

        When the transaction itself fails (the lock was not obtained in time, the disk is
        full ...), every operation of the batch fails with that error.
        """
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes = [self._apply_one(fn, future, loop) for fn, future, loop in batch]
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(future, loop, None, exc) for _, future, loop in batch]
        self.transactions += 1
        self.operations += len(batch)
        return outcomes

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
