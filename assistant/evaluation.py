"""Measuring answers on question sets in the format of ``shared/eval`` (JSON Lines).

A row has ``question`` and either ``context`` + ``answers`` (extractive QA; no answers means the
question is unanswerable) or ``gold`` substrings (hand-made sets about indexed articles), and
optionally ``history``, ``split`` and ``direction``. Every distinct context is indexed into a
fresh temporary index, every question is asked, and an answer is judged by its citations:

* hit@1: the best-scored citation holds a gold string; hit@3: one of the first three does;
* MRR of the first hitting citation (by score rank);
* abstention rate on answerable and on unanswerable questions (abstaining = citing nothing);
* characters cited: per citation, and per answer (all its citations), so that a system cannot
  win by citing whole pages.

``evaluate_file(..., baseline=True)`` also runs the baselines of ``baselines.py`` on the same
questions and contexts.
"""

from __future__ import annotations

import difflib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .answer import Answer
from .articles import FILE_ADVICE, Article, article_from_text
from .config import Settings
from .core import Assistant, check_question, is_text_list
from .errors import ArticleError, AssistantError


@dataclass(frozen=True)
class QAItem:
    """One question with what counts as a correct citation."""

    id: str
    question: str
    gold: tuple[str, ...]
    context: str = ""
    history: tuple[str, ...] = ()
    kind: str = ""
    each_gold: bool = False
    """Whether every gold string is expected (``gold`` strings of a multi-sentence question),
    not any one of them (the alternative ``answers`` of extractive QA)."""

    @property
    def answerable(self) -> bool:
        """Whether a gold string exists (else the assistant must abstain)."""
        return bool(self.gold)


FIELDS = ("id", "question", "context", "answers", "gold", "history", "split", "direction", "kind")
"""The fields of a QA row that ``load_qa`` reads; others (e.g. ``dataset``) are ignored."""


def load_qa(
    path: Path, *, split: str | None = None, direction: str | None = None, limit: int | None = None
) -> list[QAItem]:
    """Read a QA file, keeping rows of ``split``/``direction`` when given."""
    items: list[QAItem] = []
    lines = _read_lines(path)
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = _json_line(path, n, line)
        try:
            question = row["question"]
        except (KeyError, TypeError):
            raise AssistantError(
                f"{path}:{n}: not a JSON object with a 'question'. Each line must be one "
                'object like {"question": ..., "context": ..., "answers": [...]}.'
            ) from None
        if misspelt := {f: meant for f in row if f not in FIELDS and (meant := _close_field(f))}:
            name, meant = next(iter(misspelt.items()))
            raise AssistantError(
                f"{path}:{n}: unknown field {name!r}: did you mean {meant!r}? The fields read "
                f"are {', '.join(FIELDS)}."
            )
        if split and row.get("split", split) != split:
            continue
        if direction and row.get("direction", direction) != direction:
            continue
        gold = row.get("gold", row.get("answers", []))
        context, history = row.get("context", ""), row.get("history", [])
        if not (
            isinstance(question, str)
            and isinstance(context, str)
            and is_text_list(gold)
            and is_text_list(history)
        ):
            raise AssistantError(
                f"{path}:{n}: 'question' and 'context' must be strings, and 'answers' (or "
                "'gold') and 'history' lists of strings."
            )
        try:
            check_question(question)
        except AssistantError as exc:
            raise AssistantError(f"{path}:{n}: {exc}") from None
        strings = tuple(g for g in gold if g)
        items.append(
            QAItem(
                id=str(row.get("id", n)),
                question=question,
                gold=strings,
                context=context,
                history=tuple(history),
                kind=str(row.get("kind", "")),
                each_gold="gold" in row and len(strings) > 1,
            )
        )
        if limit and len(items) >= limit:
            break
    return items


def _close_field(name: str) -> str | None:
    """The field of ``FIELDS`` that ``name`` looks like a misspelling of ("answer"), if any."""
    close = difflib.get_close_matches(name.lower(), FIELDS, n=1, cutoff=0.8)
    return close[0] if close else None


def _json_line(path: Path, n: int, line: str) -> Any:
    """Line ``n`` of a JSON Lines file, parsed, or an error that says where it is broken."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise AssistantError(
            f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno}). Each line must be "
            "one JSON object."
        ) from None


def _read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file, or an error that says what is wrong with it."""
    try:
        return Path(path).read_text(encoding="utf-8-sig").splitlines()  # a BOM is no text
    except OSError as exc:
        raise AssistantError(f"Cannot read {path}: {exc.strerror}. Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise AssistantError(
            f"{path}: not UTF-8 text (byte {exc.start}). Save the file as UTF-8."
        ) from None


