"""Knowledge-base speed: indexing throughput and search latency over 10,000 chunks.

    python benchmarks/kb_search.py [--chunks N] [--queries N] [--blas-threads N|default]

Builds a throwaway bot package whose ``.gbkb`` holds two collections of CSV files
(each CSV row is exactly one chunk, so the chunk count is exact), indexes it into a
local-mode Qdrant store with the offline MiniLM embedder, then times ``search``:
query embedding + vector search over both collections, top 5.

Each chunk is embedded once in the run: indexing goes through a caching embedder,
and the incremental re-index that follows must embed nothing.

Prints: embedding throughput (these short generated chunks, and full 1000-character
chunks), indexing time, no-change re-index time, and search latency p50/p95 with the
query-embedding and vector-search parts. Target of issue 4: search p50 <= 20 ms.
"""
from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from botbasic.runtime.package import load_package
from botbasic.runtime.services.embeddings import MiniLMEmbedder
from botbasic.runtime.services.kb_chunks import split_text
from botbasic.runtime.services.kb_index import KnowledgeBase, open_vector_store, qdrant_collection_name

BOT = "bench"
ROWS_PER_FILE = 20
TOPICS = ["refund", "delivery", "invoice", "password", "warranty", "opening hours", "subscription",
          "discount", "exchange", "payment", "account", "shipping fee", "gift card", "privacy"]
PRODUCTS = ["coffee maker", "notebook", "phone case", "running shoes", "desk lamp", "backpack",
            "headphones", "blender", "office chair", "water bottle", "keyboard", "camera"]
CITIES = ["Porto Alegre", "Recife", "Lisbon", "Curitiba", "Salvador", "Belo Horizonte", "Manaus"]
VERBS = ["request", "cancel", "track", "change", "confirm", "update", "check"]


