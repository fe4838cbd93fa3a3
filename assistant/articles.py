"""Load news articles (files, folders, stdin or plain strings) into validated ``Article`` values.

Every bad input becomes an ``ArticleError`` whose message names the source and says how to fix
it. ``Article.text`` is the decoded text with only light normalisation, because sentence offsets
computed later point into exactly that string.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from html import unescape as html_unescape
from pathlib import Path
from typing import BinaryIO, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from assistant.errors import ArticleError
from assistant.grounding import question_names
from assistant.sentences import split_sentences

MAX_ARTICLE_BYTES = 5 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")

TITLE_MAX_CHARS = 120
SIZE_SETTING = "ASSISTANT_MAX_ARTICLE_BYTES"
"""The setting that raises the article size limit (``Settings.max_article_bytes``)."""
FILE_ADVICE = "Give a .txt or .md file with the article text, or a saved .html page."
"""How an article error about a file ends: what to give instead."""
TEXT_ADVICE = "Give the text of one news article."
"""How an article error about text without a file (stdin, pasted) ends."""
PASTED = "pasted text"
"""The source of an article pasted in the chat window."""


def _advice(source: str) -> str:
    """What to give instead of a bad article from ``source``: a file, or text (stdin, pasted)."""
    return TEXT_ADVICE if source.startswith("<") or source == PASTED else FILE_ADVICE


_LETTER_WORD = re.compile(r"[^\W\d_]+")
# YAML front matter of Markdown files (Hugo, Jekyll): "---", "key: value" lines, "---".
_FRONT_MATTER = re.compile(r"---[ \t]*\n((?:[ \t]*[\w-]+:.*\n|[ \t]+.*\n|[ \t]*\n)*)---[ \t]*\n")
_FRONT_FIELD = re.compile(r"^(title|date|publisher):[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            "january januari jan",
            "february februari feb",
            "march maret mar",
            "april apr",
            "may mei",
            "june juni jun",
            "july juli jul",
            "august agustus aug agu",
            "september sept sep",
            "october oktober oct okt",
            "november nov",
            "december desember dec des",
        ],
        start=1,
    )
    for name in names.split()
}
_DATELINE = re.compile(
    r"^[A-Z][A-Za-z.'\- ]{1,40}?(?: \([^)\n]{1,30}\))?,\s+(?:[A-Z][a-z]+,\s+)?"
    r"(?:(?P<d1>\d{1,2})\s+(?P<m1>[A-Za-z]+)\.?|(?P<m2>[A-Za-z]+)\.?\s+(?P<d2>\d{1,2}),?)"
    r"\s+(?P<y>\d{4})\s*(?:\([^)\n]{1,30}\)\s*)?[—–-]",
)
"""A news dateline: "GREENPORT, March 14, 2026 —", "JAKARTA, Jumat, 8 Maret 2024 -", up to the
dash that ends it (a sentence that opens with a date goes on without one: "Pada Jumat, 8 Maret
2024, banjir ...")."""
DATELINE_LINES = 3
"""How many of an article's first lines with text may hold its dateline."""
# inline HTML in Markdown, which a reader sees rendered: its tags go, its entities resolve
_MD_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}+(?:\s[^<>\n]{0,500}+)?/?>")
# No span may hold its own opening mark ("[", "(", the emphasis mark), so each scan stops at the
# next one: an unclosed mark cannot make every later position scan a long line (that took
# seconds per 60 KB line, and hours for a 5 MB one-line upload). Spans are bounded too.
_MD_LINK = re.compile(r"!?\[([^\[\]\n]{0,500})\]\([^()\n]{0,2000}\)")
_MD_EMPHASIS = re.compile(
    r"(?<!\w)(?:\*\*(?=\S)([^*\n]{1,500}?)(?<=\S)\*\*|__(?=\S)([^_\n]{1,500}?)(?<=\S)__"
    r"|\*(?=\S)([^*\n]{1,500}?)(?<=\S)\*|_(?=\S)([^_\n]{1,500}?)(?<=\S)_"
    r"|`(?=\S)([^`\n]{1,500}?)(?<=\S)`)(?!\w)"
)


