"""The knowledge base of bots: indexing ``<bot>.gbkb`` folders and searching them (§1.3, §9.4).

Collections of a bot are the first-level folders of its ``.gbkb`` folder; files lying
directly in ``.gbkb`` form a collection named after the bot. Every collection is one
Qdrant collection (cosine distance) whose points are the chunks of its files, with the
payload ``bot``, ``kb_name``, ``path`` (relative to the ``.gbkb`` folder), ``source``
(relative to the collection folder, what results show), ``position``, ``content`` and
``hash`` (sha256 of the file's bytes).

Indexing is incremental: a file whose hash is unchanged is neither extracted nor
embedded again, points of removed files are deleted, and collections whose folder
disappeared are dropped. A collection built with another embedding model or other
chunk settings (kept in the Qdrant collection's metadata) is rebuilt.

The vector store is a ``qdrant_client.QdrantClient``: local mode in a data folder by
default (``open_vector_store(path)``), or a Qdrant server (``open_vector_store(url=...)``;
collection metadata needs Qdrant 1.16 or newer). In local mode, searches run on an
in-memory float32 matrix of each collection (see ``_MatrixCache``), because local mode
re-normalises every stored vector on each query: 30 ms for 10,000 chunks on the
benchmark machine, against well under a millisecond for one matrix product.

A server is checked when it is opened (reachable, new enough, API key accepted), and
its failures then and later are raised as ``VectorStoreError`` naming its URL, instead
of qdrant-client's bare transport errors ("[Errno 111] Connection refused").
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable, Optional, Sequence, Union

import numpy as np

from ..package import BotPackage
from .embeddings import Embedder
from .kb_chunks import DEFAULT_CHUNK_SIZE, DEFAULT_OVERLAP, Chunk, chunk_parts
from .kb_extract import ExtractionError, extract, is_supported

DEFAULT_STORE_PATH = Path("data") / "kb-index"
DEFAULT_TOP_K = 5
_UPSERT_BATCH = 256
_SCROLL_PAGE = 1024
_RESULT_PAYLOAD = ["content", "source", "kb_name"]
# Fixed namespace so a chunk's point id is the same in every process (idempotent upserts).
_POINT_NAMESPACE = uuid.UUID("7f1d3c52-5a0e-4a53-9b64-0c2f3b9b6a41")
# Marks Qdrant collections created by this module (metadata key).
_METADATA_MARK = "botbasic_kb"


# Collection metadata (where the layout is kept) exists from Qdrant 1.16 on; an older
# server does not keep it, and every indexing run would rebuild every collection.
MIN_SERVER_VERSION = (1, 16)


class VectorStoreError(RuntimeError):
    """The Qdrant server failed: unreachable, API key refused, too old, an error answer."""


def open_vector_store(path: Union[str, Path, None] = None, *, url: Optional[str] = None,
                      api_key: Optional[str] = None) -> Any:
    """A ``QdrantClient``: a Qdrant server when ``url`` is given, else local mode in ``path``.

    Local mode keeps everything in the folder (default ``data/kb-index``) and locks it:
    only one process may open a folder at a time. A server must answer (with
    ``api_key``, sent as the ``api-key`` header) and run Qdrant 1.16 or newer, else
    ``VectorStoreError``; its client comes wrapped so that later failures are
    ``VectorStoreError`` too (see ``_ServerStore``).
    """
    from qdrant_client import QdrantClient

    if url:
        # No background version check: _check_server does it, with a clear error.
        store = _ServerStore(QdrantClient(url=url, api_key=api_key, check_compatibility=False), url)
        try:
            _check_server(store, url)
        except BaseException:
            store.close()
            raise
        return store
    folder = Path(path) if path is not None else DEFAULT_STORE_PATH
    folder.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(folder))


class _ServerStore:
    """A server's ``QdrantClient`` whose failures are ``VectorStoreError`` naming the server."""

    def __init__(self, client: Any, url: str) -> None:
        self._qdrant = client
        self.url = url

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._qdrant, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

            try:
                return attribute(*args, **kwargs)
            except (ResponseHandlingException, UnexpectedResponse) as error:
                raise VectorStoreError(_server_failure(self.url, error)) from error

        return call


def _check_server(store: _ServerStore, url: str) -> None:
    version = str(store.info().version)  # "/" answers without the API key ...
    numbers = re.match(r"(\d+)\.(\d+)", version)
    if numbers and tuple(map(int, numbers.groups())) < MIN_SERVER_VERSION:
        raise VectorStoreError(
            f"the Qdrant server at {url} runs Qdrant {version}; the knowledge base needs"
            f" Qdrant {'.'.join(map(str, MIN_SERVER_VERSION))} or newer (collection metadata)")
    store.get_collections()  # ... this needs it


