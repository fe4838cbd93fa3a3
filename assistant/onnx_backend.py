"""Run a sentence-transformers model's network exported to ONNX: in OpenVINO (bfloat16 where
the CPU computes it natively) or in ONNX Runtime, int8-quantised.

sentence-transformers' own ONNX and OpenVINO backends need ``optimum-onnx``/``optimum-intel``,
which cannot be installed beside sentence-transformers 6 (they pin transformers < 4.58). This
module does the same job with torch's exporter, ONNX Runtime (installed anyway: chromadb depends
on it) and OpenVINO's runtime:

1. export the model's transformer to ONNX (eager attention: plain operators);
2. for ``onnx-int8``: its products by weight matrices in int8, the weights quantised per output
   column and the activations per token (``_per_token_int8``), and its word-embedding table
   in int8 (ONNX Runtime's quantiser); ONNX Runtime fuses the rest (layer norms, GELU) when it
   loads the file. The int8 embedding table keeps the file at 118 MB (407 MB with it in fp32),
   which loads in 0.2 s instead of 0.9 s: a cold start pays it;
3. for ``openvino``: convert the ONNX file to OpenVINO's format with fp16 weights (235 MB) and
   run it in bfloat16 on CPUs that have AMX or AVX512-BF16, in fp32 elsewhere, one batch at a
   time on all cores (OpenVINO's LATENCY hint; see ``_OPENVINO_HINT``).

``auto`` (the default) picks OpenVINO wherever it runs: bfloat16 keeps the fp32 vectors (cosine
0.99999) and was 3.7 times torch fp32 on a CPU with AMX (int8 2.6 times). On a CPU without
bfloat16 (an AVX512-VNNI Xeon) OpenVINO runs in fp32, 1.3 times torch fp32, and int8 2.0 times
with the same retrieval on dev; int8 indexes 1.2 times as fast there with 30% less memory
(``ASSISTANT_BACKEND=onnx-int8``), but it is not the default: its vectors are not fp32's, and
one of the first article's questions, whose answer scores within 0.0004 of the third
citation, falls to the fourth (see docs/benchmarks.md, "int8 per token").

The activations are quantised per token, so a text's vector is the same in any batch, which
the one pass of a question (its vector and its raw tokens together) relies on. ONNX Runtime's
own dynamic quantisation, used until then, scaled a whole batch by its largest activation: a
text's vector moved with its batch (cosine 0.997 between a sentence alone and in a batch) and
it retrieved worse (qa_xling test, hit@1 / hit@3: English questions 0.703 / 0.866 against
0.723 / 0.869 in fp32). Per token, the vectors are at cosine 0.9993 to fp32 (0.9987 at the
lowest) and run at 0.8 times the per-batch version's speed.

Fusing attention and layer norms with ONNX Runtime's transformer optimiser before quantising was
tried and dropped: it quantised the fused attention too and ran slower on these short texts.
OpenVINO's static int8 quantisation (NNCF, calibrated) was tried and dropped: some short
sentences came out at cosine 0.89 to fp32.

The export is done once, with the ``SentenceTransformer`` loaded in torch, and cached with what
running it needs: the tokenizer (``tokenizer.json``), the prompts, the pooling and the maximum
length (``runtime.json``). From then on :class:`OnnxEncoder` runs the model with ``tokenizers``,
the runtime and numpy alone: importing sentence-transformers, transformers and torch takes
longer (about 7 s here) than answering a question, so a cold start skips them. The vectors are
the sentence-transformers pipeline's (the tests compare them); :class:`OnnxEmbeddings` is the
LangChain ``Embeddings`` view of the same encoder.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import queue
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

BACKENDS = ("auto", "openvino", "onnx-int8", "torch", "torch-bf16")
"""Values of the ``backend`` setting: the best exported runtime for this CPU (default), OpenVINO,
ONNX Runtime int8, torch fp32, torch bfloat16."""
EXPORTED = ("openvino", "onnx-int8")
"""The backends that run an export of the network (this module) instead of torch."""

_FORMAT_VERSION = 4  # bump when the exported files change, so caches are rebuilt
_BACKEND_VERSIONS = {"onnx-int8": 5}  # a backend's own files changed: only its cache is rebuilt
_FILES = {"onnx-int8": "model-int8.onnx", "openvino": "model.xml"}
_FOLDERS = {"onnx-int8": "onnx", "openvino": "openvino"}
_RUNTIME = "runtime.json"
_TOKENIZER = "tokenizer.json"


def resolve_backend(backend: str) -> str:
    """The backend ``auto`` stands for on this machine: OpenVINO wherever its CPU plugin runs
    (in bfloat16 where the CPU computes it natively, in fp32 elsewhere), ONNX Runtime int8 where
    it does not; any other value is itself."""
    if backend != "auto":
        return backend
    return "openvino" if openvino_runs() else "onnx-int8"


def import_openvino() -> Any:
    """The ``openvino`` module, without its usage telemetry.

    ``import openvino`` sends an event to Google Analytics (package ``openvino-telemetry``)
    unless the user opted out; with that package's import blocked, OpenVINO falls back to its
    own no-op stub. Nothing of the assistant may call home."""
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino

    return openvino


@functools.cache
def _cpu_capabilities() -> tuple[str, ...] | None:
    """What OpenVINO's CPU plugin reports this CPU computes natively ("FP32", "BF16" ...), or
    ``None`` where OpenVINO is not installed or its CPU plugin does not load."""
    try:
        ov = import_openvino()
        return tuple(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except Exception:  # not installed, or no CPU plugin: the portable backend is used
        return None


def openvino_runs() -> bool:
    """Whether OpenVINO is installed and its CPU plugin loads here."""
    return _cpu_capabilities() is not None


def cpu_has_bf16() -> bool:
    """Whether OpenVINO is installed and reports native bfloat16 for this CPU."""
    return "BF16" in (_cpu_capabilities() or ())


def onnx_cache_folder(model_path: str, cache_dir: Path, backend: str = "onnx-int8") -> Path:
    """Where the export of a model (a folder or a hub name) for ``backend`` is cached."""
    where = Path(model_path).expanduser().resolve() if os.path.isdir(model_path) else model_path
    key = f"{_BACKEND_VERSIONS.get(backend, _FORMAT_VERSION)}:{where}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    name = Path(model_path.rstrip("/")).name or "model"
    return cache_dir / _FOLDERS[backend] / f"{name}-{digest}"


def is_exported(folder: Path) -> bool:
    """True when ``folder`` holds a complete export (the runtime file is written last)."""
    return (folder / _RUNTIME).is_file()


def export_onnx_model(
    st: Any, model_path: str, cache_dir: Path, backend: str = "onnx-int8"
) -> Path:
    """Export ``st`` (a loaded ``SentenceTransformer``) for ``backend`` to its cache folder;
    returns the folder."""
    folder = onnx_cache_folder(model_path, cache_dir, backend)
    target = folder / _RUNTIME
    if target.is_file():
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".export-") as tmp:
            _export(st, Path(tmp), backend)
            if not target.is_file():  # another process may have finished first
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(Path(tmp) / "out", folder)
    except ModelError:
        raise
    except Exception as exc:  # the exporter, converter and quantiser raise many types
        raise ModelError(
            f"Could not export the embedding model for {backend} in {folder}: {exc}. "
            "Set ASSISTANT_BACKEND=torch to run it in torch instead."
        ) from exc
    return folder


def _runtime_config(st: Any) -> dict[str, Any]:
    """What running the export needs besides the network, checked to be a pipeline that
    :class:`OnnxEncoder` reproduces: transformer, mean pooling, optional normalisation."""
    kinds = [type(module).__name__ for module in st]
    pooling = st[1].get_config_dict() if len(kinds) > 1 and kinds[1] == "Pooling" else {}
    if (
        kinds[0] != "Transformer"
        or pooling.get("pooling_mode") != "mean"
        or kinds[2:] not in ([], ["Normalize"])
        or not hasattr(st.tokenizer, "backend_tokenizer")
    ):
        raise ModelError(
            f"The ONNX backend runs models made of a transformer, mean pooling and optional "
            f"normalisation with a fast tokenizer; this one is {' + '.join(kinds)}. "
            "Set ASSISTANT_BACKEND=torch."
        )
    return {
        "format": _FORMAT_VERSION,
        "prompts": dict(st.prompts or {}),
        "normalize": kinds[2:] == ["Normalize"],
        "max_length": int(st.max_seq_length),
        "dimension": int(st.get_embedding_dimension()),
        "pad_id": int(st.tokenizer.pad_token_id or 0),
    }


def _export(st: Any, tmp: Path, backend: str) -> None:
    import json

    import torch

    runtime = _runtime_config(st)
    network = st[0].model
    if hasattr(network, "set_attn_implementation"):
        network.set_attn_implementation("eager")  # plain ops that ONNX Runtime fuses at load
    network.eval()

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.network(input_ids=input_ids, attention_mask=attention_mask)[0]

    sample = st.tokenizer(["a b c", "a longer sample sentence"], padding=True, return_tensors="pt")
    exported = tmp / "model.onnx"
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped(),
            (sample["input_ids"], sample["attention_mask"]),
            str(exported),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=17,
        )
    out = tmp / "out"
    out.mkdir()
    if backend == "openvino":
        ov = import_openvino()  # Core.read_model: convert_model would send telemetry too
        model = ov.Core().read_model(str(exported))
        ov.save_model(model, str(out / _FILES[backend]), compress_to_fp16=True)
    else:
        _quantise(exported, out / _FILES[backend])
    st.tokenizer.backend_tokenizer.save(str(out / _TOKENIZER))
    (out / _RUNTIME).write_text(json.dumps(runtime, indent=2), encoding="utf-8")


def _quantise(exported: Path, target: Path) -> None:
    """int8 matrix products with each token's activations quantised on their own
    (``_per_token_int8``), then ONNX Runtime's int8 word table (weights only)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    per_token = exported.with_name("per-token.onnx")
    onnx.save(_per_token_int8(onnx.load(str(exported))), str(per_token))
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantiser logs advice meant for its developers
    try:
        quantize_dynamic(
            str(per_token),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["Gather"],  # the 250k-word embedding table
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.disable(previous)


def _per_token_int8(model: Any) -> Any:
    """``model`` with each product by a weight matrix (``MatMul`` of a 2-D initializer) done in
    int8: the weights quantised per output column, the activations per token (a row's largest
    magnitude is 127), so a token's result depends on that token alone and a text's vector is
    the same in any batch (ONNX Runtime's own dynamic quantisation scales a whole batch at
    once, see above). Products that read the same input (a layer's query, key and value)
    share its quantisation.

    Per token: ``QuantizeLinear`` along the rows of the activations reshaped to 2-D (an offset
    of 128 makes them unsigned, the operand ONNX Runtime's int8 kernels take), then
    ``MatMulIntegerToFloat`` with the weights' scales, times the row's scale."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    added = [
        numpy_helper.from_array(np.array(value, dtype), name)
        for name, value, dtype in (
            ("pt_inv127", 1 / 127, np.float32),
            ("pt_tiny", 1e-8, np.float32),
            ("pt_offset", 128, np.uint8),
            ("pt_one", 1.0, np.float32),
            ("pt_axis1", [1], np.int64),
            ("pt_first", [0], np.int64),
            ("pt_last", [-1], np.int64),
        )
    ]
    nodes: list[Any] = []
    quantised: dict[str, str] = {}  # input name -> prefix of its quantised form
    node = helper.make_node
    for op in graph.node:
        weight = weights.get(op.input[1]) if op.op_type == "MatMul" else None
        if weight is None or len(weight.dims) != 2:
            nodes.append(op)
            continue
        w = numpy_helper.to_array(weight).astype(np.float32)
        scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127
        w8 = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        x = op.input[0]
        if x not in quantised:
            q = quantised[x] = f"pt_in{len(quantised)}_"
            added.append(numpy_helper.from_array(np.array([-1, w.shape[0]], np.int64), q + "2d"))
            nodes += [
                node("Reshape", [x, q + "2d"], [q + "rows"]),
                node("Abs", [q + "rows"], [q + "abs"]),
                node("ReduceMax", [q + "abs"], [q + "max"], axes=[1], keepdims=0),
                node("Max", [q + "max", "pt_tiny"], [q + "max1"]),
                node("Mul", [q + "max1", "pt_inv127"], [q + "scale"]),
                node("Shape", [q + "scale"], [q + "n"]),
                node("Expand", ["pt_offset", q + "n"], [q + "offsets"]),
                node(
                    "QuantizeLinear", [q + "rows", q + "scale", q + "offsets"], [q + "u8"], axis=0
                ),
                node("Unsqueeze", [q + "scale", "pt_axis1"], [q + "column"]),
                node("Shape", [x], [q + "shape"]),
                node("Slice", [q + "shape", "pt_first", "pt_last"], [q + "lead"]),
            ]
        q = quantised[x]
        p = f"pt_mm{len(nodes)}_"
        added += [
            numpy_helper.from_array(w8, p + "w8"),
            numpy_helper.from_array(scale.astype(np.float32), p + "wscale"),
            numpy_helper.from_array(np.array([w.shape[1]], np.int64), p + "width"),
        ]
        nodes += [
            node(
                "MatMulIntegerToFloat",
                [q + "u8", p + "w8", "pt_one", p + "wscale", "pt_offset"],
                [p + "rows"],
                domain="com.microsoft",
            ),
            node("Mul", [p + "rows", q + "column"], [p + "scaled"]),
            node("Concat", [q + "lead", p + "width"], [p + "shape"], axis=0),
            node("Reshape", [p + "scaled", p + "shape"], [op.output[0]]),
        ]
    used = {name for n in nodes for name in n.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    return model


_OPENVINO_HINT = "LATENCY"
"""One inference stream on all cores. Two streams of one core each (THROUGHPUT, with a call's
texts cut into two batches) indexed 15% faster (40 news articles: 50.9 / 47.2 against 44.4 /
40.3 sentences/s) but a lone text, a question or a word of the name check, ran on one core:
questions on the 3,464-article index took p50 38 ms against 27 ms (ONNX Runtime int8 24 ms) and
the first answer of a process came a second later, for the longer compilation."""
_OPENVINO_REQUESTS = 2
"""Inference requests kept ready: calls from more threads than this wait for one."""
_PAD_TO = 16
"""OpenVINO pads a batch's width to a multiple of this many tokens: it prepares its kernels per
input shape and keeps them, so fewer shapes mean less work and memory (120 news articles:
59 s and 1.8 GB peak without padding, 45 s and 1.3 GB with; 32 tokens gave no more)."""

_BUCKET = 0.75
"""A text shorter than this share of its batch's longest starts a new batch: a batch is padded
to its longest text, and an article's sentences (one call) run from a few tokens to a hundred.
The same vectors (cosine 0.9999998 at the lowest); the sentence pass of 60 news articles (1,064
sentences, a call per article) 14.6 s -> 11.4 s with OpenVINO fp32, and the first 150 news
articles added to a new index 100 s -> 91 s (means of 4 and 5 alternating runs), the same peak
memory (see docs/benchmarks.md, "Batches of similar length")."""


class _OnnxRuntime:
    """ONNX Runtime's session, a batch at a time on all threads (safe from several threads)."""

    pad_to = 1

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # threads that wait asleep instead of spinning: as fast on an idle machine, 1.5x faster
        # when other processes share the cores (measured, docs/benchmarks.md)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The token states of one padded batch."""
        inputs = {"input_ids": ids, "attention_mask": mask}
        return self.session.run(["last_hidden_state"], inputs)[0]  # type: ignore[no-any-return]


class _OpenVino:
    """OpenVINO's compiled model, in bfloat16 where the CPU has it, a batch at a time. Safe to
    call from several threads: each call borrows one of a few inference requests made once, so
    a question asked during a long indexing call waits for one batch, not for the whole call."""

    pad_to = _PAD_TO

    def __init__(self, path: Path, threads: int) -> None:
        ov = import_openvino()
        config: dict[str, Any] = {"PERFORMANCE_HINT": _OPENVINO_HINT}
        if cpu_has_bf16():
            config["INFERENCE_PRECISION_HINT"] = "bf16"
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = ov.Core().compile_model(str(path), "CPU", config)
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(_OPENVINO_REQUESTS):
            self._idle.put(self.compiled.create_infer_request())

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The token states of one padded batch."""
        request = self._idle.get()
        try:
            request.infer({"input_ids": ids, "attention_mask": mask})
            return request.get_output_tensor(0).data.copy()  # type: ignore[no-any-return]
        finally:
            self._idle.put(request)


class OnnxEncoder:
    """The exported model run with ``tokenizers``, OpenVINO or ONNX Runtime, and numpy.

    It offers the part of ``SentenceTransformer``'s interface that the assistant uses
    (``encode``, ``prompts``, ``get_embedding_dimension``), so ``models.Embedder`` treats both
    alike: texts get the named prompt, are tokenized (truncated to the model's maximum length),
    run in batches of similar length, mean-pooled over their tokens and normalised."""

    def __init__(self, folder: Path, *, backend: str = "onnx-int8", threads: int = 0) -> None:
        import json

        from tokenizers import Tokenizer

        config = json.loads((folder / _RUNTIME).read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = config["prompts"]
        self.normalize = bool(config["normalize"])
        self.max_length = int(config["max_length"])
        self.dimension = int(config["dimension"])
        self.tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()  # batches are padded here, by length
        self.pad_id = int(config["pad_id"])
        runtime = _OpenVino if backend == "openvino" else _OnnxRuntime
        self.runtime = runtime(folder / _FILES[backend], threads or _default_threads())

    def get_embedding_dimension(self) -> int:
        """Length of one embedding vector."""
        return self.dimension

    def _batches(
        self, texts: list[str], batch_size: int
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(positions, token states, attention mask) per batch, longest texts first; a batch
        holds at most ``batch_size`` texts, none shorter than ``_BUCKET`` of its longest."""
        encoded = self.tokenizer.encode_batch(texts, add_special_tokens=True)
        lengths = [len(e.ids) for e in encoded]
        batches: list[list[int]] = []
        for i in sorted(range(len(texts)), key=lambda i: -lengths[i]):
            last = batches[-1] if batches else []
            if last and len(last) < batch_size and lengths[i] >= _BUCKET * lengths[last[0]]:
                last.append(i)
            else:  # full, or its padding to the batch's longest would cost too much
                batches.append([i])
        for rows in batches:
            width = lengths[rows[0]]
            if len(rows) > 1:  # one text (a question, a word) is fastest unpadded
                width = -(-width // self.runtime.pad_to) * self.runtime.pad_to
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encoded[i].ids
                mask[r, : lengths[i]] = 1
            yield rows, self.runtime.run(ids, mask), mask

    def encode(
        self,
        texts: list[str],
        *,
        prompt_name: str | None = None,
        batch_size: int = 32,
        output_value: str | None = "sentence_embedding",
        **_: Any,
    ) -> Any:
        """Sentence vectors (a matrix); with ``output_value="token_embeddings"`` each text's
        token states (a list of matrices, padding removed); with ``output_value=None`` both, a
        ``{"sentence_embedding", "token_embeddings"}`` dict per text. Like sentence-transformers."""
        prompt = self.prompts.get(prompt_name or "", "")
        texts = [prompt + t for t in texts] if prompt else list(texts)
        states: list[Any] = [None] * len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled = output_value != "token_embeddings"
        for rows, batch, mask in self._batches(texts, batch_size):
            for r, i in enumerate(rows):
                states[i] = batch[r, : int(mask[r].sum())]
            if pooled:  # the sparse head's pass at indexing needs the token states only
                weights = mask[..., None].astype(np.float32)
                vectors[rows] = (batch * weights).sum(axis=1) / np.maximum(
                    weights.sum(axis=1), 1e-9
                )
        if not pooled:
            return states
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.maximum(norms, 1e-12)
        if output_value is None:
            return [
                {"sentence_embedding": v, "token_embeddings": t}
                for v, t in zip(vectors, states, strict=True)
            ]
        return vectors


def _default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def load_onnx_encoder(
    model_path: str, cache_dir: Path, load_st: Callable[[], Any], backend: str = "onnx-int8"
) -> OnnxEncoder:
    """The model's encoder for ``backend`` (one of ``EXPORTED``), exported first (with
    ``load_st()``'s model) when not cached."""
    folder = onnx_cache_folder(model_path, cache_dir, backend)
    if not is_exported(folder):
        export_onnx_model(load_st(), model_path, cache_dir, backend)
    try:
        return OnnxEncoder(folder, backend=backend)
    except Exception as exc:  # a damaged cache file
        raise ModelError(
            f"Could not load the {backend} export in {folder}: {exc}. Delete that folder to "
            "export it again, or set ASSISTANT_BACKEND=torch."
        ) from exc


def onnx_embeddings(encoder: OnnxEncoder, *, batch_size: int = 32) -> Any:
    """The LangChain ``Embeddings`` view of an :class:`OnnxEncoder` (the model's passage
    prompt for documents, its query prompt for questions)."""
    from langchain_core.embeddings import Embeddings

    class OnnxEmbeddings(Embeddings):
        def __init__(self) -> None:
            self._client = encoder  # where models.Embedder looks for the encoder

        def _prompt(self, name: str) -> str | None:
            return name if name in encoder.prompts else None

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            prompt = self._prompt("passage")
            return encoder.encode(texts, prompt_name=prompt, batch_size=batch_size).tolist()

        def embed_query(self, text: str) -> list[float]:
            return encoder.encode([text], prompt_name=self._prompt("query"))[0].tolist()

    return OnnxEmbeddings()
