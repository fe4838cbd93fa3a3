"""Turning evidence into an ``Answer`` whose every citation is an exact article sentence.

The default answerer is extractive: it needs no generative model. It quotes the best evidence
sentences, numbered [1], [2] ... in article order, and abstains (no citations) when even the best
sentence scores below the calibrated threshold. Answers written by a chat model (``writer.py``)
use the same ``Answer``, with their checked ``claims``; the extractive answer is their fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .retrieval import Evidence

ABSTAIN_THRESHOLD = 1.27
"""Scores below this mean "the articles do not answer it" (calibrated on dev data)."""
RELATIVE_MARGIN = 0.15
"""Cite further sentences only when they score within this margin of the best one.

On qa_xling dev: margin 0.06 -> 1.8 citations per answer, hit@3 0.837; 0.15 -> 2.6, 0.873;
no margin -> 2.9, 0.877."""

_ABSTAIN_TEXT = {
    "id": "Artikel yang diindeks tidak menjawab pertanyaan ini.",
    "en": "The indexed articles do not answer this question.",
}
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


def abstention(question: str, lang: str, timings_ms: dict[str, float] | None = None) -> Answer:
    """The answer that says the articles do not answer the question."""
    text = _ABSTAIN_TEXT.get(lang, _ABSTAIN_TEXT["en"])
    return Answer(question, text, True, (), dict(timings_ms or {}))


def select_evidence(
    evidence: Sequence[Evidence],
    *,
    top_k: int = 3,
    threshold: float = ABSTAIN_THRESHOLD,
    margin: float = RELATIVE_MARGIN,
) -> list[Evidence]:
    """The sentences worth citing: the best one if strong enough, plus close runners-up."""
    if not evidence or evidence[0].score < threshold:
        return []
    best = evidence[0].score
    return [e for e in evidence[:top_k] if e.score >= best - margin]


def compose_answer(
    question: str,
    evidence: Sequence[Evidence],
    *,
    lang: str = "en",
    top_k: int = 3,
    threshold: float = ABSTAIN_THRESHOLD,
    margin: float = RELATIVE_MARGIN,
    timings_ms: dict[str, float] | None = None,
) -> Answer:
    """An extractive answer quoting the selected sentences, numbered in article order."""
    chosen = select_evidence(evidence, top_k=top_k, threshold=threshold, margin=margin)
    if not chosen:
        return abstention(question, lang, timings_ms)
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
    quotes = " ".join(f"“{c.text}” [{c.n}]" for c in citations)
    lead = _LEAD_TEXT.get(lang, _LEAD_TEXT["en"])
    return Answer(question, f"{lead} {quotes}", False, citations, dict(timings_ms or {}))


def render_answer(answer: Answer) -> str:
    """Plain-text rendering used by the CLI (and the UI's plain view): answer, then sources
    (with their exact text and any machine translation when a chat model wrote the answer)."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.title} (article {c.article_id}, sentence {c.sentence + 1})")
            if answer.backend != "extractive":  # a written answer does not quote its sources
                lines.append(f"    “{c.text}”")
            if c.translation:
                lines.append(f"    machine translation: “{c.translation}”")
    return "\n".join(lines)
