"""Append-only label logs: replay, retractions, broken lines, orphans, gold set, import."""
from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from xitu import labels as L


def test_record_replay_latest_wins_and_retract(tmp_path):
    L.record(tmp_path, "a1", "s1", "escalation", "h1")
    L.record(tmp_path, "a1", "s2", "none", "h2")
    L.record(tmp_path, "a1", "s1", "cooperation", "h1")  # changed mind: latest wins
    L.retract(tmp_path, "a1", "s2")
    before = (tmp_path / "a1.jsonl").read_bytes()
    cur = L.replay(L.read_log(tmp_path / "a1.jsonl").entries)
    assert cur[["segment_id", "label"]].values.tolist() == [["s1", "cooperation"]]
    assert len(before.splitlines()) == 4  # nothing was rewritten


def test_half_written_last_line_is_reported_and_next_append_is_clean(tmp_path):
    L.record(tmp_path, "a1", "s1", "none")
    p = tmp_path / "a1.jsonl"
    with open(p, "ab") as f:
        f.write(b'{"segment_id": "s2", "lab')  # power cut mid-write
    r = L.read_log(p)
    assert [e["segment_id"] for e in r.entries] == ["s1"]
    assert len(r.problems) == 1 and r.problems[0].line == 2 and "half-written" in r.problems[0].reason
    L.record(tmp_path, "a1", "s3", "escalation")
    r = L.read_log(p)
    assert [e["segment_id"] for e in r.entries] == ["s1", "s3"]
    assert "malformed" in r.problems[0].reason and r.problems[0].line == 2


def test_malformed_middle_line_reported_with_line_number(tmp_path):
    p = tmp_path / "a2.jsonl"
    good = json.dumps({"segment_id": "s1", "label": "none", "annotator": "a2", "action": "label"})
    bad = json.dumps({"segment_id": "s2", "label": "angry", "annotator": "a2", "action": "label"})
    p.write_text(good + "\n" + bad + "\n" + good + "\n", encoding="utf-8")
    r = L.read_log(p)
    assert len(r.entries) == 2 and [(x.line, "unknown label" in x.reason) for x in r.problems] == [(2, True)]


@pytest.mark.parametrize("name", ["", "a b", "../x", "名字", "a" * 33, "-a", "a1\n", "a1\r\n",
                                  "con", "NUL", "Aux", "prn", "com1", "LPT9", "CoM3"])
def test_odd_annotator_names_refused(tmp_path, name):
    with pytest.raises(L.LabelError, match="annotator name"):
        L.record(tmp_path, name, "s1", "none")
    assert not list(tmp_path.iterdir())


def test_unknown_label_refused(tmp_path):
    with pytest.raises(L.LabelError, match="unknown label 'angry'"):
        L.record(tmp_path, "a1", "s1", "angry")


def test_gold_adjudicated_beats_disagreement(tmp_path):
    L.record(tmp_path, "a1", "s1", "escalation")
    L.record(tmp_path, "a2", "s1", "none")
    L.record(tmp_path, "a1", "s2", "none")
    L.record(tmp_path, "a2", "s2", "none")
    L.record(tmp_path, "a1", "s3", "cooperation")
    gold, unresolved = L.gold_labels(L.replay(L.read_logs(tmp_path).entries))
    # s3 has one label: it stands, reported as single-coded (the codebook's gold rule 4)
    assert sorted(gold.itertuples(index=False, name=None)) == [("s2", "none", "agreed"),
                                                               ("s3", "cooperation", "single")]
    assert list(unresolved["segment_id"]) == ["s1"]
    L.record(tmp_path, L.ADJUDICATED, "s1", "escalation", reason="rule 2")
    gold, unresolved = L.gold_labels(L.replay(L.read_logs(tmp_path).entries))
    assert ("s1", "escalation", "adjudicated") in set(gold.itertuples(index=False, name=None)) and unresolved.empty


