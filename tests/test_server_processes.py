"""Real ``botbasic serve`` processes: per-script errors at startup, a conversation that
survives SIGKILL (SQLite and PostgreSQL), and two servers sharing one PostgreSQL."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from server_support import BACKENDS, PG_URL, ServerProcess, database_url, new_id, write_bot

DURABLE = """TALK "Name?"
HEAR name
SET BOT MEMORY "last_name", name
SET USER MEMORY "color", "blue"
SET SESSION "city", "Paris"
total = 40
HEAR n AS INTEGER WITH "Number?"
total = total + n
remembered = GET BOT MEMORY "last_name"
c = GET USER MEMORY "color"
city = GET SESSION "city"
TALK name + ":" + total + ":" + remembered + ":" + c + ":" + city
"""

EDITED = DURABLE.replace('"Name?"', '"Name (v2)?"').replace('":" + city', '":" + city + ":v2"')

COUNTER = """n = 0
DO
  HEAR x
  n = n + 1
  TALK "n=" + n
LOOP
"""

BROKEN = """TALK "fine"
FOR i = 1 TO 3
TALK i
"""


def contents(reply: dict) -> list[str]:
    return [envelope["content"] for envelope in reply["messages"]]


def chat(server: ServerProcess, bot: str, content: str, session_id=None) -> dict:
    body = {"content": content}
    if session_id:
        body["session_id"] = session_id
    status, reply = server.post(f"/api/bots/{bot}/messages", body)
    assert status == 200, (reply, server.log)
    return reply


def test_serve_reports_each_broken_script_and_serves_the_rest(tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "durable", {"start": DURABLE})
    write_bot(bots, "broken", {"start": BROKEN, "helper": 'TALK "helper ok"\n'})
    with ServerProcess(bots, tmp_path / "data") as server:
        assert "broken.gbai/broken.gbdialog/start.bas:2:" in server.log
        assert "durable (ok)" in server.log and (tmp_path / "data" / "botbasic.sqlite3").is_file()
        assert contents(chat(server, "durable", "hi")) == ["Name?"]
        status, listing = server.get("/api/bots")
        assert status == 200
        broken = next(b for b in listing["bots"] if b["name"] == "broken")
        assert broken["errors"][0]["line"] == 2
        assert {s["name"]: s["status"] for s in broken["scripts"]}["helper"] == "ok"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conversation_survives_sigkill_and_a_script_edit(tmp_path, backend):
    bots, data, database = tmp_path / "bots", tmp_path / "data", database_url(backend)
    write_bot(bots, "durable", {"start": DURABLE})
    first = ServerProcess(bots, data, database)
    try:
        sid = chat(first, "durable", "hello")["session_id"]
        assert contents(chat(first, "durable", "Ann", sid)) == ["Number?"]
    finally:
        first.kill()  # while the conversation waits at HEAR
    write_bot(bots, "durable", {"start": EDITED})  # the new process must find the old version
    with ServerProcess(bots, data, database) as second:
        assert contents(chat(second, "durable", "2", sid)) == ["Ann:42:Ann:blue:Paris"]
        assert contents(chat(second, "durable", "hi")) == ["Name (v2)?"]
        status, history = second.get(f"/api/bots/durable/sessions/{sid}/history")
        assert status == 200
        assert [m["content"] for m in history["messages"]] == [
            "hello", "Name?", "Ann", "Number?", "2", "Ann:42:Ann:blue:Paris"]


def test_two_servers_share_one_postgresql(tmp_path):
    bots = tmp_path / "bots"
    write_bot(bots, "durable", {"start": DURABLE})
    write_bot(bots, "counter", {"start": COUNTER})
    with ServerProcess(bots, tmp_path / "a", PG_URL) as a, \
            ServerProcess(bots, tmp_path / "b", PG_URL) as b:
        sid = chat(a, "durable", "hello")["session_id"]
        assert contents(chat(b, "durable", "Bea", sid)) == ["Number?"]
        assert contents(chat(a, "durable", "1", sid)) == ["Bea:41:Bea:blue:Paris"]

        counter = chat(b, "counter", "start", new_id())["session_id"]
        servers = [a, b] * 6
        with ThreadPoolExecutor(len(servers)) as pool:
            replies = list(pool.map(lambda s: chat(s, "counter", "tick", counter), servers))
        # one turn at a time across both processes: every count exactly once
        assert sorted(int(contents(r)[0][2:]) for r in replies) == list(range(1, 13))
