"""Tests for assistant.articles: loading, validation, ids, titles and language detection."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.articles import (
    MAX_ARTICLE_BYTES,
    Article,
    article_from_text,
    dateline_date,
    detect_language,
    load_article,
    load_articles,
    make_title,
    markdown_text,
    pasted_article,
    question_language,
    read_stdin_article,
    readable,
)
from assistant.errors import ArticleError

ROOT = Path(__file__).parents[1]
SEED = ROOT / "index" / "articles" / "kremlin-peskov-biden.txt"
FIX = "Give a .txt or .md file with the article text, or a saved .html page."
TEXT_FIX = "Give the text of one news article."  # without a file: stdin, pasted

EN_TEXT = (
    "Stocks rose on Monday.\n"
    "Investors cheered the central bank decision to hold interest rates steady for now.\n"
)
ID_BODY = (
    "Bank Indonesia mempertahankan suku bunga acuan pada rapat dewan gubernur hari Kamis.\n"
    "Keputusan itu diambil untuk menjaga stabilitas nilai tukar rupiah.\n"
)


def text_id(text: str) -> str:
    """The content id, computed independently of the module: whitespace runs collapsed."""
    return "a-" + hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def url_id(canonical: str) -> str:
    return "u-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_seed_article() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert load_article(SEED) == Article(
        id=text_id(text),
        title=(
            "Kremlin dikatakan Pada hari Rabu, mereka menyambut baik kesiapan Presiden AS Joe "
            "Biden untuk melanjutkan pembicaraan…"
        ),
        text=text,
        lang="id",
        source=str(SEED),
    )


GOOD_FILES = [
    # (file name, bytes on disk, title override, expected title, expected text, expected lang)
    ("en.txt", EN_TEXT.encode(), None, "Stocks rose on Monday.", EN_TEXT.rstrip(), "en"),
    (
        "bi.md",
        ("# Bank Indonesia Tahan Suku Bunga\n\n" + ID_BODY).encode(),
        None,
        "Bank Indonesia Tahan Suku Bunga",
        "Bank Indonesia Tahan Suku Bunga\n\n" + ID_BODY.rstrip(),  # Markdown: its text
        "id",
    ),
    (
        "closed.markdown",
        ("##  Closed   heading ##\n" + EN_TEXT).encode(),
        None,
        "Closed heading",
        "Closed   heading\n" + EN_TEXT.rstrip(),
        "en",
    ),
    ("custom.txt", EN_TEXT.encode(), "  My   title ", "My title", EN_TEXT.rstrip(), "en"),
    (
        "cp1252.txt",
        "The café – “quoted” in the guide – opened on Monday morning.\n".encode("cp1252"),
        None,
        "The café – “quoted” in the guide – opened on Monday morning.",
        "The café – “quoted” in the guide – opened on Monday morning.",
        "en",
    ),
    (
        "bom-crlf.text",
        b"\xef\xbb\xbfStocks rose on Monday.  \r\nInvestors cheered.\r\n\r\n  \r\n",
        None,
        "Stocks rose on Monday.",
        "Stocks rose on Monday.  \nInvestors cheered.",
        "en",
    ),
    ("notes.log", EN_TEXT.encode(), None, "Stocks rose on Monday.", EN_TEXT.rstrip(), "en"),
    ("notepad-unicode.txt", EN_TEXT.encode("utf-16"), None, "Stocks rose on Monday.",
     EN_TEXT.rstrip(), "en"),
    # without the byte order mark: it was refused as binary content
    ("utf16le-no-mark.txt", EN_TEXT.encode("utf-16-le"), None, "Stocks rose on Monday.",
     EN_TEXT.rstrip(), "en"),
    ("utf16be-no-mark.txt", EN_TEXT.encode("utf-16-be"), None, "Stocks rose on Monday.",
     EN_TEXT.rstrip(), "en"),
    ("long-title.txt", EN_TEXT.encode(), "word " * 100, ("word " * 24).strip() + "…",
     EN_TEXT.rstrip(), "en"),
    ("blank-start.txt", b"\n\n  " + EN_TEXT.encode(), None, "Stocks rose on Monday.",
     "\n\n  " + EN_TEXT.rstrip(), "en"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "title", "want_title", "want_text", "want_lang"),
    GOOD_FILES,
    ids=[row[0] for row in GOOD_FILES],
)
def test_good_files(
    tmp_path: Path,
    name: str,
    data: bytes,
    title: str | None,
    want_title: str,
    want_text: str,
    want_lang: str,
) -> None:
    path = write(tmp_path, name, data)
    assert load_article(path, title=title) == Article(
        id=text_id(want_text),
        title=want_title,
        text=want_text,
        lang=want_lang,
        source=str(path),
    )


def test_id_is_pinned() -> None:
    # A literal value: ids are stored in the index, so the algorithm must never drift.
    assert article_from_text("One  two\nthree.").id == "a-7493b32ad0b5cf73"


def test_line_endings_and_trailing_spaces_keep_the_id(tmp_path: Path) -> None:
    lf = load_article(write(tmp_path, "lf.txt", EN_TEXT.encode()))
    crlf = load_article(write(tmp_path, "crlf.txt", EN_TEXT.replace("\n", "\r\n  ").encode()))
    assert crlf.id == lf.id
    assert lf.text == EN_TEXT.rstrip()


def test_nfc_and_nfd_share_an_id() -> None:
    nfc = article_from_text("Kafe di Jakarta dibuka kembali: café.")
    nfd = article_from_text("Kafe di Jakarta dibuka kembali: cafe\u0301.")
    assert nfc.id == nfd.id


def test_url_based_id() -> None:
    url = "https://News.example.com/2022/02/16/kremlin/"
    article = article_from_text(
        ID_BODY, url=url, published="2022-02-16", publisher=" Example News "
    )
    assert article == Article(
        id=url_id("https://news.example.com/2022/02/16/kremlin"),
        title=ID_BODY.splitlines()[0],
        text=ID_BODY.rstrip(),
        lang="id",
        source=url,
        url=url,
        published="2022-02-16",
        publisher="Example News",
    )
    same = [
        "HTTPS://news.example.com/2022/02/16/kremlin#comments",
        "https://news.example.com/2022/02/16/kremlin?utm_source=x&utm_medium=y",
    ]
    assert {article_from_text(EN_TEXT, url=u).id for u in same} == {article.id}
    assert article_from_text(ID_BODY, url=url + "?page=2").id != article.id
    assert article_from_text(ID_BODY, url=url, source="saved.txt").source == "saved.txt"


@pytest.mark.parametrize("url", ["ftp://example.com/a", "example.com/a", "https://"])
def test_bad_url(url: str) -> None:
    with pytest.raises(ArticleError) as err:
        article_from_text(EN_TEXT, url=url)
    assert (
        str(err.value) == f"{url!r} is not a web address. Give the article's full http(s):// URL."
    )


BAD_FILES = [
    # (file name, bytes on disk, max_bytes, expected message after "{path}: ")
    ("empty.txt", b"", MAX_ARTICLE_BYTES, f"is empty, there is no article text. {FIX}"),
    ("bom-only.txt", b"\xef\xbb\xbf", MAX_ARTICLE_BYTES,
     f"is empty, there is no article text. {FIX}"),
    ("blank.txt", b" \r\n\t\n ", MAX_ARTICLE_BYTES,
     f"holds only whitespace, there is no article text. {FIX}"),
    ("notes.pdf", b"%PDF-1.7\n\x00\x01\x02\xe2\xe3\xcf\xd3 obj", MAX_ARTICLE_BYTES,
     f"a PDF file, which this assistant does not read. {FIX}"),
    ("report.pdf", b"%PDF-1.4\n" + b"Plain looking text of a report. " * 20, MAX_ARTICLE_BYTES,
     f"a PDF file, which this assistant does not read. {FIX}"),
    ("image.txt", bytes(range(1, 256)) * 4, MAX_ARTICLE_BYTES,
     f"not a text file (binary content). {FIX}"),
    ("controls.txt", b"Some words here \x01\x02\x03\x04\x05", MAX_ARTICLE_BYTES,
     f"not a text file (binary content). {FIX}"),
    ("russian.txt", "Привет мир, как дела сегодня у вас".encode("cp1251"), MAX_ARTICLE_BYTES,
     "not UTF-8 text, and not plausible Windows-1252 text either. Save the file as UTF-8 "
     "and load it again."),
    ("page.html", b"  <!DOCTYPE html><html><body><script>x()</script></body></html>",
     MAX_ARTICLE_BYTES,
     "no article text found in this page. Copy the article text into a .txt file and load "
     "that instead."),
    ("page.txt", b"<HTML lang='en'><p>Hello there world</p></HTML>", MAX_ARTICLE_BYTES,
     "this is an HTML page, not plain text: save it with an .html name to extract its "
     "article text, or give its web address."),
    # a browser's "saved from" comment, an XML declaration (XHTML) before the page
    ("saved.txt", b"<!-- saved from url=(0026)https://news.example/x -->\n<html><p>Hi all "
     b"there</p></html>", MAX_ARTICLE_BYTES,
     "this is an HTML page, not plain text: save it with an .html name to extract its "
     "article text, or give its web address."),
    ("xhtml.txt", b"\xef\xbb\xbf<?xml version='1.0'?>\n<!DOCTYPE html><html><p>Hi all there</p>"
     b"</html>", MAX_ARTICLE_BYTES,
     "this is an HTML page, not plain text: save it with an .html name to extract its "
     "article text, or give its web address."),
    ("short.txt", b"Breaking: 2024 news!", MAX_ARTICLE_BYTES,
     f"too short to be an article (fewer than 3 words). {FIX}"),
    ("big.txt", EN_TEXT.encode(), 50,
     f"too large ({len(EN_TEXT.encode()):,} bytes; the limit is 50 bytes). Give one article "
     "per file, or raise the size limit (ASSISTANT_MAX_ARTICLE_BYTES)."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "max_bytes", "message"), BAD_FILES, ids=[row[0] for row in BAD_FILES]
)
def test_bad_files(tmp_path: Path, name: str, data: bytes, max_bytes: int, message: str) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(ArticleError) as err:
        load_article(path, max_bytes=max_bytes)
    assert str(err.value) == f"{path}: {message}"
    # load_articles reports the same error in its list instead of raising
    articles, errors = load_articles([path], max_bytes=max_bytes)
    assert (articles, [str(e) for e in errors]) == ([], [str(err.value)])


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    message = f"{missing}: no such file or folder. Check the path."
    with pytest.raises(ArticleError) as err:
        load_article(missing)
    assert str(err.value) == message
    articles, errors = load_articles([missing])
    assert (articles, [str(e) for e in errors]) == ([], [message])


def test_empty_path() -> None:
    with pytest.raises(ArticleError) as err:
        load_article("")
    assert str(err.value) == "an empty path was given. Give the path of an article file."


def test_folder_with_good_and_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    good_b = write(folder, "sub/b.md", ("# Judul\n" + ID_BODY).encode())
    good_a = write(folder, "a.txt", EN_TEXT.encode())
    bad = write(folder, "c.TXT", b"   \n")
    write(folder, "d.pdf", b"%PDF\x00\x01")  # not a supported suffix: skipped in folders
    write(folder, ".hidden.txt", b"")  # hidden files and folders are skipped
    write(folder, ".git/HEAD.txt", b"")
    missing = tmp_path / "gone"
    articles, errors = load_articles([folder, missing, good_a])  # good_a twice: loaded once
    assert [a.source for a in articles] == [str(good_a), str(good_b)]
    assert [(a.title, a.lang) for a in articles] == [
        ("Stocks rose on Monday.", "en"),
        ("Judul", "id"),
    ]
    assert [str(e) for e in errors] == [
        f"{bad}: holds only whitespace, there is no article text. {FIX}",
        f"{missing}: no such file or folder. Check the path.",
    ]


def test_folder_without_articles(tmp_path: Path) -> None:
    write(tmp_path, "slides.pdf", b"%PDF")
    articles, errors = load_articles([tmp_path])
    assert (articles, [str(e) for e in errors]) == (
        [],
        [
            f"{tmp_path}: no article files in this folder (looked for .txt, .md, .markdown, "
            ".text, .html, .htm). Put the articles there as text files."
        ],
    )


def test_a_relative_path_is_kept_absolute_and_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`list --json` showed "arts/flood.txt", which says nothing from another folder."""
    write(tmp_path, "arts/a.txt", EN_TEXT.encode())
    write(tmp_path, "arts/empty.txt", b"")
    monkeypatch.chdir(tmp_path)
    assert load_article(Path("arts/a.txt")).source == str(tmp_path / "arts" / "a.txt")
    with pytest.raises(ArticleError, match=r"^arts/empty\.txt: "):
        load_article("arts/empty.txt")


