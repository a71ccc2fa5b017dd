"""Knowledge-base keywords (DIALECT §9.4.1–§9.4.3, §9.4.5, §11 A-19, A-41, A-54).

The session's active collections are ``ctx.session.kb_collections`` (plain data, saved
with the session); every LLM turn searches them (§7.3). The knowledge base itself is the
bot's ``kb`` service (``ctx.service("kb")``, server/knowledge.py): ``resolve(name)`` maps
a ``USE KB`` name to collections, ``collection_names()``, ``search(query, collections)``,
``statistics()`` and ``documents_added_since(days)``.

``USE KB`` never fails: a name that matches no collection (or a bot without a knowledge
base) is a warning, and the name is remembered, so it takes effect if the collection
appears later (templates name collections they do not ship). ``THINK KB`` and the
statistics keywords need the service and raise a trappable error without it.
"""
from __future__ import annotations

import json
from typing import Optional

from ..runtime.errors import BasicError
from ..runtime.values import from_plain, to_num, to_str
from .calls import KeywordCall
from .registry import keyword

KB_SUFFIX = ".gbkb"
SUMMARY_CHARS = 300
CHARS_PER_TOKEN = 4  # rough English average, for the ``tokens`` field of THINK KB


def _service(ctx, phrase: str):
    kb = ctx.service("kb")
    if kb is None:
        raise BasicError(f"{phrase}: this bot has no knowledge base service")
    return kb


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _activate(ctx, names: list[str]) -> None:
    active = ctx.session.kb_collections
    for name in names:
        if not any(_same(name, current) for current in active):
            active.append(name)


def _resolved(ctx, call: KeywordCall) -> list[str]:
    """The collections a USE KB / SET KB argument names (warns when there are none)."""
    wanted = to_str(call.args[0].value).strip()
    kb = ctx.service("kb")
    names = kb.resolve(wanted) if kb is not None and wanted else []
    if names:
        return names
    ctx.logger.warning("%s:%s: USE KB: no knowledge-base collection '%s' (yet); remembered",
                       call.file, call.line, wanted)
    stem = wanted[: -len(KB_SUFFIX)] if wanted.lower().endswith(KB_SUFFIX) else wanted
    return [stem] if stem else []


@keyword("USE KB", shapes=["x"], aliases=["ADD KB"])
async def use_kb(ctx, call: KeywordCall):
    """Activate collections for the rest of the session (idempotent, §9.4.1)."""
    _activate(ctx, _resolved(ctx, call))


@keyword("SET KB", shapes=["x"], status="compat")
async def set_kb(ctx, call: KeywordCall):
    """Legacy: replace every active collection with the one(s) named."""
    names = _resolved(ctx, call)
    ctx.session.kb_collections = []
    _activate(ctx, names)


def _clears_all(call: KeywordCall) -> bool:
    """``CLEAR KB``, ``CLEAR KB ALL`` (the bare word), ``CLEAR KB "ALL"`` (§11 A-41)."""
    if not call.args:
        return True
    arg = call.args[0]
    if arg.name is not None and arg.name.upper() == "ALL" and arg.value is None:
        return True
    return isinstance(arg.value, str) and arg.value.strip() == "ALL"


@keyword("CLEAR KB", shapes=["(x)?"])
async def clear_kb(ctx, call: KeywordCall):
    """Deactivate every collection or one; TRUE when something was deactivated."""
    active = ctx.session.kb_collections
    if _clears_all(call):
        ctx.session.kb_collections = []
        return bool(active)
    wanted = to_str(call.args[0].value).strip()
    stem = wanted[: -len(KB_SUFFIX)] if wanted.lower().endswith(KB_SUFFIX) else wanted
    kept = [name for name in active if not _same(name, stem)]
    ctx.session.kb_collections = kept
    return len(kept) != len(active)


# ---------------------------------------------------------------- THINK KB