def test_orphans_reported_not_dropped(tmp_path):
    segs = pd.DataFrame({"segment_id": ["s1", "s2"], "text_hash": ["h1", "h2"]})
    L.record(tmp_path, "a1", "s1", "none", "h1")
    L.record(tmp_path, "a1", "s2", "none", "OLD")
    L.record(tmp_path, "a1", "gone", "none", "h9")
    cur = L.replay(L.read_logs(tmp_path).entries)
    o = L.orphans(cur, segs)
    assert sorted(zip(o["segment_id"], o["status"])) == [("gone", "missing"), ("s2", "text changed")]
    assert len(cur) == 3  # still there


def test_import_validates_every_row_before_writing(tmp_path):
    segs = pd.DataFrame({"segment_id": ["s1", "s2"], "text_hash": ["h1", "h2"]})
    f = tmp_path / "in.tsv"
    f.write_text("segment_id\tlabel\ns1\tnone\ns2\tbogus\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"in.tsv:3: unknown label 'bogus'"):
        L.import_table(f, tmp_path / "logs", "a1", segs)
    assert not (tmp_path / "logs" / "a1.jsonl").exists()
    f.write_text("segment_id\tlabel\treason\ns1\tnone\t\ns2\tescalation\trule 2\n", encoding="utf-8")
    assert L.import_table(f, tmp_path / "logs", "a1", segs) == 2
    cur = L.replay(L.read_logs(tmp_path / "logs").entries)
    assert cur[["segment_id", "label", "text_hash", "reason"]].values.tolist() == [["s1", "none", "h1", ""], ["s2", "escalation", "h2", "rule 2"]]


def test_reimport_appends_nothing_and_every_bad_row_is_named(tmp_path):
    segs = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "text_hash": ["h1", "h2", "h3"]})
    f = tmp_path / "in.csv"
    f.write_text("segment_id,label,reason\ns1,none,\ns2,escalation,rule 2\ns2,escalation,rule 2\n", encoding="utf-8")
    first = L.import_table(f, tmp_path / "logs", "a1", segs)
    assert first == 2 and first.unchanged == 0  # the repeated identical row is written once
    log = tmp_path / "logs" / "a1.jsonl"
    size = log.stat().st_size
    again = L.import_table(f, tmp_path / "logs", "a1", segs)
    assert again == 0 and again.unchanged == 2 and log.stat().st_size == size
    # a changed label is appended (and wins on replay); the unchanged row is not
    f.write_text("segment_id,label\ns1,none\ns2,cooperation\n", encoding="utf-8")
    assert L.import_table(f, tmp_path / "logs", "a1", segs) == 1
    assert dict(L.replay(L.read_logs(tmp_path / "logs").entries)[["segment_id", "label"]].values) == \
        {"s1": "none", "s2": "cooperation"}
    # one segment with two different labels in one file: refused, with both lines
    f.write_text("segment_id,label\ns3,none\ns3,escalation\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"in.csv:3: segment 's3' is also on line 2"):
        L.import_table(f, tmp_path / "logs", "a1", segs)
    # several bad rows: the first in full, the others by line; one line; nothing written
    size = log.stat().st_size
    f.write_text("segment_id,label\ns1,bogus\ns2,none\nzz,none\ns3,maybe\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"in.csv:2: unknown label 'bogus'.* \(and 2 more bad row\(s\), on line\(s\) 4, 5\)") as err:
        L.import_table(f, tmp_path / "logs", "a1", segs)
    assert "\n" not in str(err.value) and log.stat().st_size == size
    # a row with too many cells is one more bad row, named with the others, in line order
    f.write_text("segment_id,label\ns1,bogus\ns2,none,extra\nzz,none\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"in.csv:2: unknown label 'bogus'.* \(and 2 more bad row\(s\), on line\(s\) 3, 4\)"):
        L.import_table(f, tmp_path / "logs", "a1", segs)
    assert log.stat().st_size == size


def test_a_file_without_reasons_keeps_the_reasons_given_before(tmp_path):
    """Re-importing labels from a file with no reason column appends nothing and leaves the
    annotator's reasons as they were (they were replaced by empty ones); a changed label is
    a new decision, appended without a reason; an explicit empty reason cell clears it."""
    segs = pd.DataFrame({"segment_id": ["s1", "s2"], "text_hash": ["h1", "h2"]})
    f = tmp_path / "in.csv"
    f.write_text("segment_id,label,reason\ns1,escalation,rule 4\ns2,none,background\n", encoding="utf-8")
    assert L.import_table(f, tmp_path / "logs", "a1", segs) == 2
    f.write_text("segment_id,label\ns1,escalation\ns2,cooperation\n", encoding="utf-8")
    res = L.import_table(f, tmp_path / "logs", "a1", segs)
    assert res == 1 and res.unchanged == 1
    cur = L.replay(L.read_logs(tmp_path / "logs").entries).set_index("segment_id")
    assert cur.loc["s1", "reason"] == "rule 4" and cur.loc["s2", ["label", "reason"]].tolist() == ["cooperation", ""]
    f.write_text("segment_id,label,reason\ns1,escalation,\n", encoding="utf-8")
    assert L.import_table(f, tmp_path / "logs", "a1", segs) == 1
    assert L.replay(L.read_logs(tmp_path / "logs").entries).set_index("segment_id").loc["s1", "reason"] == ""


def test_committed_gold_set_is_complete_and_valid(paths, seed_corpus):
    logs = L.read_logs(paths.labels)
    assert logs.problems == []
    cur = L.replay(logs.entries)
    gold, unresolved = L.gold_labels(cur)
    assert unresolved.empty and len(gold) >= 250
    assert L.orphans(cur, seed_corpus.segments).empty
    assert (gold["label"] == "cooperation").sum() >= 25
    a = L.wide(cur)
    both = a[["a1", "a2"]].dropna()
    assert len(both) >= 80  # the independent second pass


def test_the_projects_gold_set_is_complete_double_coded_and_clean(paths, seed_corpus):
    """The committed label logs: readable, no orphans, every seed segment labelled by a1 and
    by exactly one independent second annotator, and no disagreement left unadjudicated."""
    logs = L.read_logs(paths.labels)
    assert logs.problems == []
    current = L.replay(logs.entries)
    segments = seed_corpus.segments
    assert L.orphans(current, segments).empty
    w = L.wide(current)
    assert set(w.index) == set(segments["segment_id"])
    assert w["a1"].notna().all()
    second = w[["a2", "a3", "a4"]].notna().sum(axis=1)
    assert (second == 1).all()  # the second passes are disjoint and cover the corpus
    assert w["a2"].notna().sum() >= 80
    gold, unresolved = L.gold_labels(current)
    assert unresolved.empty and len(gold) == len(segments)
    counts = gold["label"].value_counts()
    assert set(counts.index) == set(L.LABELS) and counts.min() >= 25
    # every adjudication settles a real disagreement and gives its reason
    adj = current[current["annotator"] == L.ADJUDICATED]
    disputed = w.drop(columns=[L.ADJUDICATED]).nunique(axis=1) > 1
    assert set(adj["segment_id"]) == set(w.index[disputed])
    assert all(len(e.get("reason", "")) > 20 for e in logs.entries if e["annotator"] == L.ADJUDICATED)


# --------------------------------------------------------------------------- disk full (issue 12, item 7)


def _disk_fills_midway(monkeypatch, module):
    """Make ``os.write`` in ``module`` write half of what it is given, then fail with ENOSPC
    (a disk that fills up in the middle of a write); ``file.write`` is made to fail the same
    way, so code that writes through a Python file object hits it too."""
    import builtins
    import errno
    import io

    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, bytes(data[: max(1, len(data) // 2)]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module.os, "write", half_then_full)
    real_open = builtins.open

    class Full(io.FileIO):
        calls = 0

        def write(self, b):
            Full.calls += 1
            if Full.calls >= 2:  # the first row goes through, then the disk is full mid-line
                super().write(bytes(b)[: len(b) // 2])
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(b)

    def fake_open(file, mode="r", *a, **k):
        if "a" in mode and "b" in mode and str(file).endswith(".jsonl"):
            return Full(file, "a")
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", fake_open)


def test_import_on_a_full_disk_leaves_the_log_byte_identical(tmp_path, monkeypatch):
    segs = pd.DataFrame({"segment_id": [f"s{i}" for i in range(5)], "text_hash": [f"h{i}" for i in range(5)]})
    L.record(tmp_path, "a1", "s0", "none", "h0")
    log = tmp_path / "a1.jsonl"
    before = log.read_bytes()
    f = tmp_path / "in.csv"
    f.write_text("segment_id,label\n" + "".join(f"s{i},escalation\n" for i in range(1, 5)), encoding="utf-8")
    _disk_fills_midway(monkeypatch, L)
    with pytest.raises(L.LabelError) as err:
        L.import_table(f, tmp_path, "a1", segs)
    assert log.read_bytes() == before  # rolled back: no row, no half line
    msg = str(err.value)
    assert "\n" not in msg and str(log) in msg and "No space left" in msg and "nothing written" in msg


def test_append_to_a_new_log_on_a_full_disk_leaves_no_file(tmp_path, monkeypatch):
    _disk_fills_midway(monkeypatch, L)
    with pytest.raises(L.LabelError, match="nothing written"):
        L.record(tmp_path, "a1", "s0", "none")
    assert not (tmp_path / "a1.jsonl").exists()


# --------------------------------------------------------------------------- whose line is it (item 9)


def test_a_line_claiming_another_annotator_is_reported_and_ignored(tmp_path):
    L.record(tmp_path, "a1", "s1", "escalation")
    L.record(tmp_path, "a2", "s1", "escalation")
    L.record(tmp_path, "a1", "s2", "none")
    L.record(tmp_path, "a2", "s2", "cooperation")
    forged = [{"segment_id": "s1", "annotator": "a1", "action": "retract", "label": None},  # retracts a1's label?
              {"segment_id": "s2", "annotator": "adjudicated", "action": "label", "label": "none",
               "reason": "I decide"},  # overrides gold?
              {"segment_id": "s3", "annotator": "a1", "action": "label", "label": "none"}]
    with open(tmp_path / "a2.jsonl", "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(e) + "\n" for e in forged))
    logs = L.read_logs(tmp_path)
    assert [(p.file.endswith("a2.jsonl"), p.line, "claims annotator" in p.reason) for p in logs.problems] == [
        (True, 3, True), (True, 4, True), (True, 5, True)]
    assert "line claims annotator 'adjudicated' but this is a2's log" in logs.problems[1].reason
    cur = L.replay(logs.entries)
    gold, unresolved = L.gold_labels(cur)
    assert dict(zip(gold.segment_id, gold.label)) == {"s1": "escalation"}  # a1's label of s1 stands
    assert list(unresolved.segment_id) == ["s2"]  # still waiting for a real adjudication
    assert set(cur[cur.annotator == "a1"].segment_id) == {"s1", "s2"}


def test_an_adjudication_without_reason_is_refused_and_ignored(tmp_path):
    with pytest.raises(L.LabelError, match="needs its reason"):
        L.record(tmp_path, L.ADJUDICATED, "s1", "none")
    (tmp_path / "adjudicated.jsonl").write_text(json.dumps(
        {"segment_id": "s1", "annotator": "adjudicated", "action": "label", "label": "none"}) + "\n")
    r = L.read_log(tmp_path / "adjudicated.jsonl")
    assert r.entries == [] and "without a reason" in r.problems[0].reason


def test_labels_cannot_be_imported_as_adjudications(tmp_path):
    segs = pd.DataFrame({"segment_id": ["s1"], "text_hash": ["h1"]})
    f = tmp_path / "in.csv"
    f.write_text("segment_id,label,reason\ns1,none,because\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match="xitu agree --apply"):
        L.import_table(f, tmp_path / "logs", L.ADJUDICATED, segs)
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").glob("*.jsonl"))


# --------------------------------------------------------------------------- the gold rule (item 11)


@pytest.mark.parametrize("votes, expected", [
    (["escalation"], ("single", None)),
    (["none", "none"], ("gold", ("none", "agreed"))),
    (["none", "escalation"], ("unresolved", None)),
    (["none", "none", "escalation"], ("gold", ("none", "majority"))),  # three agree-ish: one dissent
    (["none", "none", "none", "escalation"], ("gold", ("none", "majority"))),  # was: out of gold
    (["none", "none", "escalation", "escalation"], ("unresolved", None)),  # a tie
    (["none", "none", "escalation", "cooperation"], ("unresolved", None)),  # 2 of 4 is not more than half
    (["none", "escalation", "cooperation"], ("unresolved", None)),  # no majority
    (["none", "none", "none"], ("gold", ("none", "agreed"))),
])
def test_gold_rule_for_any_number_of_annotators(tmp_path, votes, expected):
    for i, lab in enumerate(votes):
        L.record(tmp_path, f"a{i + 1}", "s1", lab)
    g = L.decide_gold(L.replay(L.read_logs(tmp_path).entries))
    kind, gold = expected
    assert (len(g.gold), len(g.unresolved), len(g.single)) == {"gold": (1, 0, 0), "unresolved": (0, 1, 0),
                                                                "single": (1, 0, 1)}[kind]
    if gold:
        assert tuple(g.gold.iloc[0][["label", "source"]]) == gold
        assert g.gold.iloc[0]["votes"] == "; ".join(f"a{i + 1}={v}" for i, v in enumerate(votes))
    L.record(tmp_path, L.ADJUDICATED, "s1", "cooperation", reason="settled")  # an adjudication stands
    g = L.decide_gold(L.replay(L.read_logs(tmp_path).entries))
    assert g.gold[["segment_id", "label", "source", "reason"]].values.tolist() == [["s1", "cooperation", "adjudicated", "settled"]]


def test_the_gold_rule_is_in_the_codebook(paths):
    text = (paths.labels / "CODEBOOK.md").read_text(encoding="utf-8")
    section = text.split("## How gold is decided", 1)[1].split("\n## ", 1)[0]
    for phrase in ("adjudication stands", "strict majority", "at least two", "tie", "second opinion"):
        assert phrase in section


# --------------------------------------------------------------------------- tables from spreadsheets (item 13)


SEGS = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "text_hash": ["h1", "h2", "h3"]})


def test_utf16_unicode_text_from_excel_is_read(tmp_path):
    f = tmp_path / "from-excel.txt"  # Excel "Unicode Text": UTF-16 LE with BOM, tab-separated
    f.write_bytes("segment_id\tlabel\treason\r\ns1\tnone\t背景数字\r\ns2\tescalation\t管制\r\n".encode("utf-16"))
    assert L.import_table(f, tmp_path / "logs", "a1", SEGS) == 2
    cur = L.replay(L.read_logs(tmp_path / "logs").entries)
    assert cur[["segment_id", "label", "reason"]].values.tolist() == [["s1", "none", "背景数字"], ["s2", "escalation", "管制"]]


def test_gbk_from_chinese_excel_is_refused_with_file_and_line(tmp_path):
    f = tmp_path / "gbk.csv"
    f.write_bytes("segment_id,label,reason\ns1,none,ok\ns2,none,稀土管制\n".encode("gbk"))
    with pytest.raises(L.LabelError, match=r"gbk\.csv:3: not UTF-8 text .*GBK") as err:
        L.import_table(f, tmp_path / "logs", "a1", SEGS)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").glob("*.jsonl"))


def test_multiline_cells_report_the_line_where_the_record_starts(tmp_path):
    f = tmp_path / "multi.csv"
    f.write_text('segment_id,label,reason\ns1,none,"a note\nover\nthree lines"\ns2,bogus,x\n', encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"multi\.csv:5: unknown label 'bogus'"):
        L.import_table(f, tmp_path / "logs", "a1", SEGS)
    f.write_text('segment_id,label,reason\ns1,none,"a note\nover two"\ns9,none,x\n', encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"multi\.csv:4: unknown segment id 's9'"):
        L.import_table(f, tmp_path / "logs", "a1", SEGS)


def test_a_folder_where_the_table_should_be_is_refused(tmp_path):
    with pytest.raises(L.LabelError, match=r"is a folder; expected a CSV or TSV file"):
        L.import_table(tmp_path, tmp_path / "logs", "a1", SEGS)


# --------------------------------------------------------------------------- export (item 17)


def test_gold_export_has_text_article_votes_and_how_decided(tmp_path):
    seg = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "text_hash": ["h1", "h2", "h3"],
                        "text": ["=HYPERLINK(\"http://x\")", "稀土出口管制", "third"], "article_id": ["a", "a", "b"],
                        "title": ["T1", "T1", "T2"], "published": ["2025-01-01"] * 3, "source": ["S"] * 3,
                        "language": ["en", "zh", "en"], "section": ["Group 1", "", ""], "heading": ["Policy", "", ""]})
    for a, s1, s2 in (("a1", "none", "escalation"), ("a2", "none", "none"), ("a3", "escalation", None)):
        L.record(tmp_path, a, "s1", s1)
        if s2:
            L.record(tmp_path, a, "s2", s2)
    L.record(tmp_path, L.ADJUDICATED, "s2", "escalation", reason="controls (rule 2)")
    L.record(tmp_path, "a1", "s3", "none")  # single-coded: exported, and said so
    L.record(tmp_path, "a2", "s2", "none", reason="talks, not controls")  # an annotator's reason travels too
    L.record(tmp_path, "a1", "s2", "escalation", reason="rule 2")
    t = L.gold_export(L.replay(L.read_logs(tmp_path).entries), seg)
    assert t["annotator_reasons"].tolist() == ["", "a1: rule 2; a2: talks, not controls", ""]
    assert t[["segment_id", "label", "decided_by", "annotators", "adjudication_reason", "article_id", "title",
              "context"]].values.tolist() == [
        ["s1", "none", "majority", "a1=none; a2=none; a3=escalation", "", "a", "T1", "Group 1: Policy"],
        ["s2", "escalation", "adjudicated", "a1=escalation; a2=none", "controls (rule 2)", "a", "T1", ""],
        ["s3", "none", "single", "a1=none", "", "b", "T2", ""]]
    csv_path = L.write_export(t, tmp_path / "out" / "gold.csv", "csv")
    back = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back.loc[0, "text"] == "'=HYPERLINK(\"http://x\")" and back.loc[1, "text"] == "稀土出口管制"
    jl = L.write_export(t, tmp_path / "out" / "gold.jsonl", "jsonl")
    rows = [json.loads(x) for x in jl.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["text"] == "=HYPERLINK(\"http://x\")" and rows[1]["decided_by"] == "adjudicated"


def test_a_name_differing_only_in_capitals_is_refused(tmp_path):
    """'Bob' next to 'bob': one file on macOS and Windows, two logs here."""
    segs = pd.DataFrame({"segment_id": ["s1"], "text_hash": ["h1"]})
    L.record(tmp_path, "bob", "s1", "none")
    for call in (lambda: L.check_writable(tmp_path, "Bob"), lambda: L.lock_log(tmp_path, "BOB")):
        with pytest.raises(L.LabelError, match="the log of 'bob' exists"):
            call()
    f = tmp_path / "in.csv"
    f.write_text("segment_id,label\ns1,none\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match="differ only in capitals"):
        L.import_table(f, tmp_path, "Bob", segs)
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["bob.jsonl"]


def test_a_header_that_names_a_column_twice_is_refused(tmp_path):
    """`segment_id,label,segment_id`: which column was meant? (the last one won silently)."""
    f = tmp_path / "in.csv"
    f.write_text("segment_id,label,segment_id\ns1,none,s2\n", encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"in.csv:1: column\(s\) \['segment_id'\] appear more than once"):
        L.read_table(f, required=("segment_id", "label"))
