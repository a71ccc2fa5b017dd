"""Chat server throughput: concurrent WebSocket clients in a TALK/HEAR echo conversation
against ``botbasic serve`` (SQLite, then PostgreSQL) and against a bare aiohttp WebSocket
JSON echo server, measured in the same run with the same client and message shape.

    python benchmarks/chat_throughput.py [--clients 50] [--turns 10000] [--seconds 30]
                                         [--rounds 1] [--warmup 20] [--profile FILE]

Every server runs in a process of its own on 127.0.0.1 (``botbasic serve`` with a data
folder in a temporary directory; the bare server is this script with ``--echo-server``);
the clients run in this process. Each client sends what the web chat sends
(``{"content", "message_type": 1, "message_id"}``) and waits for the reply frame before
the next message. After a warm-up, the clients share a budget of ``--turns`` measured
turns, stopped after ``--seconds`` at the latest. Prints turns/s, p50/p99 latency (send to
reply frame), the CPU time per turn of the server process and of the load generator (this
process), and the throughput as a share of the bare server's in the same round; with
``--rounds N`` every configuration runs N times, interleaved, and the best and the spread
are printed. PostgreSQL is ``$DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``), in a throwaway schema per run; its row is
skipped when it cannot be reached. ``--profile FILE`` runs the first SQLite server under
cProfile and writes its statistics to FILE.

Targets of issue 3 (2 cores, c=50): botbasic with durable SQLite state >= 25 % of the
bare echo throughput (aim 50 %), p99 < 25 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import aiohttp

BOT = "echo"
ECHO_BOT = """DO
  HEAR msg
  TALK "echo: " + msg
