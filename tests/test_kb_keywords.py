"""Knowledge-base keywords and the KB in the server (DIALECT §1.3, §1.6, §7.3, §9.4, §11 A-19,
A-41, A-54): USE KB / ADD KB / SET KB / CLEAR KB, THINK KB, KB statistics, the excerpts an LLM
turn sends, re-indexing when .gbkb files change, embeddings through litellm, and
``botbasic kb index``. Real MiniLM embeddings, real Qdrant local mode, real chat server."""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import pytest

from botbasic.keywords import default_registry
from botbasic.runtime.services.kb_index import KnowledgeBase, open_vector_store
from botbasic.server.bots import BotRegistry
from botbasic.server.knowledge import KnowledgeHub
from llm_fixture import QUIET_LITELLM, model_config, model_server  # noqa: F401
from server_support import BOTBASIC, running, say, settings_for, texts, write_bot
from vm_support import run_script

pytestmark = QUIET_LITELLM

DOCS = {
    "faq/refunds.md": "Refunds are paid back to the original card within 14 days of the return.",
    "faq/shipping.md": "Parcels ship from Lisbon and arrive in three to five working days.",
    "Policies/privacy.md": "We keep customer data for two years and never sell it to anyone.",
    "about.txt": "Kbbot is the assistant of the Example Store, founded in 1999.",
}


def write_kb(root: Path, docs: dict = DOCS) -> None:
    for relative, text in docs.items():
        path = root / "kbbot.gbkb" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


def kb_bot(bots: Path, scripts: dict, config: dict) -> Path:
    root = write_bot(bots, "kbbot", scripts, config)
    write_kb(root)
    return root


def run(coro):
    return asyncio.run(coro)


def kb_message(request: dict):
    found = [m["content"] for m in request["messages"]
             if m["role"] == "system" and m["content"].startswith("Knowledge-base excerpts")]
    return found[0] if found else None


# ---------------------------------------------------------------- USE KB name resolution


@pytest.fixture
def knowledge(tmp_path):
    """The ``kb`` service of the kbbot package (names come from disk: nothing indexed)."""
    bots = tmp_path / "bots"
    kb_bot(bots, {"start": 'TALK "hi"'}, {})
    registry = BotRegistry(bots, default_registry())
    registry.load_all()
    hub = KnowledgeHub(tmp_path / "data")
    yield hub.for_bot(registry.get("kbbot"))
    run(hub.close())


def active_after(source: str, knowledge, **kwargs) -> tuple[list, list]:
    transcript = run_script(source, services=_services(knowledge), **kwargs)
    assert transcript.error is None, transcript.error
    return transcript.ctx.session.kb_collections, transcript


def _services(knowledge):
    from types import SimpleNamespace

    from botbasic.runtime.memory_store import InMemoryStore
    return SimpleNamespace(memory=InMemoryStore(), kb=knowledge)


def test_collections_on_disk(knowledge):
    assert knowledge.collection_names() == ["faq", "Policies", "kbbot"]


@pytest.mark.parametrize("source, active", [
    ('USE KB "faq"', ["faq"]),
    ('USE KB "POLICIES"', ["Policies"]),
    ('USE KB "kbbot"', ["kbbot"]),  # the collection of the loose files wins over "all"
    ('USE KB "kbbot.gbkb"', ["faq", "Policies", "kbbot"]),  # §11 A-19: the whole KB
    ('USE KB "faq"\nADD KB "faq"\nUSE_KB("Faq")', ["faq"]),  # idempotent, aliases
    ('USE KB "faq"\nname = "policies"\nADD_KB name', ["faq", "Policies"]),
    ('USE KB "faq"\nSET KB "policies"', ["Policies"]),
])
def test_use_kb_resolves_names(knowledge, source, active):
    assert active_after(source, knowledge)[0] == active


def test_unknown_collection_is_a_warning_and_is_remembered(knowledge):
    active, transcript = active_after('USE KB "manuals"\nUSE KB "other.gbkb"\nTALK "goes on"', knowledge)
    assert active == ["manuals", "other"]
    assert transcript.messages == ["goes on"]
    warnings = [text for level, text in transcript.logs if level == "WARNING"]
    assert warnings == ["main.bas:1: USE KB: no knowledge-base collection 'manuals' (yet); remembered",
                        "main.bas:2: USE KB: no knowledge-base collection 'other.gbkb' (yet); remembered"]


@pytest.mark.parametrize("source, said, active", [
    ('USE KB "kbbot.gbkb"\na = CLEAR KB "FAQ"\nb = CLEAR KB "faq"', ["true", "false"], ["Policies", "kbbot"]),
    ('USE KB "kbbot.gbkb"\na = CLEAR KB ALL\nb = CLEAR KB', ["true", "false"], []),
    ('USE KB "faq"\na = CLEAR KB "faq.gbkb"\nb = CLEAR KB "ALL"', ["true", "false"], []),
])
def test_clear_kb(knowledge, source, said, active):
    found, transcript = active_after(source + "\nTALK a\nTALK b", knowledge)
    assert transcript.messages == said and found == active