def _emphasised(match: re.Match[str]) -> str:
    return next(g for g in match.groups() if g is not None)


MARKDOWN_SUFFIXES = (".md", ".markdown")
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)


def _is_address(name: str) -> bool:
    """Whether a path that does not exist looks like a web address given without its
    http(s):// ("www.example.com/news", "kompas.id/baca/x"; not "story.txt")."""
    host, slash, _ = name.partition("/")
    return _HOST.fullmatch(host) is not None and (
        bool(slash)
        or host.lower().startswith("www.")
        or not host.lower().endswith(SUPPORTED_SUFFIXES)
    )


# Markdown lines that hold no text: code fences, rules (also setext underlines), link definitions.
_MD_DROP = re.compile(
    r"[ ]{0,3}(?:```.*|~~~.*|(?:[-*_=][ \t]*){3,}"
    # a link definition: a label, a target and at most a title ("[Update]: The minister..." is text)
    r"|\[[^\]\n]{1,500}\]:[ \t]*<?\S+?>?(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*)"
)
# What opens a Markdown block line: a heading's #s, quote marks, a list bullet.
_MD_LINE_START = re.compile(r"[ ]{0,3}(?:#{1,6}(?=\s|$)|(?:>[ ]?)+|[-*+](?=[ \t]))[ \t]*")
_MD_REF_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]\[[^\[\]\n]{0,500}\]")
_ESCAPED = 0xE000  # escaped ASCII marks stand in the Private Use Area while marks are removed
_UNESCAPE = {_ESCAPED + c: c for c in range(128)}
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")
# Unicode category Cc minus the whitespace controls (tab, newlines, vertical tab, form feed).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Language id reads only the start: a few thousand words decide it, and the DFA walk is in Python.
_LANGID_SAMPLE_CHARS = 20_000
_SHORT_TEXT_LETTERS = 20
# what may come before a page's <!doctype html> or <html>: a browser's "saved from" comment,
# an XML declaration (XHTML)
_MARKUP_PREAMBLE = re.compile(r"\A\ufeff?\s*(?:(?:<\?xml[^>]*\?>|<!--.*?-->)\s*)*", re.S)
URL_ID_PREFIX = "u-"
"""The ids of articles from a web address start with it (the others are their ``text_key``)."""
_QUESTION_WORD = re.compile(r"[^\W\d_][\w'-]*")


@dataclass(frozen=True)
class Article:
    """A news article: stable id, title, full text, language and where it came from."""

    id: str
    title: str
    text: str
    lang: str
    source: str
    url: str = ""
    published: str = ""
    publisher: str = ""


def detect_language(text: str) -> str:
    """Return the ISO 639-1 code of the text's language ("id", "en", ...), best effort."""
    import py3langid  # lazy: loading its model costs ~0.5 s

    sample = text[:_LANGID_SAMPLE_CHARS]
    # Below ~20 letters the n-gram scores are noise; pick between the two languages we serve.
    short = sum(ch.isalpha() for ch in sample) < _SHORT_TEXT_LETTERS
    for code, _score in py3langid.rank(sample):
        # Malay and Indonesian share most n-grams and Indonesian news often ranks "ms" first
        # by a hair; the assistant serves Indonesian, so Malay is reported as "id".
        code = "id" if code == "ms" else code
        # The model also knows ISO 639-3 codes (ace, pcm, zxx...); the contract is 639-1 only.
        if len(code) == 2 and (not short or code in ("id", "en")):
            return code
    return "en"


def question_language(question: str) -> str:
    """The language of a question, read without its names: "What did Jokowi say in Jakarta?"
    is English, though its names read as Indonesian (on the dev questions of ../shared/eval,
    18 of 2,788 misread instead of 72). A question of little more than names is read whole."""
    names = set(question_names(question))
    rest = " ".join(w for w in _QUESTION_WORD.findall(question) if w not in names)
    return detect_language(rest if sum(ch.isalpha() for ch in rest) >= 8 else question)


