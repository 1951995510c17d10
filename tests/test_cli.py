"""The xitu command: ingest writes the tables; bad input gives file:line and exit code 2."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest


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


def _one_line_error(r):
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.startswith("xitu: error: ")
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


def test_output_under_a_file_is_one_line_and_exit_2(paths, tmp_path):
    (tmp_path / "blocker").write_text("x")
    r = _xitu("ingest", "--raw", str(paths.raw), "--out", str(tmp_path / "blocker" / "processed"), cwd=tmp_path, env_root=paths.root)
    err = _one_line_error(r)
    assert "cannot write the tables to" in err and "nothing was changed" in err


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs a read-only /sys")
def test_unwritable_location_is_one_line_and_exit_2(paths, tmp_path):
    """Root ignores file modes, so a read-only kernel folder stands in for a read-only disk."""
    r = _xitu("ingest", "--raw", str(paths.raw), "--out", "/sys/xitu-processed", cwd=tmp_path, env_root=paths.root)
    assert "cannot write the tables to /sys/xitu-processed" in _one_line_error(r)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_read_only_processed_folder_is_one_line_exit_2_and_unchanged(paths, tmp_path):
    out = tmp_path / "processed"
    assert _xitu("ingest", "--raw", str(paths.raw), "--out", str(out), cwd=tmp_path, env_root=paths.root).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    out.chmod(0o555)
    tmp_path.chmod(0o555)
    try:
        r = _xitu("ingest", "--raw", str(paths.raw), "--out", str(out), cwd=tmp_path, env_root=paths.root)
    finally:
        tmp_path.chmod(0o755)
        out.chmod(0o755)
    assert "cannot write the tables" in _one_line_error(r)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unwritable_folder_in_process_is_exit_2_and_unchanged(paths, tmp_path, monkeypatch, capsys):
    """The same through cli.main, with the staging folder's creation refused as on a
    read-only disk."""
    import tempfile

    from xitu import cli

    out = tmp_path / "processed"
    assert cli.main(["ingest", "--raw", str(paths.raw), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def refuse(*a, **kw):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert cli.main(["ingest", "--raw", str(paths.raw), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_excel_safe_segments_csv_reads_back_with_read_processed(paths, tmp_path):
    from xitu.corpus import read_processed

    out = tmp_path / "processed"
    assert _xitu("ingest", "--raw", str(paths.raw), "--out", str(out), cwd=tmp_path, env_root=paths.root).returncode == 0
    arts, segs = read_processed(out)
    assert len(segs) == 380 and len(arts) == 36


def test_raw_path_that_is_a_file_is_one_line_and_exit_2(paths, tmp_path):
    r = _xitu("ingest", "--raw", str(paths.raw / "004_c73b6274a546cfca.txt"), "--out", str(tmp_path / "out"), cwd=tmp_path, env_root=paths.root)
    assert "is not a folder" in _one_line_error(r)
    assert not (tmp_path / "out").exists()


def test_a_folder_where_a_table_is_expected_is_one_line_and_exit_2(paths, tmp_path):
    out = tmp_path / "processed"
    (out / "segments.csv").mkdir(parents=True)
    (out / "segments.csv" / "mine.txt").write_text("keep me")
    r = _xitu("ingest", "--raw", str(paths.raw), "--out", str(out), cwd=tmp_path, env_root=paths.root)
    assert "segments.csv is a folder" in _one_line_error(r)
    assert (out / "segments.csv" / "mine.txt").read_text() == "keep me"


def test_a_symlink_to_a_system_file_is_skipped_unread(paths, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(paths.raw / "004_c73b6274a546cfca.txt", raw)
    os.symlink("/etc/passwd", raw / "passwd.txt")
    r = _xitu("ingest", "--raw", str(raw), "--out", str(tmp_path / "out"), cwd=tmp_path, env_root=paths.root)
    assert r.returncode == 0, r.stderr
    assert "passwd.txt: skipped: a link that leaves the project" in r.stdout and "root:" not in r.stdout + r.stderr


def test_label_commands_count_gold_against_this_corpus(paths, tmp_path):
    """A project holding the seed label logs but one Chinese export: status says how many
    gold labels are segments of this corpus and lists 10 orphans, the rest in a CSV; the
    export says which rows have no text here."""
    (tmp_path / "data" / "raw").mkdir(parents=True)
    shutil.copy(paths.raw / "004_c73b6274a546cfca.txt", tmp_path / "data" / "raw")
    shutil.copytree(paths.labels, tmp_path / "data" / "labels", ignore=shutil.ignore_patterns("*.lock"))
    (tmp_path / "pyproject.toml").write_text("[project]\nname='toy'\n")
    r = _xitu("labels", "status", cwd=tmp_path, env_root=tmp_path)
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("gold set:"))
    n_here = int(line.split("; ")[-1].split(" of them")[0])
    assert "segments of this corpus" in line and 0 < n_here < 380
    assert sum(x.startswith("orphan label") for x in r.stdout.splitlines()) == 10
    orphans = pd.read_csv(tmp_path / "build" / "labels" / "orphans.csv", encoding="utf-8-sig")
    assert f"{len(orphans)} orphan labels in all" in r.stdout and len(orphans) > 10
    r = _xitu("labels", "export", cwd=tmp_path, env_root=tmp_path)
    assert r.returncode == 0 and f"({380 - n_here} of them for segments not in this corpus" in r.stdout


def test_run_only_given_twice_runs_both():
    """Review: `xitu run --only 03 --only 01` ran only 01 (the second --only replaced the
    first, silently)."""
    from xitu.cli import build_parser

    args = build_parser().parse_args(["run", "--only", "03", "--only", "01"])
    assert args.only == ["03", "01"]
    assert build_parser().parse_args(["run", "--only", "01", "02"]).only == ["01", "02"]
    assert build_parser().parse_args(["run"]).only is None
