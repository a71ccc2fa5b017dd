"""The offline MiniLM embedder against vectors computed by sentence-transformers on torch.

The reference (tests/fixtures/minilm_reference.json) was made once with
scripts/make_minilm_reference.py in a throwaway environment; see that script.
"""
from __future__ import annotations

import json
import shutil
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from botbasic.runtime.services.embeddings import (
    MODEL_FILE,
    Embedder,
    EmbedderUnavailable,
    LiteLLMEmbedder,
    MiniLMEmbedder,
    ModelChecksumError,
    find_model_dir,
)

FIXTURE = Path(__file__).parent / "fixtures" / "minilm_reference.json"
REFERENCE = json.loads(FIXTURE.read_text(encoding="utf-8"))
SENTENCES: list[str] = REFERENCE["sentences"]


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    model = MiniLMEmbedder()
    model.load()
    return model


@pytest.fixture(scope="module")
def batch_vectors(embedder: MiniLMEmbedder) -> np.ndarray:
    return embedder.embed(SENTENCES)


def _label(index: int) -> str:
    return f"{index}:{SENTENCES[index][:24]!r}"


@pytest.mark.parametrize("index", range(len(SENTENCES)), ids=_label)
def test_matches_the_torch_reference(batch_vectors: np.ndarray, index: int) -> None:
    reference = np.array(REFERENCE["vectors"][index], dtype=np.float64)
    cosine = float(batch_vectors[index] @ reference / np.linalg.norm(reference))
    assert cosine >= 0.9999


def test_the_reference_covers_truncation() -> None:
    # The long sentence really is longer than the model's 256 tokens.
    assert max(REFERENCE["untruncated_token_counts"]) > REFERENCE["max_seq_length"] == 256


def test_shape_type_and_unit_length(batch_vectors: np.ndarray) -> None:
    assert batch_vectors.shape == (len(SENTENCES), 384)
    assert batch_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch_vectors, axis=1), 1.0, atol=1e-5)


def test_batch_equals_one_at_a_time(embedder: MiniLMEmbedder, batch_vectors: np.ndarray) -> None:
    singles = np.stack([embedder.embed([sentence])[0] for sentence in SENTENCES])
    np.testing.assert_allclose(singles, batch_vectors, atol=1e-5)


def test_text_past_256_tokens_is_ignored(embedder: MiniLMEmbedder) -> None:
    long_text = SENTENCES[-1]
    longer = embedder.embed([long_text, long_text + " An extra sentence far past the limit."])
    np.testing.assert_allclose(longer[0], longer[1], atol=1e-6)


def test_similar_meanings_are_closer(embedder: MiniLMEmbedder) -> None:
    query, close, far = embedder.embed(
        ["How do I reset my password?", "I forgot my password, how can I change it?",
         "The weather is sunny today."]
    )
    assert query @ close > 0.6
    assert query @ far < 0.2


def test_empty_input_gives_an_empty_matrix(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_is_an_embedder(embedder: MiniLMEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dims == 384


def test_threads_share_one_lazy_load() -> None:
    model = MiniLMEmbedder()
    loads = []
    original = model._load

    def counting_load():
        loads.append(threading.get_ident())
        return original()

    model._load = counting_load
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda text: model.embed([text])[0], SENTENCES[:8]))
    assert len(loads) == 1
    expected = model.embed(SENTENCES[:8])
    np.testing.assert_allclose(np.stack(results), expected, atol=1e-5)


# ---------------------------------------------------------------- refusing bad models


def _copy_model(target: Path) -> Path:
    source = find_model_dir()
    shutil.copytree(source, target)
    return target


def test_corrupted_weights_are_refused(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    weights = model_dir / MODEL_FILE
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte deep in the tensors
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match="sha256"):
        MiniLMEmbedder(model_dir).embed(["hello"])


def test_missing_model_folder_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BOTBASIC_MINILM_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(EmbedderUnavailable, match="not found"):
        MiniLMEmbedder().embed(["hello"])


def test_litellm_embedder_says_litellm_is_missing(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # makes `import litellm` fail
    embedder = LiteLLMEmbedder("text-embedding-3-small")
    with pytest.raises(EmbedderUnavailable, match="pip install litellm"):
        embedder.embed(["hello"])


def test_litellm_embedder_normalises_what_the_api_returns(monkeypatch) -> None:
    calls = []

    def embedding(model, input, **options):
        calls.append((model, list(input), options))
        return SimpleNamespace(data=[{"embedding": [3.0, 4.0]}, SimpleNamespace(embedding=[0.0, 2.0])])

    monkeypatch.setitem(sys.modules, "litellm", SimpleNamespace(embedding=embedding))
    embedder = LiteLLMEmbedder("text-embedding-3-small", api_base="http://127.0.0.1:9")
    vectors = embedder.embed(["a", "b"])
    np.testing.assert_allclose(vectors, [[0.6, 0.8], [0.0, 1.0]])
    assert embedder.dims == 2 and vectors.dtype == np.float32
    assert calls == [("text-embedding-3-small", ["a", "b"], {"api_base": "http://127.0.0.1:9"})]
