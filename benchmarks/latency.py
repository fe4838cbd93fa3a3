"""Question latency by language: English and Indonesian questions about the first article.

``assistant bench`` asks the titles of the news articles it indexes, which are Indonesian; an
English question over Indonesian articles does more (the sparse channel and the token match).
This script asks eight questions in each language about the first article, over the index the
settings name (models loaded and one round asked before timing), and prints p50 / p95 of
``Assistant.ask`` per language, with the network's passes per question and their median time.

Usage:  .venv/bin/python benchmarks/latency.py [--index-dir DIR] [--rounds 5]
e.g. on the index kept by ``assistant eval ... --distractors news_id.jsonl --keep-index DIR``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.core import Assistant

QUESTIONS = {
    "en": [
        "What did Peskov say about sanctions?",
        "Who quoted Peskov?",
        "What did the Kremlin say about Biden's readiness for talks?",
        "How long has the war in eastern Ukraine lasted?",
        "What does Russia demand about NATO?",
        "Who called the war a genocide?",
        "What did Peskov say would be more impressive?",
        "When did the Kremlin welcome Biden's readiness?",
    ],
    "id": [
        "Apa kata Peskov tentang sanksi?",
        "Siapa yang mengutip Peskov?",
        "Apa kata Kremlin tentang kesiapan Biden untuk berunding?",
        "Berapa lama perang di Ukraina timur berlangsung?",
        "Apa tuntutan Rusia soal NATO?",
        "Siapa yang menyebut perang itu genosida?",
        "Apa yang menurut Peskov akan lebih mengesankan?",
        "Kapan Kremlin menyambut kesiapan Biden?",
    ],
}


PASSES = {"sentence_embedding": "vectors", "token_embeddings": "token states", None: "both"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="the index (default: the settings')")
    parser.add_argument("--rounds", type=int, default=5, help="times each question is asked")
    args = parser.parse_args()

    settings = Settings.from_env()
    if args.index_dir:
        settings = replace(settings, index_dir=args.index_dir)
    assistant = Assistant.from_settings(settings)
    assistant.embedder.load()
    passes: dict[str, list[float]] = defaultdict(list)
    model: Any = getattr(assistant.embedder.langchain, "_client", None)
    if model is not None:  # count and time the network's passes
        encode = model.encode

        def timed(texts: list[str], *a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            out = encode(texts, *a, **kw)
            what = PASSES.get(kw.get("output_value", "sentence_embedding"), "other")
            passes[f"{what} of {len(texts)}"].append((time.perf_counter() - start) * 1000)
            return out

        model.encode = timed
    print(f"index: {settings.index_dir} ({len(assistant.store)} articles)")
    print("| questions | asked | p50 ms | p95 ms | passes per question (median ms) |")
    print("|---|---:|---:|---:|---|")
    for lang, questions in QUESTIONS.items():
        for question in questions:  # one round untimed: caches and lazy loads
            assistant.ask(question)
        passes.clear()
        times = []
        for _ in range(args.rounds):
            for question in questions:
                start = time.perf_counter()
                assistant.ask(question)
                times.append((time.perf_counter() - start) * 1000)
        per_question = ", ".join(
            f"{name}: {len(ms) / len(times):.0f} ({statistics.median(ms):.0f})"
            for name, ms in sorted(passes.items())
        )
        print(
            f"| {lang} | {len(times)} | {statistics.median(times):.0f} "
            f"| {percentile(times, 0.95):.0f} | {per_question} |"
        )


if __name__ == "__main__":
    main()
