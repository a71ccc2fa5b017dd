"""LLM turn overhead: a full turn through botbasic against direct litellm calls to the same
stub model, and knowledge-base search latency through the server's ``kb`` service.

    python benchmarks/llm_overhead.py [--turns 200] [--warmup 20] [--chunks 10000]
                                      [--queries 200] [--skip-kb] [--kb-folder DIR]
                                      [--profile FILE]

The stub model is the fixture server of ``tests/llm_fixture.py`` in a process of its own
(this script with ``--stub-server``): it answers a message with a call of the ``lookup``
tool and a tool result with a short text, streamed in small chunks like a real server.

* botbasic: ``botbasic serve`` (SQLite in a temporary folder) runs a bot whose start.bas
  adds the ``lookup`` tool. One WebSocket client sends a message and waits for the final
  envelope of the streamed answer: WebSocket in, session load, prompt (history from the
  store), model call 1 (streamed), the tool script, model call 2 (streamed, each piece
  sent to the client), history and session committed, answer out.
* direct: the same two streamed requests (same messages, history and tool schema, same
  litellm options) made with ``litellm.acompletion`` from this process.

Turns alternate between the two, so drift affects both alike. Prints p50 and mean of
both and the overhead per turn (target of issue 4: <= 5 ms above the litellm calls).

KB search: a throwaway package of ``--chunks`` one-chunk CSV rows (``kb_search.py``'s
generator) is indexed with MiniLM into Qdrant local mode, then the bot's ``kb`` service
(``server/knowledge.py``, what LLM turns and THINK KB use) answers ``--queries`` unique
questions: query embedding + search over both collections, top 5 (target p50 <= 20 ms).
``--kb-folder DIR`` keeps the package and its index there, so a second run only checks
that nothing changed instead of embedding every chunk again.
``--profile FILE`` runs the botbasic server under cProfile and writes its statistics there.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

BOT = "bench"
ANSWER = "Record {id} is fine, nothing to worry about."
START = 'ADD TOOL "lookup"\n'
LOOKUP = """PARAM id AS INTEGER LIKE 7 DESCRIPTION "The record id"
DESCRIPTION "Find a record by id"
TALK "Looking up record " + id
RETURN "record " + id + " is active"
"""
TARGET_OVERHEAD_MS, TARGET_KB_P50_MS = 5.0, 20.0


# ---------------------------------------------------------------- the stub model process


def stub_reply(body: dict):
    """Tool call for a user message, the answer for a tool result."""
    from llm_fixture import text_reply, tool_call_reply

    last = body["messages"][-1]
    if last["role"] == "tool":
        record = last["content"].split()[1]
        return text_reply(ANSWER.format(id=record))
    record = last["content"].rsplit(" ", 1)[-1]
    return tool_call_reply("lookup", {"id": int(record)}, call_id=f"call_{record}")


def run_stub_server() -> int:
    """``--stub-server``: serve the scripted model until SIGTERM."""
    from llm_fixture import FakeModelServer

    server = FakeModelServer().start()
    server.respond_with(stub_reply)
    print(f"stub serving on {server.url}", file=sys.stderr, flush=True)
    stopped = asyncio.Event()

    async def wait() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        while not stopped.is_set():  # the fixture keeps every request; forget them
            server.requests.clear()
            try:
                await asyncio.wait_for(stopped.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    asyncio.run(wait())
    server.stop()
    return 0


# ---------------------------------------------------------------- the two clients


def write_bench_bot(bots: Path, model_url: str) -> None:
    from server_support import write_bot

    write_bot(bots, BOT, {"start": START, "lookup": LOOKUP},
              {"llm-url": model_url, "llm-model": "stub-model"})


class BotbasicClient:
    """One WebSocket conversation with the bench bot."""

    def __init__(self, session, url: str) -> None:
        self.session = session
        self.url = url
        self.ws = None

    async def open(self) -> None:
        self.ws = await self.session.ws_connect(self.url.replace("http", "ws") + f"/ws/{BOT}")
        await self.ws.receive_json()  # connected

    async def turn(self, number: int) -> float:
        expected = ANSWER.format(id=number)
        started = time.perf_counter()
        await self.ws.send_json({"content": f"check record {number}", "message_id": uuid.uuid4().hex})
        while True:
            frame = await self.ws.receive_json()
            if frame.get("is_complete") and frame.get("content") == expected:
                return time.perf_counter() - started


class DirectClient:
    """The same two streamed requests with litellm, history kept like botbasic's."""

    def __init__(self, model_url: str) -> None:
        from botbasic.interpreter import analyze_source
        from botbasic.keywords import default_registry
        from botbasic.runtime.services.llm import LLMService, load_litellm
        from botbasic.server.llm_prompt import DEFAULT_PROMPT

        self.litellm = load_litellm()
        info = analyze_source(LOOKUP, "lookup.bas", default_registry()).info
        self.options = LLMService.from_config(
            {"llm-url": model_url, "llm-model": "stub-model"}, environ={}).request_options(
            tools=[info.tool_schema()], stream=True)
        self.system = {"role": "system", "content": DEFAULT_PROMPT.format(title=BOT)}
        self.history: list[dict] = []

    async def _ask(self, messages: list) -> tuple[str, list]:
        stream = await self.litellm.acompletion(messages=messages, **self.options)
        text, calls = [], {}
        async for chunk in stream:
            delta = chunk.choices[0].delta if chunk.choices else None
            if delta is None:
                continue
            text.append(delta.content or "")
            for call in delta.tool_calls or []:
                entry = calls.setdefault(call.index or 0, {"id": None, "name": None, "arguments": ""})
                entry["id"] = call.id or entry["id"]
                entry["name"] = call.function.name or entry["name"]
                entry["arguments"] += call.function.arguments or ""
        return "".join(text), list(calls.values())

    async def turn(self, number: int) -> float:
        user = {"role": "user", "content": f"check record {number}"}
        started = time.perf_counter()
        messages = [self.system, *self.history[-10:], user]
        _, calls = await self._ask(messages)
        call = calls[0]
        messages += [{"role": "assistant", "content": None, "tool_calls": [
                         {"id": call["id"], "type": "function",
                          "function": {"name": call["name"], "arguments": call["arguments"]}}]},
                     {"role": "tool", "tool_call_id": call["id"],
                      "content": f"record {number} is active"}]
        answer, _ = await self._ask(messages)
        elapsed = time.perf_counter() - started
        self.history += [user, {"role": "assistant", "content": f"Looking up record {number}"},
                         {"role": "assistant", "content": answer}]
        return elapsed


