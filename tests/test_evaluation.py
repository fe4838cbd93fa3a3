"""The evaluation harness: loading QA files, judging answers by their citations, a smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answer import Answer, Citation
from assistant.cli import cli
from assistant.errors import AssistantError
from assistant.evaluation import QAItem, evaluate_file, judge, load_qa, percentile

FIXTURES = Path(__file__).parent / "fixtures"
QA = FIXTURES / "qa_small.jsonl"
SEED = Path(__file__).parents[1] / "index" / "articles" / "kremlin-peskov-biden.txt"


def _citation(n: int, text: str, score: float) -> Citation:
    return Citation(n, "a-1", "t", n, text, 0, len(text), score)


def test_load_qa_filters_by_split() -> None:
    items = load_qa(QA, split="test")
    assert [i.id for i in items] == ["k1", "k2", "k3", "k4", "k5", "k6"]
    assert items[0] == QAItem("k1", items[0].question, ("diulang-ulang seperti mantra",))
    assert not items[5].answerable
    assert [i.id for i in load_qa(QA, split="test", limit=2)] == ["k1", "k2"]


def test_load_qa_reports_bad_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "gold": ["x"]}\n[1, 2]\n')
    with pytest.raises(AssistantError, match=r"bad.jsonl:2: not a JSON object with a 'question'"):
        load_qa(bad)


def test_judge_ranks_citations_by_score() -> None:
    item = QAItem("q", "?", ("gold",))
    answer = Answer("?", "", False, (_citation(1, "no", 0.5), _citation(2, "the gold one", 0.9)))
    assert judge(item, answer) == (True, True, 1.0)
    answer = Answer("?", "", False, (_citation(1, "the gold", 0.5), _citation(2, "no", 0.9)))
    assert judge(item, answer) == (False, True, 0.5)
    assert judge(item, Answer("?", "", True)) == (False, False, 0.0)


def test_percentile() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == 4.0


def test_smoke_eval_on_real_components(settings) -> None:
    """A small end-to-end run: real model, real Chroma, fresh temporary index."""
    result = evaluate_file(QA, settings, split="test", contexts=[SEED.read_text()])
    assert (result.questions, result.answerable) == (6, 5)
    # k3 asks for the TASS sentence, which names neither Peskov nor a news agency in words the
    # question shares: a known miss of this retrieval (docs/benchmarks.md), kept visible here
    assert result.misses == ["k3"]
    assert result.hit3 == pytest.approx(4 / 5)
    assert result.abstain_answerable == 0.0
    assert result.abstain_unanswerable == 1.0
    assert result.index_sentences == 16 + 2 + 2


def test_eval_command_prints_json(tmp_path: Path, model_cache: Path) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    result = CliRunner().invoke(
        cli, ["eval", str(QA), "--split", "dev", "--context", str(SEED), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["questions"], figures["hit3"], figures["name"]) == (1, 1.0, "qa_small [dev]")
    assert not (tmp_path / "index").exists()  # the user's index is not touched
