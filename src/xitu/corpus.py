"""Parse search-tool exports into articles and segments with stable ids.

An export (one ``.txt`` file in ``data/raw/``) looks like::

    Workflow                      <- line 1, fixed
    稀土管控                       <- line 2, the search query
    icon                          <- line 3, fixed
    Search documents              <- line 4, fixed
    <title>                       <- then, per article: a title line,
    Sou Hu Cai Jing· 2025-08-19 06:32   <- usually a "source· date time" line,
    <body>                        <- and one body line.

Bodies are either structured English summaries (``Core Viewpoint - …``, ``Group N: heading``,
``- claim … [1][3]``) or plain text (Chinese or English). Each body is split into *segments*,
the unit for topics and stance: one claim per segment for structured summaries, one sentence
for plain bodies.

Ids are content hashes, so they do not change when files are renamed, re-ingested or
reordered: an article's id hashes its title, source and timestamp; a segment's id is its
article's id plus a hash of the segment's text. An article found by several queries (in one
or several exports) is one article that lists all of them.

Nothing is dropped silently: every non-blank line of every export is either used or reported
in :class:`IngestReport` with its file, line and the reason, and every entry of the raw folder
that is not read as an export (other files, folders, links leaving the project) is listed
there too. The report also says which encoding each file was read with (decoding is strict:
:func:`decode_export`) and which bodies are truncated. Ingest is linear in the input's size,
and :func:`write_processed` writes its tables all-or-nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

import pandas as pd

from xitu.io import write_csv
from xitu.text import HAN, WRAP_SPACE_RE, detect_language, detect_script, strip_invisible, to_simplified

HEADER = ("Workflow", None, "icon", "Search documents")  # None: the query line

# "Sou Hu Cai Jing· 2025-08-19 06:32"; the source may be missing, the time too. The source
# is short and always ends in a middle dot: a body line that merely ends in a date ("… take
# effect on 2025-12-01") is not a source/date line.
META_SOURCE_MAX = 80
META_RE = re.compile(
    rf"^(?:(?P<source>[^·•・]{{0,{META_SOURCE_MAX}}}?)\s*[·•・]\s*)?"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2})(?:[ T]+(?P<time>\d{1,2}:\d{2})(?::\d{2})?)?\s*$"
)
SECTION_RE = re.compile(
    r"(?:^|(?<=\s))(?P<section>Group \d+|Core (?:Viewpoints?|Insights?|Points?|Summary|Ideas?))"
    r"(?:\s*:\s*(?P<heading>[^\[\]]*?))?\s+-\s+"
)
# Linear time: every pattern that is searched through a whole body starts a whitespace run
# only at the run's first character (``(?<!\s)``), so a long run of spaces is scanned once,
# not once per position (which made a 200 KB body with a long run of spaces take minutes).
# Bodies are also whitespace-collapsed before they are split (:func:`_collapse`).
WHITESPACE_RE = re.compile(r"\s+")
CITATION_RE = re.compile(r"(?<!\s)\s*\[(\d+(?:\s*[,，]\s*\d+)*)\]")
SPACE_BEFORE_PUNCT_RE = re.compile(r"(?<!\s)\s+([.,;:!?])")
CLAIM_SPLIT_RE = re.compile(r"(?<!\s)\s+-\s+")
ZH_SENTENCE_RE = re.compile(r".+?(?:[。!?！？;；…]+[”\"’」』）)]*|$)", re.S)
# A short bracketed aside right after a Chinese full stop ("。（Reuters）", "。（新华社）") ends
# that sentence; an enumerator ("（一）", "(2)") opens the next one.
ZH_TRAILING_ASIDE_RE = re.compile(r"[（(][^（）()。!?！？;；]{1,40}[）)]")
ZH_ENUMERATOR_RE = re.compile(r"[（(][一二三四五六七八九十\d]{1,3}[）)]")

# English sentence ends: a run of . ! ? … (matched from its first character, so long runs stay
# linear), closing quotes/brackets (kept with the sentence), one space (bodies are collapsed),
# then maybe opening quotes/brackets and a capital letter or a Chinese character.
EN_BOUNDARY_RE = re.compile(
    r"(?<![.!?…])(?P<punct>[.!?…]+)(?P<close>[\"'”’)\]」』）]*) (?=[\"'“‘(\[（]*[A-Z\u4e00-\u9fff])"
)
EN_OPENERS = "\"'“‘([（"
# A full stop after these never ends a sentence ("Dr. Smith", "e.g. for").
EN_NEVER_FINAL = frozenset(
    "mr mrs ms dr prof gen sen rep gov lt col sgt capt adm st mt ft vs e.g i.e cf fig approx".split())
# After these (and initials/initialisms such as "F.", "U.S.", "B.V.") a full stop ends a
# sentence only when a word that starts sentences follows ("… approved by U.S. The EU …").
EN_USUALLY_NOT_FINAL = frozenset(
    "inc corp co ltd plc bhd llc no nos jan feb mar apr jun jul aug sep sept oct nov dec etc al dept est".split())
EN_INITIALISM_RE = re.compile(r"(?:[A-Za-z]\.)+")
EN_SENTENCE_STARTERS = frozenset(
    "The This That These Those It Its He She They We I In On At By For But However And A An As If When While "
    "After Before Since Meanwhile Moreover Also There Such Some Many Most According Yet So Still Now Then Our "
    "His Her Their What Why How Who Despite Although Though With Under Last Earlier Later Both Each Other "
    "Another No Not Only Even Instead Further Furthermore Indeed Thus Therefore Overall".split())
GROUP_AT_END_RE = re.compile(r"(?:^|\s)(?P<section>Group \d+)(?:\s*:\s*(?P<heading>[^\[\]]*?))?\s*$")
HEADING_AT_END_RE = re.compile(r"(?:\]|[.!?](?=\s))(?P<heading>[^\[\].!?]+)$")
SENTENCE_END_CHARS = ".!?。！？…;；"
CLOSING_CHARS = "\"'”’)]」』）"
TRAILING_ASIDE_RE = re.compile(r"[（(][^（）()]{0,40}[）)]$")
HAS_WORD_RE = re.compile(r"[\w\u4e00-\u9fff]")


EXCERPT_CHARS = 80  # the most of a file's line that a message or the report shows


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was when cut."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class ExportFormatError(ValueError):
    """An export cannot be read at all. Carries the file, the line and what was expected;
    ``found`` is at most a short excerpt of the line (:data:`EXCERPT_CHARS`)."""

    def __init__(self, file: str | Path, line: int, expected: str, found: str | None = None):
        self.file = str(file)
        self.line = line
        self.expected = expected
        self.found = None if found is None else excerpt(found)
        msg = f"{self.file}:{line}: expected {expected}"
        if self.found is not None:
            msg += f", found {self.found!r}"
        super().__init__(msg)


@dataclass(frozen=True)
class Issue:
    """Something the parser could not use as-is. ``action`` says what happened to it:
    ``kept`` (the record is in the corpus, with the problem noted) or ``skipped``
    (the line is not in the corpus; it is listed here instead)."""

    file: str
    line: int
    action: str
    reason: str
    text: str = ""


@dataclass
class RawArticle:
    """One article as it stands in one export, before de-duplication."""

    file: str
    line: int  # line of the title
    query: str
    title: str
    source: str
    published: str  # "YYYY-MM-DD HH:MM", "YYYY-MM-DD" or "" when the export has none
    body: str
    lines: tuple[int, ...]  # every line this article was read from


@dataclass
class ExportFile:
    """What one export held: its query, encoding, articles and the issues found in it."""

    file: str
    encoding: str
    query: str
    n_lines: int
    articles: list[RawArticle] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    blank_lines: int = 0
    header_lines: list[int] = field(default_factory=list)  # lines of export headers inside the file

    @property
    def lines_accounted(self) -> int:
        """Non-blank lines that are header (the file's own and any joined export's), article
        lines, or reported as skipped."""
        article_lines = {n for a in self.articles for n in a.lines}
        used = 4 + sum(len(a.lines) for a in self.articles)
        joined = len(set(self.header_lines) - article_lines)  # a glued "Workflow" shares its line with a body
        skipped = sum(1 for i in self.issues if i.action == "skipped")
        return used + joined + skipped


# --------------------------------------------------------------------------- reading files


LEGACY_ENCODINGS = ("gb18030", "big5")  # tried, strictly and whole-file, only when UTF-8 fails


def _byte_lines(data: bytes) -> list[bytes]:
    """Lines of raw bytes, split like :func:`split_lines` (CR and LF never occur inside a
    multi-byte character in UTF-8, GB18030 or Big5, so line numbers agree with the text's)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decode_export(data: bytes, file: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode an export's bytes strictly and say how: ``utf-8``, ``utf-8-sig`` (with BOM),
    ``utf-16`` (with BOM) or ``gb18030``.

    UTF-8 is tried first. A file that is not UTF-8 as a whole is read as GB18030 only when
    that is the *only* reading that fits: the whole file decodes as GB18030, it does not
    also decode as Big5 (Big5 bytes are valid GB18030, as gibberish), and no line of it with
    non-ASCII bytes is valid UTF-8 (a UTF-8 file with one GB18030 line also decodes as
    GB18030, as "Sou Hu Cai Jing路" and "Gen猫ve"). Anything else raises
    :class:`ExportFormatError` naming the first offending line: the file is to be re-saved
    as UTF-8, never guessed.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            line = data[: err.start].decode("utf-16", errors="replace").count("\n") + 1
            raise ExportFormatError(file, line, "UTF-16 text (the file starts with a UTF-16 byte-order mark)",
                                    f"undecodable bytes at offset {err.start}") from None
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise ExportFormatError(file, line, "UTF-16 text", "a NUL character: UTF-32 or a binary file?")
        return text, "utf-16"
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        half = max(1, len(data) // 2)
        if max(data[0::2].count(0), data[1::2].count(0)) >= 0.4 * half:  # every other byte: UTF-16 text
            raise ExportFormatError(file, line, "UTF-8 text (UTF-16 needs a byte-order mark; save the file as UTF-8)",
                                    "NUL bytes in every other position: UTF-16 without a BOM")
        raise ExportFormatError(file, line, "text (UTF-8 or GB18030)", "a NUL byte: binary file?")
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    lines = _byte_lines(data)
    utf8_lines, other_lines = [], []
    for n, b in enumerate(lines, 1):
        if not b.isascii():
            (utf8_lines if _decodes(b, "utf-8") else other_lines).append(n)
    first_other = other_lines[0]  # exists: the file as a whole is not UTF-8

    def shown(n: int, encoding: str | None = None) -> str:  # None: bytes, escaped
        if encoding is None:
            return lines[n - 1].decode("ascii", errors="backslashreplace").strip()
        return lines[n - 1].decode(encoding, errors="replace").strip()

    if utf8_lines:  # mixed: point at the odd one out
        if len(utf8_lines) >= len(other_lines):
            raise ExportFormatError(
                file, first_other, "UTF-8 text like the rest of the file (mixed encodings: save the file as UTF-8)",
                f"a line that is not UTF-8 (shown as GB18030): {shown(first_other, 'gb18030')}")
        raise ExportFormatError(
            file, utf8_lines[0], "GB18030 text like the rest of the file (mixed encodings: save the file as UTF-8)",
            f"a line in UTF-8: {shown(utf8_lines[0], 'utf-8')}")
    fits = [enc for enc in LEGACY_ENCODINGS if _decodes(data, enc)]
    if fits == ["gb18030"]:
        return data.decode("gb18030"), "gb18030"
    if fits:
        raise ExportFormatError(
            file, first_other, "UTF-8 or GB18030 text (the file reads as " + " and as ".join(
                "GB18030" if e == "gb18030" else "Big5" for e in fits) + ": cannot tell which; save it as UTF-8)",
            f"bytes {shown(first_other)}")
    bad = next((n for n in other_lines if not _decodes(lines[n - 1], "gb18030")), first_other)
    raise ExportFormatError(file, bad, "UTF-8 or GB18030 text", f"undecodable bytes: {shown(bad)}")


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF or CR only (not on the Unicode separators ``str.splitlines`` uses,
    which may occur inside a body)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", strip_invisible(s)).strip()


def _parse_meta(line: str) -> tuple[str, str, str | None] | None:
    """Return (source, published, problem) for a source/date line, or None if it is not one."""
    m = META_RE.match(_clean(unicodedata.normalize("NFKC", line)))
    if not m:
        return None
    source = (m.group("source") or "").strip()
    date, time = m.group("date"), m.group("time")
    try:
        dt = datetime.strptime(f"{date} {time or '00:00'}", "%Y-%m-%d %H:%M")
    except ValueError:
        return source, "", f"impossible date {date} {time or ''}".strip()
    return source, dt.strftime("%Y-%m-%d %H:%M" if time else "%Y-%m-%d"), None


# A line that looks like a source/date line in another form ("X· 19.08.2025", "X 2025-08-19
# 06:32", "2025年8月19日"): short, with a date-like token. Checked only where a source/date
# line was due and is missing: such a line is not read as one (the form is fixed), but it is
# flagged, because the body and the next title are then shifted.
NEAR_META_RE = re.compile(r"\d{1,4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,4}")
NEAR_META_MAX = 120
TITLE_MAX = 300  # longer "titles" are bodies whose title or source/date line went missing


def _near_meta(line: str) -> bool:
    t = _clean(unicodedata.normalize("NFKC", line))
    return len(t) <= NEAR_META_MAX and bool(NEAR_META_RE.search(t)) and _parse_meta(t) is None and \
        not t.rstrip("\"'”’)]）」』").endswith((".", "。", "!", "?", "！", "？"))


def _is_header_at(content: list[tuple[int, str]], k: int) -> bool:
    """Whether ``content[k:k+4]`` is an export header (two exports joined into one file)."""
    if k + 3 >= len(content):
        return False
    got = [_clean(content[k + i][1]) for i in range(4)]
    return all(want is None and g or want is not None and g.casefold() == want.casefold()
               for want, g in zip(HEADER, got))


def _unglue_headers(content: list[tuple[int, str]], name: str, issues: list) -> list[tuple[int, str]]:
    """Exports joined with ``cat`` where the first did not end with a newline: the second
    header's "Workflow" sticks to the last body line ("… two nations [10].Workflow"). Such a
    line, followed by a query line, "icon" and "Search documents", is cut in two, noted."""
    out = []
    for k, (n, line) in enumerate(content):
        head = line.rstrip()
        if (head.endswith(HEADER[0]) and _clean(head) != HEADER[0]
                and _is_header_at([(n, HEADER[0])] + content[k + 1:k + 4], 0)):
            issues.append(Issue(name, n, "kept", "an export header glued to the end of this line (two exports joined "
                                "without a newline between them); cut there", _clean(head)[-80:]))
            out += [(n, head[: -len(HEADER[0])]), (n, HEADER[0])]
        else:
            out.append((n, line))
    return out


def parse_export(path: str | Path, data: bytes | None = None, name: str | None = None) -> ExportFile:
    """Parse one export into raw articles.

    ``name`` is how the file is called in ids-free fields and messages (default: the file
    name). Raises :class:`ExportFormatError` when the header is wrong or the file cannot be
    decoded; problems with single records are kept in ``ExportFile.issues``.
    """
    path = Path(path)
    name = name or path.name
    if data is None:
        data = path.read_bytes()
    text, encoding = decode_export(data, name)
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()  # final newline
    if not lines or not any(s.strip() for s in lines):
        raise ExportFormatError(name, 1, "'Workflow' (the first line of an export)", "an empty file")

    # Header: fixed lines 1, 3, 4 and the query on line 2 (no blank lines allowed inside it).
    for idx, want in enumerate(HEADER):
        got = _clean(lines[idx]) if idx < len(lines) else None
        if want is None:
            if not got:
                raise ExportFormatError(name, idx + 1, "the search query on line 2", got or "")
        elif got is None or got.casefold() != want.casefold():
            raise ExportFormatError(
                name, idx + 1, f"{want!r} on line {idx + 1} of the export header",
                got if got is not None else "end of file",
            )
    export = ExportFile(file=name, encoding=encoding, query=_clean(lines[1]), n_lines=len(lines))

    body_lines = [(i + 1, s) for i, s in enumerate(lines) if i >= 4]
    content = [(n, s) for n, s in body_lines if s.strip()]
    export.blank_lines = len(body_lines) - len(content)
    content = _unglue_headers(content, name, export.issues)

    def is_meta(k: int) -> bool:
        return k < len(content) and _parse_meta(content[k][1]) is not None

    query = export.query
    k = 0
    while k < len(content):
        n, line = content[k]
        if _is_header_at(content, k):  # a second export appended to this one: its own query
            query = _clean(content[k + 1][1])
            export.issues.append(Issue(name, n, "kept", "a second export header inside the file (two exports "
                                       f"joined?); the articles after it are credited to its query {query!r}",
                                       _clean(line)[:80]))
            export.header_lines += [content[k + i][0] for i in range(4)]
            k += 4
            continue
        if is_meta(k):
            export.issues.append(Issue(name, n, "skipped", "source/date line with no title before it", _clean(line)[:80]))
            k += 1
            continue
        title_n, title = n, _clean(line)
        used = [title_n]
        k += 1
        source, published = "", ""
        if len(title) > TITLE_MAX:
            export.issues.append(Issue(name, title_n, "kept", f"a title of {len(title)} characters: probably a body "
                                       "whose title or source/date line is missing or malformed", title[:80]))
        if is_meta(k):
            mn, mline = content[k]
            source, published, problem = _parse_meta(mline)
            if problem:
                export.issues.append(Issue(name, mn, "kept", f"{problem}; article kept without a date", _clean(mline)[:80]))
            elif not source:
                export.issues.append(Issue(name, mn, "kept", "source/date line without a source; article kept "
                                           "without a source", _clean(mline)[:80]))
            used.append(mn)
            k += 1
        else:
            export.issues.append(Issue(name, title_n, "kept", "no source/date line; article kept without source and date", title[:80]))
            if k < len(content) and _near_meta(content[k][1]):
                export.issues.append(Issue(name, content[k][0], "kept", "this line looks like a source/date line not in "
                                           "the form 'Source· YYYY-MM-DD HH:MM', so it was read as the body and the "
                                           "lines after it may be shifted (a body read as a title)",
                                           _clean(content[k][1])[:80]))
        body = ""
        # A line followed by a source/date line is the next article's title, not a body.
        if k < len(content) and not is_meta(k) and not is_meta(k + 1) and not _is_header_at(content, k):
            bn, bline = content[k]
            body = bline.strip()
            used.append(bn)
            k += 1
        else:
            export.issues.append(Issue(name, title_n, "kept", "no body line; article kept with an empty body", title[:80]))
        export.articles.append(
            RawArticle(name, title_n, query, title, source, published, body, tuple(used))
        )
    return export


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True)
class Segment:
    """One unit of analysis: a claim of a structured summary or a sentence of a plain body."""

    position: int
    text: str
    section: str = ""  # "Core Viewpoint", "Group 2", … ; "" for plain bodies
    heading: str = ""  # the Group's heading, kept as context
    citations: str = ""  # "1;3" from the [1][3] markers, which are removed from the text


def is_structured(body: str) -> bool:
    """True for the search tool's English summaries (``Core Viewpoint - …``/``Group 1 …``)."""
    return bool(SECTION_RE.match(_collapse(body)))


def _collapse(body: str) -> str:
    """Whitespace runs → one space, ends stripped (segments are whitespace-collapsed anyway;
    doing it first keeps every later pattern linear in the body's length)."""
    return WHITESPACE_RE.sub(" ", body).strip()


def strip_truncation(body: str) -> tuple[str, bool]:
    """Remove a trailing ``...`` or ``…`` (the export's mark of a cut body) and say whether
    there was one. Plain string operations: a regex ``\\s*…+\\s*$`` is quadratic on long runs."""
    text = body.rstrip()
    if text.endswith("…"):
        return text.rstrip("…").rstrip(), True
    if text.endswith("..."):
        return text[:-3].rstrip(), True
    return text, False


def _strip_citations(text: str) -> tuple[str, str]:
    cites = [c.strip() for m in CITATION_RE.finditer(text) for c in re.split(r"[,，]", m.group(1))]
    text = CITATION_RE.sub("", text)
    text = SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)
    return _clean(text), ";".join(cites)


