"""Speed and memory of the assistant on real news, each beside a plain baseline in the same run.

``run_bench`` indexes the shipped articles plus ``articles`` news articles into a temporary
index and measures:

* ingest: articles/s, sentences/s and tokens/s of ``Assistant.add`` (sentences, chunks and the
  sparse channel when it is on) for the news articles;
* question latency p50/p95 (the questions are the titles of the indexed news articles);
* cold start: wall time of ``assistant ask`` in a subprocess on the prepared index, from process
  start to the printed answer (best of two), and that process's peak memory;
* the same work done plainly: ``SentenceTransformer.encode`` of the same sentences into a plain
  chromadb collection, a query as encode + ``collection.query``, and a cold start that loads
  the model and the collection and answers one query;
* embedding FLOP/s of the plain encode (useful work, padding not counted) as a share of what
  torch reaches on a large fp32 matmul on this CPU.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import AssistantError
from .evaluation import load_news, percentile
from .store import embedded_chroma

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total)."""

_PLAIN_COLLECTION = "plain"
# The child writes its own peak memory (VmHWM of its address space) to the file named by its
# first argument: wait4's ru_maxrss would include the parent's size at fork time.
_PEAK = """
import atexit, sys
def _peak(path=sys.argv.pop(1)):
    try:
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    except (OSError, IndexError):
        status = "0"
    open(path, "w").write(status)
atexit.register(_peak)
"""
_ASK = """
import runpy
sys.argv = ["assistant", *sys.argv[1:]]
runpy.run_module("assistant", run_name="__main__")
"""
_PLAIN_ASK = """
import chromadb
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
collection = chromadb.PersistentClient(path=sys.argv[2]).get_collection("plain")
prompt = "query" if "query" in (model.prompts or {}) else None
vector = model.encode([sys.argv[3]], prompt_name=prompt, normalize_embeddings=True)
hits = collection.query(query_embeddings=vector.tolist(), n_results=3)
print("\\n".join(hits["documents"][0]))
"""


@dataclass
class BenchResult:
    """The figures of one benchmark run (times in seconds unless named otherwise)."""

    articles: int = 0
    sentences: int = 0
    tokens: int = 0
    questions: int = 0
    sparse: bool = True
    ingest_s: float = 0.0
    plain_ingest_s: float = 0.0
    plain_encode_s: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    plain_latency_p50_ms: float = 0.0
    plain_latency_p95_ms: float = 0.0
    cold_start_s: float = 0.0
    plain_cold_start_s: float = 0.0
    cold_peak_mb: float = 0.0
    plain_cold_peak_mb: float = 0.0
    ingest_peak_mb: float = 0.0
    embed_gflops: float = 0.0
    matmul_gflops: float = 0.0
    threads: int = 0

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(figure, ours, plain, ours/plain) for display."""

        def ratio(a: float, b: float) -> str:
            return f"{a / b:.2f}" if b else ""

        def rate(n: int, seconds: float) -> float:
            return n / seconds if seconds else 0.0

        rows = []
        for unit, n in (("articles", self.articles), ("sentences", self.sentences)):
            a, b = rate(n, self.ingest_s), rate(n, self.plain_ingest_s)
            rows.append((f"ingest {unit}/s", f"{a:.1f}", f"{b:.1f}", ratio(a, b)))
        a, b = rate(self.tokens, self.ingest_s), rate(self.tokens, self.plain_ingest_s)
        rows.append(("ingest tokens/s", f"{a:.0f}", f"{b:.0f}", ratio(a, b)))
        for name, a, b, unit in (
            ("question p50", self.latency_p50_ms, self.plain_latency_p50_ms, "ms"),
            ("question p95", self.latency_p95_ms, self.plain_latency_p95_ms, "ms"),
            ("cold start", self.cold_start_s, self.plain_cold_start_s, "s"),
            ("cold start peak memory", self.cold_peak_mb, self.plain_cold_peak_mb, "MB"),
        ):
            if name.startswith("cold") and not a:  # not measured (--cold-starts 0)
                rows.append((f"{name} ({unit})", "", "", ""))
                continue
            rows.append((f"{name} ({unit})", f"{a:.1f}", f"{b:.1f}", ratio(a, b)))
        rows.append(("ingest process peak memory (MB)", f"{self.ingest_peak_mb:.0f}", "", ""))
        return rows

    def ceiling(self) -> str:
        """The embedding's FLOP/s against the CPU's, a line beside the table."""
        share = self.embed_gflops / self.matmul_gflops if self.matmul_gflops else 0.0
        return (
            f"embedding (plain encode): {self.embed_gflops:.1f} GFLOP/s, {share:.0%} of a large "
            f"fp32 torch matmul on this CPU ({self.matmul_gflops:.1f} GFLOP/s)"
        )

    def to_json(self) -> dict[str, Any]:
        """Figures as a JSON-ready dict; the cold start's are ``None`` when it was skipped."""
        data = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}
        if not self.cold_start_s:  # --cold-starts 0
            cold = ("cold_start_s", "cold_peak_mb", "plain_cold_start_s", "plain_cold_peak_mb")
            data.update(dict.fromkeys(cold))
        return data


