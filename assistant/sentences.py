"""Split Indonesian and English news text into sentences with exact character offsets.

Citations point at ``original[start:end]``, so every sentence is a verbatim span of the input.
The splitter is rule based (no model) and linear in the input length: every regex below is
either anchored by a look-behind or uses possessive quantifiers, so no input can make it
backtrack catastrophically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_SENTENCE_CHARS", "Sentence", "is_headline", "is_link_line", "split_sentences"]

MAX_SENTENCE_CHARS = 1000
"""Longest sentence returned; longer runs are cut at whitespace so they stay embeddable."""

# Exactly the separators str.splitlines() knows: most articles are one paragraph a line (the
# lines of a paragraph wrapped at a fixed width are joined again: ``_paragraphs``).
_LINE = re.compile(r"[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
_NONSPACE = re.compile(r"\S")
_WORD_CHAR = re.compile(r"\w")
_HEADING = re.compile(r"[ \t]{0,3}#{1,6}(?:\s|$)")
# The look-behind makes only the first char of a run like "?!..." a start position, which
# keeps finditer linear on long runs of punctuation.
_CANDIDATE = re.compile(r"(?<![.?!…])(?P<term>[.?!…]++)(?P<close>[”\"’')\]]*+)(?=\s)")
_NEXT_WORD = re.compile(r"\w+")
# Dotted abbreviations and initials: U.S., J.K., S.H., M.Sc., S.Kom., a.n., e.g., Ph.D.
_DOTTED = re.compile(r"[A-Za-z]{1,2}(?:\.[A-Za-z]{1,3})+")
# Initials quoted as a name's short form, up to the closing quote: "J. J." (anchored at the end)
_QUOTED_INITIALS = re.compile(r"(?<=[“\"])(?:[A-Z]\. ?)+[A-Z]\.[”\"]\Z")
_INITIALS_REACH = 24
_OPENERS = frozenset("“\"‘'([")
_LEADING_PUNCT = "([{“\"‘'"

# Titles and abbreviations that (practically) never end a sentence; matched case-sensitively
# so that ordinary words such as "no." or "mar." at the end of a sentence still split.
_NEVER_FINAL = frozenset(
    """
    Mr Mrs Ms Dr Prof St Jr Sr vs No Nos approx Gen Sen Rep Gov Lt Col Capt Sgt Maj Adm
    Rev Revd Fr Hon Msgr Esq
    Mt Ave Pres Supt Insp Vol vol Fig fig pp v
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Agu Agt Okt Des
    Bpk Sdr Sdri Tn Ny Nn Jl Jln Gg Kec Kab Kel Prov Ir Drs Dra Hj Moh Muh Abd Pol Kol Rp
    DR PT KH
    yth Yth dr drg hlm jl jln bpk sdr
    """.split()
)
# Abbreviations that end a sentence when the next word starts like a sentence does.
_MAY_END = frozenset("etc al dll dsb dst dkk tsb inc ltd corp co tbk".split())
# Words that, after a closing quote, attribute the quote instead of starting a sentence.
_ATTRIBUTION = frozenset(
    """
    kata katanya ujar ujarnya tutur tuturnya ucap ucapnya jelas jelasnya tanya tanyanya
    imbuh imbuhnya tambah tambahnya ungkap ungkapnya sebut sebutnya papar paparnya
    lanjut lanjutnya tegas tegasnya said says asked added told he she they
    """.split()
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of an article, with character offsets into the article text."""

    index: int  # 0-based position in the article
    start: int  # offset of the first char in the original text
    end: int  # offset one past the last char
    text: str  # == original[start:end]


def _starts_sentence(ch: str) -> bool:
    """Whether ``ch`` looks like the first character of a new sentence."""
    return ch.isupper() or ch in _OPENERS


