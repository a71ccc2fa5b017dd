"""The SQLite store keeps a session's cross-process lock between turns (server/store/
sqlite_leases.py): a warm turn then reads nothing, a retried message id is still answered
from the database, and another store (another process) that wants the session asks for
the lock and gets it, after the holder's running turn if there is one."""
from __future__ import annotations

import asyncio
import random
from contextlib import asynccontextmanager
import string
import time

from hypothesis import given, settings, strategies as st

from botbasic.server.store.sqlite import SQLiteStore
from botbasic.server.store.sqlite_leases import (REQUEST_FULL_CHECK_S, REQUEST_POLL_S,
                                                SeenMessageIds)
from store_support import items, run


async def _turn(store, session_id, message_id, text, warm=None):
    """One turn that appends ``text`` to ``data["said"]``; its committed record, and
    whether the store served it from a warm record."""
    async with store.turn(session_id, message_id=message_id, warm=warm) as turn:
        earlier = await turn.reply_for(message_id)
        if earlier is not None:
            return earlier, turn.warm_hit
        record = turn.session
        record.data["said"] = record.data.get("said", []) + [text]
        await turn.commit(record, items(text, message_id=message_id), message_id,
                          {"text": f"re: {text}"})
        return turn.session, turn.warm_hit


@asynccontextmanager
async def _two_stores(path):
    """Two opened stores on one file: two processes, as far as kept locks go."""
    a, b = SQLiteStore(path), SQLiteStore(path)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def _reads_of(store: SQLiteStore) -> list[str]:
    """The statements the store's read connection runs from now on (SQLite's trace hook)."""
    statements: list[str] = []
    store._reader.set_trace_callback(statements.append)
    return statements


def test_a_warm_turn_on_a_kept_lock_reads_nothing(tmp_path):
    async def body():
        store = SQLiteStore(tmp_path / "l.db")
        await store.open()
        try:
            made = await store.create_session("bot", "ann")
            first, _ = await _turn(store, made.id, "m1", "a")
            reads = _reads_of(store)
            second, warm_hit = await _turn(store, made.id, "m2", "b", warm=first)
            reads_in_turn = list(reads)
            return reads_in_turn, warm_hit, second.version, await store.get_session(made.id)
        finally:
            await store.close()

    reads, warm_hit, version, stored = run(body())
    assert warm_hit and version == 2
    assert reads == []
    assert stored.data["said"] == ["a", "b"] and stored.version == 2


def test_a_retried_message_id_is_answered_from_the_database(tmp_path):
    """Also for a message stored before this store opened (its ids are loaded when the
    store first takes the session's lock)."""
    async def body():
        path = tmp_path / "r.db"
        before = SQLiteStore(path)
        await before.open()
        made = await before.create_session("bot", "ann")
        await _turn(before, made.id, "old", "a")
        await before.close()
        store = SQLiteStore(path)
        await store.open()
        try:
            record, _ = await _turn(store, made.id, "new", "b")
            retried_old, warm_old = await _turn(store, made.id, "old", "again", warm=record)
            retried_new, warm_new = await _turn(store, made.id, "new", "again", warm=record)
            return retried_old, retried_new, warm_old and warm_new, await store.get_session(made.id)
        finally:
            await store.close()

    retried_old, retried_new, warm, stored = run(body())
    assert retried_old == {"text": "re: a"} and retried_new == {"text": "re: b"}
    assert warm
    assert stored.data["said"] == ["a", "b"]  # the retries changed nothing


def test_another_store_asks_for_a_kept_lock_and_gets_it(tmp_path):
    """Two stores on one file stand for two processes: each keeps the lock after its turn,
    and the other's next turn asks for it. Every turn sees the other's last commit."""
    async def body():
        async with _two_stores(tmp_path / "s.db") as (a, b):
            made = await a.create_session("bot", "ann")
            warm_a, _ = await _turn(a, made.id, "m1", "a1")
            started = time.monotonic()
            on_b, _ = await _turn(b, made.id, "m2", "b1")
            moved_in = time.monotonic() - started
            back_on_a, warm_hit = await _turn(a, made.id, "m3", "a2", warm=warm_a)
            return on_b, back_on_a, warm_hit, moved_in

    on_b, back_on_a, warm_hit, moved_in = run(body())
    assert on_b.data["said"] == ["a1", "b1"]
    assert back_on_a.data["said"] == ["a1", "b1", "a2"] and back_on_a.version == 3
    assert not warm_hit  # b committed meanwhile: a read the session again
    # Given back at the holder's next look at the signal file (every REQUEST_POLL_S),
    # not only at its periodic full check of the requests (REQUEST_FULL_CHECK_S).
    assert moved_in < 0.8 * REQUEST_FULL_CHECK_S


def test_a_lock_asked_for_during_a_turn_goes_back_when_the_turn_ends(tmp_path):
    async def body():
        order = []
        async with _two_stores(tmp_path / "t.db") as (a, b):
            made = await a.create_session("bot", "ann")
            async with a.turn(made.id, message_id="m1") as turn:
                waiting = asyncio.create_task(_turn(b, made.id, "m2", "from b"))
                await asyncio.sleep(REQUEST_POLL_S * 6)  # b has asked; a's turn still runs
                order.append("a commits")
                record = turn.session
                record.data["said"] = ["from a"]
                await turn.commit(record, items("from a"), "m1", {"text": "re: from a"})
            on_b, _ = await waiting
            order.append("b committed")
            return order, on_b

    order, on_b = run(body())
    assert order == ["a commits", "b committed"]
    assert on_b.data["said"] == ["from a", "from b"] and on_b.version == 2


@settings(max_examples=20, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=3000, unique=True))
def test_seen_message_ids_never_forget_an_id(message_ids):
    seen = SeenMessageIds(message_ids)
    assert all(seen.may_contain(message_id) for message_id in message_ids)


def test_seen_message_ids_rarely_claim_an_unseen_one():
    rng = random.Random(7)
    ids = ["".join(rng.choices(string.ascii_letters, k=12)) for _ in range(2000)]
    seen = SeenMessageIds(ids[:1000])
    false_positives = sum(seen.may_contain(message_id) for message_id in ids[1000:])
    assert false_positives < 30  # about 0.5 % expected at 1,000 ids


def test_a_kept_lock_unused_for_a_while_goes_back_by_itself(tmp_path):
    """So a process that does not ask (an older release, during a rolling deploy) waits
    at most that long."""
    async def body():
        async with _two_stores(tmp_path / "i.db") as (a, b):
            made = await a.create_session("bot", "ann")
            await _turn(a, made.id, "m1", "a1")
            kept_before = len(a._leases)
            a._leases.release_idle(idle=0.0)
            taken_by_b = b._leases.locks.try_lock(made.id)  # without asking
            return kept_before, len(a._leases), taken_by_b

    assert run(body()) == (1, 0, True)