@keyword("THINK KB", shapes=["x"])
async def think_kb(ctx, call: KeywordCall):
    """Search the active collections (all of the bot's when none is active, §9.4.3)."""
    kb = _service(ctx, "THINK KB")
    query = to_str(call.args[0].value)
    active = list(ctx.session.kb_collections)
    try:
        results = await kb.search(query, active or None)
    except Exception as error:  # vector store unavailable, embedding failed ...
        raise BasicError(f"THINK KB: the knowledge base is not available: {error}") from None
    searched = len(active) if active else len(kb.collection_names())
    return from_plain(think_result(query, results, searched))


def think_result(query: str, results: list[dict], kb_count: int) -> dict:
    """The THINK KB object: results, an extractive summary, a confidence (§9.4.3)."""
    items = [{"content": r["content"], "source": r["source"], "kb_name": r["kb_name"],
              "relevance": round(float(r["relevance"]), 4),
              "tokens": max(1, len(r["content"]) // CHARS_PER_TOKEN)} for r in results]
    return {"results": items, "summary": _summary(items), "confidence": _confidence(items),
            "total_results": len(items), "sources": list(dict.fromkeys(i["source"] for i in items)),
            "query": query, "kb_count": kb_count}


def _summary(items: list[dict]) -> str:
    """The start of the best result, cut at a word boundary."""
    if not items:
        return ""
    text = " ".join(items[0]["content"].split())
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"


def _confidence(items: list[dict]) -> float:
    """0..1 from the top three relevances, the best counting most (1/2, 1/3, 1/6)."""
    if not items:
        return 0.0
    weights = (3, 2, 1)[: len(items)]
    scores = [max(0.0, min(1.0, item["relevance"])) for item in items[: len(weights)]]
    return round(sum(w * s for w, s in zip(weights, scores)) / sum(weights), 4)


# ---------------------------------------------------------------- statistics (§9.4.5)


@keyword("KB STATISTICS", shapes=[""])
async def kb_statistics(ctx, call: KeywordCall):
    """JSON text of the bot's knowledge-base statistics."""
    return json.dumps(await _service(ctx, "KB STATISTICS").statistics())


@keyword("KB COLLECTION STATS", shapes=["x"])
async def kb_collection_stats(ctx, call: KeywordCall):
    """JSON text of one collection's entry; NULL for an unknown collection."""
    statistics = await _service(ctx, "KB COLLECTION STATS").statistics()
    entry = _entry(statistics, to_str(call.args[0].value))
    return None if entry is None else json.dumps(entry)


def _entry(statistics: dict, name: str) -> Optional[dict]:
    wanted = name.strip().lower()
    return next((e for e in statistics["collections"] if e["name"].lower() == wanted), None)


@keyword("KB DOCUMENTS COUNT", shapes=[""])
async def kb_documents_count(ctx, call: KeywordCall):
    return (await _service(ctx, "KB DOCUMENTS COUNT").statistics())["total_documents"]


@keyword("KB DOCUMENTS ADDED SINCE", shapes=["x"])
async def kb_documents_added_since(ctx, call: KeywordCall):
    """Documents (files) added or changed in the last ``days`` days."""
    days = to_num(call.args[0].value)
    if days < 0:
        raise BasicError("KB DOCUMENTS ADDED SINCE needs a positive number of days")
    return await _service(ctx, "KB DOCUMENTS ADDED SINCE").documents_added_since(days)


@keyword("KB LIST COLLECTIONS", shapes=[""])
async def kb_list_collections(ctx, call: KeywordCall):
    """The names of the bot's collections."""
    return list(_service(ctx, "KB LIST COLLECTIONS").collection_names())


@keyword("KB STORAGE SIZE", shapes=[""])
async def kb_storage_size(ctx, call: KeywordCall):
    """Disk size of the bot's collections, in MB."""
    return float((await _service(ctx, "KB STORAGE SIZE").statistics())["total_disk_size_mb"])
