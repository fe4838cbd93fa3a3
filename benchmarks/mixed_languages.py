"""Both languages in one index: questions whose answer is in the other language, among
articles in their own.

Each set of the evaluation data indexes passages of one language; a user's index holds both.
This script builds two indexes of the split's passages and asks each question twice on the same
index, with the languages balanced (the default, ``Retriever.balance_languages``) and without:

  * index A: the Indonesian passages of qa_id and the English passages of qa_xling
    (question_id->context_en). Asked: qa_xling id->en (Indonesian questions, English answers)
    and qa_id (Indonesian over Indonesian).
  * index B: the Indonesian passages of qa_xling (question_en->context_id) and the English
    paragraphs of qa_en that are not the originals of those passages (the originals would
    answer the question in English). Asked: qa_xling en->id and the qa_en questions of those
    paragraphs.

Usage:  .venv/bin/python benchmarks/mixed_languages.py [--split dev|test]
        [--eval-dir ../shared/eval] [--keep DIR]   (keep the two indexes in DIR/a, DIR/b)
Reads ../shared/eval (not shipped with the project); prints a Markdown table.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from assistant.answer import Answer
from assistant.config import Settings
from assistant.core import Assistant
from assistant.evaluation import EvalResult, QAItem, ask_all, index_contexts, load_qa

XLING = "qa_xling.jsonl"
ID_TO_EN = "question_id->context_en"
EN_TO_ID = "question_en->context_id"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def english_distractors(eval_dir: Path, split: str) -> set[str]:
    """qa_en paragraphs of the split that are not the original of an en->id passage: every
    en->id question's SQuAD id names the English paragraph its passage was translated from."""
    xling, qa_en = _rows(eval_dir / XLING), _rows(eval_dir / "qa_en.jsonl")
    paragraph = {r["id"].rsplit("-", 1)[-1]: r["context"] for r in qa_en}
    paragraph.update({r["squad_id"]: r["context"] for r in xling if r["direction"] == ID_TO_EN})
    asked = [r for r in xling if r["split"] == split and r["direction"] == EN_TO_ID]
    missing = [r["squad_id"] for r in asked if r["squad_id"] not in paragraph]
    if missing:
        raise SystemExit(f"no English paragraph known for {len(missing)} en->id questions")
    originals = {paragraph[r["squad_id"]] for r in asked}
    english = {r["context"] for r in qa_en if r["split"] == split}
    return english - originals


def _ask_both(
    assistant: Assistant, items: list[QAItem], name: str
) -> tuple[EvalResult, EvalResult]:
    """The figures with the languages balanced and without, on the same index."""
    plain = copy.copy(assistant.retriever)
    plain.balance_languages = False
    balanced = assistant.retriever
    results = []
    for retriever in (balanced, plain):
        assistant.retriever = retriever

        def ask(item: QAItem) -> Answer:
            return assistant.ask(item.question, history=item.history)

        results.append(ask_all(items, ask, EvalResult(name), progress=_progress))
    assistant.retriever = balanced
    return results[0], results[1]


def _progress(stage: str, done: int, total: int) -> None:
    """Every 100th step (``total`` 0: not known)."""
    if done % 100 == 0 or done == total:
        of = f"/{total}" if total else " passages indexed"
        print(f"  {stage} {done}{of}", file=sys.stderr, flush=True)


def run(
    eval_dir: Path, split: str, keep: Path | None
) -> list[tuple[str, str, EvalResult, EvalResult]]:
    settings = Settings.from_env()
    xling = eval_dir / XLING
    id_to_en = load_qa(xling, split=split, direction=ID_TO_EN)
    en_to_id = load_qa(xling, split=split, direction=EN_TO_ID)
    qa_id = load_qa(eval_dir / "qa_id.jsonl", split=split)
    distractors = english_distractors(eval_dir, split)
    qa_en = [i for i in load_qa(eval_dir / "qa_en.jsonl", split=split) if i.context in distractors]
    plans: list[tuple[str, list[str], list[tuple[str, list[QAItem]]]]] = [
        (
            "A",
            [i.context for i in qa_id + id_to_en],
            [("qa_xling id->en", id_to_en), ("qa_id", qa_id)],
        ),
        (
            "B",
            [i.context for i in en_to_id] + sorted(distractors),
            [("qa_xling en->id", en_to_id), ("qa_en (those paragraphs)", qa_en)],
        ),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, contexts, sets in plans:
            folder = (keep or Path(tmp)) / label.lower()
            assistant = Assistant.from_settings(replace(settings, index_dir=folder))
            sentences = index_contexts(
                assistant, contexts, progress=lambda n, label=label: _progress(label, n, 0)
            )
            print(f"index {label}: {sentences} sentences", file=sys.stderr, flush=True)
            for name, items in sets:
                rows.append((label, name, *_ask_both(assistant, items, name)))
            assistant.store.close()
    return rows


def _figures(r: EvalResult) -> str:
    return f"{r.hit1:.3f} / {r.hit3:.3f} ({r.abstain_answerable:.3f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--keep", type=Path, help="keep the two indexes in this folder")
    args = parser.parse_args(argv)
    rows = run(args.eval_dir, args.split, args.keep)
    print(f"\n{args.split} split, hit@1 / hit@3 (share of answerable questions abstained)\n")
    print("| index | questions | n | balanced | not balanced |")
    print("|---|---|---:|---:|---:|")
    for label, name, on, off in rows:
        print(f"| {label} | {name} | {on.questions} | {_figures(on)} | {_figures(off)} |")


if __name__ == "__main__":
    main()