def _server_failure(url: str, error: Exception) -> str:
    """What went wrong with the server, for people: the URL and the cause."""
    import httpx
    from qdrant_client.http.exceptions import UnexpectedResponse

    if isinstance(error, UnexpectedResponse):
        answer = f"{error.status_code} {error.reason_phrase}".strip()
        try:
            detail = str(error.structured()["status"]["error"])
        except Exception:  # noqa: BLE001 - not Qdrant's JSON error shape (auth errors are text)
            detail = error.content.decode("utf-8", "replace").strip()
        answer += f": {detail[:300]}" if detail else ""
        if error.status_code in (401, 403):
            return f"the Qdrant server at {url} refused the request: wrong or missing API key ({answer})"
        return f"the Qdrant server at {url} answered {answer}"
    source = getattr(error, "source", error)
    detail = str(source) or type(source).__name__
    if isinstance(source, httpx.TransportError):
        return f"the Qdrant server at {url} is unreachable ({detail})"
    return f"the Qdrant server at {url} gave an answer that is not Qdrant's ({detail[:300]})"


# ---------------------------------------------------------------- names and files


def qdrant_collection_name(bot: str, collection: str) -> str:
    """The Qdrant collection of a bot's KB collection: readable, filesystem-safe, unique.

    Names compare case-insensitively (§9.4.1), and two names that sanitise alike
    ("Políticas" / "Pol_ticas") still differ by the hash suffix.
    """
    return f"{_bot_prefix(bot)}{_slug(collection)}-{_short_hash(collection)}"


def _bot_prefix(bot: str) -> str:
    return f"kb_{_slug(bot)}-{_short_hash(bot)}__"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "_", name.lower()).strip("_")[:40] or "_"


def _short_hash(name: str) -> str:
    return hashlib.sha1(name.lower().encode("utf-8")).hexdigest()[:8]


def discover_collections(kb_dir: Union[str, Path], bot: str) -> dict[str, list[Path]]:
    """Collection name -> its supported files (recursive, sorted), per DIALECT §1.3.

    Hidden entries (``.git``) and Office lock files (``~$doc.docx``) are left out.
    Folder names differing only in case are one collection (the first name is kept).
    """
    kb_dir = Path(kb_dir)
    collections: dict[str, list[Path]] = {}
    names_by_key: dict[str, str] = {}

    def add(name: str, files: list[Path]) -> None:
        name = names_by_key.setdefault(name.lower(), name)
        collections.setdefault(name, []).extend(files)

    for entry in sorted(kb_dir.iterdir()):
        if _ignored(entry.name):
            continue
        if entry.is_dir():
            add(entry.name, _files_below(entry))
        elif entry.is_file() and is_supported(entry):
            add(bot, [entry])
    return {name: sorted(files) for name, files in collections.items()}