def test_undecodable_names_and_titles_become_readable(tmp_path: Path) -> None:
    # a file name or --title that is not UTF-8 reaches Python as lone surrogates, which
    # would make the kept article unreadable (JSON) and the tokenizer fail
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
    path = write(tmp_path, name, EN_TEXT.encode())
    article = load_article(path, title=b"Caf\xe9 news".decode("utf-8", "surrogateescape"))
    assert article.title == "Caf\ufffd news"
    assert article.source == str(tmp_path / "caf\ufffd.txt")
    assert readable("plain “text”") == "plain “text”"


def test_a_given_title_loses_its_control_characters() -> None:
    article = article_from_text(EN_TEXT, title="Bell\x07 and \x1b[31mred\x1b[0m news")
    assert article.title == "Bell and [31mred[0m news"


def test_title_only_with_a_single_file(tmp_path: Path) -> None:
    one = write(tmp_path, "one.txt", EN_TEXT.encode())
    two = write(tmp_path, "two.txt", ID_BODY.encode())
    message = (
        "a title can only be given for a single article file. Load one file with the title, "
        "or leave the title out."
    )
    for paths in ([one, two], [tmp_path], []):
        with pytest.raises(ArticleError) as err:
            load_articles(paths, title="T")
        assert str(err.value) == message
    articles, errors = load_articles([one], title="Own title")
    assert ([a.title for a in articles], errors) == (["Own title"], [])
    with pytest.raises(ArticleError) as err:
        load_article(one, title="  ")
    assert str(err.value) == (
        f"{one}: the title is empty. Give a title with text, or leave it out to use the "
        "article's first line."
    )