class CachingEmbedder:
    """Embeds each distinct text once per run; counts what reached the model and how long."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dims = inner.dims
        self.cache: dict[str, np.ndarray] = {}
        self.embedded = 0
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self.cache]
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.inner.embed(missing)):
                self.cache[text] = vector
            self.seconds += time.perf_counter() - started
            self.embedded += len(missing)
        return np.stack([self.cache[text] for text in texts]) if texts else self.inner.embed([])


def chunk_text(rng: random.Random, number: int) -> dict[str, str]:
    """One generated FAQ record (~250 characters); ``number`` makes every record unique."""
    topic, product, city, verb = (rng.choice(TOPICS), rng.choice(PRODUCTS), rng.choice(CITIES),
                                  rng.choice(VERBS))
    days = rng.randint(2, 60)
    return {
        "id": f"Q{number:05d}",
        "question": f"How do I {verb} the {topic} for my {product} bought in {city}?",
        "answer": (f"To {verb} the {topic} of a {product}, open your orders, choose the item and"
                   f" follow the steps. Customers in {city} get an answer within {days} days;"
                   f" keep order number {number} at hand."),
    }


def build_package(root: Path, chunks: int, seed: int = 42) -> Path:
    """A ``bench.gbai`` with ``faq`` and ``policies`` collections of CSV files."""
    rng = random.Random(seed)
    package = root / f"{BOT}.gbai"
    for index in range(0, chunks, ROWS_PER_FILE):
        collection = "faq" if (index // ROWS_PER_FILE) % 2 == 0 else "policies"
        path = package / f"{BOT}.gbkb" / collection / f"part-{index // ROWS_PER_FILE:04d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [chunk_text(rng, number) for number in range(index, min(index + ROWS_PER_FILE, chunks))]
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=["id", "question", "answer"])
            writer.writeheader()
            writer.writerows(rows)
    return package


def queries(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"can I {rng.choice(VERBS)} the {rng.choice(TOPICS)} of a {rng.choice(PRODUCTS)}"
            f" from {rng.choice(CITIES)}? ({number})" for number in range(count)]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_each(action, items) -> list[float]:
    """Milliseconds of ``action(item)`` for each item."""
    times = []
    for item in items:
        started = time.perf_counter()
        action(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def full_chunk_throughput(embedder: MiniLMEmbedder, count: int = 32) -> tuple[float, int]:
    """Chunks/s on real ~1000-character chunks (the language spec, chunked as a KB would)."""
    spec = Path(__file__).resolve().parents[2] / "shared" / "spec" / "DIALECT.md"
    if spec.is_file():
        texts = split_text(spec.read_text(encoding="utf-8"))[:count]
    else:  # no shared/ beside the repository: generated prose of the same size
        rng = random.Random(3)
        texts = split_text(" ".join(chunk_text(rng, n)["answer"] for n in range(count * 5)))[:count]
    started = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - started), round(statistics.mean(map(len, texts)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--blas-threads", default="1",
                        help="BLAS threads while embedding (the embedder's default is 1), or 'default'")
    arguments = parser.parse_args()
    threads = None if arguments.blas_threads == "default" else int(arguments.blas_threads)

    model = MiniLMEmbedder(blas_threads=threads)
    started = time.perf_counter()
    model.load()
    print(f"model load (sha256 check + weights): {time.perf_counter() - started:.2f} s;"
          f" BLAS threads: {arguments.blas_threads}")

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as folder:
        package = load_package(build_package(Path(folder), arguments.chunks))
        caching = CachingEmbedder(model)
        store = open_vector_store(Path(folder) / "store")
        indexer = KnowledgeBase(store, caching)

        started = time.perf_counter()
        report = indexer.index_package(package)
        index_seconds = time.perf_counter() - started
        total = sum(store.count(qdrant_collection_name(BOT, name)).count for name in report.collections)
        print(f"indexed {report.chunks_embedded} chunks in {len(report.events)} files:"
              f" {index_seconds:.1f} s ({report.chunks_embedded / index_seconds:.0f} chunks/s end to end);"
              f" store holds {total} points")
        print(f"embedding throughput, generated chunks (~250 chars):"
              f" {caching.embedded / caching.seconds:.0f} chunks/s")
        rate, mean_length = full_chunk_throughput(model)
        print(f"embedding throughput, full chunks (~{mean_length} chars): {rate:.1f} chunks/s")

        started = time.perf_counter()
        before = caching.embedded
        again = indexer.index_package(package)
        unchanged = len(again.sources("unchanged"))
        print(f"re-index with no change: {time.perf_counter() - started:.2f} s,"
              f" {caching.embedded - before} chunks embedded, {unchanged} files unchanged")

        asked = queries(arguments.queries)
        searcher = KnowledgeBase(store, model)  # the real embedder: every query is embedded
        qdrant_only = KnowledgeBase(store, model, memory_search=False)  # local mode's own search
        for question in asked[:5]:  # warm-up (the in-memory matrices are built here)
            searcher.search(BOT, None, question)
            qdrant_only.search(BOT, None, question)
        total_ms = time_each(lambda question: searcher.search(BOT, None, question, top_k=5), asked)
        embed_ms = time_each(lambda question: model.embed([question]), asked)
        vector = model.embed([asked[0]])[0]
        targets = [qdrant_collection_name(BOT, name) for name in report.collections]
        # Private hooks, to split the time between embedding and vector search.
        matrix_ms = time_each(lambda _: [searcher._nearest(t, vector, 5, 0.0) for t in targets], asked)
        qdrant_ms = time_each(lambda _: [qdrant_only._nearest(t, vector, 5, 0.0) for t in targets], asked)
        print(f"search over {total} chunks (2 collections, top 5), {len(asked)} queries:")
        for label, times in (("search, total", total_ms), ("  query embedding", embed_ms),
                             ("  vector search (in-memory matrix)", matrix_ms),
                             ("  vector search (qdrant local query_points)", qdrant_ms)):
            print(f"{label:44s} p50 {percentile(times, 0.5):7.2f} ms   p95 {percentile(times, 0.95):7.2f} ms")
        target = percentile(total_ms, 0.5) <= 20
        print(f"target search p50 <= 20 ms: {'met' if target else 'NOT met'}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
