"""Hostile exports: ingest stays linear in the input's size, and never raises anything but
:class:`xitu.corpus.ExportFormatError` (or ``FileNotFoundError`` for a missing folder)."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from xitu.corpus import build_corpus, parse_export

HEAD = "Workflow\n稀土\nicon\nSearch documents\nA title\nSou Hu Cai Jing· 2025-10-09 11:39\n"


def _cpu_seconds(body: str, repeats: int = 3) -> float:
    """Best-of CPU time of parsing one export whose only body is ``body`` and splitting it."""
    data = (HEAD + body + "\n").encode("utf-8")
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        build_corpus([parse_export("x.txt", data=data)])
        best = min(best, time.process_time() - t0)
    return best


def _growth(make, n: int = 2000, factor: int = 4) -> float:
    """How much longer a body ``factor`` times larger takes: ~factor when linear, ~factor²
    when quadratic. The fixed per-export cost only pulls the ratio down, never up."""
    small, large = _cpu_seconds(make(n)), _cpu_seconds(make(factor * n))
    return large / max(small, 1e-4)


# Each shape made some pattern scan a run once per position in it (minutes for 200 KB).
SHAPES = {
    "run of spaces": lambda n: "Rare earths" + " " * n + "x",
    "spaces in a structured body": lambda n: "Core Viewpoint - a" + " " * n + "b [1]",
    "spaces then a citation": lambda n: "Core Viewpoint - China" + " " * n + "said [1]",
    "run of ellipses": lambda n: "稀土" + "…" * n + " 中国",
    "many Group headings before a bracket": lambda n: "Core Viewpoint - a " + "Group 1: x " * (n // 11) + "[",
    "CJK with wrap spaces": lambda n: "中" + " 中" * (n // 2),
    "punctuation": lambda n: "!?。…" * (n // 4),
    "dashes": lambda n: "Core Viewpoint - a" + " -" * (n // 2),
    "unclosed citations": lambda n: "Core Viewpoint - a " + "[1, " * (n // 4),
    "initialisms and abbreviations": lambda n: "Talks. " + "U.S. Dr. B.V. “A.” " * (n // 18) + "The end.",
    "Chinese asides": lambda n: "中国宣布。" + "（Reuters）。" * (n // 11),
    "opening brackets": lambda n: "It rose. " + "(" * n + "A",
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_ingest_time_grows_linearly(shape):
    """Issue 12.2: 4× the input takes well under 16× (quadratic) the time."""
    assert _growth(SHAPES[shape]) < 8, shape


_UNITS = st.lists(st.sampled_from([" ", "   ", "\u3000", "…", "...", ".", "。", "中", "國", "Group 1: ", "[1", "]",
                                   " - ", "-", "”", ":", "!", "a", "U.S.", "Core Viewpoint - ", "2025-12-01"]),
                  min_size=1, max_size=4).map("".join)


@settings(max_examples=12, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(["", "Core Viewpoint - ", "中国宣布。", "Group 2: Heading - "]), unit=_UNITS)
def test_repeated_hostile_units_stay_linear(prefix, unit):
    assert _growth(lambda n: prefix + unit * max(1, n // len(unit)) + " x [1]") < 8, (prefix, unit)


def test_a_200kb_body_with_a_long_run_of_spaces_ingests_quickly():
    body = "Core Viewpoint - China" + " " * 100_000 + "said [1] - " + "稀土 " * 30_000 + "…"
    assert _cpu_seconds(body, repeats=1) < 5


# --------------------------------------------------------------------------- kill -9 while writing

KILLED_WRITER = """
import sys, time
import pandas as pd
from xitu.corpus import ingest, write_processed
real, calls = pd.DataFrame.to_csv, []
def slow(self, *args, **kw):  # killed right after the 2nd table is written
    calls.append(1)
    result = real(self, *args, **kw)
    if len(calls) == 2:
        print("second table written", flush=True)
        time.sleep(120)
    return result