def test_without_a_kb_service(tmp_path):
    transcript = run_script('USE KB "faq"\nTALK "on"\nr = THINK KB "refund"')
    assert transcript.ctx.session.kb_collections == ["faq"]
    assert transcript.messages == ["on"]
    assert transcript.error == "main.bas:3: error: THINK KB: this bot has no knowledge base service"


# ---------------------------------------------------------------- in the server


THINK = """USE KB "faq"
r = THINK KB "When do I get my money back?"
TALK r.results[0].source + " | " + r.results[0].kb_name + " | " + r.total_results + " | " + r.kb_count
TALK r.summary
TALK r.query
TALK (r.confidence > 0 AND r.confidence <= 1) + " " + (r.results[0].relevance > 0.3) + " " + (r.results[0].tokens > 0)
CLEAR KB
r = THINK KB "Where is customer data kept and for how long?"
TALK r.sources[0] + " " + r.kb_count
"""


def test_think_kb(tmp_path, model_server):
    bots = tmp_path / "bots"
    kb_bot(bots, {"start": THINK}, {})

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            return await say(client, "kbbot", "hi")

    assert texts(run(scenario()))[:5] == [
        "refunds.md | faq | 1 | 1", DOCS["faq/refunds.md"], "When do I get my money back?",
        "true true true", "privacy.md 3"]  # nothing active: every collection is searched


def test_the_llm_turn_sends_the_best_chunks_with_their_sources(tmp_path, model_server):
    bots = tmp_path / "bots"
    kb_bot(bots, {"start": 'USE KB "faq"\nUSE KB "policies"'}, model_config(model_server, rag_top_k=2))
    model_server.enqueue("14 days.", "Two years.")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            first = await say(client, "kbbot", "How long does a refund take?")
            await say(client, "kbbot", "Do you sell my data?", session_id=first["session_id"])

    run(scenario())
    first, second = (kb_message(request) for request in model_server.requests)
    header = ("Knowledge-base excerpts that may help to answer the user's next message "
              "(cite the source when you use one):\n\n")
    assert re.fullmatch(re.escape(header + "[1] source: faq/refunds.md (relevance ") + r"0\.\d\d\)\n"
                        + re.escape(DOCS["faq/refunds.md"]) + r"(\n\n\[2\] .*)?", first, re.S)
    assert second.startswith(header + "[1] source: Policies/privacy.md (relevance ")
    assert len(re.findall(r"^\[\d\] source:", first, re.M)) <= 2  # rag-top-k
    # The excerpts come right after the system prompt, before the user's message.
    roles = [m["role"] for m in model_server.requests[0]["messages"]]
    assert roles == ["system", "system", "user"]


def test_no_kb_message_without_active_collections_or_matches(tmp_path, model_server):
    bots = tmp_path / "bots"
    kb_bot(bots, {"start": 'USE KB "faq"'}, model_config(model_server, rag_min_score=0.9))
    write_bot(bots, "other", {}, model_config(model_server))
    model_server.enqueue("a", "b")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            await say(client, "kbbot", "How long does a refund take?")
            await say(client, "other", "How long does a refund take?")

    run(scenario())
    assert [kb_message(request) for request in model_server.requests] == [None, None]


STATISTICS = """s = KB STATISTICS
TALK s
TALK KB COLLECTION STATS "FAQ"
n = KB DOCUMENTS COUNT
m = KB DOCUMENTS ADDED SINCE 1
names = KB LIST COLLECTIONS
mb = KB STORAGE SIZE
TALK n
TALK m
TALK JOIN(names, ",")
TALK mb > 0
st = JSON PARSE s
TALK st.collections[0].status
"""


def test_kb_statistics(tmp_path):
    bots = tmp_path / "bots"
    kb_bot(bots, {"start": STATISTICS}, {})

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            return texts(await say(client, "kbbot", "hi"))

    said = run(scenario())
    statistics, faq = json.loads(said[0]), json.loads(said[1])
    assert [c["name"] for c in statistics["collections"]] == ["faq", "kbbot", "Policies"]
    assert {c["status"] for c in statistics["collections"]} == {"green"}
    assert [c["points_count"] for c in statistics["collections"]] == [2, 1, 1]
    assert statistics["total_collections"] == 3 and statistics["total_documents"] == 4
    assert statistics["total_vectors"] == 4 and statistics["documents_added_last_week"] == 4
    assert statistics["total_ram_size_mb"] == round(4 * 384 * 4 / 1024 / 1024, 3)
    assert faq == statistics["collections"][0] and faq["vectors_count"] == 2
    assert set(faq) == {"name", "status", "points_count", "vectors_count", "disk_data_size",
                        "ram_data_size"}
    assert said[2:7] == ["4", "4", "faq,Policies,kbbot", "true", "green"]


# ---------------------------------------------------------------- re-indexing


async def _wait_until(predicate, attempts: int = 200):
    """Poll ``predicate`` (a coroutine function) until it is true; fail after ``attempts``."""
    for _ in range(attempts):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never became true")