def _is_boundary(text: str, m: re.Match[str], line_start: int, line_end: int) -> bool:
    """Decide whether the terminator matched by ``m`` really ends a sentence."""
    term, close = m.group("term"), m.group("close")
    nxt_pos = _NONSPACE.search(text, m.end(), line_end)
    if nxt_pos is None:
        return True
    nxt = nxt_pos.group()
    if "?" in term or "!" in term:
        # “Kenapa?” tanyanya. / "Why?" he asked. -- the quote is attributed, not ended.
        return not (close and nxt.islower())
    if len(term) > 1 or term == "…":
        # An ellipsis only ends a sentence when something sentence-like follows it.
        return _starts_sentence(nxt)
    if close:
        near = max(line_start, m.end() - _INITIALS_REACH)  # a bounded look back: linear
        if nxt.isupper() and _QUOTED_INITIALS.search(text, near, m.end()):
            return False  # a name's initials in quotes: Jeffrey Jacob "J. J." Abrams
        if nxt.islower():
            after = _NEXT_WORD.match(text, nxt_pos.start(), line_end)
            return after is None or after.group().lower() not in _ATTRIBUTION
        return True
    tok_start = m.start()
    while tok_start > line_start and not text[tok_start - 1].isspace():
        tok_start -= 1
    word = text[tok_start : m.start()].lstrip(_LEADING_PUNCT)
    if word in _NEVER_FINAL:
        return False
    if word.lower() in _MAY_END:
        # not inside a headline in title case ("Direktur PT Maju Jaya Tbk. Diperiksa KPK")
        rest = _NEXT_WORD.findall(text, nxt_pos.start(), line_end)
        return _starts_sentence(nxt) and any(w[0].islower() for w in rest)
    if len(word) == 1 and (word.isupper() or nxt.islower()):
        return False  # an initial (Joko S. Widodo, H. Abdul) or a species' genus (Y. p. orientalis)
    if _DOTTED.fullmatch(word):
        return False
    if word.isdigit() and len(word) <= 3:
        first = _NONSPACE.search(text, line_start, line_end)
        # Only a number opening its line is a list marker ("1. Pertama"); "jumlahnya 5." ends.
        return first is None or first.start() != tok_start
    return True


