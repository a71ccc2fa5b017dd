"""The knowledge base on a Qdrant server (``QDRANT_URL``, ``QDRANT_API_KEY``; §1.3, §9.4).

The server path of runtime/services/kb_index.py, server/knowledge.py and ``botbasic kb
index`` runs against tests/qdrant_fixture.py: a real HTTP server on loopback speaking
Qdrant's REST protocol, with collections in memory. Real MiniLM embeddings; local-mode
results (real Qdrant local mode) are the reference the server results must match.
Every test also asserts on what the fixture received: the requests prove the server path
was taken (local mode sends none).
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import socket
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from qdrant_client import models

from botbasic.runtime.package import load_package
from botbasic.runtime.services.embeddings import MiniLMEmbedder
from botbasic.runtime.services.kb_chunks import DEFAULT_CHUNK_SIZE, DEFAULT_OVERLAP
from botbasic.runtime.services.kb_index import (
    KnowledgeBase,
    VectorStoreError,
    open_vector_store,
    qdrant_collection_name,
)
from botbasic.server.knowledge import KnowledgeHub, KnowledgeUnavailable
from qdrant_fixture import FakeQdrant, qdrant_server, running_qdrant  # noqa: F401
from server_support import BOTBASIC
from test_kb import HOURS, REFUNDS, CountingEmbedder, embedder, minilm, package_dir, write  # noqa: F401

# qdrant-client warns whenever an API key travels over plain http, as it does here.
INSECURE_KEY = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")

QUERIES = [  # (collections, query, top_k, min_score)
    (None, "can I get my money back?", 3, 0.0),
    (None, "what time do you open on saturday?", 5, 0.0),
    (["policies"], "laptop warranty", 2, 0.0),
    (["FAQ"], "free delivery", 1, 0.0),
    (None, "who founded the shop", 10, 0.0),
    (None, "refund", 10, 0.4),
]
TARGETS = {name: qdrant_collection_name("shop", name) for name in ("faq", "policies", "shop")}


def search_all(kb: KnowledgeBase) -> list[list[dict]]:
    return [kb.search("shop", collections, query, top_k=top_k, min_score=min_score)
            for collections, query, top_k, min_score in QUERIES]


def assert_same_results(mine: list[list[dict]], theirs: list[list[dict]]) -> None:
    for first, second in zip(mine, theirs, strict=True):
        assert [(hit["content"], hit["source"], hit["kb_name"]) for hit in first] == \
               [(hit["content"], hit["source"], hit["kb_name"]) for hit in second]
        assert [hit["relevance"] for hit in first] == \
               pytest.approx([hit["relevance"] for hit in second], abs=1e-5)


def header(received, name: str):
    return {key.lower(): value for key, value in received.headers.items()}.get(name)


def closed_port_url() -> str:
    """The URL of a loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def writes(server: FakeQdrant) -> list[tuple[str, str]]:
    """The requests that change the server's data."""
    return [call for call in server.calls() if call[0] in ("PUT", "DELETE")
            or (call[0] == "POST" and call[1].endswith("/points/delete"))]


@pytest.fixture
def local_and_server(tmp_path: Path, qdrant_server: FakeQdrant, embedder: CountingEmbedder):
    """The same KnowledgeBase twice: Qdrant local mode, and the fixture server."""
    local = KnowledgeBase(open_vector_store(tmp_path / "local-store"), embedder)
    server = KnowledgeBase(open_vector_store(url=qdrant_server.url), embedder)
    yield local, server
    local.close()
    server.close()


# ---------------------------------------------------------------- (a) index and search