@pytest.mark.parametrize(
    "stream",
    [
        io.BytesIO(EN_TEXT.encode()),
        io.BytesIO(b"\xef\xbb\xbf" + EN_TEXT.replace("\n", "\r\n").encode()),
        io.StringIO(EN_TEXT),
    ],
    ids=["bytes", "bytes-bom-crlf", "text"],
)
def test_stdin(stream: io.IOBase) -> None:
    assert read_stdin_article(stream) == Article(  # type: ignore[arg-type]
        id=text_id(EN_TEXT),
        title="Stocks rose on Monday.",
        text=EN_TEXT.rstrip(),
        lang="en",
        source="<stdin>",
    )


def test_stdin_cp1252_and_title() -> None:
    data = "Le café – “cité” – reste ouvert tout l’été à Paris.".encode("cp1252")
    article = read_stdin_article(io.BytesIO(data), title="Café")
    assert (article.text, article.title, article.lang) == (data.decode("cp1252"), "Café", "fr")


def test_stdin_undecoded_bytes_in_text_stream() -> None:
    # a text stream opened with surrogateescape hands over raw cp1252 bytes as surrogates
    raw = "Harga kopi di kafe naik – kata pemilik.".encode("cp1252")
    stream = io.StringIO(raw.decode("utf-8", "surrogateescape"))
    assert read_stdin_article(stream).text == raw.decode("cp1252")