def describe(label: str, seconds: list[float]) -> str:
    values = sorted(seconds)
    p50 = values[len(values) // 2] * 1000
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))] * 1000
    return f"{label:34s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   mean {statistics.mean(values) * 1000:7.2f} ms"


async def measure_turns(botbasic_url: str, model_url: str, turns: int, warmup: int,
                        on_warm=lambda: None):
    import aiohttp

    direct = DirectClient(model_url)
    async with aiohttp.ClientSession() as session:
        client = BotbasicClient(session, botbasic_url)
        await client.open()
        timings = {"botbasic": [], "direct": [], "direct_cpu": []}
        for number in range(1, warmup + turns + 1):
            if number == warmup + 1:
                on_warm()
            botbasic_time = await client.turn(number)
            cpu_before = time.process_time()
            direct_time = await direct.turn(number)
            direct_cpu = time.process_time() - cpu_before
            if number > warmup:
                timings["botbasic"].append(botbasic_time)
                timings["direct"].append(direct_time)
                timings["direct_cpu"].append(direct_cpu)
        await client.ws.close()
    return timings


def turn_benchmark(turns: int, warmup: int, profile=None) -> bool:
    from chat_throughput import ServerProcess, botbasic_argv, server_env

    with tempfile.TemporaryDirectory(prefix="llm-bench-") as folder:
        stub = ServerProcess([sys.executable, __file__, "--stub-server"], dict(os.environ))
        try:
            bots = Path(folder) / "bots"
            write_bench_bot(bots, stub.url)
            server = ServerProcess(botbasic_argv(bots, Path(folder) / "data", profile), server_env(None))
            try:
                cpu = []  # after the warm-up (litellm's import happens in it) and at the end
                timings = asyncio.run(measure_turns(server.url, stub.url, turns, warmup,
                                                    lambda: cpu.append(server.cpu_seconds())))
                cpu.append(server.cpu_seconds())
            finally:
                server.stop()
        finally:
            stub.stop()
    botbasic, direct = timings["botbasic"], timings["direct"]
    print(f"one turn = 2 streamed model calls + 1 tool round; {turns} turns after {warmup} warm-up")
    print(describe("botbasic (WebSocket, full turn)", botbasic))
    print(describe("direct litellm (same 2 calls)", direct))
    overhead_p50 = (statistics.median(botbasic) - statistics.median(direct)) * 1000
    overhead_mean = (statistics.mean(botbasic) - statistics.mean(direct)) * 1000
    # Each botbasic turn is followed by its direct twin: the median of the pairwise
    # differences is the least sensitive to load changes during the run.
    paired = statistics.median(b - d for b, d in zip(botbasic, direct)) * 1000
    print(f"overhead per turn: p50 {overhead_p50:+.2f} ms, mean {overhead_mean:+.2f} ms,"
          f" median of paired differences {paired:+.2f} ms")
    if None not in cpu:
        print(f"botbasic server CPU per turn: {(cpu[1] - cpu[0]) / turns * 1000:.2f} ms; "
              f"direct litellm CPU per turn (this process): "
              f"{statistics.mean(timings['direct_cpu']) * 1000:.2f} ms")
    met = overhead_p50 <= TARGET_OVERHEAD_MS
    print(f"target overhead <= {TARGET_OVERHEAD_MS:g} ms (p50): {'met' if met else 'NOT met'}")
    return met


