"""Checking that the names a question asks about occur in the evidence at all.

Dense similarity says a sentence is *about* the topic of a question, not that it is about the
same person or place: "What did Zelensky say about the talks?" lands close to sentences about
Peskov and the talks. A question about a name that no indexed article mentions cannot be
answered from them. Names are compared loosely, because they change between languages
(Russia/Rusia, Moscow/Moskow, European/Eropa).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

_NAME = re.compile(r"\b[A-Z][\w'-]{2,}")
_WORD = re.compile(r"\w+")
NAME_SIMILARITY = 0.75


def question_names(question: str) -> list[str]:
    """Capitalised words of the question, except its first word."""
    first = _WORD.search(question)
    skip = first.start() if first else -1
    return [m.group(0) for m in _NAME.finditer(question) if m.start() != skip]


class Vocabulary:
    """The words of a set of articles, grouped by first letter for loose name look-ups."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.words: set[str] = {w.lower() for text in texts for w in _WORD.findall(text)}
        self._by_initial: dict[str, list[str]] = {}
        for word in self.words:
            self._by_initial.setdefault(word[0], []).append(word)

    def mentions(self, name: str) -> bool:
        """True when the name, or a close spelling of it, occurs."""
        name = name.lower().strip("'-")
        if name in self.words:
            return True
        for word in self._by_initial.get(name[0], ()):
            if abs(len(word) - len(name)) > 4:
                continue
            matcher = SequenceMatcher(None, name, word)
            if matcher.quick_ratio() >= NAME_SIMILARITY and matcher.ratio() >= NAME_SIMILARITY:
                return True
        return False


def missing_names(question: str, vocabulary: Vocabulary) -> list[str]:
    """The question's names that the articles never mention, even in another spelling."""
    return [n for n in question_names(question) if not vocabulary.mentions(n)]