@dataclass
class EvalResult:
    """The figures of one run over a question set."""

    name: str
    questions: int = 0
    answerable: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    mrr: float = 0.0
    abstain_answerable: float = 0.0
    abstain_unanswerable: float | None = None
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    index_sentences: int = 0
    """Units indexed: sentences, or chunks for a system that cites chunks (``index_unit``)."""
    index_unit: str = "sentences"
    index_seconds: float = 0.0
    chars_per_citation: float = 0.0
    chars_per_answer: float = 0.0
    without_context: int = 0
    """Questions without a passage of their own (asked over the other rows' passages and the
    articles given beside them)."""
    multi_gold: int = 0
    """Questions whose every ``gold`` string is expected (multi-sentence questions)."""
    gold_coverage: float | None = None
    """The mean share of their gold strings that the citations hold (``None`` without such
    questions)."""
    misses: list[str] = field(default_factory=list)
    """Ids of the answerable questions without a hit in the first three citations."""
    answered_unanswerable: list[str] = field(default_factory=list)
    """Ids of the unanswerable questions that were answered."""

    @property
    def sentences_per_second(self) -> float:
        """Indexing throughput."""
        return self.index_sentences / self.index_seconds if self.index_seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        """Figures as a JSON-ready dict; those about answerable questions are ``None`` when
        there are none (as ``abstain_unanswerable`` is without unanswerable ones)."""
        data = dict(vars(self))
        if not self.answerable:
            data.update(dict.fromkeys(("hit1", "hit3", "mrr", "abstain_answerable")))
        data["sentences_per_second"] = round(self.sentences_per_second, 1)
        return data


def judge(item: QAItem, answer: Answer) -> tuple[bool, bool, float]:
    """(hit@1, hit@3, reciprocal rank) of an answer, citations taken by score rank."""
    ranked = sorted(answer.citations, key=lambda c: -c.score)
    hits = [any(g in c.text for g in item.gold) for c in ranked]
    rank = next((i for i, h in enumerate(hits) if h), None)
    return bool(hits[:1] and hits[0]), any(hits[:3]), 0.0 if rank is None else 1 / (rank + 1)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def index_contexts(
    assistant: Assistant, contexts: Iterable[str], *, progress: Callable[[int], None] | None = None
) -> int:
    """Index each distinct context as an article; returns the number of sentences indexed."""
    sentences = 0
    for i, context in enumerate(dict.fromkeys(c for c in contexts if c.strip())):
        try:
            stored = assistant.add(article_from_text(context, title=f"passage {i + 1}"))
        except AssistantError:
            continue  # a passage too short to be an article is skipped, as a user's would be
        if stored:
            sentences += len(stored.sentences)
        if progress:
            progress(i + 1)
    return sentences


def evaluate(
    items: list[QAItem],
    assistant: Assistant,
    *,
    name: str = "",
    contexts: Iterable[str] = (),
    articles: Sequence[Article] = (),
    progress: Callable[[str, int, int], None] | None = None,
    on_answer: Callable[[QAItem, Answer], None] | None = None,
) -> EvalResult:
    """Index ``articles``, ``contexts`` and the items' contexts into ``assistant`` and ask every
    item (``on_answer`` sees each item with its answer, e.g. to print per-question outcomes)."""
    assistant.embedder.load()  # the indexing throughput is not the model's loading time
    t0 = time.perf_counter()
    n_sentences = 0
    for n, article in enumerate(articles, start=1):
        stored = assistant.add(article)
        n_sentences += len(stored.sentences) if stored else 0
        if progress:
            progress("distractors", n, len(articles))
    all_contexts = [*contexts, *(i.context for i in items)]
    n_sentences += index_contexts(
        assistant, all_contexts, progress=lambda n: progress and progress("index", n, -1)
    )
    result = EvalResult(name, index_sentences=n_sentences)
    result.index_seconds = time.perf_counter() - t0

    def ask(item: QAItem) -> Answer:
        return assistant.ask(item.question, history=item.history)

    return ask_all(items, ask, result, progress=progress, on_answer=on_answer)