def test_changed_kb_files_are_reindexed_while_serving(tmp_path, model_server):
    bots = tmp_path / "bots"
    root = kb_bot(bots, {"start": 'USE KB "faq"'}, model_config(model_server))
    question = "Can I pay with a gift card?"

    async def best_source(client, session_id) -> str:
        model_server.enqueue("ok")
        await say(client, "kbbot", question, session_id=session_id)
        message = kb_message(model_server.last) or ""
        found = re.search(r"\[1\] source: (\S+)", message)
        return found.group(1) if found else ""

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots, watch=True)) as client:
            sid = (await say(client, "kbbot", "hello", session_id="s-reindex"))["session_id"]
            assert await best_source(client, sid) != "faq/payments.md"
            (root / "kbbot.gbkb" / "faq" / "payments.md").write_text(
                "Gift cards and credit cards are accepted; gift cards never expire.\n", encoding="utf-8")
            await _wait_until(lambda: _is(best_source(client, sid), "faq/payments.md"))
            (root / "kbbot.gbkb" / "faq" / "payments.md").unlink()
            await _wait_until(lambda: _is_not(best_source(client, sid), "faq/payments.md"))

    model_server.enqueue("hello")
    run(scenario())


async def _is(value, expected) -> bool:
    return await value == expected


async def _is_not(value, expected) -> bool:
    return await value != expected


def test_embedding_model_config_uses_litellm(tmp_path, model_server):
    bots = tmp_path / "bots"
    config = model_config(model_server, embedding_model="test-embedder", embedding_url=model_server.url)
    kb_bot(bots, {"start": 'USE KB "faq"'}, config)
    model_server.enqueue("ok")

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots)) as client:
            await say(client, "kbbot", "refund please")

    run(scenario())
    embedded = [text for request in model_server.embedding_requests for text in request["input"]]
    assert {request["model"] for request in model_server.embedding_requests} == {"test-embedder"}
    assert embedded[0] == "dimension probe"  # learns the vector size of the hosted model
    assert sorted(embedded[1:-1]) == sorted(DOCS[key] for key in DOCS)  # every chunk, once
    assert embedded[-1] == "refund please"  # the query
    assert kb_message(model_server.last) is not None  # fixture vectors: some chunk scores


def test_kb_index_command(tmp_path):
    bots = tmp_path / "bots"
    kb_bot(bots, {"start": 'TALK "hi"'}, {})
    write_bot(bots, "empty", {"start": 'TALK "hi"'})
    data = tmp_path / "data"

    def index(path) -> subprocess.CompletedProcess:
        return subprocess.run([str(BOTBASIC), "kb", "index", str(path), "--data", str(data)],
                              capture_output=True, text=True, timeout=120)

    first = index(bots)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "empty: 0 collection(s): no files; 0 chunk(s) embedded",
        "kbbot: 3 collection(s): 4 indexed; 4 chunk(s) embedded"]
    progress = first.stderr.splitlines()
    assert progress == [  # the order of the files on disk
        f"[{'#' * 7}{'.' * 23}] 1/4 kbbot: Policies/privacy.md (indexed)",
        f"[{'#' * 15}{'.' * 15}] 2/4 kbbot: kbbot/about.txt (indexed)",
        f"[{'#' * 22}{'.' * 8}] 3/4 kbbot: faq/refunds.md (indexed)",
        f"[{'#' * 30}] 4/4 kbbot: faq/shipping.md (indexed)"]
    again = index(bots / "kbbot.gbai")
    assert again.stdout == "kbbot: 3 collection(s): 4 unchanged; 0 chunk(s) embedded\n"
    assert index(tmp_path / "nothing-here").returncode == 2
    # The index is the one the server searches.
    store = open_vector_store(data / "kb-index")
    try:
        assert KnowledgeBase(store, _minilm()).collections("kbbot") == ["faq", "kbbot", "Policies"]
    finally:
        store.close()


def _minilm():
    from botbasic.runtime.services.embeddings import MiniLMEmbedder
    return MiniLMEmbedder()


def test_a_kb_folder_that_appears_later_serves_a_remembered_collection(tmp_path, model_server):
    bots = tmp_path / "bots"
    root = write_bot(bots, "late", {"start": 'USE KB "faq"'}, model_config(model_server))

    async def excerpt_source(client, session_id) -> str:
        model_server.enqueue("ok")
        await say(client, "late", "How long does a refund take?", session_id=session_id)
        found = re.search(r"\[1\] source: (\S+)", kb_message(model_server.last) or "")
        return found.group(1) if found else ""

    async def scenario():
        async with running(settings_for("sqlite", tmp_path, bots, watch=True)) as client:
            assert await excerpt_source(client, "s-late") == ""  # remembered, not there yet
            folder = root / "late.gbkb" / "faq"
            folder.mkdir(parents=True)
            (folder / "refunds.md").write_text(DOCS["faq/refunds.md"] + "\n", encoding="utf-8")
            await _wait_until(lambda: _is(excerpt_source(client, "s-late"), "faq/refunds.md"))

    run(scenario())
