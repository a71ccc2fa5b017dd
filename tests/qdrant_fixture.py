"""A real, in-memory Qdrant server for tests: Qdrant's REST protocol over loopback HTTP.

No Qdrant server binary can be installed here, so ``FakeQdrant`` speaks the part of
Qdrant's REST API that ``qdrant_client.QdrantClient(url=...)`` uses when
``runtime/services/kb_index.py`` runs (paths, methods and JSON shapes as in
``qdrant_client/http/api/*.py`` and ``qdrant_client/http/models``):

* ``GET /`` — version info (no envelope; not behind the API key, as in Qdrant);
* ``GET /collections``; ``GET /collections/{name}``; ``GET /collections/{name}/exists``;
  ``PUT /collections/{name}`` (create: one unnamed vector, Cosine/Dot/Euclid, ``metadata``);
  ``DELETE /collections/{name}``; ``PUT /collections/{name}/index`` (payload index);
* ``PUT /collections/{name}/points`` (upsert a points list);
  ``POST /collections/{name}/points`` (retrieve by ids);
  ``POST /collections/{name}/points/delete`` (by ids or by filter);
  ``POST /collections/{name}/points/scroll`` (in point-id order, paged by ``offset``);
  ``POST /collections/{name}/points/count``;
  ``POST /collections/{name}/points/query`` (nearest to a dense vector, exact search).

Filters support ``must`` / ``should`` / ``must_not`` of ``match`` (``value``, ``any``,
``except``) conditions on payload keys, ``has_id`` and nested filters. Collections live
in memory: vectors in numpy (Cosine vectors normalised on upsert, as Qdrant does).
Answers use Qdrant's envelope ``{"result": ..., "status": "ok", "time": ...}`` and its
error shape ``{"status": {"error": ...}, "time": ...}`` (404 for an unknown collection,
400 for wrong input). Any other endpoint, and any request field the fixture does not
implement, is answered 501 with a message naming it: a qdrant-client upgrade that calls
something new fails a test instead of passing by accident.

Started with ``api_key``, every request except ``/``, ``/healthz``, ``/readyz`` and
``/livez`` needs that key in the ``api-key`` header (or ``Authorization: Bearer``);
otherwise the answer is 401 with a plain-text body, as Qdrant answers.

Tests read what the server received::

    def test_x(qdrant_server):
        ...  # QDRANT_URL=qdrant_server.url, run the code under test
        assert ("PUT", "/collections/kb_.../points") in qdrant_server.calls()
        upsert = qdrant_server.received("PUT", "/points")[0]
        assert upsert.query == {"wait": "true"} and upsert.body["points"][0]["payload"]

The ``qdrant_server`` fixture gives every test the one server of the test session,
reset (collections, recorded requests, API key, version). ``running_qdrant(api_key=...)``
runs a separate one for the duration of a ``with``.
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional

import numpy as np
import pytest
from aiohttp import web

from http_support import LocalServer

VERSION = "1.16.0"  # reported by GET /: the oldest Qdrant with collection metadata
_OPEN_PATHS = ("/healthz", "/readyz", "/livez")  # besides "/": no API key needed
_DISTANCES = ("Cosine", "Dot", "Euclid")


@dataclass(frozen=True)
class Received:
    """One request as the server got it."""

    method: str
    path: str
    query: dict
    body: Any  # the parsed JSON body; None without a body
    headers: dict

    @property
    def call(self) -> tuple[str, str]:
        return self.method, self.path


class QdrantError(Exception):
    """Answered as Qdrant's error body with this HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _not_implemented(what: str) -> QdrantError:
    return QdrantError(501, f"fixture: {what} is not implemented by tests/qdrant_fixture.py")


def _wrong_input(message: str) -> QdrantError:
    return QdrantError(400, f"Wrong input: {message}")


# ---------------------------------------------------------------- points and filters


