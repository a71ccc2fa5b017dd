"""The SQLite store's cross-process turn locks, kept between turns ("leases").

A turn of a session needs that session's lock: an OS byte-range lock on the side file
``<database>-turns`` (``TurnFileLocks``). If the store gave the lock back after every
turn, the next turn would pay two system calls for it and one read to learn whether
another process had committed a turn of the session in between. Most conversations keep
talking to one process, so the store keeps the lock after the turn instead. While it holds
it, nobody else can have committed a turn of the session, so the next turn knows the
session's version (the one it committed) and the message ids it has answered
(``SeenMessageIds``) without asking the database.

Another process (or store) that wants a held session finds its lock taken. It records a
request in the ``turn_requests`` table, changes the shared bytes of the side file
``<database>-requests`` (``RequestSignal``) and polls the lock. Every holder looks at those
bytes every ``REQUEST_POLL_S`` (a memory read: no system call, no database read) and, when
they changed, reads the table and gives back what was asked for; it reads the table at
least every ``REQUEST_FULL_CHECK_S`` too. A lock whose turn
is running goes back when that turn ends. A process that dies loses its locks with it:
the kernel drops them. A lock unused for ``IDLE_RELEASE_S`` goes back by itself, which
also bounds the wait of a process too old to ask (a rolling deploy from a release
without kept locks).
"""
from __future__ import annotations

import functools
import hashlib
import mmap
import os
import struct
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

try:
    import fcntl
except ImportError:  # Windows: turns are exclusive per process, guarded by versions
    fcntl = None

DEFAULT_CAPACITY = 5000  # sessions whose lock a store keeps (as many as it keeps warm)
REQUEST_POLL_S = 0.025  # how often a holder looks for requests
REQUEST_FULL_CHECK_S = 1.0  # how often it reads the requests whatever the file says
REQUEST_TTL_S = 5.0  # a request not renewed for this long is ignored (its asker died)
YIELD_PAUSE_S = 0.02  # after giving a lock back, wait before asking for it again
IDLE_RELEASE_S = 60.0  # a kept lock unused this long is given back


class TurnFileLocks:
    """One exclusive byte-range lock per session on a side file, taken without blocking.

    The byte is at a 62-bit hash of the session id (locks beyond the end of a file are
    allowed, the file stays empty), so two sessions share a lock only by a hash collision.
    On Linux it is an open-file-description lock, which also excludes two stores of one
    process; elsewhere a POSIX record lock (per process).
    """

    # struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid, padding.
    _FLOCK = "hhqqi4x"

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if fcntl else None
        self._ofd = fcntl is not None and hasattr(fcntl, "F_OFD_SETLK")

    @property
    def exclusive(self) -> bool:
        """Whether a lock taken here really excludes other processes."""
        return self._fd is not None

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


class RequestSignal:
    """Eight shared bytes in a side file (memory-mapped): a request changes them, holders
    read them. Reading is a memory access, not a system call: a system call would let
    another thread take the interpreter lock, and the event loop wait to get it back."""

    _SIZE = 8

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(self._fd).st_size < self._SIZE:
                os.ftruncate(self._fd, self._SIZE)
            self._map = mmap.mmap(self._fd, self._SIZE)
        except BaseException:
            os.close(self._fd)
            raise
        self._seen = self._value()
        self._checked = 0.0

    def raise_signal(self) -> None:
        """Tell every holder to read the requests (after recording one)."""
        struct.pack_into("<Q", self._map, 0, (self._value() + 1) % 2**64)

    def due(self) -> bool:
        """Whether the requests need reading: the bytes changed since the last time this
        said so, or ``REQUEST_FULL_CHECK_S`` passed."""
        value, now = self._value(), time.monotonic()
        if value == self._seen and now - self._checked < REQUEST_FULL_CHECK_S:
            return False
        self._seen, self._checked = value, now
        return True

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    def _value(self) -> int:
        return struct.unpack_from("<Q", self._map, 0)[0]


