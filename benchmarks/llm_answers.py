"""Written-answer benchmark (issue 4): citation precision and answer hit rate with a chat model.

Runs, each against a fresh temporary index, with the chat model the settings name
(ASSISTANT_LLM / _URL / _MODEL / _API_KEY, or the flags below):
  * the seed questions over the first article (../shared/seed/kremlin-peskov-biden.txt);
  * qa_xling, direction question_en->context_id, the dev and test splits.

Figures per set:
  * answer hit rate: answerable questions whose answer cites a sentence holding a gold string,
    plus unanswerable questions that were abstained on, over all questions;
  * citation precision: of every (claim, cited sentence) pair the model wrote, the share where
    that one sentence supports the claim by the same automatic check the assistant applies
    (claims.py: cross-lingual cosine, numbers, names). Pairs of claims the check removed count
    as unsupported (a removed claim counts once when its numbers are not shown any more);
  * claims kept, answers written by the model (not the extractive fallback), fallbacks with
    a notice, and latency.

Usage:  .venv/bin/python benchmarks/llm_answers.py --llm openai --llm-url http://127.0.0.1:8080/v1
        --llm-model NAME [--split dev --split test] [--limit N] [--eval-dir ../shared/eval] [-v]
Reads ../shared (not shipped with the project); prints a Markdown table. ``--limit`` also makes
the index smaller (only the kept questions' passages are indexed), so limited runs are easier.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.answer import Answer, Claim
from assistant.claims import check_claims
from assistant.config import Settings
from assistant.core import Assistant
from assistant.evaluation import QAItem, evaluate, load_qa, percentile


@dataclass
class Figures:
    """Counts of one set, turned into rates by ``row``."""

    name: str
    questions: int = 0
    hits: int = 0
    pairs: int = 0
    supported_pairs: int = 0
    claims: int = 0
    kept_claims: int = 0
    written: int = 0
    fallbacks: int = 0
    latencies: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Rates as a JSON-ready dict."""
        n = max(self.questions, 1)
        precision = self.supported_pairs / self.pairs if self.pairs else None
        return {
            "set": self.name,
            "questions": self.questions,
            "answer_hit_rate": round(self.hits / n, 3),
            "citation_precision": None if precision is None else round(precision, 3),
            "claims_kept": round(self.kept_claims / self.claims, 3) if self.claims else None,
            "written_by_model": round(self.written / n, 3),
            "fallback_with_notice": round(self.fallbacks / n, 3),
            "latency_p50_ms": round(percentile(self.latencies, 50)),
        }


def judge(figures: Figures, assistant: Assistant, item: QAItem, answer: Answer) -> None:
    """Add one answer to the figures (see the module docstring for the definitions)."""
    figures.questions += 1
    cited = [c.text for c in answer.citations]
    if item.answerable:
        figures.hits += not answer.abstained and any(g in t for g in item.gold for t in cited)
    else:
        figures.hits += answer.abstained
    figures.written += answer.backend != "extractive"
    figures.fallbacks += bool(answer.notice) and answer.backend == "extractive"
    by_n = {c.n: c for c in answer.citations}
    for claim in answer.claims:
        figures.claims += 1
        figures.kept_claims += claim.supported
        if not claim.supported:
            figures.pairs += max(len(claim.citations), 1)
            continue
        for n in claim.citations:  # each cited sentence alone
            c = by_n[n]
            article = assistant.store.get(c.article_id).article.text
            (one,) = check_claims(
                [Claim(claim.text, (1,))], {1: c.text}, {1: article}, assistant.embedder
            )
            figures.pairs += 1
            figures.supported_pairs += one.supported


def run_set(
    name: str, items: list[QAItem], settings: Settings, contexts: list[str], verbose: bool
) -> Figures:
    """Ask every item against a fresh index of the items' contexts plus ``contexts``."""
    figures = Figures(name)
    with tempfile.TemporaryDirectory(prefix="assistant-llm-bench-") as tmp:
        assistant = Assistant.from_settings(replace(settings, index_dir=Path(tmp)))

        def on_answer(item: QAItem, answer: Answer) -> None:
            figures.latencies.append(answer.timings_ms.get("total", 0.0))
            judge(figures, assistant, item, answer)
            if verbose:
                kept = sum(c.supported for c in answer.claims)
                print(
                    f"  {item.id} {answer.backend:10s} claims {kept}/{len(answer.claims)} "
                    f"{'notice: ' + answer.notice[:60] if answer.notice else ''}",
                    file=sys.stderr,
                )

        evaluate(items, assistant, name=name, contexts=contexts, on_answer=on_answer)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", choices=["openai", "ollama"])
    parser.add_argument("--llm-url")
    parser.add_argument("--llm-model")
    parser.add_argument("--split", action="append", choices=["dev", "test"])
    parser.add_argument("--limit", type=int, help="at most this many questions per set")
    parser.add_argument(
        "--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per question")
    args = parser.parse_args()

    settings = Settings.from_env(llm=args.llm, llm_url=args.llm_url, llm_model=args.llm_model)
    if settings.llm == "none":
        parser.error("no chat model: give --llm and --llm-model (or set ASSISTANT_LLM...)")
    seed_article = args.eval_dir.parent / "seed" / "kremlin-peskov-biden.txt"
    sets: list[tuple[str, list[QAItem], list[str]]] = [
        (
            "seed_questions",
            load_qa(args.eval_dir / "seed_questions.jsonl", limit=args.limit),
            [seed_article.read_text(encoding="utf-8")],
        )
    ]
    for split in args.split or ["dev", "test"]:
        items = load_qa(
            args.eval_dir / "qa_xling.jsonl",
            split=split,
            direction="question_en->context_id",
            limit=args.limit,
        )
        sets.append((f"qa_xling en->id [{split}]", items, []))

    start = time.perf_counter()
    results = []
    for name, items, contexts in sets:
        print(f"{name}: {len(items)} questions", file=sys.stderr, flush=True)
        results.append(run_set(name, items, settings, contexts, args.verbose).to_json())

    print(
        f"\nchat model: {settings.llm} {settings.llm_model} at {settings.llm_url or 'default URL'}"
        f"   (total {time.perf_counter() - start:.0f} s)\n"
    )
    print(
        "| set | questions | answer hit rate | citation precision | claims kept "
        "| written by model | fallback (notice) | p50 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        cells = [
            "" if r[k] is None else (f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]))
            for k in (
                "questions", "answer_hit_rate", "citation_precision", "claims_kept",
                "written_by_model", "fallback_with_notice", "latency_p50_ms",
            )
        ]  # fmt: skip
        print(f"| {r['set']} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