def _title_like(s: str) -> bool:
    """A short Title Case phrase such as "Industry Overview" or "U.S. Response and Implications"."""
    words = s.split()
    if not 1 <= len(words) <= 9 or s.endswith((".", ":", ";", ",")) or not s[0].isupper():
        return False
    small = {"and", "of", "the", "in", "on", "for", "to", "with", "a", "an", "vs", "vs.", "&", "-", "its", "their", "from", "by", "at", "as"}
    caps = [w for w in words if w.lower() not in small]
    return bool(caps) and all(w[0].isupper() or w[0].isdigit() or w[0] in "\"'“(" for w in caps)


def _peel_heading(piece: str) -> tuple[str, tuple[str, str] | None]:
    """Split "claim [1][3] Next Heading" into the claim and the (section, heading) that
    opens the next group, if the piece ends with one."""
    # The match holds no bracket, so look only after the last one: otherwise every "Group N:"
    # before a bracket rescans the text up to it (quadratic).
    after_bracket = max(piece.rfind("["), piece.rfind("]")) + 1
    m = GROUP_AT_END_RE.search(piece, after_bracket)
    if m:
        return piece[: m.start()].strip(), (m.group("section"), _clean(m.group("heading") or ""))
    m = HEADING_AT_END_RE.search(piece)
    if m and _title_like(m.group("heading").strip()):
        h = _clean(m.group("heading"))
        return piece[: m.start() + 1].strip(), (h, h)
    return piece, None