def _emit(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    """Append the stripped span ``text[a:b]``, cut into pieces of at most the maximum length."""
    first = _NONSPACE.search(text, a, b)
    if first is None:
        return
    a = first.start()
    while text[b - 1].isspace():
        b -= 1
    while b - a > MAX_SENTENCE_CHARS:
        i = a + MAX_SENTENCE_CHARS
        while i > a and not text[i].isspace():
            i -= 1
        if i == a:
            # No whitespace at all: a hard cut is the only way to bound the length.
            out.append((a, a + MAX_SENTENCE_CHARS))
            a += MAX_SENTENCE_CHARS
            continue
        end = i
        while text[end - 1].isspace():
            end -= 1
        out.append((a, end))
        while text[i].isspace():
            i += 1
        a = i
    out.append((a, b))


# An editor's sign-off or a news agency's credit closing a news text: "(end)", "(has/has)",
# "[cob]", "(Antara)" (bounded quantifiers: linear).
_SIGN_OFF = re.compile(r"[(\[][^\s()\[\]]{1,20}(?:[ /][^\s()\[\]]{1,20})?[)\]]\.?")


def _attach_fragments(text: str, spans: list[tuple[int, int]], first: int) -> None:
    """Join each span from ``spans[first]`` on that holds no letter or digit (a stray "." or
    "”." of the source), or that is a sign-off tag (``_SIGN_OFF``: 1.5% of the sentences of
    the evaluation's Indonesian news), to the sentence before it on the same line, within the
    length limit: alone it would be a sentence nobody can cite, yet it embeds close to any
    question."""
    kept = first
    for a, b in spans[first:]:
        if (
            kept > first
            and (_WORD_CHAR.search(text, a, b) is None or _SIGN_OFF.fullmatch(text, a, b))
            and b - spans[kept - 1][0] <= MAX_SENTENCE_CHARS
        ):
            spans[kept - 1] = (spans[kept - 1][0], b)
        else:
            spans[kept] = (a, b)
            kept += 1
    del spans[kept:]


_LINE_END = re.compile(r"[.?!…:;][”\"’')\]]*\s*$")
_LIST_ITEM = re.compile(r"\s*(?:[-*•+]\s|\d{1,3}[.)]\s)")
WRAPPED_WIDTH = 120
"""Longest line of a text whose lines are wrapped at a fixed width (e-mail, plain-text
exports: 65-80 characters); a text of one paragraph a line has longer ones."""


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the text's lines, with the lines of a paragraph broken at a fixed width joined
    into one span: a line that does not end like a sentence goes on in the next line when that
    one starts in lower case ("... delayed by two years because of" / "heavy rains"), or, in
    a text wrapped at a fixed width, when the line fills that width (a short line ends its
    paragraph: a headline, the last line of a paragraph). A sentence may so span lines; its
    text keeps the line break, and its offsets stay those of the original."""
    lines = [m.span() for m in _LINE.finditer(text)]
    pairs = [
        (a, b)
        for a, b in zip(lines, lines[1:], strict=False)
        if text[a[1] : b[0]] == "\n" and text[a[0] : a[1]].strip() and text[b[0] : b[1]].strip()
    ]
    width = max((b - a for a, b in lines), default=0)
    open_ended = [a for a, _ in pairs if not _LINE_END.search(text, a[0], a[1])]
    wrapped = width <= WRAPPED_WIDTH and len(open_ended) >= 2 and 2 * len(open_ended) >= len(pairs)
    joined: list[tuple[int, int]] = []
    for span in lines:
        if joined and _continues(text, joined[-1], span, wrapped=wrapped, width=width):
            joined[-1] = (joined[-1][0], span[1])
        else:
            joined.append(span)
    return joined


def _continues(
    text: str, before: tuple[int, int], line: tuple[int, int], *, wrapped: bool, width: int
) -> bool:
    """Whether ``line`` goes on with the sentence that ``before`` (a line, or lines joined so
    far) leaves open (see ``_paragraphs``)."""
    last = text.rfind("\n", before[0], before[1]) + 1 or before[0]  # before's last line
    if text[before[1] : line[0]] != "\n" or _LINE_END.search(text, last, before[1]):
        return False
    if _HEADING.match(text, last, before[1]) or _HEADING.match(text, line[0], line[1]):
        return False
    first = _NONSPACE.search(text, line[0], line[1])
    if first is None or _NONSPACE.search(text, last, before[1]) is None:
        return False
    if first.group().islower():
        return True
    full = (before[1] - last) * 10 >= width * 6
    return wrapped and full and not _LIST_ITEM.match(text, line[0], line[1])


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into stripped, ordered, non-overlapping sentences that cover it."""
    spans: list[tuple[int, int]] = []
    for line_start, line_end in _paragraphs(text):
        seg_start = line_start
        first = len(spans)
        if not _HEADING.match(text, line_start, line_end):
            for m in _CANDIDATE.finditer(text, line_start, line_end):
                if _is_boundary(text, m, line_start, line_end):
                    _emit(text, seg_start, m.end(), spans)
                    seg_start = m.end()
        _emit(text, seg_start, line_end, spans)
        _attach_fragments(text, spans, first)
    return [Sentence(i, a, b, text[a:b]) for i, (a, b) in enumerate(spans)]


HEADLINE_MAX_WORDS = 15
"""Longer first lines without a final stop are ledes whose full stop is missing (news texts:
"Rimanews - Polres Metro Bekasi Kota ... menyiagakan 1.000 lebih personel ..."), not headlines."""
_FINAL = re.compile(r"[.?!…][”\"’')\]]*$")


def is_headline(text: str, sentence: Sentence, title: str = "") -> bool:
    """Whether ``sentence`` is the headline of the article ``text``: its first line, or a line
    that is its ``title`` (a Markdown heading below a photo's caption), with more text below,
    not ending like a sentence ("Rivertown FC to build a new stadium").

    A headline names the topic, so it lands close to any question about the article and was
    cited first (as [1], the citations being in article order) before the sentence that
    answers; the title shows with every citation anyway. A first line that ends like a sentence
    (the first article's), a long one, or one whose next line goes on in lower case (a line
    broken inside a sentence, "... partial pressure of O" / "2 around the patient") is a
    sentence. A first line that asks or exclaims ("Why Are Egg Prices Rising Again?") is a
    headline when a blank line parts it from the text."""
    if sentence.text != title and (sentence.index != 0 or text[: sentence.start].strip(" \t#")):
        return False
    if text[sentence.start - 1 : sentence.start].strip():
        return False  # not at the start of a line
    line, _, below = text[sentence.end :].partition("\n")
    paragraph = not below.partition("\n")[0].strip()  # a blank line follows
    below = below.lstrip()
    final = _FINAL.search(sentence.text)
    return (
        not line.strip()
        and len(sentence.text.split()) <= HEADLINE_MAX_WORDS
        and bool(below)
        and (below[0].isupper() or below[0] in _OPENERS)  # not a line broken mid-sentence
        and (not final or (paragraph and final.group(0)[0] in "?!"))
    )


_LINK_LINE = re.compile(
    r"\W*(?:(?:baca|lihat|simak)\s+juga\b|(?:read|see)\s+(?:also|more)\s*:|(?:baca|related|terkait)\s*:)",
    re.IGNORECASE,
)


def is_link_line(sentence: Sentence) -> bool:
    """Whether the sentence is a news site's link to another story ("Baca juga: Harga Beras
    Turun di Pasar Induk", "Read also: ..."), kept in the text of a page or a pasted article:
    it names another story's topic, so it was cited as if it answered."""
    return bool(_LINK_LINE.match(sentence.text))
