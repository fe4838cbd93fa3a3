"""Fetching web pages: a real HTTP server on 127.0.0.1 plays every kind of page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.articles import load_article, text_key
from assistant.errors import ArticleError, FetchError
from assistant.web import FetchLimits, article_from_html, check_url, fetch_article

PAGE = """<!DOCTYPE html><html><head><title>Harbour budget approved - Coast Daily</title>
<meta property="og:site_name" content="Coast Daily">
<meta property="article:published_time" content="2024-05-03">
<link rel="canonical" href="https://coast.example/news/harbour-budget">
<script>window.tracker = 1;</script></head>
<body><nav>Home | Sport | Weather</nav><article><h1>Harbour budget approved</h1>
<p>The town council approved a budget of 12 million euros for the harbour on Friday.</p>
<p>The money will pay for a new breakwater and for dredging the inner basin, the mayor said.</p>
<p>Work is expected to begin in the autumn and to last two years.</p></article>
<footer>Copyright Coast Daily</footer></body></html>"""


STORY = (
    "Ferry timetable changes\n\nThe island ferry now sails every hour from Monday. "
    "The first boat leaves at six."
)


NOTES = (
    "# Ferry timetable changes\n\nThe island ferry now sails **every hour** from Monday, "
    "says the [port authority](https://example.org/port)."
)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        try:
            self._route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time or size limit): expected here

    def _route(self) -> None:
        if self.path == "/article.html":
            self._send(200, PAGE.encode())
        elif self.path == "/moved":
            self._redirect("/article.html")
        elif self.path.startswith("/loop"):
            self._redirect(f"/loop{len(self.path)}")
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65536 + b"</p>"
            for _ in range(800):  # 50 MB, without a Content-Length
                self.wfile.write(chunk)
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, PAGE.encode())
        elif self.path == "/trickle":  # every byte within the read timeout, never done
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 40:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/empty.html":
            self._send(200, b"<html><body><script>go()</script></body></html>")
        elif self.path == "/report.pdf":
            self._send(200, b"%PDF-1.7 ...", "application/pdf")
        elif self.path == "/story.txt":
            self._send(200, STORY.encode(), "text/plain; charset=utf-8")
        elif self.path == "/notes.md":  # how most servers send Markdown files
            self._send(200, NOTES.encode(), "text/plain; charset=utf-8")
        elif self.path == "/notes":
            self._send(200, NOTES.encode(), "text/markdown; charset=utf-8")
        elif self.path == "/notes.txt":  # Markdown in a plain-text file
            self._send(200, NOTES.encode(), "text/plain; charset=utf-8")
        elif self.path == "/page.txt":  # a page served as plain text
            self._send(200, PAGE.encode(), "text/plain; charset=utf-8")
        elif self.path == "/nowhere":
            self.send_response(302)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"not here")

    def _send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, target: str) -> None:
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


LOCAL = FetchLimits(timeout=2.0, max_bytes=1024 * 1024, allow_private=True)
ONE_SECOND = FetchLimits(timeout=1.0, allow_private=True)


def test_a_page_becomes_an_article_with_its_metadata(site: str) -> None:
    article = fetch_article(f"{site}/article.html", LOCAL)
    assert article.title == "Harbour budget approved"
    assert article.publisher == "Coast Daily"
    assert article.published == "2024-05-03"
    assert article.url == "https://coast.example/news/harbour-budget"
    assert "12 million euros" in article.text
    assert "window.tracker" not in article.text  # scripts are dropped, never run
    assert "Copyright" not in article.text and "Weather" not in article.text
    assert article.lang == "en"
    # the id comes from the canonical address: the same article fetched again is the same
    assert fetch_article(f"{site}/moved", LOCAL).id == article.id


def test_a_plain_text_address_is_read_as_text(site: str) -> None:
    article = fetch_article(f"{site}/story.txt", LOCAL)
    assert (article.title, article.text) == ("Ferry timetable changes", STORY)
    assert article.url == f"{site}/story.txt"


@pytest.mark.parametrize("path", ["/notes.md", "/notes", "/notes.txt"])
def test_markdown_on_the_web_is_read_as_a_markdown_file_is(
    site: str, path: str, tmp_path: Path
) -> None:
    """Served as text/markdown, or as plain text (from a .md address or not): the text is the
    one the same file gives (so the two are one article), without its markup."""
    file = tmp_path / "notes.md"
    file.write_text(NOTES, encoding="utf-8")
    article = fetch_article(f"{site}{path}", LOCAL)
    assert article.text == load_article(file).text
    assert text_key(article.text) == text_key(load_article(file).text)
    assert "**" not in article.text and "# " not in article.text
    assert article.title == "Ferry timetable changes"


def test_a_page_served_as_plain_text_says_what_to_do(site: str) -> None:
    """Its address was given already: the message does not ask for it."""
    with pytest.raises(ArticleError) as err:
        fetch_article(f"{site}/page.txt", LOCAL)
    assert str(err.value) == (
        f"{site}/page.txt: this is an HTML page, not plain text: save the page with an .html "
        "name and add the file."
    )


def test_a_canonical_link_to_the_home_page_does_not_name_the_article() -> None:
    home = PAGE.replace("https://coast.example/news/harbour-budget", "https://coast.example/")
    other = home.replace("Harbour budget approved", "Ferry timetable changes").replace(
        "12 million euros for the harbour", "a new ferry timetable for the island"
    )
    first = article_from_html(home, source="a.html")
    second = article_from_html(other, source="b.html")
    assert first.url == second.url == ""  # a saved page: its id comes from its text
    assert first.id != second.id
    fetched = article_from_html(home, source="x", url="https://coast.example/news/1")
    assert fetched.url == "https://coast.example/news/1"


@pytest.mark.parametrize(
    ("charset", "title", "body"),
    [
        ("iso-8859-2", "Łódź: budżet zatwierdzony", "Rada miasta Łodzi zatwierdziła budżet."),
        ("windows-1251", "Бюджет утвержден", "Городской совет утвердил новый бюджет."),
    ],
)
def test_a_saved_page_is_read_in_the_charset_it_declares(
    tmp_path, charset: str, title: str, body: str
) -> None:
    page = (
        f'<html><head><meta charset="{charset}"><title>{title}</title></head><body>'
        f"<article><h1>{title}</h1>"
        + f"<p>{body} {body} {body}</p>" * 3
        + "</article></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_bytes(page.encode(charset))
    article = load_article(path)
    assert article.title == title and body in article.text  # not mojibake, not refused


def test_a_page_without_a_date_gets_none_from_its_text() -> None:
    undated = PAGE.replace('<meta property="article:published_time" content="2024-05-03">', "")
    undated = undated.replace("to last two years", "to end in 2026")
    article = article_from_html(undated, source="undated.html")
    assert article.published == ""  # not 2026-01-01 guessed from "end in 2026"
    assert "end in 2026" in article.text


@pytest.mark.parametrize(
    ("path", "limits", "message"),
    [
        ("/missing", LOCAL, "the server answered 404 Not Found. Check the address."),
        ("/loop", LOCAL, "more than 5 redirects. Give the article's final address."),
        ("/huge", LOCAL, "the page is larger than 1,048,576 bytes."),
        ("/slow", ONE_SECOND, "no complete answer within 1 s."),
        ("/trickle", ONE_SECOND, "no complete answer within 1 s."),
        ("/empty.html", LOCAL, "no article text found in this page."),
        ("/article.html", FetchLimits(), "is a local or private address (127.0.0.1)"),
        ("/report.pdf", LOCAL, "the address gives a PDF file, which this assistant does not read."),
        ("/nowhere", LOCAL, "the server redirected (302) without saying where."),
    ],
    ids=["404", "redirect-loop", "50MB-body", "timeout", "trickled-headers", "no-text",
         "private-address", "pdf", "redirect-without-location"],
)  # fmt: skip
def test_pages_that_cannot_be_used(site: str, path: str, limits: FetchLimits, message: str) -> None:
    start = time.monotonic()
    with pytest.raises(ArticleError) as err:
        fetch_article(site + path, limits)
    assert message in str(err.value)
    assert time.monotonic() - start < 3  # bounded: never waits for a slow or endless page


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.html", "file:///etc/passwd", "example.com/news", "https://", ""]
)
def test_only_http_addresses_are_fetched(url: str) -> None:
    with pytest.raises(FetchError) as err:
        check_url(url)
    assert "Give a full http:// or https:// address." in str(err.value)


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://example.com:99999/", "http://example.com:abc/news"]
)
def test_malformed_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError) as err:
        check_url(url)
    assert str(err.value).startswith(f"{url!r} is not a valid web address (")


def test_an_unknown_host_is_reported() -> None:
    with pytest.raises(FetchError) as err:
        fetch_article("http://no-such-host.invalid/a", LOCAL)
    assert "cannot be found" in str(err.value)


HOME_PAGE = """<html><head><title>Coast Daily - Home</title></head><body>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<div class="teasers"><h2><a href="/a">Harbour budget approved</a></h2>
<h2><a href="/b">Ferry timetable changes from Monday as the storm season begins</a></h2>
<h2><a href="/c">Mayor opens new library</a></h2></div>
<footer>Copyright Coast Daily 2024</footer></body></html>"""


def test_a_page_of_menus_and_headlines_is_no_article() -> None:
    """trafilatura gives its links' text; indexed, it would be cited as an article."""
    with pytest.raises(ArticleError) as err:
        article_from_html(HOME_PAGE, source="https://coast.example/")
    assert str(err.value) == (
        "https://coast.example/: no article text found in this page, only short lines (a menu, "
        "a list of headlines). Give one article's page, or copy its text into a .txt file."
    )