def split_structured(body: str) -> list[Segment]:
    """Split a structured summary into claims, keeping each group heading as context.

    Handles ``Core Viewpoint - …``, ``Group N: heading - claim [1] - claim [2]``,
    ``Group N - claim`` and bare headings after a citation (``… [3] Industry Overview - …``).
    """
    body = _collapse(body)
    m = SECTION_RE.match(body)
    if not m:
        return []
    section, heading = m.group("section"), _clean(m.group("heading") or "")
    out: list[Segment] = []
    for piece in CLAIM_SPLIT_RE.split(body[m.end():]):
        claim, nxt = _peel_heading(piece.strip())
        text, cites = _strip_citations(re.sub(r"^-\s+", "", claim))
        if HAS_WORD_RE.search(text):
            out.append(Segment(len(out), text, section, heading, cites))
        if nxt:
            section, heading = nxt
    return out


def _en_ends_sentence(text: str, m: re.Match) -> bool:
    """Whether the candidate boundary ``m`` of :data:`EN_BOUNDARY_RE` ends a sentence."""
    punct = m.group("punct")
    if punct != "." or m.group("close"):  # ! ? … and "reset.” / rules.)" end a sentence
        return True
    word = text[text.rfind(" ", 0, m.start()) + 1: m.start()].lstrip(EN_OPENERS)
    key = word.lower()
    if key in EN_NEVER_FINAL:
        return False
    if key in EN_USUALLY_NOT_FINAL or EN_INITIALISM_RE.fullmatch(word + "."):
        nxt = text[m.end(): m.end() + 40].lstrip(EN_OPENERS).split(" ", 1)[0]
        return nxt.rstrip(",;:") in EN_SENTENCE_STARTERS
    return True


