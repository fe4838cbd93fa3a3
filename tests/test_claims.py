"""Tests for assistant.claims: citation markers, and the support check with the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer import Claim
from assistant.claims import check_claims, numbers_in, parse_claims
from assistant.sentences import split_sentences

SEED = Path(__file__).parents[1] / "index" / "articles" / "kremlin-peskov-biden.txt"


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("One [2]. Two [2][3].", [Claim("One.", (2,)), Claim("Two.", (2, 3))]),
        ("A claim [1, 3; 2].", [Claim("A claim.", (1, 3, 2))]),
        ("Trailing. [1] Next [4].", [Claim("Trailing.", (1,)), Claim("Next.", (4,))]),
        ("Not given [7][0][2].", [Claim("Not given.", (2,))]),
        ("- first [1]\n- second\n", [Claim("first", (1,)), Claim("second", ())]),
        ("No citation at all.", [Claim("No citation at all.", ())]),
        ("A range [2-4]. Dashed [1–2].", [Claim("A range.", (2, 3, 4)), Claim("Dashed.", (1, 2))]),
        ("Full width 【3】. Wide [1-99].", [Claim("Full width.", (3,)), Claim("Wide.", (1,))]),
        ("", []),
    ],
)  # fmt: skip
def test_parse_claims(text: str, claims: list[Claim]) -> None:
    assert parse_claims(text, given=5) == claims


def test_numbers_ignore_thousands_separators() -> None:
    assert numbers_in("lebih dari 100.000 tentara pada 2022") == {"100000", "2022"}
    assert numbers_in("more than 100,000 troops in 2022") == {"100000", "2022"}


def test_check_claims_across_languages(embedder) -> None:
    text = SEED.read_text(encoding="utf-8")
    sentences = {s.index + 1: s.text for s in split_sentences(text)}
    mantra = next(n for n, s in sentences.items() if "seperti mantra" in s)
    troops = next(n for n, s in sentences.items() if "100.000" in s)
    claims = [
        Claim("Peskov said the sanction threats are repeated like a mantra.", (mantra,)),
        Claim("Peskov mengkritik ancaman sanksi yang diulang-ulang seperti mantra.", (mantra,)),
        Claim("Moscow defended moving more than 100,000 Russian troops.", (troops,)),
        Claim("Moscow defended moving more than 250,000 Russian troops.", (troops,)),  # number
        Claim("The weather in Jakarta was sunny and warm.", (mantra,)),  # another topic
        Claim("Zelensky and Macron criticised the sanctions.", (mantra,)),  # unknown names
        Claim("Peskov criticised the sanctions.", ()),  # cites nothing
    ]

    checked = check_claims(claims, sentences, dict.fromkeys(sentences, text), embedder)

    assert [c.supported for c in checked] == [True, True, True, False, False, False, False]
    assert [(c.text, c.citations) for c in checked] == [(c.text, c.citations) for c in claims]