def test_a_server_index_answers_like_local_mode(local_and_server, package_dir: Path,
                                                qdrant_server: FakeQdrant) -> None:
    local, server = local_and_server
    package = load_package(package_dir)
    assert sorted(server.index_package(package).sources("indexed")) == \
           sorted(local.index_package(package).sources("indexed"))
    assert server.collections("shop") == local.collections("shop") == ["faq", "policies", "shop"]

    # What the server received: the check on opening, then per collection its creation
    # (cosine, the layout in its metadata), the path index and the upsert of the chunks.
    assert qdrant_server.calls()[:2] == [("GET", "/"), ("GET", "/collections")]
    for name, target in TARGETS.items():
        create = qdrant_server.received("PUT", f"/collections/{target}")
        assert len(create) == 1 and create[0].body["vectors"] == {"size": 384, "distance": "Cosine"}
        assert create[0].body["metadata"]["kb_name"] == name
        assert create[0].body["metadata"]["layout"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
        index = qdrant_server.received("PUT", f"/collections/{target}/index")
        assert [r.body for r in index] == [{"field_name": "path", "field_schema": "keyword"}]
    upserts = qdrant_server.received("PUT", "/points")
    assert {r.query.get("wait") for r in upserts} == {"true"}
    stored = [point["payload"] for r in upserts for point in r.body["points"]]
    assert sorted(p["path"] for p in stored) == ["about.txt", "faq/hours.txt", "faq/more/shipping.md",
                                                 "policies/refunds.html", "policies/warranty.pdf"]
    assert all(len(point["vector"]) == 384 for r in upserts for point in r.body["points"])
    assert {name: len(qdrant_server.payloads(target)) for name, target in TARGETS.items()} == \
           {"faq": 2, "policies": 2, "shop": 1}

    qdrant_server.requests.clear()
    results = search_all(server)
    assert_same_results(results, search_all(local))
    assert results[0][0]["content"] == REFUNDS and results[1][0]["content"] == HOURS
    assert [hit["source"] for hit in results[-1]] == ["refunds.html"]  # min_score 0.4
    # The server ranked the chunks itself (local mode searches a matrix in memory).
    queries = qdrant_server.received("POST", "/points/query")
    assert len(queries) == 3 + 3 + 1 + 1 + 3 + 3  # one per searched collection
    assert queries[0].body["with_payload"] == ["content", "source", "kb_name"]
    assert queries[0].body["limit"] == 3 and queries[0].body["score_threshold"] == 0.0
    assert qdrant_server.received("POST", "/points") == []  # payloads came with the hits


# ---------------------------------------------------------------- (b) incremental re-index


def test_b_reindex_replaces_only_the_changed_file(local_and_server, package_dir: Path,
                                                  qdrant_server: FakeQdrant,
                                                  embedder: CountingEmbedder) -> None:
    local, server = local_and_server
    package = load_package(package_dir)
    local.index_package(package)
    server.index_package(package)
    new_hours = "Store hours: from December on we open at 8 am every day, Sundays included."
    write(package_dir / "shop.gbkb" / "faq" / "hours.txt", new_hours)
    embedder.texts.clear()
    qdrant_server.requests.clear()

    report = server.index_package(package)
    assert embedder.texts == [new_hours]  # by content hash: nothing else is embedded again
    assert report.sources("indexed") == ["faq/hours.txt"] and len(report.sources("unchanged")) == 4
    faq = TARGETS["faq"]
    assert writes(qdrant_server) == [("POST", f"/collections/{faq}/points/delete"),
                                     ("PUT", f"/collections/{faq}/points")]
    delete = qdrant_server.received("POST", "/points/delete")[0]
    assert delete.body == {"filter": {"must": [{"key": "path", "match": {"value": "faq/hours.txt"}}]}}
    digest = hashlib.sha256(new_hours.encode("utf-8")).hexdigest()
    hours = [p for p in qdrant_server.payloads(faq) if p["path"] == "faq/hours.txt"]
    assert [(p["content"], p["hash"]) for p in hours] == [(new_hours, digest)]
    assert server.store.count(faq).count == 2

    assert local.index_package(package).sources("indexed") == ["faq/hours.txt"]
    assert_same_results(search_all(server), search_all(local))

    # Nothing changed: the server is only read.
    qdrant_server.requests.clear()
    assert len(server.index_package(package).sources("unchanged")) == 5
    assert writes(qdrant_server) == []

    # A removed file loses its points, a removed folder its collection.
    (package_dir / "shop.gbkb" / "faq" / "more" / "shipping.md").unlink()
    for path in (package_dir / "shop.gbkb" / "policies").iterdir():
        path.unlink()
    (package_dir / "shop.gbkb" / "policies").rmdir()
    report = server.index_package(package)
    assert report.sources("removed") == ["faq/more/shipping.md"]
    assert [e.collection for e in report.events if e.action == "dropped"] == ["policies"]
    assert ("DELETE", f"/collections/{TARGETS['policies']}") in qdrant_server.calls()
    assert sorted(qdrant_server.collections) == sorted([TARGETS["faq"], TARGETS["shop"]])
    assert [p["path"] for p in qdrant_server.payloads(faq)] == ["faq/hours.txt"]
    local.index_package(package)
    assert_same_results(search_all(server), search_all(local))


# ---------------------------------------------------------------- (c) API key


def hub_for(data: Path, **env: str) -> KnowledgeHub:
    """The server's knowledge hub, configured from these environment variables."""
    return KnowledgeHub.from_env(data, env=env)


@INSECURE_KEY
def test_c_the_api_key_reaches_the_server(tmp_path: Path, package_dir: Path) -> None:
    package = load_package(package_dir)
    with running_qdrant(api_key="s3cret") as server:
        hub = hub_for(tmp_path / "data", QDRANT_URL=server.url, QDRANT_API_KEY="s3cret")
        try:
            base = hub.knowledge_base(package.config)
            assert len(base.index_package(package).sources("indexed")) == 5
            assert base.search("shop", None, "refund", top_k=1)[0]["content"] == REFUNDS
        finally:
            asyncio.run(hub.close())
        assert not hub.local and len(server.requests) > 10
        assert {header(r, "api-key") for r in server.requests} == {"s3cret"}
        assert len(server.collections) == 3

        for env, why in (({"QDRANT_API_KEY": "not-the-key"}, "Invalid API key or JWT"),
                         ({}, "Must provide an API key")):
            hub = hub_for(tmp_path / "data", QDRANT_URL=server.url, **env)
            with pytest.raises(KnowledgeUnavailable) as refused:
                hub.knowledge_base(package.config)
            message = str(refused.value)
            assert message.startswith(f"cannot open the vector store: the Qdrant server at {server.url}"
                                       " refused the request: wrong or missing API key (401 Unauthorized")
            assert why in message and "s3cret" not in message and "not-the-key" not in message
            assert not hub.opened  # the next use tries again
            asyncio.run(hub.close())
        assert server.requests[-1].path == "/collections"  # refused: nothing was written
        assert header(server.requests[-1], "api-key") is None


# ---------------------------------------------------------------- (d) unreachable, refusing, too old


def test_d_an_unreachable_server_is_a_clear_error(tmp_path: Path, package_dir: Path) -> None:
    url = closed_port_url()
    with pytest.raises(VectorStoreError, match=re.escape(f"the Qdrant server at {url} is unreachable (")):
        open_vector_store(url=url)

    package = load_package(package_dir)
    hub = hub_for(tmp_path / "data", QDRANT_URL=url)
    bot = SimpleNamespace(name="shop", package=package, config=package.config)
    try:
        with pytest.raises(KnowledgeUnavailable, match=re.escape(url)):
            hub.knowledge_base(package.config)
        with pytest.raises(KnowledgeUnavailable, match="unreachable"):  # THINK KB reports this
            asyncio.run(hub.for_bot(bot).search("refund"))
    finally:
        asyncio.run(hub.close())
    assert not (tmp_path / "data" / "kb-index").exists()  # no fallback to local mode


def test_d_a_server_that_goes_away_is_named(package_dir: Path, embedder: CountingEmbedder) -> None:
    with running_qdrant() as server:
        base = KnowledgeBase(open_vector_store(url=server.url), embedder)
        base.index_package(load_package(package_dir))
        url = server.url
    try:
        with pytest.raises(VectorStoreError, match=re.escape(f"the Qdrant server at {url} is unreachable")):
            base.search("shop", None, "refund")
    finally:
        base.close()


def test_d_error_answers_are_named(qdrant_server: FakeQdrant) -> None:
    store = open_vector_store(url=qdrant_server.url)
    try:
        with pytest.raises(VectorStoreError) as missing:
            store.get_collection("nope")
        assert str(missing.value) == (f"the Qdrant server at {qdrant_server.url} answered 404 Not Found:"
                                      " Not found: Collection `nope` doesn't exist!")
        # The fixture answers what it does not implement with 501, so a client that
        # starts calling something new fails here instead of passing by accident.
        with pytest.raises(VectorStoreError, match="answered 501 Not Implemented: fixture: POST"
                                                   " /collections/nope/facet is not implemented"):
            store.facet("nope", key="path")
    finally:
        store.close()


def test_d_a_server_without_collection_metadata_is_refused(tmp_path: Path) -> None:
    with running_qdrant(version="1.15.4") as server:
        hub = hub_for(tmp_path, QDRANT_URL=server.url)
        with pytest.raises(KnowledgeUnavailable, match=re.escape(
                f"the Qdrant server at {server.url} runs Qdrant 1.15.4; the knowledge base needs"
                " Qdrant 1.16 or newer")):
            hub.knowledge_base(None)
        asyncio.run(hub.close())
        assert server.calls() == [("GET", "/")]


# ---------------------------------------------------------------- (e) botbasic kb index


def test_e_kb_index_command_writes_to_the_server(tmp_path: Path, package_dir: Path,
                                                 qdrant_server: FakeQdrant, embedder: CountingEmbedder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("QDRANT_")}
    env["QDRANT_URL"] = qdrant_server.url

    first = subprocess.run([str(BOTBASIC), "kb", "index", str(package_dir.parent), "--data", str(data)],
                           capture_output=True, text=True, timeout=120, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "shop: 3 collection(s): 5 indexed; 5 chunk(s) embedded\n"
    assert sorted(qdrant_server.collections) == sorted(TARGETS.values())
    assert sum(len(r.body["points"]) for r in qdrant_server.received("PUT", "/points")) == 5
    assert not (data / "kb-index").exists()  # nothing in local mode

    monkeypatch.setenv("QDRANT_URL", qdrant_server.url)  # once more, in this process
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)
    status, out, err = run_kb_index(package_dir, data)
    assert (status, out) == (0, "shop: 3 collection(s): 5 unchanged; 0 chunk(s) embedded\n")
    assert len(err.splitlines()) == 5 and all(line.endswith(" (unchanged)") for line in err.splitlines())
    # The index is the one a server using the same Qdrant searches.
    base = KnowledgeBase(open_vector_store(url=qdrant_server.url), embedder)
    try:
        assert base.search("shop", None, "money back", top_k=1)[0]["source"] == "refunds.html"
    finally:
        base.close()


def run_kb_index(path: Path, data: Path) -> tuple[int, str, str]:
    """``botbasic kb index`` in this process (the environment as the test set it)."""
    from botbasic.kb_command import run_kb_index as run

    out, err = io.StringIO(), io.StringIO()
    status = run(str(path), str(data), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_e_kb_index_command_reports_server_failures(tmp_path: Path, package_dir: Path,
                                                    qdrant_server: FakeQdrant,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)
    url = closed_port_url()
    monkeypatch.setenv("QDRANT_URL", url)
    status, out, err = run_kb_index(package_dir, tmp_path / "data")
    assert (status, out) == (1, "")
    assert err.startswith(f"botbasic kb index: cannot open the vector store: the Qdrant server at {url}"
                          " is unreachable (")
    assert len(err.splitlines()) == 1  # no traceback

    # A failure after the store opened (here: the server holds the collection with other
    # vectors than its metadata claims) ends the run with the server's answer.
    monkeypatch.setenv("QDRANT_URL", qdrant_server.url)
    store = open_vector_store(url=qdrant_server.url)
    layout = {"model": MiniLMEmbedder.name, "dims": 384, "chunking": [DEFAULT_CHUNK_SIZE, DEFAULT_OVERLAP]}
    store.create_collection(TARGETS["faq"], vectors_config=models.VectorParams(size=3, distance="Cosine"),
                            metadata={"botbasic_kb": 1, "bot": "shop", "kb_name": "faq", "layout": layout})
    store.close()
    status, out, err = run_kb_index(package_dir, tmp_path / "data")
    assert status == 1
    assert err.splitlines()[-1] == (
        f"botbasic kb index: the Qdrant server at {qdrant_server.url} answered 400 Bad Request:"
        " Wrong input: Vector dimension error: expected dim: 3, got 384")