@pytest.mark.parametrize(
    "paragraph",
    [
        "北京市政府周一宣布，地铁新线将于明年年底前开通运营，全长约四十公里。",
        "नई दिल्ली में सोमवार को भारी बारिश के कारण कई इलाकों में पानी भर गया और यातायात बाधित रहा।",
        "Der Bürgermeister sagte am Montag: „Die Arbeiten beginnen im Herbst.“",
        "The council approved the budget on Friday, the mayor said.[1]",
    ],
    ids=["chinese", "hindi", "german-quotes", "reference-mark"],
)
def test_an_article_in_any_script_is_prose(paragraph: str) -> None:
    html = f"<html><head><title>News</title></head><body><article><p>{paragraph}</p>"
    article = article_from_html(html + "</article></body></html>", source="page.html")
    assert article.text.endswith(paragraph)


def test_html_files_give_their_text_and_title() -> None:
    article = article_from_html(PAGE, source="saved.html")
    assert (article.title, article.source) == ("Harbour budget approved", "saved.html")
    assert article.text.startswith("Harbour budget approved\n\nThe town council approved")


def test_the_publisher_is_read_from_structured_data() -> None:
    """Without og:site_name the publisher was the host of the page ("127.0.0.1:8931")."""
    page = PAGE.replace('<meta property="og:site_name" content="Coast Daily">\n', "").replace(
        "</head>",
        '<script type="application/ld+json">{"@type": "NewsArticle", "publisher": '
        '{"@type": "Organization", "name": "Berita Nusantara"}}</script></head>',
    )
    url = "http://203.0.113.5:8931/news.html"
    assert article_from_html(page, source=url, url=url).publisher == "Berita Nusantara"
    broken = page.replace('"name": "Berita Nusantara"}}', '"name": ')  # not JSON
    assert article_from_html(broken, source=url, url=url).publisher == "coast.example"
