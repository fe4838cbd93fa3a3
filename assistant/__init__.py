"""Ask questions about news articles and get answers that cite the exact source sentences.

The public API: ``Assistant`` (built with ``Assistant.from_settings(Settings.from_env())``),
its ``Answer``/``Citation`` results, the ``Article`` record and the error tree. Importing the
package loads no model library; torch, sentence-transformers and chromadb load on first use.
"""

from .answer import Answer, Citation, Claim
from .articles import Article
from .config import Settings
from .core import AddReport, Assistant
from .errors import (
    ArticleError,
    ArticleNotFoundError,
    AssistantError,
    ChatModelError,
    EmptyIndexError,
    IndexMismatchError,
    ModelError,
    QuestionError,
    StoreError,
)

__all__ = [
    "AddReport",
    "Answer",
    "Article",
    "ArticleError",
    "ArticleNotFoundError",
    "Assistant",
    "AssistantError",
    "ChatModelError",
    "Citation",
    "Claim",
    "EmptyIndexError",
    "IndexMismatchError",
    "ModelError",
    "QuestionError",
    "Settings",
    "StoreError",
]