@pytest.mark.parametrize(
    ("stream", "max_bytes", "message"),
    [
        (io.BytesIO(b""), MAX_ARTICLE_BYTES,
         f"<stdin>: is empty, there is no article text. {TEXT_FIX}"),
        (io.StringIO(" \n "), MAX_ARTICLE_BYTES,
         f"<stdin>: holds only whitespace, there is no article text. {TEXT_FIX}"),
        (io.BytesIO(b"\x00\x01binary"), MAX_ARTICLE_BYTES,
         f"<stdin>: not a text file (binary content). {TEXT_FIX}"),
        (io.StringIO(EN_TEXT), 20,
         "<stdin>: too large (more than 20 bytes). Give one article, or raise the size limit "
         "(ASSISTANT_MAX_ARTICLE_BYTES)."),
        (io.StringIO("é" * 15), 20,
         "<stdin>: too large (more than 20 bytes). Give one article, or raise the size limit "
         "(ASSISTANT_MAX_ARTICLE_BYTES)."),
    ],
    ids=["empty", "whitespace", "binary", "oversize", "oversize-multibyte"],
)  # fmt: skip
def test_stdin_errors(stream: io.IOBase, max_bytes: int, message: str) -> None:
    with pytest.raises(ArticleError) as err:
        read_stdin_article(stream, max_bytes=max_bytes)  # type: ignore[arg-type]
    assert str(err.value) == message


