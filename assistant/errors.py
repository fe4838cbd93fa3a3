"""The one exception tree of the assistant.

Every error a user can cause or meet is an ``AssistantError``; its message says what went
wrong, where, and how to fix it. The CLI prints the message and exits 1; the UI shows it.
``ValueError``/``TypeError`` are kept for programmer misuse only.

    AssistantError
    ├── ArticleError            an article cannot be read or is not usable text
    │   └── FetchError          a web page cannot be fetched (refused, too large, too slow...)
    ├── ArticleNotFoundError    no article has the given id
    ├── QuestionError           the question is empty or unusable
    ├── EmptyIndexError         nothing is indexed yet
    ├── ModelError              the embedding model cannot be built or loaded
    ├── ChatModelError          the chat model is misconfigured (its failures at run time
    │                           become a notice on an extractive answer instead)
    ├── IndexMismatchError      the index was built with another model or format
    └── StoreError              the vector store cannot be opened or written
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to a user."""


class ArticleError(AssistantError):
    """An article cannot be read, decoded or used (empty, binary, too large...)."""


class FetchError(ArticleError):
    """A web address is refused, or its page cannot be fetched within the limits."""


class ArticleNotFoundError(AssistantError):
    """No indexed article has the given id."""


class QuestionError(AssistantError):
    """The question is empty or otherwise unusable."""


class EmptyIndexError(AssistantError):
    """The index holds no articles."""


class ModelError(AssistantError):
    """The embedding model cannot be built or loaded."""


class ChatModelError(AssistantError):
    """The chat model backend is misconfigured or its client library is missing."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with another embedding model or format."""


class StoreError(AssistantError):
    """The vector store cannot be opened, read or written."""
