"""Embedding backends side by side: sentences/s, one question's latency, cosine to torch fp32.

    ASSISTANT_CACHE_DIR=~/.cache/news-assistant .venv/bin/python benchmarks/backends.py \\
        [--news ../shared/eval/news_id.jsonl] [--sentences 512] [--repeats 3]

Encodes the first N sentences of the news file (with the ``passage: `` prompt, batch 32) with
each backend of the ``ASSISTANT_BACKEND`` setting, all in this one process so that they meet the
same load; prints the best of ``--repeats`` runs. The quality side (retrieval on qa_xling dev)
is measured with ``assistant eval`` and ``ASSISTANT_BACKEND`` set, see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.evaluation import load_news
from assistant.models import load_embedder
from assistant.onnx_backend import BACKENDS
from assistant.sentences import split_sentences

QUESTION = "What did Peskov say about sanctions?"


def best_of(repeats: int, work) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_news = Path(__file__).resolve().parents[2] / "shared" / "eval" / "news_id.jsonl"
    parser.add_argument("--news", type=Path, default=default_news)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    settings = Settings.from_env()
    texts: list[str] = []
    for article in load_news(args.news):
        texts += [s.text for s in split_sentences(article.text)]
        if len(texts) >= args.sentences:
            break
    texts = texts[: args.sentences]
    print(f"{len(texts)} sentences, batch {settings.batch_size}, {torch.get_num_threads()} threads")
    print("| backend | sentences/s | one question (ms) | cosine to torch fp32 (mean / min) |")
    print("|---|---:|---:|---:|")
    reference: np.ndarray | None = None
    for backend in ("torch", *(b for b in BACKENDS if b not in ("torch", "auto"))):
        embedder = load_embedder(
            settings.embedding_model,
            settings.cache_dir,
            batch_size=settings.batch_size,
            backend=backend,
        ).load()
        embedder.embed_passages(texts[:32])  # warm-up
        seconds, vectors = best_of(args.repeats, lambda e=embedder: e.embed_passages(texts))
        query_s, _ = best_of(20, lambda e=embedder: e.embed_queries([QUESTION]))
        assert isinstance(vectors, np.ndarray)
        if reference is None:
            reference = vectors
        cosines = (vectors * reference).sum(axis=1)
        print(
            f"| {backend} | {len(texts) / seconds:.1f} | {query_s * 1000:.1f} "
            f"| {cosines.mean():.4f} / {cosines.min():.4f} |",
            flush=True,
        )
        del embedder


if __name__ == "__main__":
    main()
