"""Atomic writes keep ordinary file modes (a shared checkout stays readable to the group)."""
from __future__ import annotations

import os
import stat

import pandas as pd

from xitu.io import atomic_write_text, excel_safe, write_csv


def test_new_files_get_the_umask_mode_and_existing_files_keep_theirs(tmp_path):
    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "new.txt", "x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644  # was 0o600, the temporary file's mode
        q = tmp_path / "kept.txt"
        q.write_text("old")
        q.chmod(0o664)
        atomic_write_text(q, "new")
        assert stat.S_IMODE(q.stat().st_mode) == 0o664 and q.read_text() == "new"
    finally:
        os.umask(old)


def test_excel_safe_neutralises_formulas_but_not_numbers(tmp_path):
    t = pd.DataFrame({"a": ["=SUM(A1)", "+86 10", "-10% for magnets", "@x", "plain", "稀土"], "n": [-1, 2, 3, 4, 5, 6]})
    safe = excel_safe(t)
    assert safe["a"].tolist() == ["'=SUM(A1)", "'+86 10", "'-10% for magnets", "'@x", "plain", "稀土"]
    assert safe["n"].tolist() == [-1, 2, 3, 4, 5, 6] and t["a"][0] == "=SUM(A1)"  # the original is untouched
    path = write_csv(t, tmp_path / "t.csv")
    assert "'=SUM(A1)" in path.read_text(encoding="utf-8")