def point_id(value: Any) -> Any:
    """A point id as Qdrant keeps it: an unsigned integer or a canonical UUID string."""
    if isinstance(value, bool):
        raise _wrong_input(f"invalid point id {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise _wrong_input(f"invalid point id {value!r}: an unsigned integer or a UUID is expected")


def _id_order(value: Any) -> tuple:
    """Qdrant's point-id order: integers first, then UUIDs by their 128-bit value."""
    return (0, value) if isinstance(value, int) else (1, uuid.UUID(value).int)


def _known_keys(body: dict, allowed: set, what: str) -> None:
    """501 for a request field the fixture does not implement (unless null)."""
    extra = sorted(key for key, value in body.items() if key not in allowed and value is not None)
    if extra:
        raise _not_implemented(f"{what} field(s) {', '.join(extra)}")


def _payload_values(payload: dict, key: str) -> list:
    """The values at ``key`` (dotted path) of a payload; arrays match by any element."""
    current: list = [payload]
    for part in key.split("."):
        current = [item[part] for item in current if isinstance(item, dict) and part in item]
    values: list = []
    for item in current:
        values.extend(item if isinstance(item, list) else [item])
    return values


def _condition_holds(condition: Any, pid: Any, payload: dict) -> bool:
    if not isinstance(condition, dict):
        raise _wrong_input(f"a filter condition must be an object, not {condition!r}")
    if set(condition) & {"must", "should", "must_not", "min_should"}:
        return filter_holds(condition, pid, payload)
    if "has_id" in condition:
        return pid in {point_id(value) for value in condition["has_id"]}
    if "key" in condition:
        _known_keys(condition, {"key", "match"}, "field condition")
        match = condition.get("match")
        if not isinstance(match, dict):
            raise _not_implemented("a field condition without match (range, geo, values_count ...)")
        values = _payload_values(payload, condition["key"])
        if "value" in match:
            return match["value"] in values
        if "any" in match:
            return any(value in values for value in match["any"])
        if "except" in match:
            return bool(values) and all(value not in match["except"] for value in values)
        raise _not_implemented(f"match {sorted(match)}")
    raise _not_implemented(f"filter condition {sorted(condition)}")


def filter_holds(query_filter: Optional[dict], pid: Any, payload: dict) -> bool:
    """Whether a point passes a Qdrant filter (None: every point does)."""
    if query_filter is None:
        return True
    _known_keys(query_filter, {"must", "should", "must_not"}, "filter")

    def conditions(name: str) -> list:
        value = query_filter.get(name)
        return [] if value is None else value if isinstance(value, list) else [value]

    if not all(_condition_holds(c, pid, payload) for c in conditions("must")):
        return False
    should = conditions("should")
    if should and not any(_condition_holds(c, pid, payload) for c in should):
        return False
    return not any(_condition_holds(c, pid, payload) for c in conditions("must_not"))


def _selected_payload(payload: dict, selector: Any) -> Optional[dict]:
    """The payload a ``with_payload`` selector asks for (None when it asks for none)."""
    if selector is None or selector is False:
        return None
    if selector is True:
        return dict(payload)
    if isinstance(selector, list):
        return {key: payload[key] for key in selector if key in payload}
    if isinstance(selector, dict) and set(selector) == {"include"}:
        return {key: payload[key] for key in selector["include"] if key in payload}
    if isinstance(selector, dict) and set(selector) == {"exclude"}:
        return {key: value for key, value in payload.items() if key not in selector["exclude"]}
    raise _not_implemented(f"with_payload {selector!r}")


def _wants_vector(selector: Any) -> bool:
    if selector is None or isinstance(selector, bool):
        return bool(selector)
    raise _not_implemented(f"with_vector {selector!r} (named vectors)")


@dataclass
class StoredPoint:
    vector: np.ndarray  # float32; unit length in a Cosine collection
    payload: dict
    version: int


@dataclass
class Collection:
    """One collection: its creation request and its points."""

    name: str
    size: int
    distance: str
    metadata: Optional[dict]
    points: dict = field(default_factory=dict)  # point id -> StoredPoint
    payload_schema: dict = field(default_factory=dict)  # key -> schema type

    def info(self) -> dict:
        """The ``CollectionInfo`` of ``GET /collections/{name}``."""
        count = len(self.points)
        return {
            "status": "green", "optimizer_status": "ok", "indexed_vectors_count": 0,
            "points_count": count, "segments_count": 1,
            "config": {
                "params": {"vectors": {"size": self.size, "distance": self.distance},
                           "shard_number": 1, "replication_factor": 1,
                           "write_consistency_factor": 1, "on_disk_payload": True},
                "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                                "max_indexing_threads": 0, "on_disk": False},
                "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                     "default_segment_number": 0, "max_segment_size": None,
                                     "memmap_threshold": None, "indexing_threshold": 10000,
                                     "flush_interval_sec": 5, "max_optimization_threads": None},
                "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
                "quantization_config": None,
                "metadata": self.metadata,
            },
            "payload_schema": {
                key: {"data_type": schema,
                      "points": sum(bool(_payload_values(p.payload, key)) for p in self.points.values())}
                for key, schema in self.payload_schema.items()},
        }

    def vector(self, raw: Any) -> np.ndarray:
        if not isinstance(raw, list) or not all(isinstance(v, (int, float)) for v in raw):
            raise _not_implemented(f"vector {str(raw)[:60]} (only one unnamed dense vector)")
        if len(raw) != self.size:
            raise _wrong_input(f"Vector dimension error: expected dim: {self.size}, got {len(raw)}")
        vector = np.asarray(raw, dtype=np.float32)
        if self.distance == "Cosine":
            norm = float(np.linalg.norm(vector))
            vector = vector / norm if norm else vector
        return vector

    def scores(self, query: np.ndarray, ids: list) -> np.ndarray:
        """Scores of the points ``ids`` for a query vector (bigger is better except Euclid)."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        matrix = np.stack([self.points[pid].vector for pid in ids])
        if self.distance == "Euclid":
            return np.linalg.norm(matrix - query, axis=1)
        return matrix @ query

    def matching(self, query_filter: Optional[dict]) -> list:
        """Ids of the points passing ``query_filter``, in point-id order."""
        return sorted((pid for pid, point in self.points.items()
                       if filter_holds(query_filter, pid, point.payload)), key=_id_order)

    def record(self, pid: Any, with_payload: Any, with_vector: Any) -> dict:
        point = self.points[pid]
        record = {"id": pid, "payload": _selected_payload(point.payload, with_payload)}
        if _wants_vector(with_vector):
            record["vector"] = point.vector.tolist()
        return record


# ---------------------------------------------------------------- the server

Handler = Callable[..., Awaitable[Any]]


class FakeQdrant:
    """The in-memory, recording Qdrant REST server (see module doc)."""

    def __init__(self, api_key: Optional[str] = None, version: str = VERSION) -> None:
        self.api_key = api_key
        self.version = version
        self.collections: dict[str, Collection] = {}
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._operations = 0
        self._initial = (api_key, version)
        self._routes = self._make_routes()
        self._server = LocalServer(self._make_app())

    # -- life cycle
    def start(self) -> "FakeQdrant":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        """The REST base URL, for ``QDRANT_URL``."""
        return self._server.base

    def reset(self) -> None:
        """Forget every collection and recorded request; back to the initial key and version."""
        with self._lock:
            self.collections.clear()
            self.requests.clear()
            self.api_key, self.version = self._initial

    # -- what was received
    def calls(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request, in order."""
        with self._lock:
            return [request.call for request in self.requests]

    def received(self, method: str, path_end: str = "") -> list[Received]:
        """The requests with this method whose path ends with ``path_end``."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_end)]

    def payloads(self, name: str) -> list[dict]:
        """The payloads stored in collection ``name``, in point-id order."""
        with self._lock:
            collection = self.collections[name]
            return [collection.points[pid].payload for pid in collection.matching(None)]

    # -- serving
    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    def _make_routes(self) -> list[tuple[str, re.Pattern, Handler]]:
        name = r"(?P<name>[^/]+)"
        table = [
            ("GET", r"/", self._root),
            ("GET", r"/collections", self._list_collections),
            ("GET", rf"/collections/{name}", self._get_collection),
            ("GET", rf"/collections/{name}/exists", self._collection_exists),
            ("PUT", rf"/collections/{name}", self._create_collection),
            ("DELETE", rf"/collections/{name}", self._delete_collection),
            ("PUT", rf"/collections/{name}/index", self._create_index),
            ("PUT", rf"/collections/{name}/points", self._upsert),
            ("POST", rf"/collections/{name}/points", self._retrieve),
            ("POST", rf"/collections/{name}/points/delete", self._delete_points),
            ("POST", rf"/collections/{name}/points/scroll", self._scroll),
            ("POST", rf"/collections/{name}/points/count", self._count),
            ("POST", rf"/collections/{name}/points/query", self._query),
        ]
        return [(method, re.compile(pattern + r"/?"), handler) for method, pattern, handler in table]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(Received(request.method, request.path, dict(request.query), body,
                                          dict(request.headers)))
        refusal = self._refusal(request)
        if refusal is not None:
            return web.Response(status=401, text=refusal)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None or method != request.method:
                continue
            try:
                with self._lock:
                    result = await handler(body if isinstance(body, dict) else {}, request.query,
                                           **match.groupdict())
            except QdrantError as error:
                return _error(error.status, error.message, started)
            if handler == self._root:
                return web.json_response(result)
            return web.json_response({"result": result, "status": "ok",
                                      "time": time.perf_counter() - started})
        return _error(501, f"fixture: {request.method} {request.path} is not implemented"
                           " by tests/qdrant_fixture.py", started)

    def _refusal(self, request: web.Request) -> Optional[str]:
        """Why the API key check refuses the request (None: it passes)."""
        if not self.api_key or request.path == "/" or request.path.startswith(_OPEN_PATHS):
            return None
        key = request.headers.get("api-key")
        bearer = request.headers.get("Authorization", "")
        if key is None and bearer.startswith("Bearer "):
            key = bearer[len("Bearer "):]
        if key is None:
            return "Must provide an API key or an Authorization bearer token"
        return None if key == self.api_key else "Invalid API key or JWT"

    def _collection(self, name: str) -> Collection:
        collection = self.collections.get(name)
        if collection is None:
            raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")
        return collection

    def _update_result(self, query: Any) -> dict:
        self._operations += 1
        status = "completed" if query.get("wait", "false") == "true" else "acknowledged"
        return {"operation_id": self._operations, "status": status}

    # -- service and collections
    async def _root(self, body: dict, query: Any) -> dict:
        return {"title": "qdrant - vector search engine", "version": self.version,
                "commit": "fixture"}

    async def _list_collections(self, body: dict, query: Any) -> dict:
        return {"collections": [{"name": name} for name in sorted(self.collections)]}

    async def _get_collection(self, body: dict, query: Any, name: str) -> dict:
        return self._collection(name).info()

    async def _collection_exists(self, body: dict, query: Any, name: str) -> dict:
        return {"exists": name in self.collections}

    async def _create_collection(self, body: dict, query: Any, name: str) -> bool:
        _known_keys(body, {"vectors", "metadata", "on_disk_payload"}, "create collection")
        if name in self.collections:
            raise _wrong_input(f"Collection `{name}` already exists!")
        vectors = body.get("vectors")
        if not isinstance(vectors, dict) or "size" not in vectors:
            raise _not_implemented(f"vectors config {vectors!r} (only one unnamed dense vector)")
        _known_keys(vectors, {"size", "distance"}, "vectors config")
        if vectors.get("distance") not in _DISTANCES:
            raise _wrong_input(f"unknown distance {vectors.get('distance')!r}")
        self.collections[name] = Collection(name, int(vectors["size"]), vectors["distance"],
                                            body.get("metadata"))
        return True

    async def _delete_collection(self, body: dict, query: Any, name: str) -> bool:
        return self.collections.pop(name, None) is not None

    async def _create_index(self, body: dict, query: Any, name: str) -> dict:
        collection = self._collection(name)
        _known_keys(body, {"field_name", "field_schema"}, "create payload index")
        schema = body.get("field_schema")
        if not isinstance(schema, str):
            raise _not_implemented(f"field_schema {schema!r} (only a type name)")
        collection.payload_schema[body["field_name"]] = schema
        return self._update_result(query)

    # -- points
    async def _upsert(self, body: dict, query: Any, name: str) -> dict:
        collection = self._collection(name)
        _known_keys(body, {"points"}, "upsert")
        if "points" not in body:
            raise _not_implemented("upsert without a points list (batch)")
        result = self._update_result(query)
        stored = {}
        for point in body["points"]:
            _known_keys(point, {"id", "vector", "payload"}, "point")
            stored[point_id(point["id"])] = StoredPoint(collection.vector(point.get("vector")),
                                                        dict(point.get("payload") or {}),
                                                        result["operation_id"])
        collection.points.update(stored)  # all or nothing
        return result

    async def _retrieve(self, body: dict, query: Any, name: str) -> list:
        collection = self._collection(name)
        _known_keys(body, {"ids", "with_payload", "with_vector"}, "retrieve")
        ids = [point_id(value) for value in body.get("ids") or []]
        return [collection.record(pid, body.get("with_payload", True), body.get("with_vector"))
                for pid in ids if pid in collection.points]

    async def _delete_points(self, body: dict, query: Any, name: str) -> dict:
        collection = self._collection(name)
        _known_keys(body, {"points", "filter"}, "delete points")
        if "points" in body:
            doomed = [point_id(value) for value in body["points"]]
        elif "filter" in body:
            doomed = collection.matching(body["filter"])
        else:
            raise _wrong_input("points or filter is required")
        for pid in doomed:
            collection.points.pop(pid, None)
        return self._update_result(query)

    async def _scroll(self, body: dict, query: Any, name: str) -> dict:
        collection = self._collection(name)
        _known_keys(body, {"offset", "limit", "filter", "with_payload", "with_vector"}, "scroll")
        ids = collection.matching(body.get("filter"))
        if body.get("offset") is not None:
            start = _id_order(point_id(body["offset"]))
            ids = [pid for pid in ids if _id_order(pid) >= start]
        limit = int(body.get("limit") or 10)
        page = [collection.record(pid, body.get("with_payload", True), body.get("with_vector"))
                for pid in ids[:limit]]
        return {"points": page, "next_page_offset": ids[limit] if len(ids) > limit else None}

    async def _count(self, body: dict, query: Any, name: str) -> dict:
        collection = self._collection(name)
        _known_keys(body, {"filter", "exact"}, "count")
        return {"count": len(collection.matching(body.get("filter")))}

    async def _query(self, body: dict, query: Any, name: str) -> dict:
        collection = self._collection(name)
        _known_keys(body, {"query", "filter", "limit", "offset", "score_threshold",
                           "with_payload", "with_vector", "params"}, "query")
        vector = body.get("query")
        if isinstance(vector, dict) and set(vector) == {"nearest"}:
            vector = vector["nearest"]
        if not isinstance(vector, list):
            raise _not_implemented(f"query {str(vector)[:60]} (only nearest to a dense vector)")
        ids = collection.matching(body.get("filter"))
        scores = collection.scores(collection.vector(vector), ids)
        euclid = collection.distance == "Euclid"
        threshold = body.get("score_threshold")
        ranked = sorted(zip(scores.tolist(), ids), key=lambda pair: pair[0], reverse=not euclid)
        if threshold is not None:
            ranked = [(s, pid) for s, pid in ranked if (s <= threshold if euclid else s >= threshold)]
        offset = int(body.get("offset") or 0)
        limit = int(body.get("limit") or 10)
        points = []
        for score, pid in ranked[offset:offset + limit]:
            record = collection.record(pid, body.get("with_payload"), body.get("with_vector"))
            points.append({**record, "score": score, "version": collection.points[pid].version})
        return {"points": points}


def _error(status: int, message: str, started: float) -> web.Response:
    return web.json_response({"status": {"error": message}, "time": time.perf_counter() - started},
                             status=status)


# ---------------------------------------------------------------- pytest fixture

_shared: Optional[FakeQdrant] = None


def shared_qdrant() -> FakeQdrant:
    """The one server of this test process, started on first use."""
    global _shared
    if _shared is None:
        _shared = FakeQdrant().start()
    return _shared


@pytest.fixture
def qdrant_server() -> FakeQdrant:
    """The shared fake Qdrant server, reset before and after the test."""
    server = shared_qdrant()
    server.reset()
    yield server
    server.reset()


@contextmanager
def running_qdrant(api_key: Optional[str] = None, version: str = VERSION):
    """A fake Qdrant server of its own, running for the duration of the ``with``."""
    server = FakeQdrant(api_key=api_key, version=version).start()
    try:
        yield server
    finally:
        server.stop()
