"""Written answers: a chat model answers from numbered sentences, and every claim is checked.

``AnswerWriter.write`` streams the model's text, then checks each claim against the sentences
it cites (``claims.py``), keeps the supported ones and renumbers their citations 1..m in order
of first use. Each citation is still an exact article sentence. When no claim holds, or the
model fails (server down, timeout, malformed reply), the answer is the extractive one with a
``notice`` saying why: a model never makes ``ask`` crash or hang.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .answer import Answer, Citation
from .claims import check_claims, parse_claims
from .llm import (
    Source,
    answer_messages,
    number_sources,
    parse_translations,
    rewrite_messages,
    translation_messages,
)
from .models import Embedder
from .retrieval import Evidence

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

STREAM_TIMEOUTS = 5
"""A whole streamed answer may take this many times the timeout (each read waits one timeout)."""
MAX_REWRITE_CHARS = 500
_LABEL = re.compile(r"^(?:standalone question|question|pertanyaan)\s*:\s*", re.IGNORECASE)
"""A label a chat model puts before its rewritten question ("Standalone question: ...")."""
TRANSLATION_CACHE = 4096
TRANSLATION_PAUSE_S = 300.0
"""After a translation request fails, no more are sent for this long (each would make the
answers wait up to the model's timeout)."""


class AnswerWriter:
    """Writes cited answers with a chat model; ``backend`` names it in answers ("openai"...)."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        embedder: Embedder,
        *,
        backend: str,
        timeout: float = 60.0,
        context_chars: int = 12000,
        translate: bool = True,
    ) -> None:
        self.chat_model = chat_model
        self.embedder = embedder
        self.backend = backend
        self.timeout = timeout
        self.context_chars = context_chars
        self.translate = translate
        self._translations: dict[tuple[str, str], str] = {}
        self._translations_paused_until = 0.0
        self._translation_failure = ""

    def rewrite(self, question: str, history: Sequence[str]) -> tuple[str, str, bool]:
        """(standalone question, notice, whether the model failed) for a follow-up; without a
        usable rewrite the question is "" and the caller retrieves with the history."""
        try:
            reply = _text(self.chat_model.invoke(rewrite_messages(question, history)))
        except Exception as exc:  # any client error: the server is not answering
            return "", self.failure(exc), True
        lines = [line.strip().strip("\"“”'").strip() for line in reply.splitlines()]
        # the first line that is not a preamble ("Sure! Here is the standalone question:")
        standalone = next((line for line in lines if line and not line.endswith(":")), "")
        standalone = _LABEL.sub("", standalone).strip().strip("\"“”'").strip()
        if not standalone or len(standalone) > MAX_REWRITE_CHARS:
            return "", "The chat model did not rewrite the follow-up into a usable question.", False
        return standalone, "", False

    def write(
        self,
        question: str,
        evidence: Sequence[Evidence],
        fallback: Answer,
        *,
        lang: str,
        history: Sequence[str] = (),
    ) -> Iterator[str | Answer]:
        """Yield the model's text as it comes, then the checked ``Answer`` (``fallback``, the
        extractive answer, with a notice when the model's answer cannot be used)."""
        if fallback.abstained:  # the calibrated threshold says the articles do not answer it
            yield fallback
            return
        sources = number_sources(evidence, context_chars=self.context_chars)
        t0 = time.perf_counter()
        deltas: list[str] = []
        try:
            deadline = time.monotonic() + self.timeout * STREAM_TIMEOUTS
            messages = answer_messages(question, sources, lang=lang, history=history)
            for chunk in self.chat_model.stream(messages):
                delta = _text(chunk)
                if delta:
                    deltas.append(delta)
                    yield delta
                if time.monotonic() > deadline:
                    raise _TooLongError(self.timeout * STREAM_TIMEOUTS)
        except Exception as exc:  # any client error becomes a notice on the extractive answer
            yield replace(fallback, notice=self.failure(exc))
            return
        answer = self.checked(question, "".join(deltas), sources, fallback, lang=lang)
        timings = dict(answer.timings_ms)
        timings["write"] = round((time.perf_counter() - t0) * 1000, 1)
        yield replace(answer, timings_ms=timings)

    def checked(
        self, question: str, text: str, sources: Sequence[Source], fallback: Answer, *, lang: str
    ) -> Answer:
        """The answer made of the supported claims of ``text``, or ``fallback`` with a notice."""
        by_number = {s.n: s for s in sources}
        claims = check_claims(
            parse_claims(text, len(sources)),
            {s.n: s.sentence.text for s in sources},
            {s.n: s.article.article.text for s in sources},
            self.embedder,
        )
        kept = [c for c in claims if c.supported]
        if not kept:
            if not text.strip():
                notice = "The chat model gave an empty answer; showing quotes from the articles."
            elif not any(c.citations for c in claims):
                notice = (
                    "The chat model's answer cited none of the given sentences, so it cannot "
                    "be checked; showing quotes from the articles instead."
                )
            else:
                notice = (
                    "The chat model's answer is not supported by the sentences it cites; "
                    "showing quotes from the articles instead."
                )
            unchecked = tuple(replace(c, citations=()) for c in claims)
            return replace(fallback, claims=unchecked, notice=notice)
        order: dict[int, int] = {}
        for claim in kept:
            for n in claim.citations:
                order.setdefault(n, len(order) + 1)
        citations = tuple(_citation(order[n], by_number[n]) for n in order)
        untranslated = ""
        if self.translate:
            langs = {order[n]: by_number[n].article.article.lang for n in order}
            citations, untranslated = self._translated(citations, langs, lang)
        renumbered = tuple(
            replace(c, citations=tuple(order[n] for n in c.citations if n in order)) for c in claims
        )
        dropped = len(claims) - len(kept)
        removed = (
            f"{dropped} of {len(claims)} sentences of the chat model's answer were removed: "
            "the sentences they cite do not support them."
            if dropped
            else ""
        )
        notice = " ".join(n for n in (removed, untranslated) if n)
        return Answer(
            question,
            " ".join(_with_markers(c.text, [order[n] for n in c.citations]) for c in kept),
            False,
            citations,
            dict(fallback.timings_ms),
            claims=renumbered,
            backend=self.backend,
            notice=notice,
        )

    def _translated(
        self, citations: tuple[Citation, ...], langs: dict[int, str], lang: str
    ) -> tuple[tuple[Citation, ...], str]:
        """Citations in another language than the question's, with a cached machine
        translation; and a notice when the model failed to translate them.

        A translation is a convenience (the original is what counts), so a failed request is
        not repeated for every answer: translations pause for ``TRANSLATION_PAUSE_S``."""
        foreign = [c for c in citations if langs.get(c.n) and langs[c.n] != lang]
        missing = list(
            dict.fromkeys(c.text for c in foreign if (c.text, lang) not in self._translations)
        )
        notice = ""
        if missing and time.monotonic() < self._translations_paused_until:
            notice = self._untranslated_notice()
        elif missing:
            try:
                reply = _text(self.chat_model.invoke(translation_messages(missing, lang)))
            except Exception as exc:
                reply = ""
                self._translation_failure = self._reason(exc)
                self._translations_paused_until = time.monotonic() + TRANSLATION_PAUSE_S
                notice = self._untranslated_notice()
            if len(self._translations) > TRANSLATION_CACHE:
                self._translations.clear()
            for n, translation in parse_translations(reply, len(missing)).items():
                original = missing[n - 1]  # an echo is no translation: cached as none
                kept = "" if translation == original else translation
                self._translations[(original, lang)] = kept
        translated = tuple(
            replace(c, translation=self._translations.get((c.text, lang), ""))
            if c in foreign
            else c
            for c in citations
        )
        return translated, notice

    def _untranslated_notice(self) -> str:
        left = max(self._translations_paused_until - time.monotonic(), 0.0)
        when = f"{left / 60:.0f} minutes" if left >= 90 else f"{left:.0f} seconds"
        return (
            "The cited sentences are shown in their own language: the chat model did not "
            f"translate them ({self._translation_failure}). Translations are tried again in "
            f"{when}."
        )

    def _reason(self, exc: BaseException) -> str:
        """What went wrong with a request to the chat model, in a few words."""
        kind = _failure_kind(exc)
        if kind == "timeout":
            return f"no reply within {self.timeout:g} s"
        if kind == "connect":
            return "its server cannot be reached"
        return f"{type(exc).__name__}: {str(exc)[:200]}"

    def failure(self, exc: BaseException) -> str:
        """A one-line notice saying what went wrong with the model and what to do."""
        kind = _failure_kind(exc)
        if isinstance(exc, _TooLongError):
            return (
                f"The chat model's answer took longer than {exc.seconds:g} s and was cut off; "
                "showing quotes from the articles instead. Raise ASSISTANT_LLM_TIMEOUT for "
                "slow models."
            )
        if kind == "timeout":
            return (
                f"The chat model did not answer within {self.timeout:g} s; showing quotes from "
                "the articles instead. Check the server, or raise ASSISTANT_LLM_TIMEOUT."
            )
        if kind == "connect":
            return (
                "The chat model's server cannot be reached; showing quotes from the articles "
                "instead. Start the server or fix --llm-url."
            )
        backend = self.backend.lower()  # "openai", "ollama", or the chat model's class name
        if kind == "not found":
            hint = " (an OpenAI-compatible server's usually ends in /v1)" * ("openai" in backend)
            return (
                f"The chat model's server answered 'not found' ({str(exc)[:200]}); showing "
                f"quotes from the articles instead. Check --llm-model against the models the "
                f"server lists, and --llm-url{hint}."
            )
        server = (
            "an OpenAI-compatible"
            if "openai" in backend
            else "an Ollama"
            if "ollama" in backend
            else "the model's"
        )
        return (
            f"The chat model's reply could not be used ({type(exc).__name__}: "
            f"{str(exc)[:200]}); showing quotes from the articles instead. Check that "
            f"--llm-url points at {server} server."
        )


def _failure_kind(exc: BaseException) -> str:
    """How a request to the chat model failed: "timeout", "connect", "not found" (HTTP 404:
    a wrong model name or address) or "other" (the clients raise their own classes, named for
    it)."""
    names = {k.__name__ for k in type(exc).__mro__}
    if isinstance(exc, TimeoutError) or any("Timeout" in n for n in names):
        return "timeout"
    if isinstance(exc, ConnectionError) or any("Connect" in n for n in names):
        return "connect"
    if getattr(exc, "status_code", None) == 404 or any("NotFound" in n for n in names):
        return "not found"
    return "other"


class _TooLongError(TimeoutError):
    """A streamed answer went on past its time (each piece came in time, but never the end)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the answer took longer than {seconds:g} s")
        self.seconds = seconds


def _text(message: Any) -> str:
    """The text of a LangChain message or chunk (content may be a string or content blocks)."""
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else str(b.get("text", "")) for b in content if b is not None
    )


def _citation(n: int, source: Source) -> Citation:
    s, stored = source.sentence, source.article
    return Citation(
        n=n,
        article_id=stored.id,
        title=stored.article.title,
        sentence=s.index,
        text=s.text,
        start=s.start,
        end=s.end,
        score=round(source.score, 4),
        url=stored.article.url,
    )


def _with_markers(text: str, numbers: list[int]) -> str:
    """The claim with its citation markers before its final punctuation: "... mantra [1][2]."."""
    markers = "".join(f"[{n}]" for n in numbers)
    if text and text[-1] in ".!?":
        return f"{text[:-1]} {markers}{text[-1]}"
    return f"{text} {markers}"