def split_english(text: str) -> list[str]:
    """English sentences. A careful rule set rather than a library: the rule-based splitter
    on PyPI (pySBD) has not been released since 2021 and has open catastrophic-backtracking
    reports, and ingest must stay linear. Rules: a sentence ends at ``. ! ? …`` (plus any
    closing quotes or brackets, which stay with it) before a capital letter, an opening
    quote/bracket or a Chinese character; not after titles such as "Dr." or "e.g.", and after
    initials, initialisms ("U.S.", "B.V.") and "Corp."/"Ltd."/months only when a word that
    starts sentences ("The", "It", "However", …) follows. Digits never start a sentence, so
    decimals and "No. 5" are safe. Linear in the text's length."""
    out, start = [], 0
    for m in EN_BOUNDARY_RE.finditer(text):
        if _en_ends_sentence(text, m):
            out.append(text[start: m.end("close")])
            start = m.end()
    out.append(text[start:])
    return out


def split_chinese(text: str) -> list[str]:
    """Chinese sentences: up to 。!?！？;；… and any closing quotes/brackets; a short
    bracketed aside right after the full stop ("。（Reuters）") stays with that sentence,
    unless it is an enumerator such as "（一）"."""
    parts = [m.group(0) for m in ZH_SENTENCE_RE.finditer(text)]
    for i in range(1, len(parts)):
        nxt = parts[i].lstrip()
        m = ZH_TRAILING_ASIDE_RE.match(nxt)
        if m and not ZH_ENUMERATOR_RE.fullmatch(m.group(0)) and parts[i - 1].rstrip()[-1:] in "。!?！？;；…”\"’」』）)":
            parts[i - 1] += m.group(0)
            parts[i] = nxt[m.end():]
    return parts


