"""The xitu command: ingest writes the tables; bad input gives file:line and exit code 2."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd


def _xitu(*args, cwd, env_root):
    import os

    env = {**os.environ, "XITU_ROOT": str(env_root)}
    return subprocess.run([sys.executable, "-m", "xitu.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_ingest_writes_tables_and_reports(paths, tmp_path):
    out = tmp_path / "processed"
    r = _xitu("ingest", "--raw", str(paths.raw), "--out", str(out), cwd=tmp_path, env_root=paths.root)
    assert r.returncode == 0, r.stderr
    assert "36 article records → 36 articles" in r.stdout and "380 segments" in r.stdout
    assert "001_504c808b19613376.txt:23: kept: no source/date line" in r.stdout
    segs = pd.read_csv(out / "segments.csv", encoding="utf-8-sig")
    assert len(segs) == 380


def test_malformed_export_is_a_clear_error(paths, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(paths.raw / "004_c73b6274a546cfca.txt", raw)
    (raw / "zz_bad.txt").write_text("Workflow\n稀土\nicons\nSearch documents\n", encoding="utf-8")
    r = _xitu("ingest", "--raw", str(raw), "--out", str(tmp_path / "out"), cwd=tmp_path, env_root=paths.root)
    assert r.returncode == 2
    assert "zz_bad.txt:3: expected 'icon'" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written
