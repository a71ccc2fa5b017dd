"""Writing turn commits to SQLite: one turn's rows (``TurnCommit``) and the writer's group
of them (``TurnCommits``).

A batch of turn commits is written by ONE statement that SQLite commits itself: rows of
three kinds go into a temporary view whose trigger updates the sessions (checking each
version) and inserts history and replies (``TurnCommits.apply_alone``). The writer thread
then takes the interpreter lock back once per batch instead of at every statement, each
time waiting for the busy event loop. When that statement fails (a stale turn), the batch
is written in one transaction with three multi-row statements, then row by row to fail
only the stale turn (``sqlite_writer``).
"""
from __future__ import annotations

import functools
import sqlite3
import time
from typing import NamedTuple, Optional

from .base import HistoryItem, SessionRecord
from .common import TurnConflict, dump_json

_UPDATE_SESSION = """UPDATE sessions SET bot = ?, user_id = ?, data = ?, execution = ?,
    start_done = ?, version = ? WHERE id = ? AND version = ?"""
_INSERT_HISTORY = """INSERT INTO history (session_id, role, content, at, message_id)
    VALUES (?, ?, ?, ?, ?)"""
_UPSERT_REPLY = """INSERT INTO replies (session_id, message_id, reply, created_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT (session_id, message_id) DO UPDATE SET reply = excluded.reply"""


class TurnCommit(NamedTuple):
    """One turn's rows; JSON is encoded when it is built, on the caller's thread, so the
    record is captured as it is at ``commit`` time."""

    session_id: str
    session_row: tuple
    history_rows: list
    reply_row: Optional[tuple]


def turn_commit(session: SessionRecord, read_version: int, history: list[HistoryItem],
                message_id: Optional[str], reply: Optional[dict]) -> TurnCommit:
    """The rows that commit ``session`` (read at ``read_version``), its new history and
    the reply kept for ``message_id``."""
    session_row = (session.bot, session.user_id, dump_json(session.data),
                   None if session.execution is None else dump_json(session.execution),
                   int(session.start_done), read_version + 1, session.id, read_version)
    history_rows = [(session.id, item.role, item.content, item.at, item.message_id)
                    for item in history]
    reply_row = None
    if message_id is not None and reply is not None:
        reply_row = (session.id, message_id, dump_json(reply), time.time())
    return TurnCommit(session.id, session_row, history_rows, reply_row)


# A batch's rows go in as one multi-row statement per table, so the writer thread runs
# three statements per batch rather than one per row: each statement (and each row of an
# ``executemany``) takes the interpreter lock again, which the event loop holds most of
# the time. The values are bound as they are (no JSON to build and parse again).
# ``UPDATE ... FROM`` needs SQLite 3.33; older libraries use ``executemany``.
_ROWS_PER_STATEMENT = 256  # 8 columns x 256 rows stays far below SQLite's 32,766 variables


@functools.lru_cache(maxsize=None)
def _values(columns: int, rows: int) -> str:
    row = "(" + ", ".join(["?"] * columns) + ")"
    return ", ".join([row] * rows)


def _update_sessions_sql(rows: int) -> str:
    # Not "WITH v AS (VALUES ...) UPDATE": Python's sqlite3 (before 3.12) reports no
    # rowcount for a statement that does not start with the DML keyword.
    return ("UPDATE sessions SET bot = v.column1, user_id = v.column2, data = v.column3, "
            "execution = v.column4, start_done = v.column5, version = v.column6 "
            f"FROM (VALUES {_values(8, rows)}) AS v "
            "WHERE sessions.id = v.column7 AND sessions.version = v.column8")


def _insert_history_sql(rows: int) -> str:
    return ("INSERT INTO history (session_id, role, content, at, message_id) "
            f"VALUES {_values(5, rows)}")


def _upsert_replies_sql(rows: int) -> str:
    return ("INSERT INTO replies (session_id, message_id, reply, created_at) "
            f"VALUES {_values(4, rows)} "
            "ON CONFLICT (session_id, message_id) DO UPDATE SET reply = excluded.reply")


def _many_rows(conn: sqlite3.Connection, sql_for, rows: list) -> int:
    """Run ``sql_for(n)`` over ``rows``, up to ``_ROWS_PER_STATEMENT`` per statement;
    the number of rows changed."""
    changed = 0
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start:start + _ROWS_PER_STATEMENT]
        changed += conn.execute(sql_for(len(chunk)), [v for row in chunk for v in row]).rowcount
    return changed


_MULTI_ROW = sqlite3.sqlite_version_info >= (3, 33)

