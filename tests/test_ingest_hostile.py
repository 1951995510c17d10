"""Hostile exports: ingest stays linear in the input's size, and never raises anything but
:class:`xitu.corpus.ExportFormatError` (or ``FileNotFoundError`` for a missing folder)."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
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
