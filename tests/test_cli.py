"""Tests for assistant.cli: the real commands through click's CliRunner, real model and Chroma."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import pytest
from answer_contract import ANSWER_KEYS, CITATION_KEYS
from click.testing import CliRunner, Result

from assistant.articles import article_from_text, load_article
from assistant.cli import cli
from assistant.config import Settings
from assistant.core import Assistant
from assistant.sentences import split_sentences
from assistant.store import Store

ROOT = Path(__file__).parents[1]
SEED = ROOT / "index" / "articles" / "kremlin-peskov-biden.txt"
PESKOV_EN = "What did Peskov say about sanctions?"
FOLLOW_UP = "And what did he say about Biden's message to Russians?"
ZELENSKY = "What did Zelensky say about the talks?"
MANTRA = "diulang-ulang seperti mantra"
FIRST_USE = (
    "The index is empty: indexing the shipped articles (first use)...\n"
    "Added a-863fdff5a6f11463  Kremlin dikatakan Pada hari Rabu, mereka menyambut baik kesiapan "
    "Presiden AS Joe Biden untuk melanjutkan pembicaraan…  (16 sentences, id)\n"
)
FIX = "Give a .txt or .md file with the article text, or a saved .html page."

STADIUM_TEXT = (Path(__file__).parent / "fixtures" / "rivertown-stadium.txt").read_text()
BRIDGE_TEXT = (
    "The Harbour Bridge in Portvale reopened to traffic on Monday after two years of repairs.\n"
    "City officials said the work cost 85 million dollars.\n"
    "The bridge carries about 60,000 vehicles a day.\n"
)

Invoke = Callable[..., Result]


@pytest.fixture(scope="module", autouse=True)
def _no_progress_bars(model_cache: Path) -> Iterator[None]:
    """Keep transformers' "Loading weights" bars off stderr.

    A fresh ``assistant`` process turns them off before transformers is imported (in
    ``load_embedder``); in this process the session's model conversion imported it first.
    """
    from transformers.utils import logging

    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    yield
    if enabled:
        logging.enable_progress_bar()


@pytest.fixture
def invoke(model_cache: Path) -> Invoke:
    """Run ``assistant ARGS...`` in-process with the session's converted model."""
    runner = CliRunner()

    def run(*args: str | Path, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(
            cli,
            [str(a) for a in args],
            input=input,
            env={"ASSISTANT_CACHE_DIR": str(model_cache), **(env or {})},
            prog_name="assistant",
        )

    return run


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder) -> Path:
    """An index holding the shipped article, shared by the tests that only read it."""
    index_dir = tmp_path_factory.mktemp("cli-seeded") / "index"
    settings = replace(Settings(), index_dir=index_dir, cache_dir=model_cache)
    Assistant(Store(index_dir, embedder), embedder, settings=settings).seed()
    return index_dir


@pytest.fixture(scope="module")
def library(seeded: Path, embedder, sparse_encoder) -> Assistant:
    """The library's view of the ``seeded`` index, to compare the CLI's answers with, with the
    CLI's models: the sparse head's raw question shares the question's pass, which moves the
    question's vector a little (cosine 0.999997: a batch of two is padded)."""
    return Assistant(Store(seeded, embedder), embedder, sparse=sparse_encoder)


def without_timings(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "timings_ms"}


def list_line(index_dir: Path, embedder, article_id: str) -> str:
    stored = Store(index_dir, embedder).get(article_id)
    return (
        f"{stored.id}  {stored.article.lang}  {len(stored.sentences):4d}  {stored.added[:10]}  "
        f"{stored.article.title}"
    )


def check_ok(result: Result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)


# -- ask ---------------------------------------------------------------------------------


def test_ask_on_first_use_seeds_and_answers(tmp_path: Path, invoke: Invoke, embedder) -> None:
    index_dir = tmp_path / "index"
    seed = load_article(SEED)

    result = invoke("--index-dir", index_dir, "ask", PESKOV_EN)

    check_ok(result)
    assert result.stderr == FIRST_USE
    assert MANTRA in result.stdout
    lines = result.stdout.splitlines()
    assert "Sources:" in lines
    # the sentence with the mantra is the article's 10th
    assert any(
        line.startswith("[") and line.endswith(f"] {seed.title} (article {seed.id}, sentence 10)")
        for line in lines
    )

    listed = invoke("--index-dir", index_dir, "list")
    check_ok(listed)
    assert listed.stdout == list_line(index_dir, embedder, seed.id) + "\n"
    assert listed.stderr == ""  # seeded only once


