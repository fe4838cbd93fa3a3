"""Checking a written answer: its claims, the sentence numbers they cite, and whether they hold.

A chat model's answer is split into sentences (claims); each claim's ``[n]`` markers say which
numbered source sentences it rests on. A claim is *supported* when

* it cites at least one number that was given to the model (other numbers are dropped);
* it is close in meaning to what it cites: cosine(claim as a query, a cited sentence or all the
  cited sentences together as a passage) >= ``SUPPORT_THRESHOLD``, which works across languages
  because the embedding model is multilingual;
* every number in the claim occurs in the cited sentences (100,000 = 100.000); and
* when the claim names people or places, at least one of them occurs in the cited articles
  (names change between languages, so only "none of them" counts, as in ``grounding.py``).

The threshold was set on hand-written English and Indonesian claims about the seed article:
claims that restate their sentence score 0.82-0.92 against it, off-topic claims 0.77-0.81 against
the article's best sentence. Cosine catches claims about something else, not contradictions on
the same topic; the number check catches the commonest of those (wrong figures).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .answer import Claim
from .grounding import Vocabulary, is_about_unknown_names
from .models import Embedder
from .sentences import split_sentences

SUPPORT_THRESHOLD = 0.80
# [2], [2, 3], [2; 3] and ranges [2-4]; full-width brackets (【2】) are read as [2]
_GROUP = r"\d+(?:\s*[,;\-–]\s*\d+)*"
_MARKERS = re.compile(rf"\s*\[({_GROUP})\]")
_LEADING_MARKERS = re.compile(rf"^(?:\s*\[{_GROUP}\])+")
_BRACKETS = str.maketrans("【】［］", "[][]")
_MAX_RANGE = 20
"""The widest range [n-m] read as a citation of every sentence in it."""
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def parse_claims(text: str, given: int) -> list[Claim]:
    """The answer's sentences with the numbers they cite; numbers outside 1..given are dropped.

    Markers that open a sentence ("... a mantra. [2] Next ...") belong to the sentence before.
    """
    claims: list[tuple[str, list[int]]] = []
    for sentence in split_sentences(text.translate(_BRACKETS)):
        raw = sentence.text
        lead = _LEADING_MARKERS.match(raw)
        if lead and claims:
            claims[-1][1].extend(_numbers(lead.group(0)))
            raw = raw[lead.end() :]
        numbers = _numbers(raw)
        body = _BULLET.sub("", _MARKERS.sub("", raw)).strip()
        body = re.sub(r"\s+([.,;:!?])", r"\1", body)
        if body.strip(" .,;:!?-*"):
            claims.append((body, numbers))
        elif claims:
            claims[-1][1].extend(numbers)
    return [
        Claim(body, tuple(dict.fromkeys(n for n in numbers if 1 <= n <= given)))
        for body, numbers in claims
    ]


def _numbers(text: str) -> list[int]:
    numbers: list[int] = []
    for group in _MARKERS.findall(text):
        for part in re.split(r"[,;]", group):
            first, _, last = re.sub(r"\s", "", part).replace("–", "-").partition("-")
            low, high = int(first), int(last or first)
            numbers += range(low, high + 1) if 0 <= high - low < _MAX_RANGE else [low, high]
    return numbers


def numbers_in(text: str) -> set[str]:
    """The numbers written in a text, without thousands separators (100,000 = 100.000)."""
    return {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}


def check_claims(
    claims: Sequence[Claim],
    sentences: Mapping[int, str],
    articles: Mapping[int, str],
    embedder: Embedder,
    *,
    threshold: float = SUPPORT_THRESHOLD,
) -> list[Claim]:
    """The claims with ``supported`` set; ``sentences``/``articles``: each number's sentence and
    the text of its article."""
    cited = [c for c in claims if c.citations]
    if not cited:
        return [replace(c, supported=False) for c in claims]
    passages: list[str] = []
    slots: list[list[int]] = []
    for claim in cited:
        texts = [sentences[n] for n in claim.citations]
        if len(texts) > 1:
            texts.append(" ".join(texts))
        slots.append(list(range(len(passages), len(passages) + len(texts))))
        passages.extend(texts)
    claim_vectors = embedder.embed_queries([c.text for c in cited])
    passage_vectors = embedder.embed_passages(passages)
    similarity = {
        id(claim): max(float(claim_vectors[i] @ passage_vectors[j]) for j in slots[i])
        for i, claim in enumerate(cited)
    }
    checked = []
    for claim in claims:
        supported = bool(claim.citations) and similarity[id(claim)] >= threshold
        if supported:
            source = " ".join(sentences[n] for n in claim.citations)
            supported = numbers_in(claim.text) <= numbers_in(source)
        if supported:
            vocabulary = Vocabulary(dict.fromkeys(articles[n] for n in claim.citations))
            supported = not is_about_unknown_names(claim.text, vocabulary)
        checked.append(replace(claim, supported=supported))
    return checked