ZH_FULL_STOP_RE = re.compile(f".+?(?:(?<=[{HAN}])[。！？]+[”」』）]*|$)", re.S)


def _split_zh_full_stops(text: str) -> list[str]:
    """``text`` cut after each Chinese full stop (。！？ right after a Chinese character):
    the Chinese sentences of a mostly English body."""
    if "。" not in text and "！" not in text and "？" not in text:
        return [text]
    return [m.group(0) for m in ZH_FULL_STOP_RE.finditer(text) if m.group(0)]


def split_plain(body: str, language: str) -> list[Segment]:
    """Split a plain body into sentences (Chinese punctuation for ``zh``, else English)."""
    body, _ = strip_truncation(_collapse(body))
    if language == "zh":  # English sentences quoted in a Chinese body end at ". " too
        parts = [q for p in split_chinese(body) for q in split_english(p)]
    else:  # and Chinese sentences in an English body at 。！？ (not at ; or ! inside English)
        parts = [q for p in split_english(body) for q in _split_zh_full_stops(p)]
    out: list[Segment] = []
    for p in parts:
        if language == "zh":  # the exports wrap Chinese lines with a space: "中 国" → "中国"
            p = WRAP_SPACE_RE.sub("", p)
        text, cites = _strip_citations(p)
        if HAS_WORD_RE.search(text):
            out.append(Segment(len(out), text, "", "", cites))
    return out


def ends_sentence(text: str) -> bool:
    """Whether a segment ends like a finished sentence: with ``. ! ? 。 ！ ？ … ; ；``, maybe
    followed by closing quotes/brackets or a short bracketed aside ("。（Reuters）")."""
    t = text.rstrip()
    m = TRAILING_ASIDE_RE.search(t[-44:])  # bounded: constant time whatever the length
    if m and len(m.group(0)) < len(t):
        t = t[: len(t) - len(m.group(0))].rstrip()
    return t.rstrip(CLOSING_CHARS)[-1:] in tuple(SENTENCE_END_CHARS)


def truncation_of(body: str, segments: list[Segment]) -> str:
    """How a body is cut: ``"marked"`` (the export's own ``...``/``…``), ``"mid-sentence"``
    (a plain body whose last sentence has no closing punctuation, or a structured summary
    whose last claim has no citation marker, which every complete claim has), or ``""``."""
    if not body.strip() or not segments:
        return ""
    if not is_structured(body):
        if strip_truncation(body)[1]:
            return "marked"
        return "" if ends_sentence(segments[-1].text) else "mid-sentence"
    return "" if segments[-1].citations else "mid-sentence"


MAX_SEGMENT_CHARS = 1000  # a longer "sentence" is text without punctuation: cut into pieces
_CUT_AFTER = "，,；;：:、)）]】》」』"  # clause ends: the preferred places to cut a piece