# A whole batch of turn commits as ONE statement (``TurnCommits.apply_alone``): rows of
# three kinds go into a view whose trigger writes them where they belong, 's' (a session,
# checked against the version its turn read), 'h' (history) and 'r' (a reply). Temporary
# objects: they exist on the writer's connection only, no migration.
_TURN_ROWS_COLUMNS = 9
TURN_ROWS_SQL = """
CREATE TEMP VIEW IF NOT EXISTS turn_rows AS SELECT NULL AS id, NULL AS kind, NULL AS c1,
    NULL AS c2, NULL AS c3, NULL AS c4, NULL AS c5, NULL AS c6, NULL AS c7;
CREATE TEMP TRIGGER IF NOT EXISTS turn_row INSTEAD OF INSERT ON turn_rows BEGIN
    SELECT RAISE(ABORT, 'a session changed since its turn read it')
        WHERE NEW.kind = 's' AND NOT EXISTS
            (SELECT 1 FROM sessions WHERE id = NEW.id AND version = NEW.c7);
    UPDATE sessions SET bot = NEW.c1, user_id = NEW.c2, data = NEW.c3, execution = NEW.c4,
        start_done = NEW.c5, version = NEW.c6 WHERE NEW.kind = 's' AND id = NEW.id;
    INSERT INTO history (session_id, role, content, at, message_id)
        SELECT NEW.id, NEW.c1, NEW.c2, NEW.c3, NEW.c4 WHERE NEW.kind = 'h';
    INSERT INTO replies (session_id, message_id, reply, created_at)
        SELECT NEW.id, NEW.c1, NEW.c2, NEW.c3 WHERE NEW.kind = 'r'
        ON CONFLICT (session_id, message_id) DO UPDATE SET reply = excluded.reply;
END;
"""
_MAX_TURN_ROWS = 32766 // _TURN_ROWS_COLUMNS  # SQLite's bound on variables per statement


def _turn_rows_sql(rows: int) -> str:
    return f"INSERT INTO turn_rows VALUES {_values(_TURN_ROWS_COLUMNS, rows)}"


def _turn_rows(item: "TurnCommit") -> list[tuple]:
    bot, user_id, data, execution, start_done, version, sid, read_version = item.session_row
    rows = [(sid, "s", bot, user_id, data, execution, start_done, version, read_version)]
    rows += [(sid, "h", role, content, at, message_id, None, None, None)
             for _, role, content, at, message_id in item.history_rows]
    if item.reply_row is not None:
        _, message_id, reply, created_at = item.reply_row
        rows.append((sid, "r", message_id, reply, created_at, None, None, None, None))
    return rows
class TurnCommits:
    """The writer's group of turn commits (``sqlite_writer.WriteGroup``): a batch in one
    statement, else in three, else row by row (see module doc)."""

    def __init__(self, multi_row: bool = _MULTI_ROW) -> None:
        self._apply = self._apply_multi_row if multi_row else self._apply_rows
        self._multi_row = multi_row

    def apply_alone(self, conn: sqlite3.Connection, items: list[TurnCommit]) -> bool:
        """The whole batch in one autocommitted statement (see ``sqlite_writer``)."""
        rows = [row for item in items for row in _turn_rows(item)]
        if not self._multi_row or len(rows) > _MAX_TURN_ROWS:
            return False
        conn.execute(_turn_rows_sql(len(rows)), [value for row in rows for value in row])
        return True

    def apply_all(self, conn: sqlite3.Connection, items: list[TurnCommit]) -> None:
        history = [row for item in items for row in item.history_rows]
        replies = [item.reply_row for item in items if item.reply_row is not None]
        self._apply(conn, [item.session_row for item in items], history, replies)

    @staticmethod
    def _apply_multi_row(conn: sqlite3.Connection, sessions: list, history: list,
                         replies: list) -> None:
        if _many_rows(conn, _update_sessions_sql, sessions) != len(sessions):
            raise TurnConflict("a session changed since its turn read it")
        if history:
            _many_rows(conn, _insert_history_sql, history)
        if replies:
            _many_rows(conn, _upsert_replies_sql, replies)

    @staticmethod
    def _apply_rows(conn: sqlite3.Connection, sessions: list, history: list,
                    replies: list) -> None:
        if conn.executemany(_UPDATE_SESSION, sessions).rowcount != len(sessions):
            raise TurnConflict("a session changed since its turn read it")
        if history:
            conn.executemany(_INSERT_HISTORY, history)
        if replies:
            conn.executemany(_UPSERT_REPLY, replies)

    def apply_one(self, conn: sqlite3.Connection, item: TurnCommit) -> None:
        if conn.execute(_UPDATE_SESSION, item.session_row).rowcount != 1:
            raise TurnConflict(f"session {item.session_id} changed since this turn read it")
        if item.history_rows:
            conn.executemany(_INSERT_HISTORY, item.history_rows)
        if item.reply_row is not None:
            conn.execute(_UPSERT_REPLY, item.reply_row)


TURN_COMMITS = TurnCommits()