LONG = "Kata " * 30  # 150 characters of five-letter words


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# Heading\nBody text here.", "Heading"),
        ("\n\n   ## Sub heading ###  \nBody", "Sub heading"),
        ("#\n\nFirst real line\n", "First real line"),
        ("#hashtag is not a heading\nBody", "#hashtag is not a heading"),
        ("Title   with\tspaces\n# Later heading", "Title with spaces"),
        (LONG, "Kata " * 23 + "Kata…"),
        ("x" * 130, "x" * 119 + "…"),
        ("Word, " * 25, ("Word, " * 20)[:-2] + "…"),
        ("", ""),
        (
            "# Jakarta floods *worsen* after [heavy](http://x.com) rain",
            "Jakarta floods worsen after heavy rain",
        ),
        ("**Breaking**: __big__ `code` news\nBody", "Breaking: big code news"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        # a dateline gives the date, not the title
        (
            "JAKARTA, 8 Maret 2024 - Kementerian Kesehatan menambah vaksin.\nBody",
            "Kementerian Kesehatan menambah vaksin.",
        ),
        ("GREENPORT, March 14, 2026 —", "GREENPORT, March 14, 2026 —"),
        # a paragraph: its first sentence
        (
            "Harga cabai rawit di Pasar Induk Kramat Jati naik menjadi 95.000 rupiah per "
            "kilogram pada hari Kamis. Kenaikan itu dipicu cuaca buruk di sentra produksi.",
            "Harga cabai rawit di Pasar Induk Kramat Jati naik menjadi 95.000 rupiah per "
            "kilogram pada hari Kamis.",
        ),
    ],
)
def test_make_title(text: str, title: str) -> None:
    assert make_title(text) == title
    assert len(make_title(text)) <= 120


PASTED_MARKDOWN = """# Banjir Semarang

Kepala BPBD Semarang, **Endro Pudyo Martanto**, mengatakan air mulai surut pada hari Senin.
Warga diminta memantau [peringatan cuaca](https://example.com/cuaca) dari BMKG.
"""


def test_pasted_markdown_is_the_same_article_as_its_file(tmp_path: Path) -> None:
    """Pasted (or piped) Markdown was kept with its markup: "**" showed in quotes, and the same
    article added again as an .md file was indexed twice."""
    md = tmp_path / "banjir.md"
    md.write_text(PASTED_MARKDOWN, encoding="utf-8")
    from_file = load_article(md)
    pasted = pasted_article(PASTED_MARKDOWN.replace("\n", "\r\n"), source="pasted text")
    assert (pasted.id, pasted.text, pasted.title) == (
        from_file.id,
        from_file.text,
        "Banjir Semarang",
    )
    assert "**" not in pasted.text and "Endro Pudyo Martanto" in pasted.text
    piped = read_stdin_article(io.BytesIO(PASTED_MARKDOWN.encode()))
    assert piped.id == from_file.id
    # plain text stays as it is: a "#" without a space, one "*", brackets without a target
    plain = "Harga naik 2*3 kali. #banjir [foto] pada hari Senin pagi di pasar."
    assert pasted_article(plain, source="pasted text").text == plain


def test_a_pasted_html_page_gives_its_article_text() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>Banjir Semarang surut</title></head><body>"
        "<nav>Beranda | Berita</nav><article><h1>Banjir Semarang surut</h1>"
        "<p>Air banjir di Semarang mulai surut pada hari Senin setelah hujan reda sejak Minggu "
        "malam, kata Kepala BPBD Semarang kepada wartawan di lokasi pengungsian.</p>"
        "<p>Sebanyak 1.150 warga masih mengungsi di tiga sekolah dan dua masjid.</p>"
        "</article><footer>Hak cipta</footer></body></html>"
    )
    article = pasted_article(page, source="pasted text")
    assert article.title == "Banjir Semarang surut"
    assert "1.150 warga masih mengungsi" in article.text
    assert "<p>" not in article.text and "Beranda" not in article.text