pd.DataFrame.to_csv = slow
write_processed(ingest(sys.argv[1]), sys.argv[2])
"""


def test_kill_9_while_writing_leaves_the_complete_old_tables(tmp_path, paths, seed_corpus):
    """Issue 12.6: killed after two of the tables were written, the folder is the old one."""
    import shutil
    import signal
    import subprocess
    import sys

    from xitu.corpus import write_processed

    out = tmp_path / "processed"
    write_processed(seed_corpus, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(paths.raw / "004_c73b6274a546cfca.txt", raw)  # a different, smaller corpus
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(raw), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "second table written", proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --------------------------------------------------------------------------- what is in data/raw


def _raw_with_strays(tmp_path, paths):
    import os
    import shutil

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    raw = project / "data" / "raw"
    raw.mkdir()
    good = raw / "a_good.txt"
    shutil.copy(paths.raw / "004_c73b6274a546cfca.txt", good)
    (raw / "notes.csv").write_text("a,b\n")
    (raw / "old").mkdir()
    (raw / "folder.txt").mkdir()
    os.symlink(raw / "missing.txt", raw / "dangling.txt")
    secret = tmp_path / "system_file"
    secret.write_text("SECRET-FIRST-LINE root:x:0:0\n")
    os.symlink(secret, raw / "leaving.txt")
    shared = project / "data" / "shared.txt"  # inside the project: read
    shutil.copy(paths.raw / "004_c73b6274a546cfca.txt", shared)
    os.symlink(shared, raw / "z_inside.txt")
    (raw / ".~lock.a_good.txt#").write_text("lock")
    return raw


def test_skipped_entries_of_the_raw_folder_are_reported_with_the_reason(tmp_path, paths):
    """Issue 12.7: nothing in data/raw is passed over silently; links leaving the project
    are not read."""
    from xitu.corpus import ingest

    raw = _raw_with_strays(tmp_path, paths)
    (raw / "m_empty.txt").write_bytes(b"")  # an empty export is passed over, said so, not fatal
    c = ingest(raw)
    assert [f["file"] for f in c.report.files] == ["a_good.txt", "z_inside.txt"]
    assert c.report.merged == 2  # the link inside the project is the same export again
    skipped = {s["file"]: s["reason"] for s in c.report.skipped_files}
    assert set(skipped) == {"notes.csv", "old", "folder.txt", "dangling.txt", "leaving.txt", ".~lock.a_good.txt#",
                            "m_empty.txt"}
    assert "empty file" in skipped["m_empty.txt"]
    assert "not a .txt export" in skipped["notes.csv"]
    assert "folder" in skipped["old"] and "folder" in skipped["folder.txt"]
    assert "dangling" in skipped["dangling.txt"]
    assert "leaves the project" in skipped["leaving.txt"]
    summary = c.report.summary()
    assert "SECRET" not in summary and "leaving.txt: skipped: " in summary
    assert c.report.counts()["skipped_files"] == 7


def test_a_raw_folder_of_nothing_readable_is_a_clear_error(tmp_path, paths):
    import os

    from xitu.corpus import ingest

    raw = tmp_path / "raw"
    raw.mkdir()
    secret = tmp_path / "system_file"
    secret.write_text("SECRET-FIRST-LINE\n")
    os.symlink(secret, raw / "x.txt")
    with pytest.raises(FileNotFoundError) as err:
        ingest(raw)
    assert "no .txt exports" in str(err.value) and "x.txt" in str(err.value) and "SECRET" not in str(err.value)


def test_error_messages_show_a_short_excerpt_of_a_huge_line(tmp_path):
    from xitu.corpus import ExportFormatError

    p = tmp_path / "huge.txt"
    p.write_text("Workflow\n稀土\n" + "x" * 2_000_000 + "\nSearch documents\n", encoding="utf-8")
    with pytest.raises(ExportFormatError) as err:
        parse_export(p)
    assert err.value.line == 3 and len(str(err.value)) < 250 and "2000000 characters" in str(err.value)


# --------------------------------------------------------------------------- fuzz


_HOSTILE_LINES = st.one_of(
    st.sampled_from(["Sou Hu Cai Jing· 2025-08-19 06:32", "X· 2025-13-45 99:99", "· 2025-01-01", "2025-01-01",
                     "Core Viewpoint - claim [1]", "Group 1: H - a [1] - b [2", "稀土。（Reuters）", "U.S. B.V. e.g.",
                     "…" * 50, " " * 300, "=SUM(A1)", "-10%", "'@x", "\u2028\u2029\x85", "\ufeff", "\t\x0b\x0c"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=80),
    st.text(alphabet=" .…。!?[]()（）-:·1U中國", max_size=200),
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(lines=st.lists(_HOSTILE_LINES, max_size=20), header_ok=st.sampled_from([True, True, True, False]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
       noise=st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=4)), max_size=1))
def test_ingest_of_hostile_bytes_raises_only_export_format_error(tmp_path_factory, lines, header_ok, encoding, noise):
    """Any bytes: either a corpus in which every non-blank line is accounted for, or an
    ExportFormatError naming the file and a line, with a short message."""
    from xitu.corpus import ExportFormatError, read_processed, write_processed

    header = ["Workflow", "稀土", "icon", "Search documents"] if header_ok else ["Workflow", "稀土"]
    try:
        data = bytearray("\n".join(header + lines).encode(encoding))
    except UnicodeEncodeError:
        event("not encodable")
        return
    for pos, junk in noise:  # a few bytes of damage
        pos = min(pos, len(data))
        data[pos:pos + len(junk)] = junk
    data = bytes(data)
    try:
        e = parse_export("h.txt", data=data)
        c = build_corpus([e])
    except ExportFormatError as err:
        assert err.file == "h.txt" and err.line >= 1 and len(str(err)) < 400
        event("ExportFormatError")
        return
    event("parsed")
    text, _ = __import__("xitu.corpus", fromlist=["decode_export"]).decode_export(data)
    nonblank = sum(1 for s in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if s.strip())
    assert e.lines_accounted == nonblank
    assert c.articles["n_segments"].sum() == len(c.segments)
    if len(c.articles) and not noise:
        out = tmp_path_factory.mktemp("out")
        write_processed(c, out)
        arts, segs = read_processed(out)
        assert list(arts["title"]) == list(c.articles["title"]) and list(segs["text"]) == list(c.segments["text"])


@pytest.mark.parametrize("body", [
    "rare earth export controls " * 40_000,  # ~1 MB of English without a full stop
    "中国稀土出口管制" * 60_000,  # ~1.4 MB of Chinese without punctuation or spaces
    "稀土，出口管制，" * 60_000 + "。",  # clauses but no sentence end
    "Core Viewpoint - " + "supply chains " * 20_000 + "[1] - a short claim [2]",  # one huge claim
])
def test_a_body_without_sentence_ends_is_cut_into_bounded_segments_losing_nothing(body):
    """A 1 MB body without sentence punctuation used to become one 1 MB segment (and one
    encoder batch of a million tokens). Now every segment is at most MAX_SEGMENT_CHARS, in
    order, and together they hold every non-space character of the body."""
    from xitu.corpus import MAX_SEGMENT_CHARS, split_body, _strip_citations

    segs = split_body(body, "zh" if "中" in body or "稀" in body else "en")
    assert len(segs) > 1 and max(len(s.text) for s in segs) <= MAX_SEGMENT_CHARS
    assert [s.position for s in segs] == list(range(len(segs)))
    squash = lambda t: "".join(t.split())  # noqa: E731
    want = _strip_citations(body.replace("Core Viewpoint - ", "").replace(" - ", " "))[0]
    assert squash("".join(s.text for s in segs)) == squash(want)
    assert segs[-1].text and all(s.citations == "" for s in segs[:-2])


def test_cutting_prefers_clause_marks_then_spaces():
    from xitu.corpus import cap_length

    assert cap_length("a" * 10, 4) == ["aaaa", "aaaa", "aa"]
    assert cap_length("ab cd ef gh", 6) == ["ab cd", "ef gh"]
    assert cap_length("稀土出口，管制措施生效", 8) == ["稀土出口，", "管制措施生效"]
    assert cap_length("short", 1000) == ["short"]


def test_exports_with_only_headers_stop_ingest_with_a_message(tmp_path):
    """A header-only export used to give an empty corpus, and the run failed two notebooks
    later with "empty vocabulary"."""
    from xitu.corpus import ingest

    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "a.txt").write_text(HEAD.split("A title")[0], encoding="utf-8")
    with pytest.raises(ValueError, match=r"a\.txt\) hold no article records, only headers"):
        ingest(raw)


def test_utf16_without_a_byte_order_mark_is_named_as_such(tmp_path):
    from xitu.corpus import ExportFormatError

    p = tmp_path / "u16.txt"
    p.write_bytes((HEAD + "Body text.\n").encode("utf-16-le"))
    with pytest.raises(ExportFormatError, match="UTF-16 needs a byte-order mark; save the file as UTF-8.*UTF-16 without a BOM"):
        parse_export(p)
    p.write_bytes(b"Workflow\n\x00\x01binary")
    with pytest.raises(ExportFormatError, match="a NUL byte: binary file"):
        parse_export(p)