def cap_length(text: str, limit: int = MAX_SEGMENT_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, so that a body without sentence
    punctuation (a pasted table, a run-on export) does not become one huge segment. Each cut
    is made after the last clause mark (``，,;；:、`` or a closing bracket) in the second half
    of the window, else at the last space there, else at the limit (Chinese runs need no
    space). Nothing is dropped: the pieces, joined, give the text back with only the
    whitespace at the cuts removed. Linear in the length."""
    out = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind(c) for c in _CUT_AFTER) + 1
        if cut <= limit // 2:
            cut = window.rfind(" ") + 1
        if cut <= limit // 2:
            cut = limit
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        out.append(text)
    return out


def split_body(body: str, language: str) -> list[Segment]:
    """Segments of one body: claims for structured summaries, sentences otherwise; a segment
    longer than :data:`MAX_SEGMENT_CHARS` is cut into pieces (:func:`cap_length`), each a
    segment with the same heading (the citations stay with the last piece)."""
    body = _collapse(body)
    if not body:
        return []
    segments = split_structured(body) if is_structured(body) else split_plain(body, language)
    if all(len(sg.text) <= MAX_SEGMENT_CHARS for sg in segments):
        return segments
    out: list[Segment] = []
    for sg in segments:
        pieces = cap_length(sg.text)
        for i, piece in enumerate(pieces):
            out.append(Segment(len(out), piece, sg.section, sg.heading, sg.citations if i == len(pieces) - 1 else ""))
    return out


# --------------------------------------------------------------------------- ids


def _key(s: str) -> str:
    return _clean(unicodedata.normalize("NFKC", s))


def _sha(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def article_id(title: str, source: str, published: str) -> str:
    """Stable article id: a hash of the normalised title, source and timestamp."""
    return "a" + _sha(f"{_key(title)}\x1f{_key(source)}\x1f{published}")[:12]


def segment_id(article: str, text: str, occurrence: int = 1) -> str:
    """Stable segment id: the article id plus a hash of the segment's normalised text;
    a repeat of the same text within one article gets ``-2``, ``-3``, …"""
    sid = f"{article}-{_sha(_key(text))[:8]}"
    return sid if occurrence == 1 else f"{sid}-{occurrence}"


def text_hash(text: str) -> str:
    """Hash of a segment's normalised text, stored with labels to notice changed text."""
    return _sha(_key(text))[:16]


# --------------------------------------------------------------------------- the corpus


@dataclass
class IngestReport:
    """What ingestion read, kept and skipped, and why."""

    files: list[dict]
    issues: list[Issue]
    n_records: int  # article records in all exports, before merging duplicates
    n_articles: int
    n_segments: int
    merged: int  # records merged into an article found by another query/export
    truncated: dict = field(default_factory=lambda: {"marked": 0, "mid-sentence": 0})
    skipped_files: list[dict] = field(default_factory=list)  # entries of the raw folder not read

    def counts(self) -> dict:
        skipped = [i for i in self.issues if i.action == "skipped"]
        kept = [i for i in self.issues if i.action == "kept"]
        reasons: dict[str, int] = {}
        for i in self.issues:
            r = re.sub(r"\d{4}-\d+-\d+.*", "…", i.reason)
            reasons[f"{i.action}: {r}"] = reasons.get(f"{i.action}: {r}", 0) + 1
        return {
            "files": len(self.files),
            "records": self.n_records,
            "articles": self.n_articles,
            "merged_duplicates": self.merged,
            "segments": self.n_segments,
            "kept_with_issue": len(kept),
            "skipped_lines": len(skipped),
            "skipped_files": len(self.skipped_files),
            "truncated_bodies": dict(self.truncated),
            "by_reason": dict(sorted(reasons.items())),
        }

    def summary(self) -> str:
        """A few readable lines for the terminal and notebooks."""
        c = self.counts()
        lines = [
            f"read {c['files']} export(s): {c['records']} article records → {c['articles']} articles "
            f"({c['merged_duplicates']} merged duplicates), {c['segments']} segments",
            f"kept with an issue: {c['kept_with_issue']}; skipped lines: {c['skipped_lines']}; "
            f"skipped files: {c['skipped_files']}",
            f"truncated bodies: {c['truncated_bodies']['marked']} marked by the export (...), "
            f"{c['truncated_bodies']['mid-sentence']} cut mid-sentence",
        ]
        lines += [f"  {f['file']}: read as {f['encoding']}, {f['records']} article records" for f in self.files]
        lines += [f"  {f['file']}: skipped: {f['reason']}" for f in self.skipped_files]
        lines += [f"  {n} × {r}" for r, n in c["by_reason"].items()]
        lines += [f"  {i.file}:{i.line}: {i.action}: {i.reason}" for i in self.issues]
        return "\n".join(lines)


@dataclass
class Corpus:
    """Articles and segments as two tables, plus the report of how they were read."""

    articles: pd.DataFrame
    segments: pd.DataFrame
    report: IngestReport

    def segments_with_articles(self) -> pd.DataFrame:
        """Segments joined with their article's title, source, date and queries."""
        return join_articles(self.segments, self.articles)


def join_articles(segments: pd.DataFrame, articles: pd.DataFrame) -> pd.DataFrame:
    """``segments`` with their article's title, source, date and queries (one row per
    segment)."""
    cols = ["article_id", "title", "source", "published", "queries"]
    return segments.merge(articles[cols], on="article_id", how="left", validate="m:1")


QUERY_SEPARATOR = "; "  # an article's ``queries`` column: every query that found it, sorted


def split_queries(queries: pd.Series) -> pd.Series:
    """The ``queries`` column as lists of queries (``""`` → ``[""]``)."""
    return queries.fillna("").str.split(QUERY_SEPARATOR)


def parse_published(published: Iterable[str]) -> pd.Series:
    """``"YYYY-MM-DD HH:MM"``/``"YYYY-MM-DD"`` strings → datetimes; ``""`` → NaT.
    A Series keeps its index."""
    index = published.index if isinstance(published, pd.Series) else None
    s = pd.Series(list(published), index=index, dtype=object).replace("", None)
    return pd.to_datetime(s, format="ISO8601")


ARTICLE_COLUMNS = [
    "article_id", "published", "source", "title", "queries", "language", "script",
    "body_format", "truncated", "truncation", "n_segments", "file", "line", "occurrences", "body",
]
SEGMENT_COLUMNS = [
    "segment_id", "article_id", "position", "section", "heading", "text", "citations",
    "language", "script", "n_chars", "text_hash",
]


def _project_root(folder: Path) -> Path | None:
    for p in (folder, *folder.parents):
        if (p / "pyproject.toml").is_file() and (p / "data").is_dir():
            return p
    return None


def scan_raw(raw_dir: str | Path) -> tuple[list[Path], list[dict]]:
    """The exports in ``raw_dir`` (every ``*.txt`` file, sorted by name) and the entries
    passed over, each ``{"file", "reason"}``: other files, folders, hidden files, empty
    (0-byte) files, links that lead nowhere, and links that leave the project (the nearest parent of ``raw_dir`` with
    ``pyproject.toml`` and ``data/``, else ``raw_dir`` itself), which are never read."""
    raw_dir = Path(raw_dir)
    if not raw_dir.exists():
        raise FileNotFoundError(f"no raw data folder at {raw_dir}")
    if not raw_dir.is_dir():
        raise NotADirectoryError(f"{raw_dir} is not a folder (expected the folder of .txt exports)")
    home = raw_dir.resolve()
    boundary = _project_root(home) or home
    files, skipped = [], []
    for p in sorted(raw_dir.iterdir()):
        reason = ""
        if p.name.startswith("."):
            reason = "a hidden file"
        elif p.is_symlink() and not p.exists():
            reason = "a link that leads nowhere (dangling)"
        elif p.is_symlink() and not p.resolve().is_relative_to(boundary):
            reason = f"a link that leaves the project ({boundary}); not read"
        elif p.is_dir():
            reason = "a folder (exports are .txt files directly in the raw folder)"
        elif p.suffix.lower() != ".txt":
            reason = "not a .txt export"
        elif not p.is_file():
            reason = "not a regular file"
        elif p.stat().st_size == 0:
            reason = "an empty file (0 bytes): nothing to read"
        if reason:
            skipped.append({"file": p.name, "reason": reason})
        else:
            files.append(p)
    if not files:
        others = "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:3])
        more = f" (passed over: {excerpt(others, 200)})" if others else ""
        raise FileNotFoundError(f"{raw_dir} holds no .txt exports{more}")
    return files, skipped


def export_files(raw_dir: str | Path) -> list[Path]:
    """The exports in ``raw_dir``: every ``*.txt`` file, sorted by name (see :func:`scan_raw`)."""
    return scan_raw(raw_dir)[0]


def build_corpus(exports: Iterable[ExportFile], skipped_files: Iterable[dict] = ()) -> Corpus:
    """Merge raw articles across exports into articles and segments tables.
    ``skipped_files`` (from :func:`scan_raw`) go into the report."""
    exports = list(exports)
    issues: list[Issue] = [i for e in exports for i in e.issues]
    groups: dict[str, list[RawArticle]] = {}
    for e in exports:
        for a in e.articles:
            # the same article exported in Simplified and in Traditional script is one article
            groups.setdefault(article_id(to_simplified(a.title), to_simplified(a.source), a.published), []).append(a)

    art_rows, seg_rows = [], []
    for aid, recs in groups.items():
        first = recs[0]
        # the longest body; between script variants of one text, the Simplified one (converted
        # only when records differ: most articles have one body)
        bodies = list({r.body for r in recs})
        if len(bodies) > 1:
            bodies.sort(key=lambda b: (-len(b), to_simplified(b) != b, b))
        body = bodies[0]
        if len(bodies) > 1:
            kept = next(r for r in recs if r.body == body)
            for r in recs:
                if r.body != body:
                    if to_simplified(r.body) == to_simplified(body):
                        why = (f"same article as {kept.file}:{kept.line} in the other Chinese script; merged, and "
                               "the Simplified text is used")
                    else:
                        why = f"same article as {kept.file}:{kept.line} with a different body; the longest body is used"
                    issues.append(Issue(r.file, r.line, "kept", why, r.title[:80]))
        language = detect_language(body or first.title)
        script = detect_script(body or first.title)
        segs = split_body(body, language)
        structured = is_structured(body)
        truncation = truncation_of(body, segs)
        if truncation == "mid-sentence":
            rec = next(r for r in recs if r.body == body)
            issues.append(Issue(rec.file, rec.lines[-1], "kept",
                                "body ends mid-sentence (no closing punctuation, or a last claim without its "
                                "citation): cut by the export?", "…" + body[-79:] if len(body) > 80 else body))
        seen: dict[str, int] = {}
        for s in segs:
            k = _key(s.text)
            seen[k] = seen.get(k, 0) + 1
            seg_lang = detect_language(s.text)
            seg_rows.append({
                "segment_id": segment_id(aid, s.text, seen[k]),
                "article_id": aid,
                "position": s.position,
                "section": s.section,
                "heading": s.heading,
                "text": s.text,
                "citations": s.citations,
                "language": seg_lang,
                "script": detect_script(s.text) if seg_lang == "zh" else "",
                "n_chars": len(s.text),
                "text_hash": text_hash(s.text),
            })
        art_rows.append({
            "article_id": aid,
            "published": first.published,
            "source": first.source,
            "title": first.title,
            "queries": QUERY_SEPARATOR.join(sorted({r.query for r in recs})),
            "language": language,
            "script": script,
            "body_format": "structured" if structured else ("plain" if body else "empty"),
            "truncated": bool(truncation),
            "truncation": truncation,
            "n_segments": len(segs),
            "file": first.file,
            "line": first.line,
            "occurrences": "; ".join(f"{r.file}:{r.line}" for r in recs),
            "body": body,
        })
        if not segs and body:
            issues.append(Issue(first.file, first.line, "kept", "body yields no segment", body[:80]))

    same_body: dict[str, dict] = {}
    for row in sorted(art_rows, key=lambda r: (r["file"], r["line"])):
        if len(row["body"]) < 100:  # short bodies may repeat by chance
            continue
        other = same_body.setdefault(row["body"], row)
        if other is not row:
            issues.append(Issue(row["file"], row["line"], "kept",
                                f"same body as {other['file']}:{other['line']} ({other['article_id']}) under another "
                                "title, source or date: a republication? Both are kept as separate articles, so their "
                                "segments can be labelled twice and fall on both sides of an article split",
                                row["title"][:80]))

    articles = pd.DataFrame(art_rows, columns=ARTICLE_COLUMNS)
    undated = articles["published"].eq("")
    articles = (
        articles.assign(_u=undated).sort_values(["_u", "published", "article_id"], kind="stable")
        .drop(columns="_u").reset_index(drop=True)
    )  # by date, undated articles last
    segments = pd.DataFrame(seg_rows, columns=SEGMENT_COLUMNS)
    order = {a: i for i, a in enumerate(articles["article_id"])}
    segments = (
        segments.assign(_o=segments["article_id"].map(order))
        .sort_values(["_o", "position"], kind="stable").drop(columns="_o").reset_index(drop=True)
    )
    n_records = sum(len(e.articles) for e in exports)
    report = IngestReport(
        files=[{"file": e.file, "encoding": e.encoding, "query": e.query, "lines": e.n_lines,
                "blank_lines": e.blank_lines, "records": len(e.articles)} for e in exports],
        issues=sorted(issues, key=lambda i: (i.file, i.line, i.reason)),
        n_records=n_records,
        n_articles=len(articles),
        n_segments=len(segments),
        merged=n_records - len(articles),
        truncated={k: int((articles["truncation"] == k).sum()) for k in ("marked", "mid-sentence")},
        skipped_files=list(skipped_files),
    )
    return Corpus(articles, segments, report)


def ingest(raw_dir: str | Path | None = None) -> Corpus:
    """Read every export in ``raw_dir`` (default ``data/raw``) into a :class:`Corpus`."""
    if raw_dir is None:
        from xitu.paths import Paths

        raw_dir = Paths.default().raw
    files, skipped = scan_raw(raw_dir)
    corpus = build_corpus((parse_export(p) for p in files), skipped)
    if len(corpus.articles) == 0:
        names = ", ".join(Path(f).name for f in files[:3]) + (", …" if len(files) > 3 else "")
        raise ValueError(f"{raw_dir}: the export(s) ({names}) hold no article records, only headers: "
                         "export the search results again (each article is a title line, a source·date line "
                         "and a body)")
    return corpus


PROCESSED_TABLES = ("articles.csv", "segments.csv", "ingest_issues.csv", "ingest_report.json")
_FORMULA_START_RE = re.compile(r"^'*[=+\-@\t\r]")  # what excel_safe (with the step below) quotes
_QUOTED_FORMULA_RE = re.compile(r"^'+[=+\-@\t\r]")  # what read_processed unquotes


def _quote_quoted(table: pd.DataFrame) -> pd.DataFrame:
    """Give a text cell that already starts with quotes before a formula character
    (``'=x``) one more quote, so that the excel-safe quoting can be undone exactly: after
    this and :func:`xitu.io.excel_safe`, a cell gains a leading ``'`` iff it matches
    ``'*[=+-@\\t\\r]``, and :func:`read_processed` removes one iff it matches
    ``'+[=+-@\\t\\r]``."""
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith("'")
                                    and _FORMULA_START_RE.match(v) else v)
    return out