def ask_all(
    items: list[QAItem],
    ask: Callable[[QAItem], Answer],
    result: EvalResult,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    on_answer: Callable[[QAItem, Answer], None] | None = None,
) -> EvalResult:
    """Ask every item with ``ask`` and fill ``result`` with the figures of the answers."""
    latencies: list[float] = []
    h1 = h3 = rr = abst_a = abst_u = 0.0
    coverage: list[float] = []
    cited_chars: list[int] = []
    per_answer: list[int] = []
    for n, item in enumerate(items, start=1):
        start = time.perf_counter()
        answer = ask(item)
        latencies.append((time.perf_counter() - start) * 1000)
        cited_chars.extend(len(c.text) for c in answer.citations)
        if answer.citations:
            per_answer.append(sum(len(c.text) for c in answer.citations))
        if on_answer:
            on_answer(item, answer)
        if item.answerable:
            a, b, r = judge(item, answer)
            h1, h3, rr = h1 + a, h3 + b, rr + r
            abst_a += answer.abstained
            if not b:
                result.misses.append(item.id)
            if item.each_gold:
                cited = [c.text for c in answer.citations]
                coverage.append(sum(any(g in t for t in cited) for g in item.gold) / len(item.gold))
        else:
            abst_u += answer.abstained
            if not answer.abstained:
                result.answered_unanswerable.append(item.id)
        if progress:
            progress("ask", n, len(items))
    answerable = sum(i.answerable for i in items)
    unanswerable = len(items) - answerable
    result.questions = len(items)
    result.answerable = answerable
    result.without_context = sum(not i.context.strip() for i in items)
    result.multi_gold = len(coverage)
    result.gold_coverage = statistics.mean(coverage) if coverage else None
    if answerable:
        result.hit1, result.hit3, result.mrr = h1 / answerable, h3 / answerable, rr / answerable
        result.abstain_answerable = abst_a / answerable
    if unanswerable:
        result.abstain_unanswerable = abst_u / unanswerable
    result.latency_p50_ms = percentile(latencies, 50)
    result.latency_p95_ms = percentile(latencies, 95)
    result.chars_per_citation = statistics.mean(cited_chars) if cited_chars else 0.0
    result.chars_per_answer = statistics.mean(per_answer) if per_answer else 0.0
    return result


class Baseline(Protocol):
    """A system to compare with: indexes texts, answers a question with citations."""

    name: str
    unit: str
    """What it indexes and cites: "sentences" or "chunks"."""

    def index(self, texts: Sequence[str]) -> int: ...

    def ask(self, question: str) -> Answer: ...


def evaluate_baseline(
    items: list[QAItem],
    system: Baseline,
    *,
    contexts: Iterable[str] = (),
    progress: Callable[[str, int, int], None] | None = None,
) -> EvalResult:
    """Index the distinct contexts (``contexts`` first, then the items') and ask every item."""
    texts = list(dict.fromkeys(c for c in [*contexts, *(i.context for i in items)] if c.strip()))
    t0 = time.perf_counter()
    result = EvalResult(system.name, index_sentences=system.index(texts), index_unit=system.unit)
    result.index_seconds = time.perf_counter() - t0
    return ask_all(items, lambda item: system.ask(item.question), result, progress=progress)


def load_news(path: Path, *, limit: int | None = None) -> list[Article]:
    """Articles of a news file in the format of ``shared/eval/news_id.jsonl`` (JSON Lines with
    ``text`` and optional ``title``, ``url``, ``date``, ``publisher``); bad rows are errors."""
    articles: list[Article] = []
    for n, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        if limit is not None and len(articles) >= limit:
            break
        row = _json_line(path, n, line)
        try:
            text = row["text"]
            if not isinstance(text, str):
                raise TypeError
        except (KeyError, TypeError):
            raise AssistantError(
                f"{path}:{n}: not a JSON object with a 'text' string. Each line must be one "
                'news article like {"title": ..., "text": ..., "url": ...}.'
            ) from None
        fields = {k: row.get(k) or "" for k in ("title", "url", "date", "publisher")}  # null: ""
        if not all(isinstance(v, str) for v in fields.values()):
            raise AssistantError(
                f"{path}:{n}: 'title', 'url', 'date' and 'publisher' must be strings (or null)."
            )
        try:
            article = article_from_text(
                text,
                title=fields["title"] or None,
                source=f"{path}:{n}",
                url=fields["url"],
                published=fields["date"],
                publisher=fields["publisher"],
            )
        except ArticleError as exc:  # names the row already (its source); not a file's advice
            raise AssistantError(str(exc).removesuffix(f" {FILE_ADVICE}")) from None
        articles.append(article)
    return articles


