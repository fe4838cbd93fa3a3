"""Extractive answers and their HTML: unit tests on small made-up evidence."""

from __future__ import annotations

from assistant.answer import OTHER_ARTICLE_MARGIN, RELATIVE_MARGIN, compose_answer, render_answer
from assistant.articles import article_from_text
from assistant.retrieval import Evidence
from assistant.sentences import split_sentences
from assistant.store import StoredArticle, group_chunks

TEXT = (
    "Rail traffic grew again last year. Passengers rose to 12 million in 2023 [2]. "
    "The operator ordered ten new trains."
)


def test_only_the_answers_own_markers_link_to_sources() -> None:
    article = article_from_text(TEXT, title="Rail report")
    sentences = split_sentences(article.text)
    stored = StoredArticle(article, tuple(sentences), group_chunks(sentences), "2026-11-27")
    evidence = [Evidence(stored, sentences[1], 1.6), Evidence(stored, sentences[2], 1.5)]
    answer = compose_answer("How many passengers?", evidence)
    assert answer.answer == (
        "According to the articles: “Passengers rose to 12 million in 2023 [2].” [1] "
        "“The operator ordered ten new trains.” [2]"
    )
    html = render_answer(answer, html=True, key="k")
    # the article's own "[2]" stays text; the answer's [1] and [2] link to their sources
    assert html.count('class="cite-marker"') == 2
    assert 'in 2023 [2].” <a class="cite-marker" href="#k-1"' in html
    assert 'ten new trains.” <a class="cite-marker" href="#k-2"' in html


def _stored(text: str, title: str) -> StoredArticle:
    article = article_from_text(text, title=title)
    sentences = split_sentences(article.text)
    return StoredArticle(article, tuple(sentences), group_chunks(sentences), "2026-11-28")


def test_another_articles_sentence_is_cited_only_closer_to_the_best() -> None:
    """Runners-up of the best sentence's article are cited within RELATIVE_MARGIN, those of
    other articles only within OTHER_ARTICLE_MARGIN: "When will work start?" cited a coffee
    price and an earthquake beside the stadium's start of work."""
    stadium = _stored(
        "The stadium will be renovated. Work starts in March. It costs 20 million.", "Stadium"
    )
    coffee = _stored("Coffee prices rose again. A cup costs more than last year.", "Coffee")
    assert OTHER_ARTICLE_MARGIN < RELATIVE_MARGIN
    best = 1.6
    far = best - (OTHER_ARTICLE_MARGIN + RELATIVE_MARGIN) / 2  # between the two margins
    evidence = [
        Evidence(stadium, stadium.sentences[1], best),
        Evidence(coffee, coffee.sentences[0], far),
        Evidence(stadium, stadium.sentences[0], far),
    ]
    answer = compose_answer("When will work start?", evidence)
    assert [(c.title, c.sentence) for c in answer.citations] == [("Stadium", 0), ("Stadium", 1)]
    near = best - OTHER_ARTICLE_MARGIN / 2
    evidence[1] = Evidence(coffee, coffee.sentences[0], near)
    answer = compose_answer("When will work start?", evidence)
    assert [c.title for c in answer.citations] == ["Stadium", "Stadium", "Coffee"]