class SeenMessageIds:
    """The message ids a session has stored replies for, as a Bloom filter of 2 KiB.

    ``may_contain`` is never wrong when it says no; when it says yes the turn reads the
    database (a retried delivery, or now and then a false positive: about 0.5 % after
    1,000 ids, 7 % after 3,000). Python's ``hash`` differs between processes, which is fine
    for a filter that lives in one.
    """

    _BITS = 1 << 14
    _MASK = _BITS - 1
    __slots__ = ("_bits",)

    def __init__(self, message_ids: Iterable[str] = ()) -> None:
        self._bits = bytearray(self._BITS // 8)
        for message_id in message_ids:
            self.add(message_id)

    def add(self, message_id: str) -> None:
        bits = self._bits
        for position in _positions(message_id):
            bits[position >> 3] |= 1 << (position & 7)

    def may_contain(self, message_id: str) -> bool:
        bits = self._bits
        a, b, c = _positions(message_id)  # (no generator: asked at every warm turn)
        return bool(bits[a >> 3] >> (a & 7) & bits[b >> 3] >> (b & 7) & bits[c >> 3] >> (c & 7)
                    & 1)


def _positions(message_id: str) -> tuple[int, int, int]:
    h, mask = hash(message_id), SeenMessageIds._MASK
    return h & mask, (h >> 14) & mask, (h >> 28) & mask


@dataclass(slots=True)
class Lease:
    """A session whose lock this store holds between turns: the version its last turn read
    or committed, and the message ids with stored replies."""

    version: int
    seen: SeenMessageIds = field(default_factory=SeenMessageIds)
    busy: bool = False  # a turn of the session is running
    wanted: bool = False  # another process asked for the lock: give it back after the turn
    used_at: float = 0.0  # time.monotonic() when its last turn ended


class TurnLeases:
    """The leases of one store (at most ``capacity``, least recently used go first)."""

    def __init__(self, locks: TurnFileLocks, capacity: int = DEFAULT_CAPACITY) -> None:
        self.locks = locks
        self.capacity = capacity if locks.exclusive else 0
        self._leases: OrderedDict[str, Lease] = OrderedDict()
        self._yielded: dict[str, float] = {}

    def get(self, session_id: str) -> Optional[Lease]:
        lease = self._leases.get(session_id)
        if lease is not None:
            self._leases.move_to_end(session_id)
        return lease

    def start(self, session_id: str, lease: Lease) -> None:
        """A turn of the session begins under ``lease``: busy, and known to ``requested``
        from now on (also on its first turn), so a request waits for the turn's end only."""
        lease.busy = True
        if self.capacity:
            self._leases[session_id] = lease
            self._leases.move_to_end(session_id)

    def keep(self, session_id: str, lease: Lease) -> bool:
        """Keep the (already taken) lock of ``session_id``; False when leases are off."""
        if self.capacity == 0:
            return False
        lease.used_at = time.monotonic()
        self._leases[session_id] = lease
        self._leases.move_to_end(session_id)
        if len(self._leases) > self.capacity:
            self._evict_oldest()
        return True

    def release(self, session_id: str) -> None:
        """Give the lock back (held as a lease or only for a turn)."""
        self._leases.pop(session_id, None)
        self.locks.unlock(session_id)

    def requested(self, session_ids: Iterable[str]) -> None:
        """Other processes want these sessions: give back the idle ones now, the busy ones
        when their turn ends."""
        for session_id in session_ids:
            lease = self._leases.get(session_id)
            if lease is None:
                continue
            if lease.busy:
                lease.wanted = True
            else:
                self.give_back(session_id)

    def give_back(self, session_id: str) -> None:
        """Release a lock another process asked for, and remember when (``recently_given``)."""
        self.release(session_id)
        self._yielded[session_id] = time.monotonic()
        if len(self._yielded) > self.capacity:
            self._yielded.clear()  # only fairness is lost: a short pause is skipped

    def recently_given(self, session_id: str) -> bool:
        """Whether this store gave the lock back to another process a moment ago (its next
        turn should let that process go first)."""
        given = self._yielded.pop(session_id, None)
        return given is not None and time.monotonic() - given < 10 * YIELD_PAUSE_S

    def release_idle(self, idle: float = IDLE_RELEASE_S) -> None:
        """Give back the locks whose last turn ended more than ``idle`` seconds ago (the
        leases are in order of use: this stops at the first recent one)."""
        limit = time.monotonic() - idle
        while self._leases:
            session_id, lease = next(iter(self._leases.items()))
            if lease.used_at > limit or lease.busy:
                return
            self.release(session_id)

    def __len__(self) -> int:
        return len(self._leases)

    def _evict_oldest(self) -> None:
        for session_id, lease in self._leases.items():
            if not lease.busy:
                self.release(session_id)
                return
