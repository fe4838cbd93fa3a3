"""Articles from the web: fetch a page safely and extract its article text with trafilatura.

Fetching is bounded in every direction a hostile or broken server could push: http/https only,
a time limit for the whole download, a size limit on the body, a few redirects at most, and, by
default, no requests to loopback, private, link-local or otherwise non-public addresses (every
redirect hop is checked again). The page's HTML is only parsed, never run: trafilatura reduces
it to the article text plus its metadata (title, publisher, date, canonical address).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from .articles import MARKDOWN_SUFFIXES, Article, article_from_text
from .errors import ArticleError, FetchError

if TYPE_CHECKING:
    import httpx

    from .config import Settings

MAX_REDIRECTS = 5
_USER_AGENT = "news-assistant/0.1 (+article fetcher)"


@dataclass(frozen=True)
class FetchLimits:
    """How far a fetch may go (the defaults come from ``Settings``)."""

    timeout: float = 15.0
    """Seconds for the whole download, redirects included."""
    max_bytes: int = 10 * 1024 * 1024
    """Largest page body accepted."""
    allow_private: bool = False
    """Allow loopback/private/link-local addresses (for intranet use)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        """The limits the settings give."""
        return cls(settings.fetch_timeout, settings.max_page_bytes, settings.allow_private_urls)


def check_url(url: str) -> str:
    """The stripped URL, or a ``FetchError`` when it is not an http(s) address."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number or out of range)
    except ValueError as exc:  # "http://[::1", "http://host:99999/"
        raise FetchError(f"{url!r} is not a valid web address ({exc}). Check the address.") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(
            f"{url!r} is not a web address this assistant fetches. Give a full http:// or "
            "https:// address."
        )
    return url


def _check_host(url: str, allow_private: bool) -> None:
    host = urlsplit(url).hostname or ""
    port = urlsplit(url).port or (443 if url.lower().startswith("https") else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(
            f"{url}: the host {host!r} cannot be found ({exc}). Check the address."
        ) from exc
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FetchError(
                f"{url}: {host} is a local or private address ({address}); fetching those is "
                "off by default. Set ASSISTANT_ALLOW_PRIVATE_URLS=true to allow intranet pages."
            )


def fetch_page(url: str, limits: FetchLimits | None = None) -> tuple[str, str, str]:
    """Download a page: (final URL, its text, its media type, e.g. "text/html"). Raises
    ``FetchError`` with the reason, also for a type that holds no readable text (a PDF).

    The time limit holds for the whole fetch, name look-ups included: the download runs in a
    worker thread, and a server that trickles its headers (each byte within the read timeout)
    is cut off at the deadline like a silent one."""
    import httpx

    limits = limits or FetchLimits()
    url = check_url(url)
    client = httpx.Client(
        follow_redirects=False, headers={"User-Agent": _USER_AGENT}, trust_env=False
    )
    outcome: list[tuple[str, str, str] | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_fetch(client, url, limits))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=work, name="fetch-page", daemon=True)
    worker.start()
    try:
        worker.join(limits.timeout)
        done = list(outcome)  # before the close, whose error in the worker is no outcome
    finally:  # Ctrl-C included
        try:
            client.close()  # also breaks off a download still going on in the worker
        except Exception:  # noqa: BLE001 (closing under a running request: nothing to report)
            pass
    if not done:
        raise _no_answer(url, limits)
    if isinstance(done[0], BaseException):
        raise done[0]
    return done[0]


def _fetch(client: httpx.Client, url: str, limits: FetchLimits) -> tuple[str, str, str]:
    import httpx

    deadline = time.monotonic() + limits.timeout
    for _hop in range(MAX_REDIRECTS + 1):
        _check_host(url, limits.allow_private)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with client.stream("GET", url, timeout=httpx.Timeout(left)) as response:
                if response.is_redirect:
                    target = response.headers.get("location", "").strip()
                    if not target:
                        raise FetchError(
                            f"{url}: the server redirected ({response.status_code}) without "
                            "saying where. Check the address."
                        )
                    url = check_url(urljoin(url, target))
                    continue
                if response.status_code >= 400:
                    raise FetchError(
                        f"{url}: the server answered {response.status_code} "
                        f"{response.reason_phrase}. Check the address."
                    )
                media = _media_type(response.headers.get("content-type", ""), url)
                body = _read_bounded(response, limits, deadline, url)
                return url, _decode_page(body, response.charset_encoding), media
        except httpx.TimeoutException:
            break
        except httpx.HTTPError as exc:
            raise FetchError(
                f"{url}: the page cannot be fetched ({exc}). Check the address."
            ) from exc
    else:
        raise FetchError(
            f"{url}: more than {MAX_REDIRECTS} redirects. Give the article's final address."
        )
    raise _no_answer(url, limits)


def _no_answer(url: str, limits: FetchLimits) -> FetchError:
    return FetchError(
        f"{url}: no complete answer within {limits.timeout:g} s. Try again later, or save the "
        "page as an .html file and add that."
    )


def _read_bounded(response: object, limits: FetchLimits, deadline: float, url: str) -> bytes:
    declared = getattr(response, "headers", {}).get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(url, limits)
    body = bytearray()
    for chunk in response.iter_bytes():  # type: ignore[attr-defined]
        body += chunk
        if len(body) > limits.max_bytes:
            raise _too_large(url, limits)
        if time.monotonic() > deadline:
            import httpx

            raise httpx.ReadTimeout("deadline")
    return bytes(body)


def _too_large(url: str, limits: FetchLimits) -> FetchError:
    return FetchError(
        f"{url}: the page is larger than {limits.max_bytes:,} bytes. Give the address of one "
        "article, or raise ASSISTANT_MAX_PAGE_BYTES."
    )


_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


def decode_html(body: bytes, charset: str | None = None) -> str | None:
    """An HTML page's text: in the server's ``charset``, else UTF-8 when it is valid UTF-8,
    else in the charset the page declares in a ``<meta>`` tag (None when none of them fits)."""
    declared = _META_CHARSET.search(body[:4096])
    meta = declared.group(1).decode("ascii", "replace") if declared else None
    for encoding in (charset, "utf-8-sig", meta):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def _decode_page(body: bytes, charset: str | None) -> str:
    text = decode_html(body, charset)
    if text is not None:
        return text
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace")


def article_from_html(
    html: str, *, source: str, url: str = "", title: str | None = None
) -> Article:
    """The article in an HTML page: its text and metadata, extracted with trafilatura."""
    import trafilatura

    if b"\x00" in html.encode("utf-8", "surrogatepass"):
        raise ArticleError(f"{source}: not an HTML page (binary content). Give a web page.")
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url or None,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            # the page's own date (meta tags, structured data) or none: the extensive search
            # guesses one from any year in the text ("should end in 2026" -> 2026-01-01)
            date_extraction_params={
                "extensive_search": False,
                "original_date": True,
                "max_date": date.today().isoformat(),
            },
        )
    except Exception as exc:  # lxml and trafilatura raise many types on broken markup
        raise ArticleError(f"{source}: the page cannot be parsed ({exc}).") from exc
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise ArticleError(
            f"{source}: no article text found in this page. Copy the article text into a .txt "
            "file and load that instead."
        )
    # trafilatura joins paragraphs with one newline; a blank line keeps them apart for people
    paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    if not any(_is_prose(p) for p in paragraphs):
        raise ArticleError(
            f"{source}: no article text found in this page, only short lines (a menu, a list "
            "of headlines). Give one article's page, or copy its text into a .txt file."
        )
    canonical = _own_canonical((getattr(doc, "url", None) or "").strip(), url)
    return article_from_text(
        "\n\n".join(paragraphs),
        title=title if title is not None else (getattr(doc, "title", None) or None),
        source=source,
        url=canonical,
        published=getattr(doc, "date", None) or "",
        publisher=_structured_publisher(html)
        or getattr(doc, "sitename", None)  # og:site_name, else the host
        or getattr(doc, "hostname", None)
        or "",
    )


_LD_JSON = re.compile(
    r"<script[^>]*application/ld\+json[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL
)


def _structured_publisher(html: str) -> str:
    """The publisher's name in the page's structured data (JSON-LD ``publisher.name``), which
    trafilatura does not read (without ``og:site_name`` it gives the host); "" when none."""
    import json

    for block in _LD_JSON.findall(html):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        items = data if isinstance(data, list) else [data, *data.get("@graph", [])]
        for item in items:
            publisher = item.get("publisher") if isinstance(item, dict) else None
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                return publisher["name"].strip()
    return ""


PROSE_MIN_CHARS = 40
# a sentence's end in the scripts of the news (Latin, CJK, Devanagari...), then closing quotes
# or brackets and a reference mark such as "[1]"
_SENTENCE_END = re.compile(r"[.!?…。！？।][\"'”’“«»„)\]]*(?:\s*\[\d+\])*$")


def _is_prose(paragraph: str) -> bool:
    """A paragraph with a sentence in it: ``PROSE_MIN_CHARS`` columns or more (a CJK
    character is two), ending as a sentence ends. A page whose text has none is a menu or a
    list of headlines, not an article."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in paragraph)  # CJK: 2 columns
    return len(paragraph) + wide >= PROSE_MIN_CHARS and bool(_SENTENCE_END.search(paragraph))


