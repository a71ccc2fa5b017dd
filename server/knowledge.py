"""The knowledge bases of the server's bots (DIALECT §1.3, §1.6, §9.4).

``KnowledgeHub`` (one per server) owns the vector store and indexes each bot's ``.gbkb``
folder with ``runtime.services.kb_index.KnowledgeBase``:

* the store is Qdrant in local mode under ``<data>/kb-index``, or the Qdrant server of
  ``QDRANT_URL`` (``QDRANT_API_KEY``); it is opened on first need, so a server whose bots
  have no knowledge base never touches it (local mode locks its folder to one process);
* a bot is indexed in the background when it loads and again whenever its ``.gbkb``
  files change (the registry's ``on_kb_change`` hook); indexing is incremental and runs
  on one worker thread, one bot at a time; a change during a run queues one more run;
* a search waits (at most ``INDEX_WAIT_SECS``) for the bot's indexing in progress, so
  the first question after a start is answered from the indexed files.

``BotKnowledge`` is a bot's ``kb`` service (``ctx.service("kb")``, and the LLM turn's
KB context): collection names and ``USE KB`` name resolution, search, statistics, and
``embed`` for the semantic cache. Local mode is not thread-safe, so every store call is
serialised through ``_LockedStore``, which all KnowledgeBase objects share.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from ..runtime.services.kb_extract import is_supported
from ..runtime.services.kb_index import IndexEvent, KnowledgeBase, open_vector_store
from .kb_statistics import collection_statistics, documents_added_since, statistics_summary
from .knowledge_embedders import EmbedderPool

log = logging.getLogger("botbasic.kb")

STORE_FOLDER = "kb-index"
INDEX_WAIT_SECS = 30.0
KB_SUFFIX = ".gbkb"


class KnowledgeUnavailable(RuntimeError):
    """The vector store cannot be opened (locked by another process, server down ...)."""


class _IndexStopped(Exception):
    """Raised from the progress callback to end an indexing run at shutdown."""


class _LockedStore:
    """A vector store client whose calls run one at a time (see module doc)."""

    def __init__(self, client: Any) -> None:
        self._client_object = client
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client_object, name)
        if not callable(attribute):
            return attribute

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return locked


class KnowledgeHub:
    """The server's knowledge bases (see module doc)."""

    def __init__(self, data_dir: Path, url: Optional[str] = None, api_key: Optional[str] = None,
                 embedders: Optional[EmbedderPool] = None) -> None:
        self.path = Path(data_dir) / STORE_FOLDER
        self.url = url
        self.api_key = api_key
        self.embedders = embedders or EmbedderPool()
        self._store: Optional[_LockedStore] = None
        self._local = False
        self._open_lock = threading.Lock()
        self._bases: dict[str, KnowledgeBase] = {}  # embedder name -> its KnowledgeBase
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-index")
        self._jobs: dict[str, asyncio.Future] = {}  # bot (lower case) -> indexing task
        self._latest: dict[str, Any] = {}  # bot (lower case) -> newest Bot to index
        self._again: set[str] = set()
        self._failed: dict[str, str] = {}  # bot (lower case) -> why its last run failed
        self._stopping = False

    @classmethod
    def from_env(cls, data_dir: Path, env: Mapping[str, str] = os.environ) -> "KnowledgeHub":
        return cls(data_dir, url=env.get("QDRANT_URL") or None,
                   api_key=env.get("QDRANT_API_KEY") or None)

    # ------------------------------------------------------------ services

    def for_bot(self, bot: Any) -> "BotKnowledge":
        """The ``kb`` service of one bot version."""
        return BotKnowledge(self, bot)

    # ------------------------------------------------------------ the store

    def knowledge_base(self, config: Any) -> KnowledgeBase:
        """The KnowledgeBase for a bot's embedder; opens the store on first use."""
        store = self._open()
        embedder = self.embedders.for_config(config)
        with self._open_lock:
            base = self._bases.get(embedder.name)
            if base is None:
                base = self._bases[embedder.name] = KnowledgeBase(
                    store, embedder, serialise_store=False, memory_search=self._local)
            return base

    async def knowledge_base_async(self, config: Any) -> KnowledgeBase:
        """``knowledge_base`` from the event loop: opening the store (once) blocks."""
        if self._store is None:
            return await asyncio.to_thread(self.knowledge_base, config)
        return self.knowledge_base(config)

    def _open(self) -> _LockedStore:
        with self._open_lock:
            if self._store is None:
                try:
                    client = open_vector_store(self.path, url=self.url, api_key=self.api_key)
                except Exception as error:  # locked folder, unreachable server, bad URL
                    raise KnowledgeUnavailable(f"cannot open the vector store: {error}") from error
                self._local = not self.url
                self._store = _LockedStore(client)
                log.info("knowledge base store: %s", self.url or self.path)
            return self._store

    async def close(self) -> None:
        """Stop indexing (after the file in progress) and release the store."""
        self._stopping = True
        jobs = [job for job in self._jobs.values() if not job.done()]
        if jobs:
            await asyncio.gather(*jobs, return_exceptions=True)
        self._executor.shutdown(wait=True)
        if self._store is not None:
            await asyncio.to_thread(self._store.close)
            self._store = None

    # ------------------------------------------------------------ indexing

    def bot_changed(self, bot: Any) -> None:
        """The registry's hook: (re)index ``bot`` in the background (event loop thread).

        A bot without a ``.gbkb`` folder is indexed only when the store is open already
        (its collections, if any, are then dropped): a bot that never had a knowledge
        base must not make the server open the store.
        """
        package = getattr(bot, "package", None)
        if package is None or (package.kb_dir is None and self._store is None) or self._stopping:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("bot %s: knowledge base not indexed (no event loop)", bot.name)
            return
        key = bot.name.lower()
        self._latest[key] = bot
        job = self._jobs.get(key)
        if job is not None and not job.done():
            self._again.add(key)  # one more run after the current one
            return
        self._jobs[key] = loop.create_task(self._index_until_current(key))

    async def _index_until_current(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._again.discard(key)
            bot = self._latest[key]
            try:
                await loop.run_in_executor(self._executor, self._index, bot)
                self._failed.pop(key, None)
            except _IndexStopped:
                return
            except Exception as error:  # the next change retries; searches use what is there
                self._failed[key] = str(error)
                log.exception("bot %s: indexing the knowledge base failed", bot.name)
            if key not in self._again:
                return

    def _index(self, bot: Any) -> None:
        """One indexing run (worker thread)."""
        def progress(event: IndexEvent) -> None:
            if event.action == "failed":
                log.warning("bot %s: %s/%s not indexed: %s", bot.name, event.collection,
                            event.source, event.error)
            if self._stopping:
                raise _IndexStopped()

        report = self.knowledge_base(bot.config).index_package(bot.package, progress)
        counts: dict[str, int] = {}
        for event in report.events:
            counts[event.action] = counts.get(event.action, 0) + 1
        summary = ", ".join(f"{count} {action}" for action, count in sorted(counts.items()))
        log.info("bot %s: knowledge base indexed (%d collection(s); %s; %d chunk(s) embedded)",
                 bot.name, len(report.collections), summary or "no files",
                 report.chunks_embedded)

    async def wait_for_index(self, bot_name: str, timeout: float = INDEX_WAIT_SECS) -> None:
        """Wait for the bot's indexing in progress, if any (at most ``timeout`` seconds)."""
        job = self._jobs.get(bot_name.lower())
        if job is None or job.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(job), timeout)
        except asyncio.TimeoutError:
            log.warning("bot %s: searching while the knowledge base is still being indexed", bot_name)

    def indexing(self, bot_name: str) -> bool:
        job = self._jobs.get(bot_name.lower())
        return job is not None and not job.done()

    def failure(self, bot_name: str) -> Optional[str]:
        return self._failed.get(bot_name.lower())

    @property
    def local(self) -> bool:
        """True when the store is Qdrant's local mode (a folder of this server)."""
        return self._local

    @property
    def opened(self) -> bool:
        return self._store is not None