def test_markdown_front_matter_gives_the_title_and_is_not_article_text() -> None:
    body = "Harga beras di pasar Jakarta naik lagi minggu ini. Pedagang menyebut pasokan berkurang."
    front = '---\ntitle: "Harga beras naik"\ndate: 2024-01-02\ntags:\n  - ekonomi\n---\n\n'
    article = article_from_text(front + body)
    assert (article.title, article.text.strip()) == ("Harga beras naik", body)
    assert (article.published, article.publisher) == ("2024-01-02", "")
    assert article.id == article_from_text(body).id  # the same text, the same article
    dated = article_from_text(
        "---\ndate: 2022-02-16T10:00:00Z\npublisher: 'Kabar Pagi'\n---\n" + body
    )
    assert (dated.published, dated.publisher, dated.title) == (
        "2022-02-16",
        "Kabar Pagi",
        make_title(body),
    )
    assert article_from_text("---\ndate: kemarin\n---\n" + body).published == ""
    assert article_from_text("---\ndate: 2024-02-30\n---\n" + body).published == ""  # no day
    assert article_from_text(front + body, title="Own").title == "Own"
    # a rule line that opens ordinary text is text, not front matter
    text = "---\nHarga beras naik.\n---\n" + body
    assert article_from_text(text).text == text


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Ferry opens\nGREENPORT, March 14, 2026 — The city opened a ferry line.", "2026-03-14"),
        ("WASHINGTON, Feb. 16, 2022 (Reuters) - The White House said ...", "2022-02-16"),
        ("Banjir\n\nJAKARTA, Jumat, 8 Maret 2024 - Banjir merendam ...", "2024-03-08"),
        ("Bandung, 8 Maret 2024 — Banjir merendam ...", "2024-03-08"),
        # a sentence that opens with a date goes on without a dash
        ("Pada Jumat, 8 Maret 2024, banjir merendam 3.200 rumah.", ""),
        ("Bandung, 30 Februari 2024 - Banjir ...", ""),  # no such day
        ("Satu\nDua\nTiga\nJAKARTA, 8 Maret 2024 - terlambat", ""),  # not among the first lines
        ("Kremlin dikatakan Pada hari Rabu, mereka menyambut baik ...", ""),
    ],
)
def test_dateline_date(text: str, date: str) -> None:
    assert dateline_date(text) == date


def test_a_dateline_gives_the_publication_date_unless_it_is_given() -> None:
    text = "Ferry opens\n\nGREENPORT, March 14, 2026 — The city of Greenport opened a line."
    assert article_from_text(text).published == "2026-03-14"
    assert article_from_text("---\ndate: 2026-03-15\n---\n" + text).published == "2026-03-15"
    assert article_from_text(text, published="2026-03-16").published == "2026-03-16"


MARKDOWN = """---
title: Harga beras naik
---
# Harga beras **naik** lagi #

> Pedagang di [pasar Jakarta](https://pasar.example/jakarta) menyebut pasokan _berkurang_.

- Stok gudang tinggal `40%` dari biasanya.
* Harga naik 5\\*2 kali lipat, kata [laporan][1] ![foto](beras.png).

```
kode_tidak_dibaca()
```
---
Jadwal_operasi_pasar dan snake_case tetap.

[1]: https://laporan.example/beras
"""
MARKDOWN_TEXT = """Harga beras naik lagi

Pedagang di pasar Jakarta menyebut pasokan berkurang.

Stok gudang tinggal 40% dari biasanya.
Harga naik 5*2 kali lipat, kata laporan foto.


kode_tidak_dibaca()


Jadwal_operasi_pasar dan snake_case tetap."""


def test_a_markdown_file_is_read_as_the_text_a_reader_sees(tmp_path: Path) -> None:
    """Marks, link targets and code fences would be quoted in citations: they are not text."""
    article = load_article(write(tmp_path, "beras.md", MARKDOWN.encode()))
    assert (article.title, article.text) == ("Harga beras naik", MARKDOWN_TEXT)
    untitled = MARKDOWN.split("---\n", 2)[2]
    assert load_article(write(tmp_path, "b.markdown", untitled.encode())).title == (
        "Harga beras naik lagi"
    )
    # a .txt file that holds Markdown is read as Markdown, as pasted text is: the same article
    # from a .txt file and from stdin was indexed twice, and quoted with its "**" and "#"
    as_txt = load_article(write(tmp_path, "beras.txt", MARKDOWN.encode()))
    assert (as_txt.id, as_txt.text) == (article.id, MARKDOWN_TEXT)
    assert pasted_article(MARKDOWN, source="<stdin>").id == article.id
    # one without signs of Markdown is taken as written
    plain = "Harga naik 5*2 kali lipat.\n\n* Stok menipis.\n\n#3 pasar tutup (kata_pedagang)."
    assert load_article(write(tmp_path, "plain.txt", plain.encode())).text == plain