def readable(text: str) -> str:
    """``text`` with undecodable bytes made visible: a command-line argument or a file name
    that is not UTF-8 reaches Python as lone surrogates, which no JSON reader, tokenizer or
    web page accepts; they become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # surrogates that surrogateescape did not make
            return text.encode("utf-8", "replace").decode("utf-8")


def make_title(text: str) -> str:
    """Title from the first line with text, cut to 120 characters, without Markdown's marks
    (a heading's #s, links, emphasis: ``markdown_text``), whatever the file type. A longer
    line is a paragraph: its first sentence is the title (a pasted text without a title was
    titled "Harga cabai rawit ... pada hari Kamis. Kenaikan itu…"). A dateline that opens it
    ("SEMARANG, March 12, 2025 —") is left out: it gives the date (``dateline_date``)."""
    for line in text.splitlines():
        line = " ".join(markdown_text(line.strip()).split())
        if (dateline := _DATELINE.match(line)) and line[dateline.end() :].strip():
            line = line[dateline.end() :].strip()
        if line:
            if len(line) > TITLE_MAX_CHARS and (sentences := split_sentences(line)):
                line = sentences[0].text
            return _shorten(line, TITLE_MAX_CHARS)
    return ""


def markdown_text(text: str) -> str:
    """The text of a Markdown article as a reader sees it: without heading and quote marks,
    list bullets, code fences, rules and link definitions; links and images reduced to their
    text, emphasis and code marks and inline HTML tags removed, escapes and HTML entities
    (``&amp;``) resolved."""
    lines = []
    for line in text.split("\n"):
        if _MD_DROP.fullmatch(line):
            lines.append("")
            continue
        start = _MD_LINE_START.match(line)
        if start and start.group().lstrip().startswith("#"):
            line = _without_closing_hashes(line)
        line = line[start.end() :] if start else line
        # escaped marks ("\*") are text: set aside while the marks are removed
        line = _MD_ESCAPE.sub(lambda m: chr(_ESCAPED + ord(m.group(1))), line)
        line = _MD_EMPHASIS.sub(_emphasised, _MD_REF_LINK.sub(r"\1", _MD_LINK.sub(r"\1", line)))
        line = html_unescape(_MD_TAG.sub("", line))
        lines.append(line.translate(_UNESCAPE))
    return "\n".join(lines)


def _without_closing_hashes(heading: str) -> str:
    """A heading without its closing #s ("## Title ##"), in linear time."""
    end = heading.rstrip()
    body = end.rstrip("#")
    if body != end and (not body or body[-1] in " \t"):
        return body.rstrip()
    return heading


def split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    """(the text without its YAML front matter, the front matter's ``title``, ``date`` (an
    ISO date only: 2022-02-16) and ``publisher`` where it gives them)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    fields: dict[str, str] = {}
    for m in _FRONT_FIELD.finditer(match.group(1)):
        fields.setdefault(m.group(1), m.group(2).strip("'\"").strip())
    date = _ISO_DATE.match(fields.pop("date", ""))
    if date and _is_date(date.group()):  # not 2024-02-30
        fields["date"] = date.group()
    return text[match.end() :], {k: v for k, v in fields.items() if v}


def dateline_date(text: str) -> str:
    """The ISO date of the article's dateline, when one of its first lines opens with one
    ("GREENPORT, March 14, 2026 — The city ..."); "" otherwise."""
    lines = [line for line in text.splitlines() if line.strip()][:DATELINE_LINES]
    for line in lines:
        m = _DATELINE.match(line.strip())
        if not m:
            continue
        month = _MONTHS.get((m.group("m1") or m.group("m2")).lower())
        day = int(m.group("d1") or m.group("d2"))
        date = f"{m.group('y')}-{month or 0:02d}-{day:02d}"
        if month and _is_date(date):
            return date
    return ""


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _shorten(line: str, limit: int) -> str:
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]  # leave room for the ellipsis
    if line[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + "…"


def article_from_text(
    text: str,
    *,
    title: str | None = None,
    source: str = "<text>",
    url: str = "",
    published: str = "",
    publisher: str = "",
    markdown: bool | None = False,
) -> Article:
    """Validate article text and build an ``Article`` (source defaults to the url when given;
    ``markdown``: the text is Markdown, kept as its readable text, see ``markdown_text``;
    ``None``: it is when it has front matter or signs of Markdown, ``_MARKDOWN_SIGNS``)."""
    url = url.strip()
    if url and source == "<text>":
        source = url
    source = readable(source)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        what = "holds only whitespace" if text else "is empty"
        raise ArticleError(f"{source}: {what}, there is no article text. {_advice(source)}")
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    text, front = split_front_matter(text)
    if title is None and front.get("title"):
        title = front["title"]
    published = published or front.get("date", "") or dateline_date(text)
    publisher = publisher or front.get("publisher", "")
    if markdown is None:
        markdown = bool(front) or _MARKDOWN_SIGNS.search(text) is not None
    if markdown:
        heading = _FIRST_HEADING.search(text)
        if title is None and heading:  # its first heading, not a photo's caption above it
            title = markdown_text(heading.group(1)).strip() or None
        text = markdown_text(text).strip("\n")
    _validate(text, source)
    if title is not None:
        # control characters (a bell, escape sequences) never reach a terminal or a page
        title = _shorten(" ".join(_CONTROL.sub("", readable(title)).split()), TITLE_MAX_CHARS)
        if not title:
            raise ArticleError(
                f"{source}: the title is empty. Give a title with text, or leave it out to use "
                "the article's first line."
            )
    article_id = URL_ID_PREFIX + _hash16(_canonical_url(url, source)) if url else text_key(text)
    return Article(
        id=article_id,
        title=title if title is not None else make_title(text),
        text=text,
        lang=detect_language(text),
        source=source,
        url=url,
        published=published.strip(),
        publisher=publisher.strip(),
    )


def load_article(
    path: str | Path,
    *,
    title: str | None = None,
    max_bytes: int = MAX_ARTICLE_BYTES,
    source: str | None = None,
) -> Article:
    """Read one article file (UTF-8, or cp1252 when that is clearly text).

    ``source`` names the file in messages and in the article (default: the path as given in
    messages, made absolute in the article), e.g. the original name of an uploaded file kept
    under a temporary path.
    """
    name, file = source or str(path), Path(path)
    kept = readable(source or str(file.absolute()))  # the source kept: found from any folder
    if not str(path).strip():
        raise ArticleError("an empty path was given. Give the path of an article file.")
    if not file.exists():
        hint = f" If it is a web address, give it as https://{name}" if _is_address(name) else ""
        raise ArticleError(f"{name}: no such file or folder. Check the path.{hint}")
    if file.is_dir():
        raise ArticleError(f"{name}: is a folder, not a file. Give one article file.")
    if not file.is_file():  # a named pipe, a socket or a device: reading it may never end
        raise ArticleError(
            f"{name}: not a regular file (a pipe or a device). Give an article file, or pipe "
            "the text to `assistant add -`."
        )
    try:
        size = file.stat().st_size
        _check_size(size, max_bytes, name)
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # +1: the file may have grown since stat
    except OSError as exc:
        raise ArticleError(f"{name}: cannot read the file ({exc.strerror}). Check it.") from exc
    _check_size(len(data), max_bytes, name)
    if file.suffix.lower() in HTML_SUFFIXES:
        from .web import article_from_html, decode_html

        html = decode_html(data) if b"\x00" not in data else None  # its <meta> charset
        article = article_from_html(html or _decode(data, name), source=name, title=title)
        return replace(article, source=kept)
    # a .txt file that holds Markdown is read as pasted text is: the same article from both
    # is one article, quoted without its markup
    markdown = True if file.suffix.lower() in MARKDOWN_SUFFIXES else None
    article = article_from_text(_decode(data, name), title=title, source=name, markdown=markdown)
    return replace(article, source=kept)


def load_articles(
    paths: Iterable[str | Path], *, title: str | None = None, max_bytes: int = MAX_ARTICLE_BYTES
) -> tuple[list[Article], list[ArticleError]]:
    """Load files and folders (recursively); return the good articles and one error per bad file."""
    paths = list(paths)
    if title is not None and (len(paths) != 1 or Path(paths[0]).is_dir()):
        raise ArticleError(
            "a title can only be given for a single article file. Load one file with the "
            "title, or leave the title out."
        )
    articles: list[Article] = []
    errors: list[ArticleError] = []
    seen: set[Path] = set()
    for path in paths:
        # str(path) first: Path("") is ".", which must not load the working folder.
        files = _expand(path, errors) if str(path) and Path(path).is_dir() else [path]
        for file in files:
            key = Path(file).resolve()
            if key in seen:
                continue  # the same file named twice (or also inside a named folder)
            seen.add(key)
            try:
                articles.append(load_article(file, title=title, max_bytes=max_bytes))
            except ArticleError as exc:
                errors.append(exc)
    return articles, errors


def article_files(folder: str | Path) -> list[Path]:
    """The article files in a folder and its subfolders (hidden ones skipped), sorted."""
    return [f for f in _visible_files(folder) if f.name.lower().endswith(SUPPORTED_SUFFIXES)]


def other_files(folder: str | Path) -> list[Path]:
    """The files in a folder and its subfolders that ``article_files`` leaves out for their
    type (a .pdf, a .docx), hidden ones aside, sorted."""
    return [f for f in _visible_files(folder) if not f.name.lower().endswith(SUPPORTED_SUFFIXES)]


def _visible_files(folder: str | Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # skip .git and friends
        found.extend(
            Path(root, n)
            for n in names
            if not n.startswith(".") and Path(root, n).is_file()  # not a pipe: never ends
        )
    return sorted(found)


def _expand(folder: str | Path, errors: list[ArticleError]) -> list[Path]:
    found = article_files(folder)
    if not found:
        errors.append(
            ArticleError(
                f"{folder}: no article files in this folder (looked for "
                f"{', '.join(SUPPORTED_SUFFIXES)}). Put the articles there as text files."
            )
        )
    return found


def read_stdin_article(
    stream: TextIO | BinaryIO, *, title: str | None = None, max_bytes: int = MAX_ARTICLE_BYTES
) -> Article:
    """Read one article from a text or binary stream (normally standard input)."""
    name = "<stdin>"
    try:
        chunk = stream.read(max_bytes + 1)
        # surrogateescape gives back the raw bytes a text stream could not decode, so they
        # get the same cp1252 / binary checks as a file.
        data = chunk.encode("utf-8", "surrogateescape") if isinstance(chunk, str) else chunk
    except (UnicodeError, OSError) as exc:
        raise ArticleError(f"{name}: cannot read the input ({exc}). Pipe UTF-8 text.") from exc
    if len(data) > max_bytes:
        raise ArticleError(
            f"{name}: too large (more than {max_bytes:,} bytes). Give one article, or raise "
            f"the size limit ({SIZE_SETTING})."
        )
    return pasted_article(_decode(data, name), title=title, source=name)


_FIRST_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_MARKDOWN_SIGNS = re.compile(
    r"^#{1,6}[ \t]+\S|\*\*[^*\n]+\*\*|\[[^\]\n]+\]\([^)\s]+\)|^```", re.MULTILINE
)
"""What only Markdown has: a heading line, **bold**, a [link](target), a code fence."""


def pasted_article(text: str, *, title: str | None = None, source: str) -> Article:
    """The article of text that came without a file name (pasted, or on stdin): an HTML page's
    article text (as from an .html file), Markdown's readable text when it has front matter
    or signs of Markdown (``_MARKDOWN_SIGNS``, as from an .md file, so that the same article
    pasted and added as a file is one article), else the text as it is."""
    if _is_html_page(text):
        from .web import article_from_html

        return article_from_html(text, source=source, title=title)
    return article_from_text(text, title=title, source=source, markdown=None)


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise ArticleError(
            f"{name}: too large ({size:,} bytes; the limit is {max_bytes:,} bytes). Give one "
            f"article per file, or raise the size limit ({SIZE_SETTING})."
        )


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte order mark
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if data.startswith(b"%PDF-"):
        raise ArticleError(
            f"{name}: a PDF file, which this assistant does not read. {_advice(name)}"
        )
    if b"\x00" in data:
        text = _utf16_without_mark(data)
        if text is None:
            raise ArticleError(f"{name}: not a text file (binary content). {_advice(name)}")
        return text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_like_text(text):
        return text
    if _control_share(data.decode("latin-1")) > 0.01:
        raise ArticleError(f"{name}: not a text file (binary content). {_advice(name)}")
    raise ArticleError(
        f"{name}: not UTF-8 text, and not plausible Windows-1252 text either. Save the file "
        "as UTF-8 and load it again."
    )


def _utf16_without_mark(data: bytes) -> str | None:
    """Latin-script text saved as UTF-16 without its byte order mark (every other byte zero),
    or ``None``."""
    for encoding, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if len(data) % 2 == 0 and zeros.count(0) >= 0.9 * len(zeros):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return text if _looks_like_text(text) else None
    return None


def _looks_like_text(text: str) -> bool:
    # Guards the cp1252 fallback against mojibake: text in another 8-bit code page (cp1251,
    # KOI8...) decodes to all-accented "letters", while real Western text is mostly ASCII.
    if _control_share(text) > 0:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    visible = sum(not ch.isspace() for ch in text)
    non_ascii = sum(not ch.isascii() for ch in letters)
    return len(letters) >= 0.5 * visible and non_ascii <= 0.3 * len(letters)


def _control_share(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(len(text), 1)


def _validate(text: str, name: str) -> None:
    if "\x00" in text or _control_share(text) > 0.01:
        raise ArticleError(f"{name}: not a text file (binary content). {_advice(name)}")
    if _is_html_page(text):
        fix = (
            "save the page with an .html name and add the file"
            if name.startswith(("http://", "https://"))  # served as plain text
            else "save it with an .html name to extract its article text, or give its web address"
        )
        raise ArticleError(f"{name}: this is an HTML page, not plain text: {fix}.")
    if len(_LETTER_WORD.findall(text)) < 3:
        raise ArticleError(
            f"{name}: too short to be an article (fewer than 3 words). {_advice(name)}"
        )


def _is_html_page(text: str) -> bool:
    """Whether the text is an HTML page: ``<!doctype html>`` or ``<html>`` opens it, after what
    may come before them (``_MARKUP_PREAMBLE``)."""
    start = _MARKUP_PREAMBLE.match(text)
    return text[start.end() if start else 0 :][:14].lower().startswith(("<!doctype html", "<html"))


def _canonical_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        where = "" if name == url else f"{name}: "
        raise ArticleError(
            f"{where}{url!r} is not a web address. Give the article's full http(s):// URL."
        )
    path = parts.path.rstrip("/") or "/"
    # Shared news links carry tracking parameters; they do not change the article.
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in pairs if not k.startswith("utm_")])
    return urlunsplit((scheme, parts.netloc.lower(), path, query, ""))


def text_key(text: str) -> str:
    """The id of an article with this text and no address: the same for texts that differ
    only in spacing (the records of an article from an address carry it, so that the same text
    is found when it comes again from a file or another address: ``Store.with_text``)."""
    return "a-" + _hash16(" ".join(unicodedata.normalize("NFC", text).split()))


def _hash16(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
