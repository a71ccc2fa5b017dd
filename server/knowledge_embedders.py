"""The embedders of the server's knowledge bases and semantic cache (DIALECT §1.4.3).

A bot embeds with the offline MiniLM model unless its config.csv names another model:

| config.csv | meaning |
|---|---|
| ``embedding-model`` | a litellm embedding model (``text-embedding-3-small``, ``openai/bge``) |
| ``embedding-url`` | base URL of an OpenAI-compatible embedding server (default: ``llm-url``) |
| ``embedding-key`` | its API key (default: ``llm-key``) |

Embedders are shared by every bot that uses the same model, and each is wrapped in a
``QueryMemo``: the few hundred most recent single-text embeddings are remembered, so the
semantic cache and the knowledge-base search of one turn embed the user's message once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Optional

import numpy as np

from ..runtime.services.embeddings import LiteLLMEmbedder, MiniLMEmbedder
from ..runtime.services.llm import NO_KEY, load_litellm

MINILM_NAMES = frozenset({"", "minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
MEMO_SIZE = 512
# Embedded once to learn the vector size of a hosted model before a collection is made.
_DIMENSION_PROBE = "dimension probe"


class QueryMemo:
    """An embedder that remembers recent single-text results (see module doc).

    Batches (indexing) go straight to the model: they are embedded once anyway.
    """

    def __init__(self, inner: Any, size: int = MEMO_SIZE) -> None:
        self.inner = inner
        self.name = inner.name
        self._size = size
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dims(self) -> int:
        """The vector size; a hosted model is asked once when it is not known yet."""
        if not self.inner.dims:
            self.inner.embed([_DIMENSION_PROBE])
        return int(self.inner.dims)

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) != 1:
            return self.inner.embed(texts)
        text = texts[0]
        with self._lock:
            known = self._recent.get(text)
            if known is not None:
                self._recent.move_to_end(text)
                return known[np.newaxis, :]
        vector = np.asarray(self.inner.embed([text]), dtype=np.float32)[0]
        vector.setflags(write=False)  # shared between callers
        with self._lock:
            self._recent[text] = vector
            while len(self._recent) > self._size:
                self._recent.popitem(last=False)
        return vector[np.newaxis, :]


def embedding_settings(config: Any) -> tuple[str, Optional[str], Optional[str]]:
    """``(model, url, key)`` of a bot's embedder; model ``""`` means MiniLM."""
    def value(key: str) -> Optional[str]:
        raw = config.get(key) if config is not None else None
        return raw.strip() if raw and raw.strip() else None

    model = value("embedding-model") or ""
    if model.lower() in MINILM_NAMES:
        return "", None, None
    return model, value("embedding-url") or value("llm-url"), value("embedding-key") or value("llm-key")


class EmbedderPool:
    """One ``QueryMemo``-wrapped embedder per distinct model, shared by the bots."""

    def __init__(self) -> None:
        self._embedders: dict[tuple, QueryMemo] = {}
        self._lock = threading.Lock()

    def for_config(self, config: Any) -> QueryMemo:
        settings = embedding_settings(config)
        with self._lock:
            embedder = self._embedders.get(settings)
            if embedder is None:
                embedder = self._embedders[settings] = QueryMemo(_make_embedder(*settings))
            return embedder


def _make_embedder(model: str, url: Optional[str], key: Optional[str]) -> Any:
    if not model:
        return MiniLMEmbedder()
    load_litellm()  # configures litellm for offline use before LiteLLMEmbedder imports it
    options: dict = {}
    if url:
        options["api_base"] = url
        options["api_key"] = key or NO_KEY
        if "/" not in model:  # an OpenAI-compatible server, as for llm-url
            model = f"openai/{model}"
    elif key:
        options["api_key"] = key
    return LiteLLMEmbedder(model, **options)