def test_markdown_inline_html_shows_as_a_reader_sees_it() -> None:
    text = (
        "Harga <b>beras</b> naik 5 &amp; 6 persen.<br/> Lihat <a href='x'>laporan</a> &lt;baru&gt;."
    )
    assert markdown_text(text) == "Harga beras naik 5 & 6 persen. Lihat laporan <baru>."
    assert markdown_text("Nilai a < b dan c > d.") == "Nilai a < b dan c > d."


def test_markdown_conversion_keeps_text_that_only_looks_like_markup() -> None:
    text = "[Update]: The minister resigned on Monday, the ministry said.\n[1]: https://a.example/x"
    assert markdown_text(text) == (
        "[Update]: The minister resigned on Monday, the ministry said.\n"
    )


@pytest.mark.parametrize("line", ["*a ", "_a ", "`a ", "**a ", "[a](", "[", "(", "[a][", "# "])
def test_markdown_conversion_is_linear_on_unclosed_marks(line: str) -> None:
    """Each unclosed mark scanned to the end of the line: 20 s for 60 KB, hours for a 5 MB
    one-line upload. A generous bound, far from the old quadratic time."""
    text = line * 100_000
    start = time.monotonic()
    markdown_text(text)
    make_title(text)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (ID_BODY, "id"),
        (EN_TEXT, "en"),
        # raw py3langid ranks Malay first for this Indonesian line: folded into "id"
        ("Berita terkini hari ini", "id"),
        # under 20 letters: only "id" or "en" are candidates
        ("Saya tidak tahu", "id"),
        ("Wong Jawa kudu ngerti unggah-ungguh lan tata krama.", "jv"),
        ("Der Hund ist gut und die Katze schläft auf dem Sofa.", "de"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_import_is_light() -> None:
    code = (
        "import sys, assistant.articles; "
        "heavy = {'py3langid', 'torch', 'chromadb', 'gradio', 'sentence_transformers'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        # the names read as Indonesian: the whole question was taken for Indonesian
        ("What rate did Bank Indonesia keep?", "en"),
        ("What did Jokowi say in Jakarta?", "en"),
        ("Apa kata Peskov tentang sanksi?", "id"),
        ("Kapan Christiaan Snouck Hurgronje meninggal?", "id"),
        ("Siapa Joko Widodo?", "id"),  # little more than names: read whole
    ],
)
def test_question_language_reads_a_question_without_its_names(question: str, lang: str) -> None:
    assert question_language(question) == lang


def test_a_markdown_article_is_titled_by_its_first_heading() -> None:
    """Not by a photo's caption above it (the caption was the title, the heading cited)."""
    text = (
        "![](https://cdn.example/img/banjir.jpg)\n*Foto: ANTARA/Aji Styawan*\n\n"
        "# Tanggul Jebol, Ratusan Warga Demak Mengungsi\n\n"
        "Tanggul Sungai Wulan di Kabupaten Demak jebol pada Minggu dini hari. Sekitar 800 "
        "warga mengungsi."
    )
    article = article_from_text(text, markdown=True)
    assert article.title == "Tanggul Jebol, Ratusan Warga Demak Mengungsi"
    assert article_from_text(text, markdown=True, title="Given").title == "Given"
    assert article_from_text(text, markdown=False).title == "Foto: ANTARA/Aji Styawan"  # a line


def test_a_named_pipe_is_refused_not_read_for_ever(tmp_path: Path) -> None:
    """`add` of a folder holding a pipe named *.txt hung with no output."""
    (tmp_path / "good.txt").write_text(EN_TEXT, encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.txt")
    articles, errors = load_articles([tmp_path])
    assert [a.text for a in articles] == [EN_TEXT.strip()] and errors == []  # pipe skipped
    with pytest.raises(ArticleError) as err:
        load_article(tmp_path / "pipe.txt")  # named: refused
    assert str(err.value) == (
        f"{tmp_path / 'pipe.txt'}: not a regular file (a pipe or a device). Give an article "
        "file, or pipe the text to `assistant add -`."
    )