LOOP
"""
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
STARTUP_LIMIT_S = 60  # a server that is not up by then is reported, not waited for
REPLY_LIMIT_S = 30  # one reply slower than this is a failure, not a figure

TARGET_RATIO, AIM_RATIO, TARGET_P99_MS = 0.25, 0.50, 25.0
TARGET_CLIENTS, TARGET_CORES = 50, 2


# ---------------------------------------------------------------- the bare echo server


def echo_reply(message: dict) -> dict:
    """What the bare server answers: an envelope of the shape botbasic sends (same keys,
    same size class), so both servers encode and send comparable frames."""
    content = "echo: " + str(message.get("content", ""))
    return {"id": uuid.uuid4().hex, "bot_id": BOT, "user_id": "bench", "session_id": "bench",
            "channel": "web", "content": content, "message_type": 2, "stream_token": None,
            "is_complete": True, "suggestions": [], "switchers": [], "context_name": None,
            "context_length": 0, "context_max_length": 0,
            "reply_to": message.get("message_id")}


async def _echo_socket(request):
    from aiohttp import WSMsgType, web
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(json.dumps({"type": "connected", "session_id": "bench"}))
    async for frame in ws:
        if frame.type == WSMsgType.TEXT:
            await ws.send_str(json.dumps(echo_reply(json.loads(frame.data)), ensure_ascii=False))
    return ws


def run_echo_server() -> int:
    """The ``--echo-server`` mode: serve ``/ws/{bot}`` on a free port of 127.0.0.1 until
    SIGTERM, announcing the port the way ``botbasic serve`` does."""
    from aiohttp import web
    app = web.Application()
    app.router.add_get("/ws/{bot}", _echo_socket)

    async def serve() -> None:
        import signal
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0, backlog=1024).start()
        port = runner.addresses[0][1]
        print(f"echo serving on http://{HOST}:{port}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())
    return 0


# ---------------------------------------------------------------- server processes


class ServerProcess:
    """A server subprocess; its URL is read from its ``... serving on http://HOST:PORT``
    log line. Its log is drained by a thread (a full pipe would stall the server), keeping
    the last lines to show when it fails."""

    def __init__(self, argv: list[str], env: dict) -> None:
        self.lines: deque[str] = deque(maxlen=40)
        self.url: Optional[str] = None
        self._ready = threading.Event()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP_LIMIT_S) or self.url is None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + self.log)

    def _read_log(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            found = re.search(r"serving on (http://[^\s\"]+)", line)
            if found and self.url is None:
                self.url = found.group(1)
                self._ready.set()
        self._ready.set()  # the process ended

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def cpu_seconds(self) -> Optional[float]:
        """User + system CPU time of the process so far (Linux /proc; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM (a clean shutdown, so a profile gets written), SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STARTUP_LIMIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


def write_echo_bot(bots_dir: Path) -> None:
    dialog = bots_dir / f"{BOT}.gbai" / f"{BOT}.gbdialog"
    dialog.mkdir(parents=True, exist_ok=True)
    (dialog / "start.bas").write_text(ECHO_BOT, encoding="utf-8")


def botbasic_argv(bots_dir: Path, data_dir: Path, profile: Optional[str]) -> list[str]:
    serve = ["serve", str(bots_dir), "--host", HOST, "--port", "0", "--data", str(data_dir),
             "--no-watch"]
    if profile:
        return [sys.executable, "-m", "cProfile", "-o", profile, "-m", "botbasic", *serve]
    return [sys.executable, "-m", "botbasic", *serve]


def server_env(database_url: Optional[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


# ---------------------------------------------------------------- the load


@dataclass
class Budget:
    """The measured turns the clients share, and the time they may take."""

    turns: int
    deadline: float = 0.0

    def take(self) -> bool:
        if self.turns <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.turns -= 1
        return True


@dataclass
class Result:
    label: str
    turns: int = 0
    seconds: float = 0.0
    latencies: list = field(default_factory=list)
    server_cpu: Optional[float] = None
    client_cpu: float = 0.0
    failure: Optional[str] = None

    @property
    def rate(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    @property
    def cpu_per_turn_us(self) -> Optional[float]:
        if self.server_cpu is None or not self.turns:
            return None
        return self.server_cpu / self.turns * 1e6

    @property
    def client_cpu_per_turn_us(self) -> float:
        return self.client_cpu / self.turns * 1e6 if self.turns else 0.0


class Client:
    """One WebSocket conversation: sends a message, waits for its reply frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, name: str) -> None:
        self.ws = ws
        self.name = name
        self.sent = 0

    async def turn(self) -> dict:
        self.sent += 1
        message_id = f"{self.name}-{self.sent}"
        content = f"hello {self.sent}"
        await self.ws.send_str(json.dumps({"content": content, "message_type": 1,
                                           "message_id": message_id}))
        frame = await self.ws.receive(timeout=REPLY_LIMIT_S)
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"connection ended: {frame.type.name} {frame.data!r}")
        reply = json.loads(frame.data)
        if reply.get("reply_to") != message_id:
            raise RuntimeError(f"unexpected reply to {message_id}: {frame.data[:200]}")
        return reply


async def connect(http: aiohttp.ClientSession, url: str, name: str) -> Client:
    ws = await http.ws_connect(f"{url}/ws/{BOT}", max_msg_size=0)
    hello = await ws.receive_json(timeout=REPLY_LIMIT_S)
    if hello.get("type") != "connected":
        raise RuntimeError(f"expected the connected frame, got {hello!r}")
    return Client(ws, name)


async def measured_turns(client: Client, start: asyncio.Event, budget: Budget,
                         latencies: list) -> None:
    await start.wait()
    while budget.take():
        sent = time.perf_counter()
        reply = await client.turn()
        latencies.append(time.perf_counter() - sent)
        if not reply.get("content", "").startswith("echo: hello "):
            raise RuntimeError(f"wrong reply: {reply.get('content')!r}")


async def load(server: ServerProcess, label: str, args) -> Result:
    """Connect the clients, warm up, then run the measured turns."""
    result = Result(label)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        run_id = uuid.uuid4().hex[:8]
        clients = await asyncio.gather(*(connect(http, server.url, f"{run_id}-{i}")
                                         for i in range(args.clients)))
        try:
            # The first message of a session starts the dialog (it waits at HEAR): the
            # warm-up also makes every measured turn a resumed HEAR.
            warmup_deadline = time.perf_counter() + args.seconds
            for _ in range(args.warmup):
                await asyncio.gather(*(client.turn() for client in clients))
                if time.perf_counter() > warmup_deadline:
                    break
            budget, start = Budget(args.turns), asyncio.Event()
            tasks = [asyncio.create_task(measured_turns(c, start, budget, result.latencies))
                     for c in clients]
            cpu_before, client_before = server.cpu_seconds(), time.process_time()
            started = time.perf_counter()
            budget.deadline = started + args.seconds
            start.set()
            await asyncio.gather(*tasks)
            result.seconds = time.perf_counter() - started
            cpu_after, result.client_cpu = server.cpu_seconds(), time.process_time() - client_before
        finally:
            await asyncio.gather(*(client.ws.close() for client in clients))
    result.turns = len(result.latencies)
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu = cpu_after - cpu_before
    return result


def measure(label: str, argv: list[str], env: dict, args) -> Result:
    try:
        server = ServerProcess(argv, env)
    except RuntimeError as exc:
        return Result(label, failure=str(exc))
    try:
        return asyncio.run(load(server, label, args))
    except Exception as exc:  # noqa: BLE001 - reported as the row's failure
        return Result(label, failure=f"{type(exc).__name__}: {exc}\n{server.log}")
    finally:
        server.stop()


# ---------------------------------------------------------------- PostgreSQL


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}search_path={schema}"


async def _pg_execute(url: str, sql: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_problem(url: str) -> Optional[str]:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        asyncio.run(_pg_execute(url, "SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - unreachable, refused, no such database ...
        return f"{type(exc).__name__}: {exc}"
    return None


def measure_postgres(label: str, argv: list[str], url: str, args) -> Result:
    """One run on a throwaway schema of its own (every run starts from empty tables)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(url, f"CREATE SCHEMA {schema}"))
    try:
        return measure(label, argv, server_env(with_search_path(url, schema)), args)
    finally:
        asyncio.run(_pg_execute(url, f"DROP SCHEMA {schema} CASCADE"))


# ---------------------------------------------------------------- report


def print_row(result: Result, bare: Optional[Result]) -> None:
    """One measurement; the ratio is to the bare server measured in the same round."""
    if result.failure:
        print(f"{result.label:30s} FAILED: {result.failure}")
        return
    cpu = result.cpu_per_turn_us
    cpu_text = f"{cpu:.0f} us" if cpu is not None else "n/a"
    ratio = f"{result.rate / bare.rate:.0%}" if bare is not None and bare.rate else "-"
    client_text = f"{result.client_cpu_per_turn_us:.0f} us"
    print(f"{result.label:30s} {result.rate:8.0f} {result.percentile_ms(0.50):8.2f}"
          f" {result.percentile_ms(0.99):8.2f} {cpu_text:>16s} {client_text:>14s} {ratio:>8s}",
          flush=True)


def best(results: list[Result]) -> Optional[Result]:
    ok = [r for r in results if not r.failure and r.turns]
    return max(ok, key=lambda r: r.rate) if ok else None


def round_ratios(rounds: dict[str, list[Result]], key: str) -> list[float]:
    """Throughput / the bare server's, per round (both measured minutes apart)."""
    return [r.rate / bare.rate for r, bare in zip(rounds[key], rounds["bare"])
            if not r.failure and r.turns and not bare.failure and bare.rate]


def summary(rounds: dict[str, list[Result]], order: list[str], clients: int) -> None:
    bare = best(rounds["bare"])
    count = len(rounds["bare"])
    print(f"\nbest of {count} round(s); spread = lowest-highest over the rounds")
    for key in order:
        chosen = best(rounds[key])
        if chosen is None:
            continue
        ok = [r for r in rounds[key] if not r.failure and r.turns]
        rates = [r.rate for r in ok]
        p99s = [r.percentile_ms(0.99) for r in ok]
        line = (f"  {chosen.label:28s} {chosen.rate:7.0f} turns/s (spread {min(rates):.0f}-"
                f"{max(rates):.0f}), p99 {chosen.percentile_ms(0.99):.1f} ms (spread "
                f"{min(p99s):.1f}-{max(p99s):.1f})")
        ratios = round_ratios(rounds, key) if key != "bare" else []
        if ratios:
            line += f", vs bare {min(ratios):.0%}-{max(ratios):.0%} per round"
        print(line)
    sqlite = best(rounds["sqlite"])
    print("\ntargets (2 cores, c=50): botbasic + durable SQLite >= 25 % of the bare echo "
          "throughput (aim 50 %), p99 < 25 ms")
    if clients != TARGET_CLIENTS or os.cpu_count() != TARGET_CORES:
        print(f"  (this run: c={clients} on {os.cpu_count()} cores; the targets are stated for "
              f"c={TARGET_CLIENTS} on {TARGET_CORES})")
    if sqlite is None or bare is None:
        print("  not evaluated: a row failed")
        return
    ratio, p99 = sqlite.rate / bare.rate, sqlite.percentile_ms(0.99)
    aim = "aim met" if ratio >= AIM_RATIO else "aim not reached"
    print(f"  throughput (best / best): {ratio:.0%} of bare -> "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'} ({aim})")
    print(f"  p99 latency (best run): {p99:.1f} ms -> "
          f"{'met' if p99 < TARGET_P99_MS else 'NOT met'}")


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent WebSocket clients")
    parser.add_argument("--turns", type=int, default=10000,
                        help="measured turns per configuration and round (all clients)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="at most this long per measurement, even if turns remain")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured turns per client")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every configuration this many times (interleaved)")
    parser.add_argument("--only", choices=["sqlite", "postgres"],
                        help="measure the bare server and this configuration only")
    parser.add_argument("--profile", metavar="FILE",
                        help="run the SQLite server under cProfile, write its stats to FILE")
    parser.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.clients, args.turns, args.rounds) < 1 or args.seconds <= 0 or args.warmup < 1:
        parser.error("--clients, --turns, --rounds, --warmup and --seconds must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.echo_server:
        return run_echo_server()
    pg_url = os.environ.get("DATABASE_URL") or DEFAULT_PG_URL
    print(f"chat throughput: {args.clients} WebSocket clients, TALK/HEAR echo, {args.turns} "
          f"measured turns per run (at most {args.seconds:g} s), {os.cpu_count()} CPU cores")
    print(f"{'server':30s} {'turns/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'server CPU/turn':>16s}"
          f" {'load CPU/turn':>14s} {'vs bare':>8s}")
    order = ["bare", "sqlite", "postgres"]
    labels = {"bare": "bare aiohttp echo", "sqlite": "botbasic + SQLite (FULL sync)",
              "postgres": "botbasic + PostgreSQL"}
    rounds: dict[str, list[Result]] = {key: [] for key in order}
    pg_unusable = pg_problem(pg_url)
    with tempfile.TemporaryDirectory(prefix="botbasic-bench-") as folder:
        root = Path(folder)
        write_echo_bot(root / "bots")
        for number in range(args.rounds):
            for key in order:
                if args.only and key not in ("bare", args.only):
                    continue
                label = labels[key]
                if key == "postgres" and pg_unusable is not None:
                    if number == 0:
                        print(f"{label:30s} skipped: cannot reach {pg_url} ({pg_unusable})")
                    continue
                # A fresh database for every run: each starts from the same state.
                profile = args.profile if key == "sqlite" and number == 0 else None
                data_dir = root / f"data-{key}-{number}"
                if key == "bare":
                    result = measure(label, [sys.executable, __file__, "--echo-server"],
                                     server_env(None), args)
                elif key == "sqlite":
                    result = measure(label, botbasic_argv(root / "bots", data_dir, profile),
                                     server_env(None), args)
                else:
                    result = measure_postgres(label, botbasic_argv(root / "bots", data_dir, None),
                                              pg_url, args)
                rounds[key].append(result)
                bare = rounds["bare"][-1] if key != "bare" else None
                print_row(result, bare if bare is not None and not bare.failure else None)
    summary(rounds, [key for key in order if rounds[key]], args.clients)
    failed = any(r.failure for results in rounds.values() for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