class BotKnowledge:
    """One bot's ``kb`` service (see module doc)."""

    def __init__(self, hub: KnowledgeHub, bot: Any) -> None:
        self.hub = hub
        self.bot = bot.name
        self.package = bot.package
        self.config = bot.config
        self.top_k = _int_setting(self.config, "rag-top-k", 5)
        self.min_score = _float_setting(self.config, "rag-min-score", 0.2)

    @property
    def kb_dir(self) -> Optional[Path]:
        return self.package.kb_dir if self.package is not None else None

    def collection_names(self) -> list[str]:
        """The bot's collections on disk (§1.3): first-level folders, plus the bot-named
        collection when files lie directly in the ``.gbkb`` folder."""
        folder = self.kb_dir
        if folder is None or not folder.is_dir():
            return []
        names, loose = [], False
        for entry in sorted(folder.iterdir(), key=lambda path: path.name.lower()):
            if entry.name.startswith((".", "~$")):
                continue
            if entry.is_dir():
                if entry.name.lower() not in (n.lower() for n in names):
                    names.append(entry.name)
            elif entry.is_file() and is_supported(entry):
                loose = True
        if loose and self.bot.lower() not in (n.lower() for n in names):
            names.append(self.bot)
        return names

    def resolve(self, name: str) -> list[str]:
        """The collections ``USE KB name`` activates (§9.4.1, §11 A-19); [] when unknown.

        A collection's name (any case) is that collection. Otherwise, with a trailing
        ``.gbkb`` stripped, the name of the KB package (its ``.gbkb`` folder, or the bot)
        is every collection of the bot.
        """
        wanted = name.strip()
        collections = self.collection_names()
        by_key = {collection.lower(): collection for collection in collections}
        if wanted.lower() in by_key:
            return [by_key[wanted.lower()]]
        stem = wanted[: -len(KB_SUFFIX)] if wanted.lower().endswith(KB_SUFFIX) else wanted
        if stem.lower() in self._package_names():
            return collections
        return [by_key[stem.lower()]] if stem.lower() in by_key else []

    def _package_names(self) -> set[str]:
        names = {self.bot.lower()}
        if self.kb_dir is not None:
            stem = self.kb_dir.name
            names.add(stem[: -len(KB_SUFFIX)].lower() if stem.lower().endswith(KB_SUFFIX) else stem.lower())
        return names

    async def search(self, query: str, collections: Optional[list[str]] = None,
                     top_k: Optional[int] = None, min_score: Optional[float] = None) -> list[dict]:
        """The best chunks for ``query`` in ``collections`` (None: every collection);
        results as KnowledgeBase.search gives them (content, source, kb_name, relevance)."""
        if self.kb_dir is None and not self.hub.opened:
            return []  # nothing was ever indexed for this bot
        await self.hub.wait_for_index(self.bot)
        base = await self.hub.knowledge_base_async(self.config)
        return await asyncio.to_thread(
            base.search, self.bot, collections or None, query,
            self.top_k if top_k is None else top_k,
            self.min_score if min_score is None else min_score)

    async def embed(self, text: str) -> np.ndarray:
        """The unit vector of ``text`` with the bot's embedder (semantic cache)."""
        embedder = self.hub.embedders.for_config(self.config)
        vectors = await asyncio.to_thread(embedder.embed, [text])
        return np.asarray(vectors[0], dtype=np.float32)

    async def statistics(self) -> dict:
        """The ``KB STATISTICS`` object of §9.4.5 (plain data)."""
        if self.kb_dir is None and not self.hub.opened:
            return statistics_summary([])
        await self.hub.wait_for_index(self.bot)
        base = await self.hub.knowledge_base_async(self.config)
        entries = await asyncio.to_thread(
            collection_statistics, base, self.bot, self.kb_dir, self.hub.path if self.hub.local else None,
            self.hub.indexing(self.bot), self.hub.failure(self.bot))
        return statistics_summary(entries)

    async def documents_added_since(self, days: float) -> int:
        """Files of the bot's collections changed in the last ``days`` days."""
        return await asyncio.to_thread(documents_added_since, self.kb_dir, self.bot, days)


def _int_setting(config: Any, key: str, default: int) -> int:
    value = config.get_int(key) if config is not None else None
    return value if value is not None and value >= 0 else default


def _float_setting(config: Any, key: str, default: float) -> float:
    value = config.get_float(key) if config is not None else None
    return value if value is not None else default