def _own_canonical(canonical: str, fetched: str) -> str:
    """The page's canonical address when it can name this article, else the fetched one ("" for
    a file). Many sites point the canonical link of every page at their home page, which would
    make all their articles one."""
    parts = urlsplit(canonical)
    if parts.scheme not in ("http", "https") or parts.path.strip("/") == "":
        return fetched
    return canonical


MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")


def _media_type(content_type: str, url: str) -> str:
    """The response's media type, or a ``FetchError`` for one that holds no article text."""
    media = content_type.split(";")[0].strip().lower()
    if media and not (media.startswith("text/") or "html" in media or "xml" in media):
        what = "a PDF file" if media == "application/pdf" else f"{media}, not a web page"
        raise FetchError(
            f"{url}: the address gives {what}, which this assistant does not read. Give the "
            "address of the article's web page, or save its text as a .txt file and add that."
        )
    return media


def fetch_article(
    url: str, limits: FetchLimits | None = None, *, title: str | None = None
) -> Article:
    """Fetch a web page (or a plain-text file on the web) and extract its article."""
    final_url, text, media = fetch_page(url, limits)
    # Markdown read as a .md file is: the same text from a file and from its address is
    # then one article (its markup kept, it would be two, and cited with "**" and "#"); other
    # plain text is read as a .txt file is (as Markdown when it shows signs of it)
    markdown = media in MARKDOWN_TYPES or (
        media == "text/plain" and urlsplit(final_url).path.lower().endswith(MARKDOWN_SUFFIXES)
    )
    if media == "text/plain" or markdown:
        return article_from_text(
            text, title=title, source=url.strip(), url=final_url, markdown=markdown or None
        )
    return article_from_html(text, source=url.strip(), url=final_url, title=title)