def _files_below(folder: Path) -> list[Path]:
    found = []
    for current, dirnames, filenames in os.walk(folder):
        dirnames[:] = [name for name in dirnames if not _ignored(name)]
        found.extend(Path(current) / name for name in filenames
                     if not _ignored(name) and is_supported(name))
    return found


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def file_hash(path: Path) -> str:
    """Hex sha256 of a file's bytes: the key of incremental indexing."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class IndexEvent:
    """What happened to one file (or, with ``source=None``, to a whole collection)."""

    bot: str
    collection: str
    source: Optional[str]
    action: str  # "indexed", "unchanged", "removed", "failed", "dropped"
    chunks: int = 0
    error: Optional[str] = None


@dataclass
class IndexReport:
    """Summary of one ``index_package`` run."""

    bot: str
    collections: list[str] = field(default_factory=list)
    events: list[IndexEvent] = field(default_factory=list)

    def sources(self, action: str) -> list[str]:
        """``collection/source`` of the files that got ``action``."""
        return [f"{event.collection}/{event.source}" for event in self.events
                if event.action == action and event.source is not None]

    @property
    def chunks_embedded(self) -> int:
        return sum(event.chunks for event in self.events if event.action == "indexed")


ProgressCallback = Callable[[IndexEvent], None]


@dataclass(frozen=True)
class _FileEntry:
    path: Path  # on disk
    key: str  # relative to the .gbkb folder: unique within a collection
    source: str  # relative to the collection folder: what search results show


# ---------------------------------------------------------------- the knowledge base


class KnowledgeBase:
    """Indexes bot packages' ``.gbkb`` folders into a vector store and searches them.

    Safe to share between threads: in local mode (which has no locking of its own)
    every store operation is serialised; embedding runs outside that lock.
    ``memory_search`` (default: on in local mode) searches in-memory copies of the
    collections' vectors instead of asking the store; it is only correct while this
    object is the only writer, which local mode's folder lock guarantees.
    """

    def __init__(self, vector_store: Any, embedder: Embedder, *,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, overlap: int = DEFAULT_OVERLAP,
                 serialise_store: Optional[bool] = None,
                 memory_search: Optional[bool] = None) -> None:
        self.store = vector_store
        self.embedder = embedder
        self.chunk_size = chunk_size
        self.overlap = overlap
        self._local = _is_local_client(vector_store)
        if serialise_store is None:
            serialise_store = self._local
        self._store_lock: ContextManager = threading.RLock() if serialise_store else nullcontext()
        self._index_lock = threading.Lock()
        use_memory = self._local if memory_search is None else memory_search
        self._matrices: Optional[_MatrixCache] = _MatrixCache() if use_memory else None

    def close(self) -> None:
        """Release the store (local mode unlocks its folder)."""
        self.store.close()

    # ------------------------------------------------------------ indexing

    def index_package(self, package: BotPackage, progress: Optional[ProgressCallback] = None) -> IndexReport:
        """Bring the bot's collections in line with its ``.gbkb`` folder; see the module doc."""
        report = IndexReport(bot=package.name)

        def notify(event: IndexEvent) -> None:
            report.events.append(event)
            if progress is not None:
                progress(event)

        with self._index_lock:
            on_disk = {} if package.kb_dir is None else discover_collections(package.kb_dir, package.name)
            for name, files in on_disk.items():
                entries = [_file_entry(package.kb_dir, name, path) for path in files]
                self._sync_collection(package.name, name, entries, notify)
                report.collections.append(name)
            self._drop_missing(package.name, on_disk, notify)
        return report

    def _sync_collection(self, bot: str, collection: str, entries: list[_FileEntry],
                         notify: ProgressCallback) -> None:
        target = qdrant_collection_name(bot, collection)
        self._ensure_collection(target, bot, collection)
        indexed = self._indexed_hashes(target)
        for entry in entries:
            digest = file_hash(entry.path)
            if indexed.get(entry.key) == digest:
                notify(IndexEvent(bot, collection, entry.source, "unchanged"))
                continue
            notify(self._index_file(target, bot, collection, entry, digest,
                                    replace=entry.key in indexed))
        current = {entry.key for entry in entries}
        for key in sorted(set(indexed) - current):
            self._delete_file_points(target, key)
            notify(IndexEvent(bot, collection, _source_of(key, collection), "removed"))

    def _index_file(self, target: str, bot: str, collection: str, entry: _FileEntry,
                    digest: str, replace: bool) -> IndexEvent:
        """Extract, chunk, embed and store one new or changed file."""
        try:
            parts = extract(entry.path)
        except (ExtractionError, OSError) as error:
            if replace:  # the old points describe content that is gone
                self._delete_file_points(target, entry.key)
            return IndexEvent(bot, collection, entry.source, "failed", error=str(error))
        chunks = chunk_parts(parts, source=entry.source, collection=collection,
                             size=self.chunk_size, overlap=self.overlap)
        vectors = self.embedder.embed([chunk.text for chunk in chunks])
        if replace:
            self._delete_file_points(target, entry.key)
        self._upsert(target, bot, entry, digest, chunks, vectors)
        return IndexEvent(bot, collection, entry.source, "indexed", chunks=len(chunks))

    def _drop_missing(self, bot: str, on_disk: dict[str, list[Path]], notify: ProgressCallback) -> None:
        """Drop the bot's Qdrant collections whose folder no longer exists."""
        wanted = {qdrant_collection_name(bot, name) for name in on_disk}
        for target, kb_name in self._bot_collections(bot).items():
            if target not in wanted:
                self._delete_collection(target)
                notify(IndexEvent(bot, kb_name, None, "dropped"))

    # ------------------------------------------------------------ search

    def search(self, bot: str, collections: Optional[Iterable[str]], query: str,
               top_k: int = DEFAULT_TOP_K, min_score: float = 0.0) -> list[dict]:
        """The ``top_k`` chunks most similar to ``query`` in the bot's ``collections``.

        ``collections`` are KB collection names (case-insensitive); ``None`` or empty
        means every collection of the bot. Names with no index yet are skipped: USE KB
        may name a collection that appears later (§9.4.1). Each result is
        ``{content, source, kb_name, relevance}``, best first; ``relevance`` is the
        cosine similarity, and results below ``min_score`` are left out.
        """
        targets = self._search_targets(bot, collections)
        if not targets or top_k <= 0:
            return []
        vector = np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        hits: list[_Hit] = []
        for target in targets:
            hits.extend(self._nearest(target, vector, top_k, min_score))
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return self._results(hits[:top_k])

    def collections(self, bot: str) -> list[str]:
        """Names of the bot's indexed KB collections, sorted."""
        return sorted(self._bot_collections(bot).values(), key=str.lower)

    def _search_targets(self, bot: str, collections: Optional[Iterable[str]]) -> list[str]:
        if isinstance(collections, str):  # one name given bare, not in a list
            collections = [collections]
        names = [name for name in (collections or []) if name]
        if not names:
            return sorted(self._bot_collections(bot))
        targets = dict.fromkeys(qdrant_collection_name(bot, name) for name in names)
        with self._store_lock:
            return [target for target in targets if self.store.collection_exists(target)]

    def _nearest(self, target: str, vector: np.ndarray, top_k: int, min_score: float) -> list["_Hit"]:
        """The ``top_k`` best points of one collection scoring at least ``min_score``."""
        if self._matrices is not None:
            matrix = self._matrices.get(target, self._load_matrix)
            return matrix.nearest(target, vector, top_k, min_score)
        with self._store_lock:
            response = self.store.query_points(
                target, query=vector.tolist(), limit=top_k, score_threshold=min_score,
                with_payload=_RESULT_PAYLOAD,
            )
        return [_Hit(point.score, target, point.id, point.payload) for point in response.points]

    def _results(self, hits: list["_Hit"]) -> list[dict]:
        """Result dicts of ``hits``, fetching the payloads that in-memory hits lack."""
        missing: dict[str, list[Any]] = {}
        for hit in hits:
            if hit.payload is None:
                missing.setdefault(hit.target, []).append(hit.point_id)
        payloads: dict[Any, dict] = {}
        for target, ids in missing.items():
            with self._store_lock:
                records = self.store.retrieve(target, ids=ids, with_payload=_RESULT_PAYLOAD)
            payloads.update((record.id, record.payload or {}) for record in records)
        return [_result(hit.score, hit.payload if hit.payload is not None else payloads.get(hit.point_id, {}))
                for hit in hits]

    def _load_matrix(self, target: str) -> "_Matrix":
        """All vectors of ``target``, read from the store, as one matrix."""
        ids: list[Any] = []
        rows: list[list[float]] = []
        offset = None
        while True:
            with self._store_lock:
                points, offset = self.store.scroll(target, limit=_SCROLL_PAGE, offset=offset,
                                                   with_payload=False, with_vectors=True)
            ids.extend(point.id for point in points)
            rows.extend(point.vector for point in points)
            if offset is None:
                break
        vectors = np.array(rows, dtype=np.float32).reshape(len(rows), int(self.embedder.dims))
        return _Matrix(ids=ids, vectors=vectors)

    # ------------------------------------------------------------ store operations

    def _layout(self) -> dict:
        """What makes stored vectors comparable: model, dimensions, chunk settings."""
        return {"model": self.embedder.name, "dims": int(self.embedder.dims),
                "chunking": [self.chunk_size, self.overlap]}

    def _ensure_collection(self, target: str, bot: str, collection: str) -> None:
        """Create the Qdrant collection, or rebuild it if built with another layout."""
        from qdrant_client import models

        layout = self._layout()
        with self._store_lock:
            if self.store.collection_exists(target):
                metadata = self.store.get_collection(target).config.metadata or {}
                if metadata.get("layout") == layout:
                    return
                self._delete_collection(target)
            self._invalidate(target)
            self.store.create_collection(
                target,
                vectors_config=models.VectorParams(size=layout["dims"], distance=models.Distance.COSINE),
                metadata={_METADATA_MARK: 1, "bot": bot, "kb_name": collection, "layout": layout},
            )
            if not self._local:  # a server filters deletions by path faster with an index
                self.store.create_payload_index(target, "path", field_schema=models.PayloadSchemaType.KEYWORD)

    def _bot_collections(self, bot: str) -> dict[str, str]:
        """Qdrant collection -> KB collection name, for every indexed collection of ``bot``."""
        prefix = _bot_prefix(bot)
        found = {}
        with self._store_lock:
            for description in self.store.get_collections().collections:
                if description.name.startswith(prefix):
                    metadata = self.store.get_collection(description.name).config.metadata or {}
                    found[description.name] = metadata.get("kb_name", description.name[len(prefix):])
        return found

    def _indexed_hashes(self, target: str) -> dict[str, str]:
        """File key -> hash of the content currently indexed in ``target``."""
        hashes: dict[str, str] = {}
        offset = None
        while True:
            with self._store_lock:
                points, offset = self.store.scroll(
                    target, limit=_SCROLL_PAGE, offset=offset,
                    with_payload=["path", "hash"], with_vectors=False,
                )
            for point in points:
                hashes[point.payload["path"]] = point.payload["hash"]
            if offset is None:
                return hashes

    def _delete_file_points(self, target: str, key: str) -> None:
        from qdrant_client import models

        selector = models.FilterSelector(filter=models.Filter(must=[
            models.FieldCondition(key="path", match=models.MatchValue(value=key)),
        ]))
        with self._store_lock:
            self.store.delete(target, points_selector=selector)
        self._invalidate(target)

    def _upsert(self, target: str, bot: str, entry: _FileEntry, digest: str,
                chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        from qdrant_client import models

        points = [
            models.PointStruct(
                id=str(uuid.uuid5(_POINT_NAMESPACE, f"{entry.key}\0{digest}\0{chunk.position}")),
                vector=vector.tolist(),
                payload={"bot": bot, "kb_name": chunk.collection, "path": entry.key,
                         "source": chunk.source, "position": chunk.position,
                         "content": chunk.text, "hash": digest},
            )
            for chunk, vector in zip(chunks, vectors)
        ]
        for start in range(0, len(points), _UPSERT_BATCH):
            with self._store_lock:
                self.store.upsert(target, points=points[start:start + _UPSERT_BATCH])
        self._invalidate(target)

    def _delete_collection(self, target: str) -> None:
        with self._store_lock:
            self.store.delete_collection(target)
        self._invalidate(target)

    def _invalidate(self, target: str) -> None:
        """Forget the in-memory copy of ``target`` after a write."""
        if self._matrices is not None:
            self._matrices.invalidate(target)


# ---------------------------------------------------------------- in-memory search


@dataclass(frozen=True)
class _Hit:
    score: float
    target: str
    point_id: Any
    payload: Optional[dict]  # None: to be fetched for the final results only


@dataclass(frozen=True)
class _Matrix:
    """One collection's point ids and their unit vectors, row for row."""

    ids: list[Any]
    vectors: np.ndarray  # (points, dims) float32

    def nearest(self, target: str, vector: np.ndarray, top_k: int, min_score: float) -> list[_Hit]:
        if not self.ids:
            return []
        scores = self.vectors @ vector  # rows and query are unit vectors: cosine similarity
        count = min(top_k, len(scores))
        best = np.argpartition(-scores, count - 1)[:count]
        return [_Hit(float(scores[row]), target, self.ids[row], None)
                for row in best if scores[row] >= min_score]


class _MatrixCache:
    """In-memory matrices of collections, built on first search, dropped on every write.

    A generation number per collection keeps a matrix that was being read while a write
    happened from being cached: it would miss that write.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matrices: dict[str, _Matrix] = {}
        self._generations: dict[str, int] = {}

    def get(self, target: str, load: Callable[[str], _Matrix]) -> _Matrix:
        with self._lock:
            matrix = self._matrices.get(target)
            generation = self._generations.get(target, 0)
        if matrix is not None:
            return matrix
        matrix = load(target)
        with self._lock:
            if self._generations.get(target, 0) == generation:
                self._matrices[target] = matrix
        return matrix

    def invalidate(self, target: str) -> None:
        with self._lock:
            self._matrices.pop(target, None)
            self._generations[target] = self._generations.get(target, 0) + 1


# ---------------------------------------------------------------- helpers


def _file_entry(kb_dir: Path, collection: str, path: Path) -> _FileEntry:
    key = path.relative_to(kb_dir).as_posix()
    return _FileEntry(path=path, key=key, source=_source_of(key, collection))


def _source_of(key: str, collection: str) -> str:
    """The path shown in results: relative to the collection folder."""
    first, _, rest = key.partition("/")
    if rest and first.lower() == collection.lower():
        return rest
    return key  # a file directly under .gbkb (the bot-named collection)


def _result(score: float, payload: dict) -> dict:
    return {"content": payload.get("content", ""), "source": payload.get("source", ""),
            "kb_name": payload.get("kb_name", ""), "relevance": float(score)}


def _is_local_client(store: Any) -> bool:
    """True for a ``QdrantClient`` in local mode, whose storage has no locking of its own.

    qdrant-client exposes no public flag for the mode; the wrapped implementation's
    class name is the most stable sign.
    """
    inner = getattr(store, "_client", None)
    return type(inner).__name__ in {"QdrantLocal", "AsyncQdrantLocal"}
