"""The Gradio chat window: a thin layer over ``Assistant``, like the CLI.

``build_app`` builds the Blocks; ``launch`` serves them. Every action calls the same library
functions as the CLI, and answers are rendered by ``render_answer`` (its HTML form). Errors
become messages on the page, never tracebacks. The conversation is kept in the browser's
local storage (encrypted with a secret kept in the index folder), so it survives a reload and a
server restart.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterator, Sequence
from html import escape
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402

from .answer import counted, render_answer  # noqa: E402
from .articles import (  # noqa: E402
    PASTED,
    SUPPORTED_SUFFIXES,
    Article,
    load_article,
    pasted_article,
)
from .core import AddReport, Assistant, check_question  # noqa: E402
from .errors import ArticleError, AssistantError  # noqa: E402
from .llm import language_name  # noqa: E402
from .store import StoredArticle  # noqa: E402

STORAGE_KEY = "news-assistant-chat"
EMPTY_CHAT: dict[str, list[Any]] = {"messages": [], "questions": []}
_SEARCHING = "_Searching the articles…_"
HISTORY_SHOWN = 3
"""Earlier questions of the chat given with a question: a follow-up refers to the latest that
names someone ("What did Peskov say?", "What about sanctions?", "And what did he say about
NATO?")."""
REMOVED_FROM_SCOPE = "⚠️ A chosen article was removed meanwhile: it left “Only these articles”."
REMOVED_MEANWHILE = (
    "⚠️ The picked article was removed meanwhile (in another window or from the command line): "
    "pick another."
)
# the result of an add shows below all the add controls: brought into view when it comes
_SHOW_ADD_STATUS = "() => document.getElementById('add-status')?.scrollIntoView({block: 'nearest'})"

CSS = """
.cite-marker { font-weight: 600; text-decoration: none !important; cursor: pointer;
  padding: 0 .2em; border-radius: 4px; background: var(--color-accent-soft); }
details.cite { margin: .35em 0; padding: .2em .6em; border-left: 3px solid var(--color-accent); }
details.cite summary { cursor: pointer; }
details.cite.flash { background: rgba(255, 214, 0, .18); }
.cite-context { margin: .3em 0; font-size: .95em; }
.cite-context mark { background: #ffe066; color: #000; padding: 0 .1em; }
.cite-meta { margin: .2em 0; font-size: .85em; opacity: .8; }
.sources-label { font-weight: 600; margin: .6em 0 .1em; }
.answer.abstained p { font-style: italic; }
.answer .notice, .cite-translation { font-size: .9em; opacity: .85; }
#reader .article-text { max-height: 32em; overflow-y: auto; white-space: pre-wrap; }
/* a phone's width holds the title and the id (the rest shows when an article is read) */
@media (max-width: 640px) {
  #article-table .body-cell:nth-child(n+2):nth-child(-n+5) { display: none; }
  #article-table .virtual-row { width: 100% !important; min-width: 0 !important; }
  #article-table .body-cell:nth-child(1) { flex: 1 1 auto !important;
    width: auto !important; min-width: 0 !important; max-width: none !important; }
  #article-table .body-cell:nth-child(6) { flex: 0 0 auto !important;
    width: auto !important; min-width: 0 !important; max-width: none !important;
    white-space: nowrap; }
  #article-table thead { display: none; }  /* its cells keep the widths of six columns */
}
"""

# A click on a marker opens its source and scrolls to it (the chat's links are not followed).
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const marker = event.target.closest && event.target.closest("a.cite-marker");
  if (!marker) return;
  event.preventDefault();
  event.stopPropagation();
  const source = document.getElementById(marker.getAttribute("href").slice(1));
  if (!source) return;
  source.open = true;
  source.classList.add("flash");
  (source.querySelector("mark") || source).scrollIntoView({block: "center"});
  setTimeout(() => source.classList.remove("flash"), 1600);
}, true);
</script>
"""


_WEB_ADDRESS = re.compile(r"(?:https?://|www\.)\S+")


def as_text(text: str) -> str:
    """Text shown verbatim in Markdown: no markup, no formatting characters. Web addresses
    stay as written (the renderer links them and would show escapes inside them)."""
    parts = []
    at = 0
    for m in _WEB_ADDRESS.finditer(text):
        parts += [_escaped(text[at : m.start()]), escape(m.group(0), quote=False)]
        at = m.end()
    return "".join([*parts, _escaped(text[at:])])


def _escaped(text: str) -> str:
    return "".join(
        "\\" + ch if ch in "\\`*_{}[]()#+-.!|~>" else ch for ch in escape(text, quote=False)
    )


def report_markdown(report: AddReport) -> str:
    """What an add did, one line per article or refused input."""
    lines = [
        f"✅ Added **{as_text(s.article.title)}** ({counted(len(s.sentences), 'sentence')}, "
        f"{language_name(s.article.lang)}, id `{s.id}`)"
        for s in report.added
    ]
    lines += [
        f"ℹ️ Already indexed: **{as_text(a.title)}** (id `{a.id}`), not added again"
        for a in report.unchanged
    ]
    lines += [f"⚠️ {as_text(str(e))}" for e in report.errors]
    return "\n\n".join(lines) or "Nothing to add."


def article_rows(articles: Sequence[StoredArticle]) -> list[list[Any]]:
    """The article table: title, language, sentences, published, added, id."""
    return [
        [
            a.article.title,
            a.article.lang,
            len(a.sentences),
            a.article.published,
            a.added[:10],
            a.id,
        ]
        for a in articles
    ]


def article_html(stored: StoredArticle) -> str:
    """An article for reading: title, where it comes from, and its text (escaped)."""
    a = stored.article
    meta = [escape(x) for x in (a.publisher, a.published) if x]
    meta.append(escape(a.url or Path(a.source).name or a.source))
    meta.append(f"{len(stored.sentences)} sentences, {escape(a.lang)}, added {stored.added[:10]}")
    return (
        f"<h3>{escape(a.title)}</h3><p class='cite-meta'>{' · '.join(meta)}</p>"
        f"<div class='article-text'>{escape(a.text)}</div>"
    )


def _progress_bar(progress: gr.Progress) -> Callable[[Article, int, int], None]:
    def show(article: Article, done: int, total: int) -> None:
        # a share: the count is of sentences and passages both, which reads as neither
        progress(done / max(total, 1), desc=f"Indexing {article.title[:60]}")

    return show


def build_app(assistant: Assistant, *, secret: str | None = None) -> gr.Blocks:
    """The chat window over ``assistant`` (not launched; see ``launch``)."""
    settings = assistant.settings

    def article_choices(articles: Sequence[StoredArticle] | None = None) -> list[tuple[str, str]]:
        articles = assistant.articles() if articles is None else articles
        return [(f"{a.article.title} ({a.id[:8]})", a.id) for a in articles]

    def article_views(**values: Any) -> tuple[Any, Any, Any]:
        """The article table, the scope's and the picker's choices; ``scope=`` and ``picked=``
        also set those values."""
        articles = assistant.articles()
        options = article_choices(articles)
        scope_now, picked_now = (
            gr.update(choices=options, **({"value": values[k]} if k in values else {}))
            for k in ("scope", "picked")
        )
        return article_rows(articles), scope_now, picked_now

    # -- chat -------------------------------------------------------------------------------
    def respond(
        question: str, scope: list[str] | None, chat: dict[str, Any]
    ) -> Iterator[tuple[Any, Any, Any, Any, Any, Any]]:
        """Answer in the chat. The Ask button is off while the answer comes: a click on it right
        after Enter would ask again (or, the box being emptied, ask an empty question)."""
        chat = chat or EMPTY_CHAT
        messages, questions = list(chat["messages"]), list(chat["questions"])
        skip = gr.skip()
        try:
            question = check_question(question)
        except AssistantError as exc:
            yield skip, skip, f"⚠️ {as_text(str(exc))}", skip, skip, skip
            return
        indexed = assistant.store.ids()
        if scope and not set(scope) <= indexed:  # removed meanwhile (in another window)
            kept = [a for a in scope if a in indexed]
            scope_now = gr.update(choices=article_choices(), value=kept)
            yield skip, skip, REMOVED_FROM_SCOPE + " Ask again.", skip, scope_now, skip
            return
        shown = [*messages, {"role": "user", "content": as_text(question)}]
        # the box is emptied once: what the user types while the answer comes stays
        searching = [*shown, {"role": "assistant", "content": _SEARCHING}]
        yield searching, "", "", skip, skip, gr.update(interactive=False)
        written = ""
        try:  # a chat model's text streams in; the checked answer replaces it at the end
            for item in assistant.ask_stream(
                question, history=questions[-HISTORY_SHOWN:], article_ids=scope or None
            ):
                if isinstance(item, str):
                    written += item
                    streaming = {"role": "assistant", "content": as_text(written) + " …"}
                    yield [*shown, streaming], skip, skip, skip, skip, skip
                else:
                    answer = item
            articles = {a.id: a for a in assistant.articles()}
            html = render_answer(answer, html=True, articles=articles, key=f"m{len(shown)}")
        except AssistantError as exc:
            failed = f"⚠️ {as_text(str(exc))}"
            yield messages, question, failed, skip, skip, gr.update(interactive=True)
            return
        except Exception:  # a bug: the window stays usable, and the server log shows it
            failed = "⚠️ The answer failed with an internal error; ask again."
            yield messages, question, failed, skip, skip, gr.update(interactive=True)
            raise
        messages = [*shown, {"role": "assistant", "content": html}]
        chat = {"messages": messages, "questions": [*questions, question]}
        yield messages, skip, skip, chat, skip, gr.update(interactive=True)

    def restore(chat: dict[str, Any] | None) -> tuple[Any, ...]:
        chat = chat or EMPTY_CHAT
        return (chat.get("messages", []), *views_if_changed(None)[:4])

    def views_if_changed(
        shown: str | None, chosen: list[str] | None = None, picked_id: str | None = None
    ) -> tuple[Any, ...]:
        """The article views and the index's state they show, when it changed since this window
        last showed them (another window or the CLI added or removed articles; ``None``: never
        shown); else nothing is sent. New choices re-render the dropdowns, which closed one
        opened the moment its tab opened.

        An article removed meanwhile leaves the chosen articles (``chosen``) and the picked one
        (``picked_id``), with a notice: kept as values, they are not among the new choices, and
        Gradio refused every later question or action of the window."""
        now = assistant.store.generation  # read first: a later change shows at the next look
        if now == shown:
            return (gr.skip(), gr.skip(), gr.skip(), shown, gr.skip(), gr.skip())
        ids = assistant.store.ids()
        kept = [a for a in chosen or [] if a in ids]
        still = picked_id if picked_id in ids else None
        rows, scope_now, picked_now = article_views(scope=kept, picked=still)
        skip = gr.skip()
        scope_notice = REMOVED_FROM_SCOPE if len(kept) < len(chosen or []) else skip
        picked_notice = REMOVED_MEANWHILE if picked_id and not still else skip
        return (rows, scope_now, picked_now, now, scope_notice, picked_notice)

    def new_conversation() -> tuple[Any, Any, Any, Any]:
        """An empty conversation; an answer on its way is stopped (``cancels`` below), so
        its button is turned back on here."""
        return [], "", {"messages": [], "questions": []}, gr.update(interactive=True)

    # -- articles ---------------------------------------------------------------------------
    def added(report: AddReport) -> tuple[Any, ...]:
        return (report_markdown(report), *article_views())

    def add_files(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        if not paths:
            return (
                "⚠️ Choose one or more .txt, .md or .html files first.",
                *article_views(),
                gr.skip(),
            )
        report = AddReport()
        articles = []
        for path in paths:
            try:
                articles.append(
                    load_article(path, max_bytes=settings.max_article_bytes, source=Path(path).name)
                )
            except ArticleError as exc:
                report.errors.append(exc)
        return (*added(_add(articles, report, progress)), None)  # the files are done with

    def add_text(text: str, title: str, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        """Add the pasted text; the boxes are emptied once it is indexed (or found indexed)."""
        keep = (gr.skip(), gr.skip())
        if not (text or "").strip():
            return ("⚠️ Paste the article's text first.", *article_views(), *keep)
        try:
            article = pasted_article(text, title=title or None, source=PASTED)
        except ArticleError as exc:
            return (f"⚠️ {as_text(str(exc))}", *article_views(), *keep)
        report = _add([article], AddReport(), progress)
        return (*added(report), *(keep if report.errors else ("", "")))

    def add_url(url: str, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        """Fetch and add the page; the address box is emptied once it is indexed."""
        if not (url or "").strip():
            return ("⚠️ Type the article's web address first.", *article_views(), gr.skip())
        progress(0, desc="Fetching the page")
        try:
            report = assistant.add_urls([url], progress=_progress_bar(progress))
        except AssistantError as exc:
            return (f"⚠️ {as_text(str(exc))}", *article_views(), gr.skip())
        return (*added(report), gr.skip() if report.errors else "")

    def _add(articles: list[Article], report: AddReport, progress: gr.Progress) -> AddReport:
        try:
            done = assistant.add_articles(articles, progress=_progress_bar(progress))
        except AssistantError as exc:
            report.errors.append(ArticleError(str(exc)))
            return report
        done.errors[:0] = report.errors
        return done

    def pick_row(event: gr.SelectData) -> Any:
        """A click on a row of the article table picks its article (the last column: its id)."""
        row = event.row_value or []
        return gr.update(value=row[-1]) if row else gr.skip()

    def picked_article(article_id: str | None) -> StoredArticle:
        """The article picked in the Articles tab, or the error to show."""
        if not article_id:
            raise AssistantError("Choose an article first.")
        if article_id not in assistant.store.ids():
            raise AssistantError(REMOVED_MEANWHILE)
        return assistant.store.get(article_id)

    def read(article_id: str | None) -> tuple[str, str]:
        try:
            return article_html(picked_article(article_id)), ""
        except AssistantError as exc:
            return "", as_text(str(exc))

    def ask_removal(article_id: str | None) -> tuple[Any, str, str, str]:
        hidden = gr.update(visible=False)
        try:
            stored = picked_article(article_id)
        except AssistantError as exc:
            return hidden, "", as_text(str(exc)), ""
        question = f"Remove **{as_text(stored.article.title)}**? It will no longer be cited."
        return gr.update(visible=True), question, "", stored.id

    def remove(article_id: str, scope: list[str] | None) -> tuple[Any, ...]:
        """Remove the article the confirmation named; it leaves the chosen articles too."""
        hidden = gr.update(visible=False)
        try:
            stored = assistant.remove(article_id)
        except AssistantError as exc:
            return (hidden, f"⚠️ {as_text(str(exc))}", gr.skip(), *article_views())
        message = f"Removed **{as_text(stored.article.title)}**."
        kept = [a for a in scope or [] if a != stored.id]
        return (hidden, message, "", *article_views(scope=kept, picked=None))

    with gr.Blocks(title="News assistant", analytics_enabled=False) as app:
        chat_state = gr.BrowserState(EMPTY_CHAT, storage_key=STORAGE_KEY, secret=secret)
        removal = gr.State("")  # the article the open confirmation names
        gr.Markdown(
            "## News assistant\nAsk about the indexed news articles, in English or "
            "Indonesian. Every answer cites the sentences it rests on: click a marker such as "
            "**[1]** to see the sentence in its article."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat") as chat_tab:
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    label="Conversation",
                    latex_delimiters=[],
                    height=560,
                    feedback_options=None,
                    buttons=[],  # a copy button would copy the answer's HTML
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask about the articles, e.g. What did Peskov say about "
                        "sanctions?",
                        show_label=False,
                        elem_id="question",
                        scale=8,
                    )
                    ask_button = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                notice = gr.Markdown(elem_id="chat-notice")
                with gr.Row():
                    scope = gr.Dropdown(
                        label="Only these articles (leave empty to ask all of them)",
                        multiselect=True,
                        elem_id="scope",
                        scale=8,
                    )
                    clear = gr.Button("New conversation", elem_id="new-conversation", scale=1)
            with gr.Tab("Articles", id="articles") as articles_tab:
                table = gr.Dataframe(
                    headers=["Title", "Language", "Sentences", "Published", "Added", "Id"],
                    datatype=["str", "str", "number", "str", "str", "str"],
                    interactive=False,
                    elem_id="article-table",
                    label="Indexed articles (click one to pick it)",
                    wrap=True,
                    column_widths=["40%", "10%", "10%", "12%", "12%", "16%"],
                )
                picked = gr.Dropdown(label="Article", elem_id="article-pick")
                with gr.Row():
                    read_button = gr.Button("Read", elem_id="read")
                    remove_button = gr.Button("Remove…", variant="stop", elem_id="remove")
                with gr.Row(visible=False) as confirm_row:
                    confirm_text = gr.Markdown(elem_id="confirm-text")
                    confirm = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-remove")
                    cancel = gr.Button("Cancel", elem_id="cancel-remove")
                manage_status = gr.Markdown(elem_id="manage-status")
                reader = gr.HTML(elem_id="reader")
            with gr.Tab("Add articles", id="add"):
                gr.Markdown("Files (.txt, .md, .html), pasted text, or a web address.")
                files = gr.File(
                    file_count="multiple",
                    type="filepath",
                    file_types=list(SUPPORTED_SUFFIXES),  # what the file dialog offers
                    label="Article files",
                    elem_id="upload",
                )
                add_files_button = gr.Button("Add files", variant="primary", elem_id="add-files")
                paste_title = gr.Textbox(label="Title (optional)", elem_id="paste-title")
                paste_text = gr.Textbox(label="Article text", lines=6, elem_id="paste-text")
                add_text_button = gr.Button("Add text", elem_id="add-text")
                url = gr.Textbox(label="Web address (http or https)", elem_id="url")
                add_url_button = gr.Button("Fetch and add", elem_id="add-url")
                add_status = gr.Markdown(elem_id="add-status")

        def answer(question: str) -> dict[str, Any]:
            """Answer a question from the indexed articles: the JSON answer object of the CLI's
            ``ask --json`` (for programs and the load benchmark)."""
            try:
                return assistant.ask(question).to_json()
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc

        gr.api(answer, api_name="answer", queue=False)

        views = [table, scope, picked]
        ask_inputs = [question, scope, chat_state]
        ask_outputs = [chatbot, question, notice, chat_state, scope, ask_button]
        # one listener for both: while it runs, another Enter or click is ignored (each
        # listener alone allows one run at a time; two ran side by side on the same chat)
        asking = gr.on([question.submit, ask_button.click], respond, ask_inputs, ask_outputs)
        # a new conversation stops the answer on its way: its last step would restore the old
        cleared = [chatbot, notice, chat_state, ask_button]
        clear.click(new_conversation, None, cleared, cancels=[asking], queue=False)
        chatbot.clear(new_conversation, None, cleared, cancels=[asking], queue=False)
        shown = gr.State("")  # the state of the index (its generation) the views show
        app.load(restore, [chat_state], [chatbot, *views, shown])
        # another window or the CLI may have added or removed articles meanwhile
        for tab in (chat_tab, articles_tab):
            tab.select(
                views_if_changed,
                [shown, scope, picked],
                [*views, shown, notice, manage_status],
                queue=False,
            )
        # one add at a time: its controls are off while an add runs (a second click, or Enter
        # in the address box, was ignored by Gradio while the first ran, and its input lost)
        add_controls = [add_files_button, add_text_button, add_url_button, url]

        def controls(on: bool) -> Callable[[], list[Any]]:
            return lambda: [gr.update(interactive=on) for _ in add_controls]

        def starting() -> list[Any]:
            """The controls off, and the previous add's result gone (a duplicate's "Already
            indexed" stood above the progress of the next file, as if it were that one's)."""
            return [*controls(False)(), ""]

        for trigger, action, inputs, outputs in [
            (add_files_button.click, add_files, [files], [add_status, *views, files]),
            (
                add_text_button.click,
                add_text,
                [paste_text, paste_title],
                [add_status, *views, paste_text, paste_title],
            ),
            (url.submit, add_url, [url], [add_status, *views, url]),
            (add_url_button.click, add_url, [url], [add_status, *views, url]),
        ]:
            trigger(starting, None, [*add_controls, add_status], queue=False).then(
                action, inputs, outputs
            ).then(controls(True), None, add_controls, queue=False).then(None, js=_SHOW_ADD_STATUS)
        files.upload(lambda: "", None, [add_status], queue=False)  # an earlier add's result
        table.select(pick_row, None, [picked], queue=False)
        read_button.click(read, [picked], [reader, manage_status])
        remove_button.click(
            ask_removal, [picked], [confirm_row, confirm_text, manage_status, removal]
        )
        cancel.click(lambda: gr.update(visible=False), None, [confirm_row])
        # a confirmation names the article picked when it opened: another pick closes it
        picked.change(lambda: gr.update(visible=False), None, [confirm_row])
        confirm.click(remove, [removal, scope], [confirm_row, manage_status, reader, *views])
    return app