def _unquote(value: str) -> str:
    return value[1:] if _QUOTED_FORMULA_RE.match(value) else value


def write_processed(corpus: Corpus, out_dir: str | Path) -> list[Path]:
    """Write ``articles.csv``, ``segments.csv``, ``ingest_issues.csv`` and
    ``ingest_report.json`` into ``out_dir`` all-or-nothing, and return their paths.

    The tables are written into a staging folder beside ``out_dir`` (with a copy of any other
    file already in ``out_dir``, e.g. a notebook's output), which then replaces ``out_dir``
    (:func:`xitu.io.atomic_replace_dir`). A failure or a kill at any point leaves the
    complete old folder (or, killed between the two renames of the swap, the complete old
    folder beside it as ``.<name>.old``), never a mixture. Raises ``OSError`` (read-only or
    missing location, disk full) with ``out_dir`` unchanged and the staging folder removed.

    The CSVs are UTF-8 with a byte-order mark (so Excel shows the Chinese) and excel-safe: a
    text cell that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or
    a carriage return) gets a leading ``'``, as does one that already starts with quotes
    before such a character. Read them back with :func:`read_processed`, which undoes exactly
    that; ``pandas.read_csv`` alone would keep the quotes.
    """
    import shutil
    import tempfile

    from xitu.io import atomic_replace_dir, atomic_write_text

    out_dir = Path(out_dir)
    if out_dir.is_symlink():  # swap the folder it points to, keep the link
        out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(20, "not a folder", str(out_dir))
    for name in PROCESSED_TABLES:
        if (out_dir / name).is_dir() and not (out_dir / name).is_symlink():
            raise IsADirectoryError(21, f"{name} is a folder where the table is to be written; move it away",
                                    str(out_dir / name))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        if out_dir.is_dir():  # keep what others wrote there
            for p in out_dir.iterdir():
                if p.name in PROCESSED_TABLES:
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.copytree(p, staging / p.name, symlinks=True)
                else:
                    shutil.copy2(p, staging / p.name, follow_symlinks=False)
        issues = pd.DataFrame([i.__dict__ for i in corpus.report.issues], columns=["file", "line", "action", "reason", "text"])
        for name, df in zip(PROCESSED_TABLES, (corpus.articles, corpus.segments, issues)):
            write_csv(_quote_quoted(df), staging / name, safe=True, bom=True, float_format=None)
        report = {"counts": corpus.report.counts(), "files": corpus.report.files,
                  "skipped_files": corpus.report.skipped_files}
        atomic_write_text(staging / PROCESSED_TABLES[3], json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        if out_dir.is_dir():  # mkdtemp makes it 0700; keep the old folder's mode
            shutil.copymode(out_dir, staging)
        else:
            staging.chmod(0o755)
        atomic_replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / name for name in PROCESSED_TABLES]


_NUMERIC_COLUMNS = {"line": int, "n_segments": int, "position": int, "n_chars": int}
_BOOL_COLUMNS = ("truncated",)


def read_processed(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the articles and segments tables written by :func:`write_processed`, with the
    exact text of every cell: the excel-safe ``'`` before a formula-like cell is removed
    (see :func:`write_processed`), text columns stay text ("2025" is not a number), counts
    are integers and ``truncated`` is boolean."""
    folder = Path(folder)
    out = []
    for name in PROCESSED_TABLES[:2]:
        df = pd.read_csv(folder / name, encoding="utf-8-sig", keep_default_na=False, dtype=str)
        for col in df.columns:
            if col in _NUMERIC_COLUMNS:
                df[col] = df[col].astype(int)
            elif col in _BOOL_COLUMNS:
                df[col] = df[col].map({"True": True, "False": False}).astype(bool)
            else:
                df[col] = df[col].map(_unquote)
        out.append(df)
    return out[0], out[1]