def evaluate_file(
    path: Path,
    settings: Settings,
    *,
    split: str | None = None,
    direction: str | None = None,
    limit: int | None = None,
    threshold: float | None = None,
    contexts: Iterable[str] = (),
    articles: Sequence[Article] = (),
    progress: Callable[[str, int, int], None] | None = None,
    keep_index: Path | None = None,
    baseline: bool = False,
) -> list[EvalResult]:
    """Evaluate a QA file against a fresh temporary index built with ``settings``' model
    (built in ``keep_index`` instead, and kept, when given).

    With ``baseline``, the baselines (the LangChain tutorial's RAG, BM25 over sentences) are
    measured on the same questions and texts too: results in that order, ours first."""
    model = None
    if baseline:
        from .baselines import minilm_path

        model = minilm_path()  # fail before the long run when the baseline's model is missing
    selected = _load_items(path, split=split, direction=direction)
    items = selected[:limit] if limit else selected
    # a limited run still searches every passage of the selection, as a full run does
    contexts = [*contexts, *(i.context for i in selected[len(items) :])]
    if not (articles or any(c.strip() for c in contexts) or any(i.context.strip() for i in items)):
        raise AssistantError(
            f"{path}: no question has a 'context', so there is nothing to index. Give the "
            "passages in each row's 'context', or as files with --context."
        )
    ours = _evaluate_ours(
        items, settings, name="ours" if baseline else _run_name(path, split),
        threshold=threshold, contexts=contexts, articles=articles, progress=progress,
        keep_index=keep_index,
    )  # fmt: skip
    if model is None:
        return [ours]
    from .baselines import BM25Sentences, TutorialRAG

    texts = [*(a.text for a in articles), *contexts]
    with (
        tempfile.TemporaryDirectory(prefix="assistant-baseline-") as tmp,
        closing(TutorialRAG(Path(tmp), model_path=model)) as rag,
    ):
        tutorial = evaluate_baseline(items, rag, contexts=texts, progress=progress)
    bm25 = evaluate_baseline(items, BM25Sentences(top_k=settings.top_k), contexts=texts)
    return [ours, tutorial, bm25]


def _load_items(path: Path, *, split: str | None, direction: str | None) -> list[QAItem]:
    items = load_qa(path, split=split, direction=direction)
    if items:
        return items
    wanted = {key: value for key, value in (("split", split), ("direction", direction)) if value}
    if not wanted:
        raise AssistantError(f"{path} has no questions: it is empty.")
    chosen = " and ".join(f"{key} {value!r}" for key, value in wanted.items())
    found = []
    for key in wanted:
        values = sorted({str(v) for v in _row_values(path, key)})
        found.append(f"its {key}s: {', '.join(values)}" if values else f"its rows have no {key}")
    raise AssistantError(f"{path} has no questions of {chosen} ({'; '.join(found)}).")


def _row_values(path: Path, key: str) -> list[Any]:
    """The values of ``key`` in the rows of a JSON Lines file that have it."""
    lines = enumerate(_read_lines(path), start=1)
    rows = (_json_line(path, n, line) for n, line in lines if line.strip())
    return [row[key] for row in rows if isinstance(row, dict) and key in row]


def _run_name(path: Path, split: str | None) -> str:
    return f"{Path(path).stem}" + (f" [{split}]" if split else "")


def _evaluate_ours(
    items: list[QAItem],
    settings: Settings,
    *,
    name: str,
    threshold: float | None = None,
    contexts: Iterable[str] = (),
    articles: Sequence[Article] = (),
    progress: Callable[[str, int, int], None] | None = None,
    keep_index: Path | None = None,
) -> EvalResult:
    if keep_index is not None and keep_index.exists() and any(keep_index.iterdir()):
        raise AssistantError(
            f"{keep_index} is not empty: give a new or empty folder to build the index in."
        )
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        index_dir = keep_index if keep_index is not None else Path(tmp)
        # closed before the folder goes: an open Chroma client would outlive its files
        with closing(Assistant.from_settings(replace(settings, index_dir=index_dir))) as assistant:
            if threshold is not None:
                assistant.threshold = threshold
            return evaluate(
                items, assistant, name=name, contexts=contexts, articles=articles, progress=progress
            )