def ui_secret(index_dir: Path) -> str:
    """The key that encrypts the conversation in the browser, kept beside the index."""
    path = index_dir / "ui-secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    index_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def check_address(host: str, port: int) -> None:
    """Fail with a clear message when the chat window cannot listen on ``host:port``."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError) as exc:
        raise AssistantError(
            f"Cannot serve on {host}: not a host name or address ({exc}). Give an address of "
            "this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (the network)."
        ) from exc
    with socket.socket(family, kind) as probe:
        # as the server binds (uvicorn sets it): connections of a server stopped a moment ago
        # wait in TIME_WAIT for a minute and do not keep the port from serving
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise AssistantError(
                    f"Cannot serve on {host}:{port}: the port is in use. Choose another port "
                    "with --port."
                ) from exc
            raise AssistantError(
                f"Cannot serve on {host}:{port} ({exc.strerror}). Give an address of this "
                "machine: 127.0.0.1 (this machine only) or 0.0.0.0 (the network)."
            ) from exc


def launch(
    assistant: Assistant,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    share: bool = False,
    block: bool = True,
) -> gr.Blocks:
    """Build and serve the chat window (``auth``: the login); with ``block=False`` return
    once it is up."""
    check_address(host, port)
    app = build_app(assistant, secret=ui_secret(assistant.store.index_dir))
    app.queue(default_concurrency_limit=4)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=share,
            max_file_size=assistant.settings.max_page_bytes,
            prevent_thread_lock=not block,
            ssr_mode=False,
            show_error=False,
            quiet=not block,
            css=CSS,
            head=HEAD,
            footer_links=[],
            # Gradio keeps every call's inputs and outputs in the browser's storage (200 KB
            # an answer): it filled it, and the conversation saved there stopped growing
            run_history=False,
        )
    except OSError as exc:
        raise AssistantError(
            f"Cannot serve on {host}:{port} ({exc}). Choose another port with --port."
        ) from exc
    return app