# ---------------------------------------------------------------- KB search


def kb_benchmark(chunks: int, query_count: int, keep: Optional[str] = None) -> bool:
    from contextlib import nullcontext

    from kb_search import build_package, queries

    from botbasic.runtime.package import load_package
    from botbasic.server.knowledge import KnowledgeHub

    place = nullcontext(keep) if keep else tempfile.TemporaryDirectory(prefix="kb-bench-")
    with place as folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        package = load_package(build_package(Path(folder), chunks))
        hub = KnowledgeHub(Path(folder) / "data")
        bot = SimpleNamespace(name=package.name, package=package, config=package.config)
        started = time.perf_counter()
        report = hub.knowledge_base(package.config).index_package(package)
        print(f"indexed {chunks} chunks ({report.chunks_embedded} embedded now) with MiniLM in "
              f"{time.perf_counter() - started:.1f} s")
        kb = hub.for_bot(bot)

        async def searches() -> list[float]:
            for question in queries(5, seed=11):  # warm-up: in-memory matrices are built
                await kb.search(question, None, top_k=5, min_score=0.0)
            times = []
            for question in queries(query_count):
                begun = time.perf_counter()
                await kb.search(question, None, top_k=5, min_score=0.0)
                times.append(time.perf_counter() - begun)
            await hub.close()
            return times

        times = asyncio.run(searches())
    print(describe(f"KB search ({chunks} chunks, top 5)", times))
    met = statistics.median(times) * 1000 <= TARGET_KB_P50_MS
    print(f"target KB search p50 <= {TARGET_KB_P50_MS:g} ms (embedding included): "
          f"{'met' if met else 'NOT met'}")
    return met


def main() -> int:
    if "--stub-server" in sys.argv:
        return run_stub_server()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-kb", action="store_true")
    parser.add_argument("--kb-folder", help="keep the KB package and index here (reused)")
    parser.add_argument("--profile", help="cProfile statistics of the botbasic server to this file")
    arguments = parser.parse_args()
    turn_benchmark(arguments.turns, arguments.warmup, arguments.profile)
    if not arguments.skip_kb:
        kb_benchmark(arguments.chunks, arguments.queries, arguments.kb_folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