def run_bench(
    news_file: Path,
    settings: Settings,
    *,
    articles: int = 500,
    questions: int = 50,
    cold_starts: int = 2,
    progress: Progress | None = None,
) -> BenchResult:
    """Measure ingest, latency, cold start (best of ``cold_starts`` runs; 0 skips it) and memory
    on ``articles`` news articles of ``news_file`` (``shared/eval/news_id.jsonl`` format), each
    beside the plain baseline."""
    news = load_news(news_file, limit=articles)
    if not news:
        raise AssistantError(
            f"{news_file} has no articles. Give a JSON Lines file with one news article a line "
            '({"title": ..., "text": ...}), e.g. shared/eval/news_id.jsonl.'
        )
    result = BenchResult(sparse=settings.sparse)
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        ours_dir, plain_dir = Path(tmp) / "ours", Path(tmp) / "plain"
        ours = replace(settings, index_dir=ours_dir)
        # each Chroma client is closed before a cold start opens its folder, and before the
        # folder goes
        wanted = {a.id for a in news}
        asked = _bench_ours(news, ours, result, questions=questions, progress=progress)
        with closing(asked):
            texts = [s.text for a in asked.articles() if a.id in wanted for s in a.sentences]
        with closing(embedded_chroma(plain_dir)) as plain:
            model, collection = _bench_plain(texts, settings, plain, result, progress=progress)
            titles = [a.title for a in news][:questions]
            _plain_latency(model, collection, titles, result)
        result.tokens = _count_tokens(model, texts)
        result.embed_gflops = _encoder_flops(model, texts) / result.plain_encode_s / 1e9
        result.matmul_gflops = matmul_gflops()
        if cold_starts and titles:
            _cold_starts(ours, plain_dir, titles[0], result, repeats=cold_starts, progress=progress)
    return result


def _bench_ours(
    news: Sequence[Any],
    settings: Settings,
    result: BenchResult,
    *,
    questions: int,
    progress: Progress | None,
) -> Any:
    import torch

    from .core import Assistant

    result.threads = torch.get_num_threads()
    assistant = Assistant.from_settings(settings)
    assistant.seed()
    t0 = time.perf_counter()
    for i, article in enumerate(news, start=1):
        stored = assistant.add(article)
        if stored is not None:
            result.articles += 1
            result.sentences += len(stored.sentences)
        if progress:
            progress("ingest", i, len(news))
    result.ingest_s = time.perf_counter() - t0
    result.ingest_peak_mb = _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF))
    titles = [a.title for a in news][:questions]
    latencies = []
    for i, title in enumerate(titles, start=1):
        start = time.perf_counter()
        assistant.ask(title)
        latencies.append((time.perf_counter() - start) * 1000)
        if progress:
            progress("questions", i, len(titles))
    result.questions = len(titles)
    result.latency_p50_ms = percentile(latencies, 50)
    result.latency_p95_ms = percentile(latencies, 95)
    return assistant


def _cold_starts(
    settings: Settings,
    plain_dir: Path,
    question: str,
    result: BenchResult,
    *,
    repeats: int = 2,
    progress: Progress | None,
) -> None:
    """Best of ``repeats`` alternating cold starts of ours and the plain script (the first run
    of either warms the disk cache for both)."""
    env = _child_env(settings)
    ours = [_PEAK + _ASK, "ask", question]
    plain = [_PEAK + _PLAIN_ASK, _model_path(settings), str(plain_dir), question]
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "plain": []}
    for i in range(repeats):
        for name, command in (("ours", ours), ("plain", plain)):
            runs[name].append(_timed_child(command, env))
        if progress:
            progress("cold starts", i + 1, repeats)
    result.cold_start_s, result.cold_peak_mb = min(runs["ours"])
    result.plain_cold_start_s, result.plain_cold_peak_mb = min(runs["plain"])