def test_ask_json(seeded: Path, invoke: Invoke, library: Assistant) -> None:
    result = invoke("--index-dir", seeded, "ask", "--json", PESKOV_EN)

    check_ok(result)
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1
    data = json.loads(result.stdout)
    assert set(data) == ANSWER_KEYS
    assert set(data["timings_ms"]) == {"retrieve", "total"}
    assert all(CITATION_KEYS <= set(c) for c in data["citations"])
    assert any(MANTRA in c["text"] for c in data["citations"])
    assert without_timings(data) == without_timings(library.ask(PESKOV_EN).to_json())


def test_ask_json_file(seeded: Path, tmp_path: Path, invoke: Invoke, library: Assistant) -> None:
    rows = [
        {"question": PESKOV_EN},
        {"question": FOLLOW_UP, "history": [PESKOV_EN]},
        {"question": ZELENSKY},
    ]
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "\n".join(json.dumps(r) for r in rows[:2]) + "\n\n" + json.dumps(rows[2]) + "\n",
        encoding="utf-8",
    )

    result = invoke("--index-dir", seeded, "ask", "--json", "--file", questions)

    check_ok(result)
    assert result.stderr == ""
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [r["question"] for r in rows]
    assert all(set(a) == ANSWER_KEYS for a in answers)
    assert [a["abstained"] for a in answers] == [False, False, True]
    assert any("benar-benar memikirkan rakyat Rusia" in c["text"] for c in answers[1]["citations"])
    expected = [library.ask(r["question"], history=r.get("history", [])) for r in rows]
    assert [without_timings(a) for a in answers] == [without_timings(e.to_json()) for e in expected]


# -- list, add, remove -------------------------------------------------------------------


