"""Turning evidence into an ``Answer`` whose every citation is an exact article sentence.

The default answerer is extractive: it needs no generative model. It quotes the best evidence
sentences, numbered [1], [2] ... in article order, and abstains (no citations) when even the best
sentence scores below the calibrated threshold. Answers written by a chat model (``writer.py``)
use the same ``Answer``, with their checked ``claims``; the extractive answer is their fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from .retrieval import Evidence

if TYPE_CHECKING:
    from .store import StoredArticle

ABSTAIN_THRESHOLD = 1.37
"""Scores below this mean "the articles do not answer it"; Indonesian questions over
Indonesian articles need 0.05 more, English over English 0.08 more
(``retrieval.ChannelWeights.abstain``).

Calibrated on dev data (benchmarks/retrieval.py): the best score of every answerable question
of qa_en, qa_id and qa_xling dev (2,406) is 1.35 or more (all but one 1.39 or more; qa_id's
1.44 or more), and of the answerable seed questions 1.44 or more. Questions about something
else score lower: those same questions asked over the first article alone, which answers none
of them, score 1.27-1.35 across languages and 1.31-1.41 within Indonesian (10th-90th
percentiles). At 1.27 (before 2026-11-27) such a question was answered with unrelated quotes
more often than not."""
RELATIVE_MARGIN = 0.2
"""Cite further sentences only when they score within this margin of the best one.

On the dev splits (citations per answer, hit@3): qa_en 0.15 -> 2.3, 0.943; 0.2 -> 2.7, 0.949;
no margin -> 3.0, 0.949. qa_id 0.15 -> 2.8, 0.862; 0.2 -> 2.9, 0.865. qa_xling en->id: 0.892
from 0.15 on; 0.1 -> 0.889 with 2.4 citations."""

OTHER_ARTICLE_MARGIN = 0.1
"""A further sentence from another article than the best one's is cited only within this
margin of the best score: a question about one article ("When will work start?" after one
about a stadium) was answered with two unrelated articles' sentences as [2] and [3].