def _model_path(settings: Settings) -> str:
    from .models import resolve_model_path

    return resolve_model_path(settings.embedding_model, settings.cache_dir)


def _bench_plain(
    texts: list[str],
    settings: Settings,
    client: Any,
    result: BenchResult,
    *,
    progress: Progress | None,
) -> tuple[Any, Any]:
    """Encode ``texts`` with a plain SentenceTransformer into a plain chromadb collection of
    ``client``."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(_model_path(settings), device="cpu")
    collection = client.create_collection(_PLAIN_COLLECTION)
    prompt = "passage" if "passage" in (model.prompts or {}) else None
    t0 = time.perf_counter()
    encode_s = 0.0
    step = 512
    for i in range(0, len(texts), step):
        batch = texts[i : i + step]
        e0 = time.perf_counter()
        vectors = model.encode(
            batch, prompt_name=prompt, batch_size=settings.batch_size, normalize_embeddings=True
        )
        encode_s += time.perf_counter() - e0
        ids = [f"s{i + j}" for j in range(len(batch))]
        collection.add(ids=ids, embeddings=vectors.tolist(), documents=batch)
        if progress:
            progress("plain ingest", min(i + step, len(texts)), len(texts))
    result.plain_ingest_s = time.perf_counter() - t0
    result.plain_encode_s = encode_s
    return model, collection


def _plain_latency(model: Any, collection: Any, questions: list[str], result: BenchResult) -> None:
    prompt = "query" if "query" in (model.prompts or {}) else None
    latencies = []
    for q in questions:
        start = time.perf_counter()
        vector = model.encode([q], prompt_name=prompt, normalize_embeddings=True)
        collection.query(query_embeddings=vector.tolist(), n_results=3)
        latencies.append((time.perf_counter() - start) * 1000)
    result.plain_latency_p50_ms = percentile(latencies, 50)
    result.plain_latency_p95_ms = percentile(latencies, 95)


def _token_lengths(model: Any, texts: list[str]) -> list[int]:
    prompt = (model.prompts or {}).get("passage", "")
    limit = model.max_seq_length
    encoded = model.tokenizer([prompt + t for t in texts], add_special_tokens=True)
    return [min(len(ids), limit) for ids in encoded["input_ids"]]


def _count_tokens(model: Any, texts: list[str]) -> int:
    return sum(_token_lengths(model, texts))


def _encoder_flops(model: Any, texts: list[str]) -> float:
    """Multiply-add work of a BERT-style encoder over the texts (2 FLOPs a multiply-add)."""
    config = model[0].auto_model.config
    layers, h, inner = config.num_hidden_layers, config.hidden_size, config.intermediate_size
    per_token = 2 * layers * (4 * h * h + 2 * h * inner)  # projections and feed-forward
    return float(sum(n * per_token + 4 * layers * h * n * n for n in _token_lengths(model, texts)))


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of the best of ``repeats`` fp32 n x n matmuls with torch on this CPU."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for f in fields(Settings):
        value = getattr(settings, f.name)
        env[Settings.ENV_PREFIX + f.name.upper()] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    return env


def _timed_child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of ``python -c SCRIPT ARGS``; a failure is an error."""
    from .errors import AssistantError

    script, *args = command
    with tempfile.TemporaryDirectory() as tmp:
        peak, out = Path(tmp) / "peak", Path(tmp) / "out"
        with out.open("wb") as sink:
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", script, str(peak), *args],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                check=False,
            )
            elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            tail = out.read_text(encoding="utf-8", errors="replace")[-500:]
            raise AssistantError(f"A cold-start run failed (exit {done.returncode}): {tail}")
        kilobytes = float(peak.read_text() or 0) if peak.exists() else 0.0
    return elapsed, kilobytes / 1024


def _maxrss_mb(usage: Any) -> float:
    # Linux reports kilobytes, macOS bytes
    return float(usage.ru_maxrss) / (1024 * 1024 if sys.platform == "darwin" else 1024)