def test_list(seeded: Path, invoke: Invoke, embedder) -> None:
    seed = load_article(SEED)

    result = invoke("--index-dir", seeded, "list")
    check_ok(result)
    assert result.stdout == list_line(seeded, embedder, seed.id) + "\n"
    assert result.stdout.startswith(f"{seed.id}  id    16  ")

    as_json = invoke("--index-dir", seeded, "list", "--json")
    check_ok(as_json)
    (row,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    stored = Store(seeded, embedder).get(seed.id)
    assert Path(row.pop("source")).resolve() == SEED.resolve()
    assert row == {
        "id": seed.id,
        "title": seed.title,
        "lang": "id",
        "sentences": 16,
        "added": stored.added,
        "url": "",
        "published": "",
        "publisher": "",
    }


def test_index_dir_flag_wins_over_the_environment(
    seeded: Path, tmp_path: Path, invoke: Invoke, embedder
) -> None:
    from_env = tmp_path / "from-env"
    seed_line = list_line(seeded, embedder, load_article(SEED).id) + "\n"

    result = invoke("--index-dir", seeded, "list", env={"ASSISTANT_INDEX_DIR": str(from_env)})
    check_ok(result)
    assert result.stdout == seed_line
    assert not from_env.exists()

    result = invoke("list", env={"ASSISTANT_INDEX_DIR": str(seeded)})
    check_ok(result)
    assert result.stdout == seed_line


def test_add_list_remove(tmp_path: Path, invoke: Invoke, embedder) -> None:
    index_dir = tmp_path / "index"
    stadium_file = tmp_path / "stadium.txt"
    stadium_file.write_text(STADIUM_TEXT, encoding="utf-8")
    stadium = article_from_text(STADIUM_TEXT)
    bridge = article_from_text(BRIDGE_TEXT, title="Harbour bridge reopens")
    assert len(split_sentences(bridge.text)) == 3

    added = invoke("--index-dir", index_dir, "add", stadium_file)
    check_ok(added)
    assert (added.stdout, added.stderr) == (
        f"Added {stadium.id}  Rivertown FC to build a new stadium  (5 sentences, en)\n",
        "",
    )

    again = invoke("--index-dir", index_dir, "add", stadium_file)
    check_ok(again)
    assert (again.stdout, again.stderr) == (
        f"Unchanged {stadium.id}  Rivertown FC to build a new stadium  (already indexed)\n",
        "",
    )
    # a new title does not change an indexed article: the report names the kept one
    retitled = invoke("--index-dir", index_dir, "add", "--title", "Other title", stadium_file)
    assert retitled.stdout == again.stdout
    assert retitled.stderr == (
        "Note: --title is not applied: the article is indexed already as “Rivertown FC to build "
        f"a new stadium”. Remove it first (`assistant remove {stadium.id}`) to give it another "
        "title.\n"
    )

    piped = invoke(
        "--index-dir", index_dir, "add", "-", "--title", "Harbour bridge reopens", input=BRIDGE_TEXT
    )
    check_ok(piped)
    assert (piped.stdout, piped.stderr) == (
        f"Added {bridge.id}  Harbour bridge reopens  (3 sentences, en)\n",
        "",
    )

    # `add` does not seed the shipped articles: the index holds exactly what was added
    listed = invoke("--index-dir", index_dir, "list")
    check_ok(listed)
    assert sorted(listed.stdout.splitlines()) == sorted(
        list_line(index_dir, embedder, a.id) for a in (stadium, bridge)
    )

    removed = invoke("--index-dir", index_dir, "remove", stadium.id[:8])
    check_ok(removed)
    assert (removed.stdout, removed.stderr) == (
        f"Removed {stadium.id}  Rivertown FC to build a new stadium\n",
        "",
    )

    listed = invoke("--index-dir", index_dir, "list")
    check_ok(listed)
    assert listed.stdout == list_line(index_dir, embedder, bridge.id) + "\n"
    assert stadium.id not in listed.stdout


# -- bad input ---------------------------------------------------------------------------

BAD_INPUT = [
    pytest.param(
        ["add", "{tmp}/missing.txt"],
        1,
        "Error: {tmp}/missing.txt: no such file or folder. Check the path.",
        id="missing file",
    ),
    pytest.param(
        ["add", "{tmp}/empty.txt"],
        1,
        f"Error: {{tmp}}/empty.txt: is empty, there is no article text. {FIX}",
        id="empty file",
    ),
    pytest.param(
        ["add", "{tmp}/image.txt"],
        1,
        f"Error: {{tmp}}/image.txt: not a text file (binary content). {FIX}",
        id="binary file",
    ),
    pytest.param(
        ["add", "--title", "A title", "{tmp}/docs"],
        1,
        "Error: a title can only be given for a single article file. Load one file with the "
        "title, or leave the title out.",
        id="title for a folder",
    ),
    pytest.param(
        ["remove", "nope"],
        1,
        "Error: Unknown article id 'nope' (no article has it). "
        "Run `assistant list` to see the ids.",
        id="unknown article id",
    ),
    pytest.param(
        ["ask", ""],
        1,
        "Error: The question is empty. Type a question about the articles.",
        id="empty question",
    ),
    pytest.param(
        ["ask", " \t "],
        1,
        "Error: The question is empty. Type a question about the articles.",
        id="blank question",
    ),
    pytest.param(
        ["ask", "?!"],
        1,
        "Error: The question has no words. Type a question about the articles.",
        id="question without words",
    ),
    pytest.param(
        ["ask", "--file", "{tmp}/empty-question.jsonl"],
        1,
        "Error: line 1 of {tmp}/empty-question.jsonl: The question is empty. Type a question "
        "about the articles.",
        id="empty question in a file",
    ),
    pytest.param(
        ["ask", "--file", "{tmp}/bad-second-line.jsonl"],
        1,
        "Error: line 2 of {tmp}/bad-second-line.jsonl: expected a JSON object with a 'question' "
        "string and an optional 'history' list of strings.",
        id="a bad line after a good one: nothing is answered",
    ),
    pytest.param(
        ["ask", "--file", "{tmp}/misspelt-field.jsonl"],
        1,
        "Error: line 1 of {tmp}/misspelt-field.jsonl: expected a JSON object with a 'question' "
        "string and an optional 'history' list of strings (its fields: 'qestion').",
        id="a misspelt field is named",
    ),
    pytest.param(
        ["ask", "--file", "{tmp}/latin1.jsonl"],
        1,
        "Error: {tmp}/latin1.jsonl: not UTF-8 text. Save the file as UTF-8.",
        id="question file not UTF-8",
    ),
    pytest.param(
        ["ask", "--file", "{tmp}/missing.jsonl"],
        1,
        "Error: {tmp}/missing.jsonl: no such file. Check the path.",
        id="missing question file",
    ),
    pytest.param(
        ["eval", "{tmp}/missing.jsonl"],
        1,
        "Error: {tmp}/missing.jsonl: no such file. Check the path.",
        id="eval: missing file",
    ),
    pytest.param(
        ["eval", "{tmp}/questions.jsonl", "--context", "{tmp}/docs"],
        1,
        "Error: {tmp}/docs: is a folder; give a file.",
        id="eval: a folder as --context",
    ),
    pytest.param(
        ["bench", "--news", "{tmp}/missing.jsonl"],
        1,
        "Error: {tmp}/missing.jsonl: no such file. Check the path.",
        id="bench: missing news file",
    ),
    pytest.param(
        ["ask", "--index-dir", "{tmp}/other", PESKOV_EN],
        2,
        "Error: No such option: --index-dir. Global options go before the command: "
        "assistant --index-dir ... ask ...",
        id="a global option after the command",
    ),
    pytest.param(
        ["add", "www.example.com/news"],
        1,
        "Error: www.example.com/news: no such file or folder. Check the path. If it is a web "
        "address, give it as https://www.example.com/news",
        id="web address without https",
    ),
    pytest.param(
        ["ask", "--bogus", PESKOV_EN], 2, "Error: No such option '--bogus'.", id="unknown option"
    ),
    pytest.param(
        ["ask"],
        2,
        'Error: Give a QUESTION, or --file with one JSON object a line: {{"question": ...}}.',
        id="no question",
    ),
    pytest.param(
        ["ask", PESKOV_EN, "--file", "{tmp}/questions.jsonl"],
        2,
        "Error: Give either a QUESTION or --file, not both.",
        id="question and file",
    ),
    pytest.param(
        ["add", "-", "{tmp}/empty.txt"],
        2,
        "Error: '-' (stdin) cannot be combined with paths.",
        id="stdin and paths",
    ),
    pytest.param(["add"], 2, "Error: Missing argument 'PATHS...'.", id="add nothing"),
    pytest.param(
        ["add", "http://127.0.0.1:9/news.html"],
        1,
        "Error: http://127.0.0.1:9/news.html: 127.0.0.1 is a local or private address "
        "(127.0.0.1); fetching those is off by default. Set ASSISTANT_ALLOW_PRIVATE_URLS=true "
        "to allow intranet pages.",
        id="private address",
    ),
    pytest.param(
        ["serve", "--auth", "ana"],
        1,
        "Error: The login must be given as USER:PASSWORD (both non-empty), e.g. --auth ana:s3cret.",
        id="login without password",
    ),
    pytest.param(
        ["serve", "--port", "70000"],
        2,
        "Error: Invalid value for '--port': 70000 is not in the range 1<=x<=65535.",
        id="port out of range",
    ),
    pytest.param(["frobnicate"], 2, "Error: No such command 'frobnicate'.", id="unknown command"),
]


@pytest.mark.parametrize(("args", "code", "error"), BAD_INPUT)
def test_bad_input(tmp_path: Path, invoke: Invoke, args: list[str], code: int, error: str) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    (tmp_path / "questions.jsonl").write_text(json.dumps({"question": PESKOV_EN}) + "\n")
    (tmp_path / "empty-question.jsonl").write_text('{"question": ""}\n' + '{"question": "x?"}\n')
    (tmp_path / "bad-second-line.jsonl").write_text(
        json.dumps({"question": PESKOV_EN}) + "\nnot json\n"
    )
    (tmp_path / "misspelt-field.jsonl").write_text(json.dumps({"qestion": PESKOV_EN}) + "\n")
    (tmp_path / "latin1.jsonl").write_bytes('{"question": "Café?"}\n'.encode("latin-1"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "one.txt").write_text(BRIDGE_TEXT)
    index_dir = tmp_path / "index"

    result = invoke("--index-dir", index_dir, *[a.format(tmp=tmp_path) for a in args])

    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    expected = error.format(tmp=tmp_path)
    if code == 1:
        assert result.stderr == expected + "\n"
    else:
        assert result.stderr.startswith("Usage: assistant")
        assert result.stderr.splitlines()[-1] == expected
    assert not (index_dir / "index.json").exists()  # nothing was indexed


@pytest.mark.parametrize("command", [["list"], ["add", "{tmp}/story.txt"]])
def test_an_index_folder_that_cannot_be_written_is_one_line(
    tmp_path: Path, invoke: Invoke, command: list[str]
) -> None:
    (tmp_path / "story.txt").write_text(BRIDGE_TEXT)
    (tmp_path / "file").write_text("a file where a folder should be")
    index = tmp_path / "file" / "index"
    result = invoke("--index-dir", index, *[a.format(tmp=tmp_path) for a in command])
    assert result.exit_code == 1, result.exception
    assert result.stderr.splitlines()[-1] == (
        f"Error: Cannot write to the index folder {index} (Not a directory). Give a folder "
        "you can write to with --index-dir (or ASSISTANT_INDEX_DIR)."
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ASSISTANT_TOP_K", "0"), ("ASSISTANT_BATCH_SIZE", "0"), ("ASSISTANT_FETCH_TIMEOUT", "-1")],
)
def test_a_setting_out_of_range_is_one_line(
    tmp_path: Path, invoke: Invoke, variable: str, value: str
) -> None:
    result = invoke("--index-dir", tmp_path / "index", "list", env={variable: value})
    assert result.exit_code == 1 and result.stdout == ""
    shown = repr(float(value)) if "TIMEOUT" in variable else value
    assert (
        result.stderr == f"Error: {variable}={shown} must be above 0. Fix or unset the variable.\n"
    )


def test_an_articles_folder_that_does_not_exist_is_one_line(tmp_path: Path, invoke: Invoke) -> None:
    """A typo in the folder started an empty index without a word."""
    missing = tmp_path / "artcles"
    result = invoke(
        "--index-dir", tmp_path / "index", "list", env={"ASSISTANT_ARTICLES_DIR": str(missing)}
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: ASSISTANT_ARTICLES_DIR={str(missing)!r} is not a folder. Give a folder of "
        "articles (an empty one starts an empty index), or unset the variable.\n"
    )
    assert not (tmp_path / "index").exists()


# -- help and start-up -------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, "add", "ask", "list", "remove", "serve"])
def test_help(invoke: Invoke, command: str | None) -> None:
    target = cli if command is None else cli.commands[command]
    assert isinstance(target, click.Command)
    assert target.help
    for param in target.params:
        if isinstance(param, click.Option):
            assert param.help, f"{command or 'assistant'} {param.opts} has no help text"

    result = invoke(*([command] if command else []), "--help")

    check_ok(result)
    assert result.stderr == ""
    usage = "Usage: assistant" + (f" {command}" if command else "")
    assert result.stdout.startswith(usage + " [OPTIONS]")
    assert " ".join(target.help.split()) in " ".join(result.stdout.split())
    if command is None:
        listed = result.stdout.split("Commands:")[1].split()
        assert {"add", "ask", "list", "remove", "serve"} <= set(listed)


def test_version(invoke: Invoke) -> None:
    result = invoke("--version")
    check_ok(result)
    assert result.stdout == "assistant, version 0.1.0\n"


def test_import_loads_no_heavy_library() -> None:
    heavy = ("torch", "sentence_transformers", "chromadb", "gradio")
    code = (
        "import sys, assistant, assistant.cli; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_an_articles_folder_without_articles_starts_an_empty_index(
    tmp_path: Path, invoke: Invoke
) -> None:
    """No error on every command (the index stays new): an empty index, and a clear error
    where one is needed; a folder with articles is named when they are indexed."""
    empty, index_dir = tmp_path / "none", tmp_path / "index"
    empty.mkdir()
    env = {"ASSISTANT_ARTICLES_DIR": str(empty)}
    for _ in range(2):
        listed = invoke("--index-dir", index_dir, "list", env=env)
        assert listed.exit_code == 0, listed.output
        assert (listed.stdout, listed.stderr) == (
            "",
            "No articles are indexed. Add some with `assistant add PATH`.\n",
        )
    asked = invoke("--index-dir", index_dir, "ask", PESKOV_EN, env=env)
    assert asked.exit_code == 1
    assert asked.stderr == (
        f"Error: No articles are indexed in {index_dir}. Run `assistant add FILE` first.\n"
    )

    own = tmp_path / "own"
    own.mkdir()
    (own / "stadium.txt").write_text(STADIUM_TEXT, encoding="utf-8")
    listed = invoke("--index-dir", index_dir, "list", env={"ASSISTANT_ARTICLES_DIR": str(own)})
    check_ok(listed)
    # (a slow machine may log the embedding's progress between the two lines)
    assert listed.stderr.startswith(
        f"The index is empty: indexing the articles of {own} (first use)...\n"
    )
    assert "\nAdded a-" in listed.stderr


def test_a_long_add_logs_its_progress_without_a_terminal(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped or redirected, a long add prints a line now and then (here: every time, the
    interval set to 0) and its last; a short one stays quiet (the test above)."""
    import assistant.cli

    monkeypatch.setattr(assistant.cli, "LOG_PROGRESS_EVERY_S", 0.0)
    stadium_file = tmp_path / "stadium.txt"
    stadium_file.write_text(STADIUM_TEXT, encoding="utf-8")
    added = invoke("--index-dir", tmp_path / "index", "add", stadium_file)
    check_ok(added)
    lines = added.stderr.splitlines()
    assert len(lines) > 1
    assert all(
        re.fullmatch(r"Indexing Rivertown FC to build a new stadium: \d+/\d+ texts embedded", line)
        for line in lines
    )
    done, total = lines[-1].split(": ")[1].split()[0].split("/")
    assert done == total


def test_a_folder_add_names_the_files_it_did_not_read(tmp_path: Path, invoke: Invoke) -> None:
    """A .pdf or .rst in a folder was skipped without a word (given by name, it is refused)."""
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "stadium.txt").write_text(STADIUM_TEXT, encoding="utf-8")
    (folder / "report.pdf").write_bytes(b"%PDF-1.7")
    (folder / "sub" / "readme.rst").write_text("Notes", encoding="utf-8")
    (folder / ".hidden.bin").write_bytes(b"\x00")
    result = invoke("--index-dir", tmp_path / "index", "add", folder)
    check_ok(result)
    assert result.stdout.startswith("Added ")
    assert result.stderr.splitlines()[-1] == (
        f"Note: {folder}: 2 files of other types not read (report.pdf, readme.rst); articles "
        "are read from .txt, .md, .markdown, .text, .html, .htm files."
    )


def test_an_interrupted_add_reports_what_it_indexed(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the second article of a folder printed only "Aborted!", though the first one
    was indexed."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a-stadium.txt").write_text(STADIUM_TEXT, encoding="utf-8")
    (folder / "b-bridge.txt").write_text(BRIDGE_TEXT, encoding="utf-8")
    stadium = article_from_text(STADIUM_TEXT)
    index = Assistant._index

    def interrupted(self: Assistant, article, **kwargs):  # Ctrl-C as the bridge is embedded
        if "Harbour" in article.text:
            raise KeyboardInterrupt
        return index(self, article, **kwargs)

    monkeypatch.setattr(Assistant, "_index", interrupted)
    result = invoke("--index-dir", tmp_path / "index", "add", folder)
    assert result.exit_code == 130
    assert (
        result.stdout
        == f"Added {stadium.id}  Rivertown FC to build a new stadium  (5 sentences, en)\n"
    )
    assert result.stderr.splitlines()[-1] == (  # after any progress lines
        "Interrupted: the articles reported above are indexed; the rest are not (add them again)."
    )
    monkeypatch.undo()
    listed = invoke("--index-dir", tmp_path / "index", "list", "--json")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [stadium.id]


def test_add_a_web_page(tmp_path: Path, invoke: Invoke) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "bridge.html").write_text(
        "<html><head><title>Bridge reopens</title>"
        '<meta property="og:site_name" content="Portvale Post"></head><body><article>'
        + "".join(f"<p>{line}</p>" for line in BRIDGE_TEXT.splitlines())
        + "</article></body></html>"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bridge.html"
    env = {"ASSISTANT_ALLOW_PRIVATE_URLS": "true"}
    try:
        added = invoke("--index-dir", tmp_path / "index", "add", url, env=env)
        again = invoke("--index-dir", tmp_path / "index", "add", url, env=env)
        # a single address takes --title, as a single file does (it was refused)
        titled = invoke(
            "--index-dir", tmp_path / "titled", "add", "--title", "My bridge", url, env=env
        )
    finally:
        server.shutdown()
        server.server_close()
    check_ok(titled)
    assert "My bridge  (3 sentences, en)" in titled.stdout
    check_ok(added)
    assert (
        added.stdout.startswith("Added u-") and "Bridge reopens  (3 sentences, en)" in added.stdout
    )
    check_ok(again)
    assert again.stdout.startswith("Unchanged u-")
    listed = invoke("--index-dir", tmp_path / "index", "list", "--json")
    row = json.loads(listed.stdout)
    assert (row["title"], row["source"]) == ("Bridge reopens", url)


def test_ask_json_on_first_use_prints_one_object(tmp_path: Path, invoke: Invoke) -> None:
    """The seeding report of a first use goes to stderr: ``ask --json`` prints one object."""
    result = invoke("--index-dir", tmp_path / "index", "ask", "--json", PESKOV_EN)

    check_ok(result)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines[:-1]  # the seeding report is printed before the answer
    assert set(json.loads(lines[0])) == ANSWER_KEYS
