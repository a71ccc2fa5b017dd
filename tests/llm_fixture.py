"""A real, scriptable OpenAI-compatible model server for tests (no network, no mocks).

``FakeModelServer`` serves, on 127.0.0.1 and a free port, from a background thread:

* ``POST /v1/chat/completions`` — answers with the next scripted reply: a plain JSON
  completion, or, when the request says ``"stream": true``, the same reply as
  server-sent events (text in small chunks, tool calls as argument fragments, a final
  usage chunk when ``stream_options.include_usage`` asks for it, then ``[DONE]``);
* ``POST /v1/embeddings`` — deterministic unit vectors derived from each input text.

Tests **script** it and then **read what it received**::

    def test_x(model_server):
        model_server.enqueue(text_reply("Hi"), tool_call_reply("lookup", {"id": 7}))
        ...  # point llm-url at model_server.url, run the code under test
        body = model_server.requests[0]      # the JSON body, exactly as sent
        assert body["messages"][-1] == {"role": "user", "content": "..."}

Replies are consumed in order; ``respond_with(fn)`` instead computes each reply from the
request body (the tool loop tests answer according to the messages they get). With
nothing scripted the server answers 500 "fixture: no reply scripted", which surfaces in
the test as a clear model error. ``hang_reply()`` never answers (until the next reset):
that is how a timeout is tested without waiting for a real one.

The ``model_server`` fixture gives every test the one server of the test session, reset
(queue, recorded requests, hanging requests released). Import it into a test module:
``from llm_fixture import model_server``.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import pytest
from aiohttp import web

from http_support import LocalServer

# For ``pytestmark`` of test modules that stream: litellm's first stream trips a pydantic
# warning about litellm's own types (runtime/services/llm.py ignores it at import, but
# pytest resets warning filters around every test).
QUIET_LITELLM = pytest.mark.filterwarnings(
    "ignore:Item .* is using the `ReadOnly` qualifier:UserWarning")

CREATED = 1_700_000_000  # a fixed "created" timestamp: answers are reproducible
STREAM_CHUNK_CHARS = 4  # text is streamed in pieces this long, so several chunks arrive
EMBEDDING_DIMS = 8


# ---------------------------------------------------------------- replies


@dataclass
class Reply:
    """One scripted answer of the chat endpoint.

    ``text`` and ``tool_calls`` (``[{"id", "name", "arguments"}]``, arguments a dict or a
    JSON string) form the assistant message; ``status`` other than 200 makes it an error
    answer whose body carries ``error_message``; ``hang`` makes the server never answer.
    """

    text: Optional[str] = None
    tool_calls: list = field(default_factory=list)
    finish_reason: Optional[str] = None
    usage: Optional[dict] = None
    status: int = 200
    error_message: str = ""
    hang: bool = False

    def final_reason(self) -> str:
        return self.finish_reason or ("tool_calls" if self.tool_calls else "stop")


def text_reply(text: str, *, finish_reason: str = "stop", usage: Optional[dict] = None) -> Reply:
    """An assistant answer with this text."""
    return Reply(text=text, finish_reason=finish_reason, usage=usage)


def tool_call_reply(name: str, arguments: Union[dict, str], *, call_id: str = "call_1",
                    text: Optional[str] = None) -> Reply:
    """An answer that calls one tool (``arguments`` a dict, or raw JSON text)."""
    return Reply(text=text, tool_calls=[{"id": call_id, "name": name, "arguments": arguments}])


def tool_calls_reply(*calls: tuple) -> Reply:
    """An answer that calls several tools: ``(name, arguments[, id])`` tuples."""
    entries = [{"id": call[2] if len(call) > 2 else f"call_{n}", "name": call[0],
                "arguments": call[1]} for n, call in enumerate(calls, 1)]
    return Reply(tool_calls=entries)


def error_reply(status: int, message: str = "the fixture failed on purpose") -> Reply:
    """An HTTP error answer with an OpenAI-style error body."""
    return Reply(status=status, error_message=message)


def hang_reply() -> Reply:
    """An answer that never comes (released when the server is reset)."""
    return Reply(hang=True)


ReplyLike = Union[Reply, str]
Responder = Callable[[dict], ReplyLike]


def _as_reply(value: ReplyLike) -> Reply:
    return value if isinstance(value, Reply) else text_reply(str(value))


# ---------------------------------------------------------------- answer bodies


def _arguments_text(arguments: Union[dict, str]) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _usage(body: dict, reply: Reply) -> dict:
    """Token counts: the scripted ones, else words in and out (good enough to assert on)."""
    if reply.usage is not None:
        return reply.usage
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
    completion = len((reply.text or "").split())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(body: dict, reply: Reply, number: int) -> dict:
    message: dict = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": call["id"], "type": "function",
             "function": {"name": call["name"], "arguments": _arguments_text(call["arguments"])}}
            for call in reply.tool_calls]
    return {"id": f"chatcmpl-{number}", "object": "chat.completion", "created": CREATED,
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": reply.final_reason()}],
            "usage": _usage(body, reply)}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _stream_deltas(reply: Reply) -> list[dict]:
    """The ``delta`` of each chunk of a streamed answer, in order."""
    deltas: list[dict] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in _pieces(reply.text or "", STREAM_CHUNK_CHARS)]
    for index, call in enumerate(reply.tool_calls):
        deltas.append({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                       "function": {"name": call["name"], "arguments": ""}}]})
        for piece in _pieces(_arguments_text(call["arguments"]), STREAM_CHUNK_CHARS * 2):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    return deltas


def _stream_events(body: dict, reply: Reply, number: int) -> list[dict]:
    """Every chunk object of a streamed answer (the ``[DONE]`` line is added by the caller)."""
    base = {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk", "created": CREATED,
            "model": body.get("model", "")}
    events = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
              for delta in _stream_deltas(reply)]
    events.append({**base, "choices": [{"index": 0, "delta": {},
                                        "finish_reason": reply.final_reason()}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": _usage(body, reply)})
    return events


def embedding_of(text: str, dims: int = EMBEDDING_DIMS) -> list[float]:
    """The deterministic unit vector the fixture returns for ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    raw = [digest[i % len(digest)] / 255.0 - 0.5 for i in range(dims)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


# ---------------------------------------------------------------- the server


class FakeModelServer:
    """The scriptable, recording model server (see module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Reply] = []
        self._responder: Optional[Responder] = None
        self._numbers = itertools.count(1)
        self._hanging: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.embedding_requests: list[dict] = []
        self._server = LocalServer(self._make_app())

    # -- life cycle
    def start(self) -> "FakeModelServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self._release_hanging()
        self._server.stop()

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``http://127.0.0.1:PORT/v1``), for ``llm-url``."""
        return self._server.base + "/v1"

    # -- scripting
    def enqueue(self, *replies: ReplyLike) -> "FakeModelServer":
        """Answer the next requests with these replies, in order (strings are text replies)."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)
        return self

    def respond_with(self, responder: Optional[Responder]) -> None:
        """Compute each answer from the request body (used when the queue is empty)."""
        self._responder = responder

    def reset(self) -> None:
        """Forget the script and the recorded requests; let hanging requests end."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.headers.clear()
            self.embedding_requests.clear()
        self._responder = None
        self._release_hanging()

    @property
    def pending(self) -> int:
        """How many scripted replies have not been asked for yet."""
        with self._lock:
            return len(self._queue)

    @property
    def last(self) -> dict:
        """The body of the last chat request."""
        return self.requests[-1]

    # -- serving
    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    def _next_reply(self, body: dict) -> Optional[Reply]:
        with self._lock:
            self.requests.append(body)
            if self._queue:
                return self._queue.pop(0)
        return _as_reply(self._responder(body)) if self._responder else None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        with self._lock:
            self.headers.append(dict(request.headers))
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return _error_response(400, "model and messages are required")
        reply = self._next_reply(body)
        if reply is None:
            return _error_response(500, "fixture: no reply scripted")
        if reply.hang:
            await self._hang()  # until reset: the client has given up by then
            return _error_response(504, "fixture: released")
        if reply.status != 200:
            return _error_response(reply.status, reply.error_message)
        number = next(self._numbers)
        if body.get("stream"):
            return await _stream(request, _stream_events(body, reply, number))
        return web.json_response(_completion(body, reply, number))

    async def _hang(self) -> None:
        released = asyncio.Event()
        with self._lock:
            self._hanging.append((asyncio.get_running_loop(), released))
        await released.wait()

    def _release_hanging(self) -> None:
        with self._lock:
            hanging, self._hanging = self._hanging, []
        for loop, event in hanging:
            loop.call_soon_threadsafe(event.set)

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.embedding_requests.append(body)
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        dims = int(body.get("dimensions") or EMBEDDING_DIMS)
        data = [{"object": "embedding", "index": i, "embedding": embedding_of(str(t), dims)}
                for i, t in enumerate(texts)]
        tokens = sum(len(str(t).split()) for t in texts)
        return web.json_response({"object": "list", "data": data, "model": body.get("model", ""),
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _error_response(status: int, message: str) -> web.Response:
    error = {"message": message, "type": "fixture_error", "param": None, "code": str(status)}
    return web.json_response({"error": error}, status=status)


async def _stream(request: web.Request, events: list[dict]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    for event in events:
        await response.write(f"data: {json.dumps(event)}\n\n".encode("utf-8"))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


# ---------------------------------------------------------------- pytest fixture

_shared: Optional[FakeModelServer] = None


def shared_model_server() -> FakeModelServer:
    """The one server of this test process, started on first use."""
    global _shared
    if _shared is None:
        _shared = FakeModelServer().start()
    return _shared


@pytest.fixture
def model_server() -> FakeModelServer:
    """The shared fake model server, reset before and after the test."""
    server = shared_model_server()
    server.reset()
    yield server
    server.reset()


def model_config(server: FakeModelServer, **settings: Any) -> dict:
    """config.csv settings that point a bot at ``server`` (``llm_model="m"`` style keys:
    underscores become dashes). The model defaults to ``test-model``."""
    values = {"llm-url": server.url, "llm-model": "test-model"}
    values.update({key.replace("_", "-"): str(value) for key, value in settings.items()})
    return values
