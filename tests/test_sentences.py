"""Tests for assistant.sentences: exact splits, offsets, coverage and speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.sentences import (
    MAX_SENTENCE_CHARS,
    Sentence,
    is_headline,
    is_link_line,
    split_sentences,
)

ARTICLE = Path(__file__).parents[1] / "index" / "articles" / "kremlin-peskov-biden.txt"


def texts(text: str) -> list[str]:
    """Return only the sentence texts of ``text``."""
    return [s.text for s in split_sentences(text)]


def assert_well_formed(text: str, sentences: list[Sentence]) -> None:
    """Check offsets, order, stripping, no overlap and full coverage of non-whitespace."""
    covered = [False] * len(text)
    prev_end = 0
    for i, s in enumerate(sentences):
        assert s.index == i
        assert text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= prev_end
        prev_end = s.end
        for k in range(s.start, s.end):
            covered[k] = True
    assert all(covered[k] or ch.isspace() for k, ch in enumerate(text))


@pytest.fixture(scope="module")
def article() -> str:
    """The seed Indonesian article."""
    return ARTICLE.read_text(encoding="utf-8")


ENGLISH = [
    pytest.param(
        "Mr. Smith went to Washington. He met Dr. Jones there.",
        ["Mr. Smith went to Washington.", "He met Dr. Jones there."],
        id="titles",
    ),
    pytest.param(
        "Rev. Paul T. Stallsworth spoke for Fr. Brown. They agreed.",
        ["Rev. Paul T. Stallsworth spoke for Fr. Brown.", "They agreed."],
        id="clergy-titles",
    ),
    pytest.param(
        "U.S. President Joe Biden spoke. The U.N. and the U.K. agreed.",
        ["U.S. President Joe Biden spoke.", "The U.N. and the U.K. agreed."],
        id="dotted-countries",
    ),
    pytest.param(
        '"I am tired of it." He left. "Fine," she said.',
        ['"I am tired of it."', "He left.", '"Fine," she said.'],
        id="straight-quotes",
    ),
    pytest.param(
        "“It was good,” said Peskov. “We are ready.” Talks follow.",
        ["“It was good,” said Peskov.", "“We are ready.”", "Talks follow."],
        id="curly-quotes",
    ),
    pytest.param(
        "He said ‘stop now.’ Then he left.",
        ["He said ‘stop now.’", "Then he left."],
        id="single-curly-quotes",
    ),
    pytest.param(
        '"Why?" he asked. "Because!" she shouted. Really? Yes.',
        ['"Why?" he asked.', '"Because!" she shouted.', "Really?", "Yes."],
        id="question-exclamation",
    ),
    pytest.param(
        "Growth was 3.5 percent in Jan. and Feb. 2022. Prices rose 1,5 times.",
        ["Growth was 3.5 percent in Jan. and Feb. 2022.", "Prices rose 1,5 times."],
        id="numbers-months",
    ),
    pytest.param(
        "J.K. Rowling and George W. Bush met Gen. Milley and Sen. Warren.",
        ["J.K. Rowling and George W. Bush met Gen. Milley and Sen. Warren."],
        id="initials",
    ),
    pytest.param(
        "Apples, pears, etc. are fruit. We sell fruit, nuts, etc. The shop opens at 9.",
        ["Apples, pears, etc. are fruit.", "We sell fruit, nuts, etc.", "The shop opens at 9."],
        id="etc",
    ),
    pytest.param(
        "Apple Inc. reported results, e.g. sales. Biden vs. Trump, i.e. a rematch.",
        ["Apple Inc. reported results, e.g. sales.", "Biden vs. Trump, i.e. a rematch."],
        id="company-eg-ie",
    ),
    pytest.param(
        # a headline in title case goes on after "Tbk." (it was split, "Diperiksa KPK" cited)
        "Direktur PT Maju Jaya Tbk. Diperiksa KPK\n\nSaham PT Maju Jaya Tbk. Turun. Ia ditahan.",
        [
            "Direktur PT Maju Jaya Tbk. Diperiksa KPK",
            "Saham PT Maju Jaya Tbk.",
            "Turun.",
            "Ia ditahan.",
        ],
        id="company-in-a-headline",
    ),
    pytest.param(
        "Visit www.cnn.com or write to a.b@c.id today. Thanks.",
        ["Visit www.cnn.com or write to a.b@c.id today.", "Thanks."],
        id="url-email",
    ),
    pytest.param(
        "He paused ... then went on. It ended… Then silence.",
        ["He paused ... then went on.", "It ended…", "Then silence."],
        id="ellipsis",
    ),
    pytest.param(
        "No. 10 Downing St. is in London. Mrs. May lived there.",
        ["No. 10 Downing St. is in London.", "Mrs. May lived there."],
        id="no-st",
    ),
]

INDONESIAN = [
    pytest.param(
        "Lebih dari 100.000 tentara berkumpul. Anggaran Rp 1,5 triliun disetujui.",
        ["Lebih dari 100.000 tentara berkumpul.", "Anggaran Rp 1,5 triliun disetujui."],
        id="numbers",
    ),
    pytest.param(
        "Rapat dimulai pukul 10.30 WIB. Proklamasi pada 17.08.1945 dibacakan.",
        ["Rapat dimulai pukul 10.30 WIB.", "Proklamasi pada 17.08.1945 dibacakan."],
        id="time-date",
    ),
    pytest.param(
        "Ia membeli beras, gula, dll. di pasar. Harga naik dll. Warga mengeluh.",
        ["Ia membeli beras, gula, dll. di pasar.", "Harga naik dll.", "Warga mengeluh."],
        id="dll",
    ),
    pytest.param(
        "Kantornya di Jl. Sudirman No. 5 Jakarta. Bpk. Ahmad dan Ny. Siti hadir.",
        ["Kantornya di Jl. Sudirman No. 5 Jakarta.", "Bpk. Ahmad dan Ny. Siti hadir."],
        id="jl-bpk",
    ),
    pytest.param(
        "Prof. Dr. Ir. H. Budi, S.H., M.Sc. membuka acara. Joko S. Widodo hadir.",
        ["Prof. Dr. Ir. H. Budi, S.H., M.Sc. membuka acara.", "Joko S. Widodo hadir."],
        id="academic-titles",
    ),
    pytest.param(
        "“Ini akan sangat keren,” kantor berita TASS mengutip ucapannya.",
        ["“Ini akan sangat keren,” kantor berita TASS mengutip ucapannya."],
        id="quote-comma",
    ),
    pytest.param(
        "“Kami siap berunding,” katanya. “Sanksi tidak perlu.” Moskow menolak.",
        ["“Kami siap berunding,” katanya.", "“Sanksi tidak perlu.”", "Moskow menolak."],
        id="quote-katanya",
    ),
    pytest.param(
        "“Kenapa?” tanyanya. “Saya lelah.” katanya lagi.",
        ["“Kenapa?” tanyanya.", "“Saya lelah.” katanya lagi."],
        id="quote-attribution",
    ),
    pytest.param(
        'Mereka tinggal di sana. siapa "Kamu bukan musuh kami."',
        ["Mereka tinggal di sana.", 'siapa "Kamu bukan musuh kami."'],
        id="lowercase-start",
    ),
    pytest.param(
        "Budi dkk. meneliti hal tsb. secara rinci. Hasilnya baik.",
        ["Budi dkk. meneliti hal tsb. secara rinci.", "Hasilnya baik."],
        id="dkk-tsb",
    ),
    pytest.param(
        "Yth. Bapak Menteri hadir. Sdr. Andi mewakili a.n. direktur.",
        ["Yth. Bapak Menteri hadir.", "Sdr. Andi mewakili a.n. direktur."],
        id="yth-an",
    ),
]

LAYOUT = [
    pytest.param("", [], id="empty"),
    pytest.param(" \n\t \n", [], id="whitespace-only"),
    pytest.param("Satu dua tiga\nEmpat lima", ["Satu dua tiga", "Empat lima"], id="no-punct"),
    # a line that ends open and a next one in lower case: one sentence broken across lines
    pytest.param("satu dua tiga\nempat lima", ["satu dua tiga\nempat lima"], id="broken-line"),
    pytest.param(
        "Bahan:\nsatu sendok gula. Aduk.", ["Bahan:", "satu sendok gula.", "Aduk."], id="colon"
    ),
    pytest.param(
        "Dam Project Delayed Again\n\n"
        "The government announced on Tuesday that the construction of the\n"
        "Northern River dam would be delayed by two more years because of\n"
        "rising costs and protests from local villagers. Engineer Paul Mensah\n"
        "said the new opening date is 2031.\n"
        "Villagers welcomed the delay.",
        [
            "Dam Project Delayed Again",
            "The government announced on Tuesday that the construction of the\n"
            "Northern River dam would be delayed by two more years because of\n"
            "rising costs and protests from local villagers.",
            "Engineer Paul Mensah\nsaid the new opening date is 2031.",
            "Villagers welcomed the delay.",
        ],
        id="hard-wrapped",
    ),
    pytest.param(
        "Rivertown FC to build a new stadium\nThe club announced a 45,000-seat ground.\n"
        "Work starts in May.",
        [
            "Rivertown FC to build a new stadium",
            "The club announced a 45,000-seat ground.",
            "Work starts in May.",
        ],
        id="headline-then-lines",
    ),
    pytest.param(
        "Lines of a list wrapped at a fixed width must stay items of their own\n"
        "- the first item of the list that is long enough to fill a line\n"
        "- the second item of the list that is long enough to fill a line\n"
        "- a third one",
        [
            "Lines of a list wrapped at a fixed width must stay items of their own",
            "- the first item of the list that is long enough to fill a line",
            "- the second item of the list that is long enough to fill a line",
            "- a third one",
        ],
        id="wrapped-list",
    ),
    pytest.param(
        "# Judul Berita. Dengan titik\nIsi pertama. Isi kedua.",
        ["# Judul Berita. Dengan titik", "Isi pertama.", "Isi kedua."],
        id="heading",
    ),
    pytest.param(
        "Baris satu\r\n\r\n  Baris dua.  \n\nBaris tiga",
        ["Baris satu", "Baris dua.", "Baris tiga"],
        id="blank-lines-crlf",
    ),
    pytest.param(
        "1. Pertama adalah ini.\n2. Kedua itu. Jumlahnya 5. Lalu naik.",
        ["1. Pertama adalah ini.", "2. Kedua itu.", "Jumlahnya 5.", "Lalu naik."],
        id="list-marker",
    ),
    pytest.param("Halo!!! Apa?! Ya...", ["Halo!!!", "Apa?!", "Ya..."], id="runs"),
    pytest.param(
        "Kota itu hancur. . Lalu dibangun lagi. ”.\n.\nSelesai.",
        ["Kota itu hancur. .", "Lalu dibangun lagi. ”.", ".", "Selesai."],
        id="stray-punctuation",
    ),
    pytest.param(
        "Harga beras naik lagi. (end)\n\nPasar ramai. (has/has)\n\nSumber: BPS. [cob]\n\n"
        "(Antara)\n\nSyaratnya dua. (b) Yang kedua ini.",
        [
            "Harga beras naik lagi. (end)",
            "Pasar ramai. (has/has)",
            "Sumber: BPS. [cob]",
            "(Antara)",  # a line of its own stays one
            "Syaratnya dua.",
            "(b) Yang kedua ini.",
        ],
        id="sign-off-tags",
    ),
    pytest.param(
        "Hutton terbit pada 1795 (Vol. 1, Vol. 2). Lihat Fig. 3 dan pp. 10-12.",
        ["Hutton terbit pada 1795 (Vol. 1, Vol. 2).", "Lihat Fig. 3 dan pp. 10-12."],
        id="volume-figure-pages",
    ),
    pytest.param(
        "Kasus Brown v. Board of Education. Jones et al. 1998 setuju. Oleh Jones et al. "
        "Lalu Y. p. orientalis ditemukan.",
        [
            "Kasus Brown v. Board of Education.",
            "Jones et al. 1998 setuju.",
            "Oleh Jones et al.",
            "Lalu Y. p. orientalis ditemukan.",
        ],
        id="versus-et-al-genus",
    ),
    pytest.param(
        'Jeffrey Jacob "J. J." Abrams lahir 1966. Dia berkata "Saya setuju." Lalu pergi. '
        'He said "I like the U.S." Then he left.',
        [
            'Jeffrey Jacob "J. J." Abrams lahir 1966.',
            'Dia berkata "Saya setuju."',
            "Lalu pergi.",
            'He said "I like the U.S."',
            "Then he left.",
        ],
        id="initials-in-quotes",
    ),
    pytest.param(
        "Rektornya Prof. DR. Abraham Tanuseputra. "
        "Direktur PT. Maju Jaya dan KH. Ahmad Dahlan hadir.",
        [
            "Rektornya Prof. DR. Abraham Tanuseputra.",
            "Direktur PT. Maju Jaya dan KH. Ahmad Dahlan hadir.",
        ],
        id="titles-in-capitals",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH + INDONESIAN + LAYOUT)
def test_split_exact(text: str, expected: list[str]) -> None:
    """Each table row splits into exactly the expected sentences."""
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert_well_formed(text, sentences)


def test_article_sentences(article: str) -> None:
    """The seed article has 13 lines; three of them hold two sentences each."""
    sentences = split_sentences(article)
    assert len(sentences) == 16
    assert_well_formed(article, sentences)
    got = [s.text for s in sentences]
    assert got[6].endswith("invasi Rusia ke Ukraina.")
    assert got[7].startswith("Moskow membela pergerakan lebih dari 100.000 tentara")
    assert got[10].endswith("kepada warga Rusia.")
    assert got[11] == "siapa “Kamu bukan musuh kami.”"
    assert got[13].endswith("untuk melakukan hal yang sama.”")
    assert got[14] == "jangan pernah saling menembak.”"
    assert got[15] == "“Ini akan sangat keren,” kantor berita TASS mengutip ucapannya."


def test_article_offsets(article: str) -> None:
    """Offsets stay valid when the article is embedded in surrounding whitespace."""
    padded = "\n\n  " + article.replace("\n", "\n\n") + "  \n"
    assert [s.text for s in split_sentences(padded)] == texts(article)
    assert_well_formed(padded, split_sentences(padded))


def test_long_sentence_is_cut_at_whitespace() -> None:
    """A sentence over the limit is cut at the last whitespace before the limit."""
    text = " ".join(["kata"] * 600) + "."
    sentences = split_sentences(text)
    assert_well_formed(text, sentences)
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in sentences)
    assert len(sentences[0].text) == 999  # 200 words of "kata " minus the trailing space
    assert "".join(s.text + " " for s in sentences).strip() == text


def test_long_line_without_whitespace_is_hard_cut() -> None:
    """Text with no whitespace at all is cut exactly at the limit."""
    text = "x" * 2500
    assert [len(s) for s in texts(text)] == [1000, 1000, 500]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * 50_000, id="no-space"),
        pytest.param("kata " * 10_000, id="no-punct"),
        pytest.param("." * 50_000 + " X", id="dots"),
        pytest.param(".” " * 20_000, id="dot-quote"),
        pytest.param("x." * 25_000 + " Y", id="dotted-token"),
    ],
)
def test_pathological_inputs(text: str) -> None:
    """Adversarial 50,000-char lines split into well-formed sentences (linear-time regexes:
    a backtracking one would hang here; speed itself is measured in benchmarks, not asserted)."""
    assert_well_formed(text, split_sentences(text))


def test_a_line_that_is_the_title_is_a_headline_below_a_caption() -> None:
    text = "Foto: ANTARA\n\nTanggul Jebol, Warga Mengungsi\n\nTanggul jebol. Warga mengungsi."
    sentences = split_sentences(text)
    title = "Tanggul Jebol, Warga Mengungsi"
    assert [is_headline(text, s, title) for s in sentences] == [True, True, False, False]
    assert [is_headline(text, s) for s in sentences] == [True, False, False, False]


@pytest.mark.parametrize(
    ("text", "headline"),
    [
        ("Rivertown FC to build a new stadium\nThe club said so.", True),
        ("Fed holds rates steady\n\nThe Fed kept its rate.", True),
        ('Peskov: "Sanctions are a mantra"\nPeskov spoke.', True),
        ("# A Markdown heading\n\nBody text.", True),
        ("Kremlin menyambut baik kesiapan Biden.\nPeskov berbicara.", False),  # a sentence
        ("Will the Fed cut rates?\nIt will not.", False),  # ends like a sentence
        # a question or exclamation parted from the text by a blank line was cited first
        ("Why Are Egg Prices Rising Again?\n\nEgg prices rose.", True),
        ("Mengapa Harga Telur Naik Lagi?\n  \nHarga telur naik.", True),
        ("Goal!\n\nThe crowd cheered.", True),
        ("The Fed held rates.\n\nIt said so.", False),  # a sentence, though a blank line follows
        ("Only a title", False),  # nothing below it
        ("A title and a sentence. On one line\nMore.", False),  # not a line of its own
        ("Medicine raises the pressure of O\n2 around the patient.", False),  # a broken line
        (
            "Rimanews - Polres Metro Bekasi Kota menyiagakan lebih dari seribu personel untuk "
            "mengamankan ceramah umum di stadion besok malam\nIa berkata.",
            False,
        ),  # a lede
    ],
)
def test_a_headline_is_a_short_first_line_of_its_own(text: str, headline: bool) -> None:
    sentences = split_sentences(text)
    assert is_headline(text, sentences[0]) is headline
    assert not any(is_headline(text, s) for s in sentences[1:])


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("Baca juga: Harga Beras Turun di Pasar Induk", True),
        ("BACA JUGA Menteri Tinjau Pasar", True),
        ("Simak juga: Jadwal KRL Hari Ini", True),
        ("Read also: Rice prices fall", True),
        ("See more: the full schedule", True),
        ("Terkait: Banjir di Demak", True),
        ("Read more about the market in our report.", False),  # a sentence
        ("Baca buku itu, kata guru.", False),
        ("Lihat saja nanti, katanya.", False),
    ],
)
def test_a_link_to_another_story_is_told(text: str, link: bool) -> None:
    (sentence,) = split_sentences(text)
    assert is_link_line(sentence) is link