Dev, the full answer (hit@3; characters cited per answer), at 0.1 against ``RELATIVE_MARGIN``
alone: qa_en 0.953 the same, 447 -> 411; en->id 0.910 the same, 524 -> 500; id->en 0.893 the
same, 535 -> 513. At 0.05: qa_en the same, en->id 0.898, id->en 0.887; at 0, every citation from
the best article: en->id 0.880, id->en 0.867 (the best sentence is in a wrong passage, the
next ones in the right one)."""

_ABSTAIN_TEXT = {
    "id": "Artikel yang diindeks tidak menjawab pertanyaan ini.",
    "en": "The indexed articles do not answer this question.",
}
_ABSTAIN_SCOPED_TEXT = {
    "id": "Artikel yang dipilih tidak menjawab pertanyaan ini.",
    "en": "The chosen articles do not answer this question.",
}
"""For a question asked of chosen articles only: the others may answer it."""
_LEAD_TEXT = {"id": "Menurut artikel:", "en": "According to the articles:"}


@dataclass(frozen=True)
class Citation:
    """One cited sentence: its number in the answer, where it is, and its exact text."""

    n: int
    article_id: str
    title: str
    sentence: int
    text: str
    start: int
    end: int
    score: float
    url: str = ""
    translation: str = ""
    """A machine translation of ``text`` into the question's language, made by the chat model
    ("" when none); ``text`` stays the source of truth."""


@dataclass(frozen=True)
class Claim:
    """One sentence of a written answer, the citation numbers it gives, and whether they hold."""

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = False


@dataclass(frozen=True)
class Answer:
    """An answer with its citations; ``abstained`` answers cite nothing."""

    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()
    """The written answer's claims, checked (empty for extractive answers)."""
    backend: str = "extractive"
    """Who wrote ``answer``: "extractive", or the chat model backend ("openai", "ollama")."""
    notice: str = ""
    """Why the chat model's answer is not shown or not complete ("" when nothing went wrong)."""
    rewritten_question: str = ""
    """A follow-up as the chat model rewrote it into a standalone question for retrieval."""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON answer object."""
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        data["claims"] = [
            {"text": c.text, "citations": list(c.citations), "supported": c.supported}
            for c in self.claims
        ]
        return data


def abstention(
    question: str,
    lang: str,
    timings_ms: dict[str, float] | None = None,
    *,
    scoped: bool = False,
) -> Answer:
    """The answer that says the articles (``scoped``: the chosen ones) do not answer the
    question."""
    texts = _ABSTAIN_SCOPED_TEXT if scoped else _ABSTAIN_TEXT
    text = texts.get(lang, texts["en"])
    return Answer(question, text, True, (), dict(timings_ms or {}))


def select_evidence(
    evidence: Sequence[Evidence],
    *,
    top_k: int = 3,
    threshold: float = ABSTAIN_THRESHOLD,
    margin: float = RELATIVE_MARGIN,
    other_margin: float = OTHER_ARTICLE_MARGIN,
) -> list[Evidence]:
    """The sentences worth citing: the best one if strong enough, plus close runners-up (of
    another article than the best one's, closer still: ``OTHER_ARTICLE_MARGIN``)."""
    if not evidence or evidence[0].score < threshold:
        return []
    best, article = evidence[0].score, evidence[0].article.id
    return [
        e
        for e in evidence[:top_k]
        if e.score >= best - (margin if e.article.id == article else min(margin, other_margin))
    ]


def compose_answer(
    question: str,
    evidence: Sequence[Evidence],
    *,
    lang: str = "en",
    top_k: int = 3,
    threshold: float = ABSTAIN_THRESHOLD,
    margin: float = RELATIVE_MARGIN,
    timings_ms: dict[str, float] | None = None,
    scoped: bool = False,
) -> Answer:
    """An extractive answer quoting the selected sentences, numbered in article order
    (``scoped``: asked of chosen articles only)."""
    chosen = select_evidence(evidence, top_k=top_k, threshold=threshold, margin=margin)
    if not chosen:
        return abstention(question, lang, timings_ms, scoped=scoped)
    # article order: the articles in order of their best sentence, sentences in text order
    rank: dict[str, int] = {}
    for e in chosen:
        rank.setdefault(e.article.id, len(rank))
    ordered = sorted(chosen, key=lambda e: (rank[e.article.id], e.sentence.index))
    citations = tuple(
        Citation(
            n=n,
            article_id=e.article.id,
            title=e.article.article.title,
            sentence=e.sentence.index,
            text=e.sentence.text,
            start=e.sentence.start,
            end=e.sentence.end,
            score=round(e.score, 4),
            url=e.article.article.url,
        )
        for n, e in enumerate(ordered, start=1)
    )
    lead = _LEAD_TEXT.get(lang, _LEAD_TEXT["en"])
    text = f"{lead} {_quotes(citations)}"
    return Answer(question, text, False, citations, dict(timings_ms or {}))


CONTEXT_SENTENCES = 2
"""Sentences shown before and after a cited sentence in the HTML rendering."""
_MARKER = re.compile(r"\[(\d+)\]")


def source_label(citation: Citation) -> str:
    """Where a citation comes from, as the sources list names it."""
    return f"{citation.title} (article {citation.article_id}, sentence {citation.sentence + 1})"


def _quotes(citations: Sequence[Citation]) -> str:
    """The cited sentences quoted, each followed by its marker [n]."""
    return " ".join(f"{_quoted(c.text)} [{c.n}]" for c in citations)


def _quoted(sentence: str) -> str:
    """The sentence in quotation marks; single ones around a sentence that holds double ones
    (‘“Kami sudah ...,” ujarnya.’), so that where the quote ends stays clear."""
    return f"‘{sentence}’" if any(q in sentence for q in '“”"') else f"“{sentence}”"


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1: "1 sentence", "3 sentences"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def render_answer(
    answer: Answer,
    *,
    html: bool = False,
    articles: Mapping[str, StoredArticle] | None = None,
    key: str = "cite",
) -> str:
    """Render an answer with its sources: plain text for the CLI, or HTML for the chat window.

    The HTML turns every ``[n]`` marker into a link to source ``n``; each source is a
    collapsible block showing the cited sentence highlighted among its neighbours in the
    article (from ``articles``), with the title, publisher, date and address. Every text is
    escaped, so article text can never become markup. ``key`` keeps element ids unique when
    several answers are on one page.
    """
    if not html:
        lines = [answer.answer]
        if answer.citations:
            lines += ["", "Sources:"]
            for c in answer.citations:
                lines.append(f"[{c.n}] {source_label(c)}")
                if answer.backend != "extractive":  # a written answer does not quote them
                    lines.append(f"    “{c.text}”")
                if c.translation:
                    lines.append(f"    machine translation: “{c.translation}”")
        return "\n".join(lines)
    by_n = {c.n: c for c in answer.citations}

    def link(c: Citation) -> str:
        return f'<a class="cite-marker" href="#{key}-{c.n}" title="{escape(c.text)}">[{c.n}]</a>'

    def marker(match: re.Match[str]) -> str:
        c = by_n.get(int(match.group(1)))
        return match.group(0) if c is None else link(c)

    quotes = _quotes(answer.citations)
    if answer.backend == "extractive" and quotes and answer.answer.endswith(quotes):
        # only the markers after the quotes link: a "[2]" inside a quoted sentence is its text
        lead = escape(answer.answer[: -len(quotes)])
        body = lead + " ".join(f"{escape(_quoted(c.text))} {link(c)}" for c in answer.citations)
    else:
        body = _MARKER.sub(marker, escape(answer.answer))
    body = body.replace("\n", "<br>")
    kind = "answer abstained" if answer.abstained else "answer"
    parts = [f'<div class="{kind}"><p>{body}</p>']
    if answer.notice:
        parts.append(f'<p class="notice">{escape(answer.notice)}</p>')
    if answer.citations:
        parts.append('<div class="sources"><p class="sources-label">Sources</p>')
        for c in answer.citations:
            stored = (articles or {}).get(c.article_id)
            parts.append(
                f'<details class="cite" id="{key}-{c.n}"><summary>[{c.n}] '
                f"{escape(_short(c.title))} · sentence {c.sentence + 1}</summary>"
                f"{_meta_html(c, stored)}"
                f'<blockquote class="cite-context">{_context_html(c, stored)}</blockquote>'
                f"{_translation_html(c)}</details>"
            )
        parts.append("</div>")
    parts.append("</div>")
    # no newlines: a blank line would end the HTML block in the chat's Markdown renderer
    return "".join(parts)


def _translation_html(c: Citation) -> str:
    if not c.translation:
        return ""
    return f'<p class="cite-translation">Machine translation: {escape(c.translation)}</p>'


def _short(title: str, limit: int = 70) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def _meta_html(c: Citation, stored: StoredArticle | None) -> str:
    article = stored.article if stored else None
    bits = [escape(x) for x in (c.title, c.article_id)]
    if article:
        bits += [escape(x) for x in (article.publisher, article.published) if x]
    if c.url:
        bits.append(f'<a href="{escape(c.url)}" target="_blank" rel="noopener">{escape(c.url)}</a>')
    elif article:  # a file name, not the server's folders
        bits.append(escape(PurePath(article.source).name or article.source))
    return f'<p class="cite-meta">{" · ".join(bits)}</p>'


def _context_html(c: Citation, stored: StoredArticle | None) -> str:
    cited = f"<mark>{escape(c.text)}</mark>"
    if stored is None:  # the article was removed since: the sentence itself stays the source
        return cited
    first = max(c.sentence - CONTEXT_SENTENCES, 0)
    last = min(c.sentence + CONTEXT_SENTENCES, len(stored.sentences) - 1)
    shown = [
        cited if s.index == c.sentence else escape(s.text)
        for s in stored.sentences[first : last + 1]
    ]
    return (
        ("… " if first > 0 else "")
        + " ".join(shown)
        + (" …" if last < len(stored.sentences) - 1 else "")
    )
