"""The labelling core: what is shown next, what is written, and the promises (durable
before the next segment, append-only, resume, refusals, broken logs tolerated)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xitu.labelling import (LabellingSession, SessionError, _project_trainer, entropy, filter_segments, label_keys,
                            label_status, margin_uncertainty, read_codebook)
from xitu.labels import LABELS, LabelError, gold_labels, read_log, read_logs, record, replay, retract

E, C, S, N = "escalation", "cooperation", "self-reliance", "none"


def synthetic_segments(n: int = 12) -> pd.DataFrame:
    """n segments in 3 articles (dates 2025-01-01/02/03, queries q1/q2, one Chinese article)."""
    rows = []
    for i in range(n):
        art = i % 3
        rows.append({
            "segment_id": f"a{art}-s{i:02d}", "article_id": f"a{art}", "position": i // 3,
            "section": "Group 1" if i % 2 else "Core Viewpoint", "heading": "Policy" if i % 2 else "",
            "text": f"segment number {i} text", "text_hash": f"h{i:02d}",
            "language": "zh" if art == 2 else "en", "title": f"title {art}", "source": f"source {art}",
            "published": f"2025-01-0{art + 1} 10:00", "queries": ["q1", "q1; q2", "q2"][art],
        })
    return pd.DataFrame(rows)


class FakeModel:
    """predict_proba from a fixed table keyed by text (default: confident in escalation)."""

    def __init__(self, table, classes=LABELS):
        self.table = table
        self.classes_ = np.array(classes, dtype=object)

    def predict_proba(self, texts):
        return np.array([self.table.get(t, [0.85, 0.05, 0.05, 0.05]) for t in texts])


class FakeTrainer:
    """Records every training call; returns a FakeModel."""

    def __init__(self, table=None):
        self.table = table or {}
        self.calls: list[tuple[list, list]] = []

    def __call__(self, texts, labels):
        self.calls.append((list(texts), list(labels)))
        return FakeModel(self.table)


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture
def seg():
    return synthetic_segments()


def session(seg, folder, annotator="ann", **kw):
    kw.setdefault("order", "corpus")
    kw.setdefault("show_guess", False)
    return LabellingSession(annotator, seg, folder, **kw)


# --------------------------------------------------------------------------- writing and order


def test_label_is_on_disk_before_the_next_segment_is_shown(seg, tmp_path):
    shown_when_written = []

    class Spy(LabellingSession):
        def _advance(self, show=None):
            if self.log.exists():  # what the log holds at the moment the next segment is chosen
                shown_when_written.append(len(lines(self.log)))
            return super()._advance(show)

    s = Spy("ann", seg, tmp_path, order="corpus", show_guess=False)
    assert s.current.segment_id == seg.segment_id[0]
    entry = s.label(E)
    assert entry["segment_id"] == seg.segment_id[0] and entry["text_hash"] == "h00"
    assert shown_when_written == [1]
    assert lines(tmp_path / "ann.jsonl")[0] | {"time": None} == {
        "segment_id": seg.segment_id[0], "text_hash": "h00", "label": E, "annotator": "ann",
        "time": None, "action": "label", "session": s.session_id}
    assert s.current.segment_id == seg.segment_id[1]  # corpus order
    s.label(C)
    assert shown_when_written == [1, 2]


def test_item_carries_article_context(seg, tmp_path):
    s = session(seg, tmp_path)
    s.skip()
    it = s.current
    assert (it.title, it.source, it.published, it.context) == ("title 1", "source 1", "2025-01-02 10:00", "Group 1: Policy")
    assert it.text == "segment number 1 text" and it.why == "corpus order"


def test_resume_never_shows_a_labelled_segment(seg, tmp_path):
    s = session(seg, tmp_path)
    done = [s.current.segment_id]
    s.label(E)
    done.append(s.current.segment_id)
    s.label(N)
    s.close()
    s2 = session(seg, tmp_path, order="random", seed=3)
    seen = []
    while s2.current is not None:
        seen.append(s2.current.segment_id)
        s2.skip()
    assert set(seen) == set(seg.segment_id) - set(done)


def test_labels_written_by_another_window_are_not_shown(seg, tmp_path):
    s = session(seg, tmp_path)
    record(tmp_path, "ann", seg.segment_id[1], S, "h01")  # the same annotator, elsewhere
    s.label(E)
    assert s.current.segment_id == seg.segment_id[2]


def test_random_order_is_seeded_and_a_permutation(seg, tmp_path):
    def order(seed):
        s = session(seg, tmp_path / str(seed), order="random", seed=seed)
        out = []
        while s.current is not None:
            out.append(s.current.segment_id)
            s.skip()
        return out

    a, b = order(1), order(1)
    assert a == b and sorted(a) == sorted(seg.segment_id) and a != list(seg.segment_id)


def test_skip_is_session_only(seg, tmp_path):
    s = session(seg, tmp_path)
    first = s.current.segment_id
    s.skip()
    assert not (tmp_path / "ann.jsonl").exists()
    assert s.current.segment_id != first and s.progress().skipped == 1
    s.close()  # one session per annotator at a time
    assert session(seg, tmp_path).current.segment_id == first  # a new session shows it again


def test_undo_appends_a_retraction_and_shows_the_segment_again(seg, tmp_path):
    s = session(seg, tmp_path)
    a = s.current.segment_id
    s.label(E)
    b = s.current.segment_id
    s.label(C)
    assert s.undo().segment_id == b and s.current.segment_id == b
    assert s.undo().segment_id == a
    assert s.undo() is None and "nothing to undo" in s.notice
    log = lines(tmp_path / "ann.jsonl")
    assert [e["action"] for e in log] == ["label", "label", "retract", "retract"]  # never rewritten
    assert replay(read_log(tmp_path / "ann.jsonl").entries).empty
    s.label(S)  # relabel the segment shown again
    cur = replay(read_log(tmp_path / "ann.jsonl").entries)
    assert cur.set_index("segment_id")["label"].to_dict() == {a: S}
    assert s.progress().session_labelled == 1


def test_stale_segment_and_unknown_label_write_nothing(seg, tmp_path):
    s = session(seg, tmp_path)
    with pytest.raises(SessionError, match="no longer the one shown"):
        s.label(E, segment_id=seg.segment_id[5])
    with pytest.raises(LabelError, match="unknown label 'war'"):
        s.label("war")
    assert not (tmp_path / "ann.jsonl").exists()


@pytest.mark.parametrize("name", ["", "a b", "../etc", "x" * 40, "ann/1", "-lead"])
def test_odd_annotator_names_are_refused(seg, tmp_path, name):
    with pytest.raises(LabelError, match="refused"):
        session(seg, tmp_path, annotator=name)
    assert list(tmp_path.iterdir()) == []


def test_adjudicated_is_not_a_labelling_annotator(seg, tmp_path):
    with pytest.raises(LabelError, match="xitu agree --apply"):
        session(seg, tmp_path, annotator="adjudicated")


def test_bad_options_are_refused(seg, tmp_path):
    with pytest.raises(SessionError, match="unknown order"):
        session(seg, tmp_path, order="smart")
    with pytest.raises(SessionError, match="unknown pool"):
        session(seg, tmp_path, pool="mine")
    with pytest.raises(SessionError, match="date like"):
        session(seg, tmp_path, since="yesterday")
    with pytest.raises(SessionError, match="no segment matches"):
        session(seg, tmp_path, query="nothing")
    with pytest.raises(SessionError, match="segments lack columns"):
        session(seg.drop(columns=["title"]), tmp_path)


def test_filters(seg):
    assert set(filter_segments(seg, query="q2")["article_id"]) == {"a1", "a2"}
    assert set(filter_segments(seg, query=["q1"])["article_id"]) == {"a0", "a1"}
    assert set(filter_segments(seg, language="zh")["article_id"]) == {"a2"}
    assert set(filter_segments(seg, since="2025-01-02")["article_id"]) == {"a1", "a2"}
    assert set(filter_segments(seg, until="2025-01-02")["article_id"]) == {"a0", "a1"}
    undated = seg.assign(published="")
    assert filter_segments(undated, since="2025-01-01").empty
    assert len(filter_segments(seg, query="q", language=None)) == 0  # queries match exactly, not as substrings


# --------------------------------------------------------------------------- pools


def test_pools_and_the_automatic_switch(seg, tmp_path):
    others = list(seg.segment_id[:10])
    for sid in others:
        record(tmp_path, "other", sid, E)
    s = session(seg, tmp_path, pool="unlabelled")
    shown = []
    while s.current is not None:
        shown.append(s.current.segment_id)
        s.label(N)
    assert shown == list(seg.segment_id[10:])
    s = session(seg, tmp_path, annotator="late", pool="auto")
    assert s.active_pool == "own" and "second opinion" in s.notice  # nothing unlabelled is left
    s.close()  # one session per annotator at a time
    own = session(seg, tmp_path, annotator="late", pool="own")
    assert own.current.segment_id == seg.segment_id[0]  # others' labels do not hide a segment


def test_guess_hidden_in_own_pool(seg, tmp_path):
    for sid in seg.segment_id:
        record(tmp_path, "other", sid, E if int(sid[-2:]) % 2 else C)
    tr = FakeTrainer()
    s = LabellingSession("late", seg, tmp_path, pool="auto", trainer=tr)
    assert s.active_pool == "own" and s.model is not None
    assert s.current.guess is None and not s.show_guess  # trained on the other's label of this very segment
    s.close()
    shown = LabellingSession("late", seg, tmp_path, pool="own", trainer=tr, show_guess=True)
    assert shown.current.guess == E
    shown.close()


def test_guess_is_hidden_unless_asked_for(seg, tmp_path):
    """A guess on screen anchors the annotator: new segments show none by default, while the
    classifier still orders them; asked for, it is shown."""
    for sid in seg.segment_id[:4]:
        record(tmp_path, "other", sid, E if int(sid[-2:]) % 2 else C)
    tr = FakeTrainer()
    s = LabellingSession("fresh", seg, tmp_path, pool="unlabelled", order="entropy", trainer=tr)
    assert s.model is not None and s.current is not None
    assert s.current.guess is None and not s.show_guess
    s.close()
    asked = LabellingSession("fresh", seg, tmp_path, pool="unlabelled", order="entropy", trainer=tr, show_guess=True)
    assert asked.current.guess is not None


# --------------------------------------------------------------------------- classifier order


def test_entropy_and_margin_order_follow_the_classifier(seg, tmp_path):
    for i, lab in enumerate([E, E, C, C]):
        record(tmp_path, "a1", seg.segment_id[i], lab)
    texts = list(seg.text)
    table = {texts[7]: [0.3, 0.25, 0.25, 0.2],  # most uncertain by entropy (margin 0.95)
             texts[9]: [0.45, 0.45, 0.05, 0.05],  # most uncertain by margin (gap 0)
             texts[5]: [0.7, 0.1, 0.1, 0.1]}  # entropy 0.94 < 1.02 of texts[9]
    s = LabellingSession("me", seg, tmp_path, order="entropy", trainer=FakeTrainer(table), show_guess=True)
    assert s.current.segment_id == seg.segment_id[7]
    assert s.current.uncertainty == pytest.approx(entropy(np.array([[0.3, 0.25, 0.25, 0.2]]))[0])
    assert s.current.guess is not None and "least certain" in s.current.why
    s.skip()
    assert s.current.segment_id == seg.segment_id[9]
    s.close()
    m = LabellingSession("me", seg, tmp_path, order="margin", trainer=FakeTrainer(table))
    assert m.current.segment_id == seg.segment_id[9]
    assert m.current.uncertainty == pytest.approx(1.0)


def test_training_set_is_gold_plus_own_labels(seg, tmp_path):
    ids = list(seg.segment_id)
    record(tmp_path, "a1", ids[0], E)
    record(tmp_path, "a2", ids[0], E)  # agreed
    record(tmp_path, "a1", ids[1], E)
    record(tmp_path, "a2", ids[1], C)  # unresolved: not in gold ...
    record(tmp_path, "adjudicated", ids[1], C, reason="rule 6")  # ... until adjudicated
    record(tmp_path, "a1", ids[2], S)
    record(tmp_path, "me", ids[2], N)  # my label disagrees: unresolved, but I learn from mine
    record(tmp_path, "a1", "gone-segment", S)  # orphan: not in the corpus, not trained on
    tr = FakeTrainer()
    s = LabellingSession("me", seg, tmp_path, trainer=tr)
    got = s.training_set().set_index("segment_id")["label"].to_dict()
    assert got == {ids[0]: E, ids[1]: C, ids[2]: N}
    assert s.model is None and "at least 2 labels in each of 2 classes" in s.model_status
    assert "corpus order" in s.model_status and s.current.segment_id == ids[3]


def test_retraining_every_n_labels_uses_the_new_labels(seg, tmp_path):
    for i, lab in enumerate([E, E, C, C]):
        record(tmp_path, "a1", seg.segment_id[i], lab)
    tr = FakeTrainer()
    s = LabellingSession("me", seg, tmp_path, order="entropy", retrain_every=3, trainer=tr)
    assert len(tr.calls) == 1 and len(tr.calls[0][1]) == 4
    labelled = []
    for _ in range(3):
        labelled.append(s.current.segment_id)
        s.label(S)
        if len(labelled) < 3:
            assert len(tr.calls) == 1
    assert len(tr.calls) == 2 and s.retrained == 2
    texts, labels = tr.calls[1]
    assert labels.count(S) == 3 and len(labels) == 7
    assert set(seg.set_index("segment_id").loc[labelled, "text"]) <= set(texts)


def test_fallback_until_trainable_then_classifier_order(seg, tmp_path):
    tr = FakeTrainer({"segment number 11 text": [0.25] * 4})
    s = LabellingSession("me", seg, tmp_path, order="entropy", retrain_every=10, trainer=tr)
    assert s.model is None and "corpus order" in s.model_status and s.current.why.startswith("corpus order")
    for lab in [E, C, E]:
        s.label(lab)
        assert s.model is None and tr.calls == []
    s.label(C)  # now 2 × escalation, 2 × cooperation: trained at once, not after 10 labels
    assert len(tr.calls) == 1 and s.model is not None
    assert s.current.segment_id == "a2-s11" and "least certain" in s.model_status


def test_a_failing_classifier_does_not_stop_labelling(seg, tmp_path):
    for i, lab in enumerate([E, E, C, C]):
        record(tmp_path, "a1", seg.segment_id[i], lab)

    def broken(texts, labels):
        raise RuntimeError("out of memory")

    s = LabellingSession("me", seg, tmp_path, trainer=broken)
    assert "classifier failed (RuntimeError: out of memory)" in s.model_status
    s.label(N)
    assert len(lines(tmp_path / "me.jsonl")) == 1


def test_real_classifier_entropy_order(seed_corpus, paths, tmp_path):
    """On the seed corpus with the project's gold labels, the first segment shown is the one
    whose stance probabilities have the highest entropy."""
    for f in paths.labels.glob("*.jsonl"):
        shutil.copy(f, tmp_path)
    seg = seed_corpus.segments_with_articles()
    s = LabellingSession("newcomer", seg, tmp_path, order="entropy", pool="own", show_guess=True,
                         trainer=_project_trainer(paths))
    assert s.model is not None and s.n_training >= 300
    proba = s.model.predict_proba(list(seg["text"]))
    best = seg["segment_id"].iloc[int(np.argmax(entropy(proba)))]
    assert s.current.segment_id == best
    assert s.current.guess in LABELS and 0 < s.current.guess_probability <= 1
    assert set(s.current.probabilities) == set(LABELS)


# --------------------------------------------------------------------------- broken logs


def test_half_written_last_line_is_reported_and_the_next_label_lands_on_its_own_line(seg, tmp_path):
    log = tmp_path / "ann.jsonl"
    record(tmp_path, "ann", seg.segment_id[0], E, "h00")
    with open(log, "ab") as f:  # a power cut in the middle of the second write
        f.write(b'{"action": "label", "annotator": "ann", "label": "coop')
    s = session(seg, tmp_path)
    assert [p.reason for p in s.problems] == ["half-written last line (interrupted write), ignored"]
    assert any("half-written" in x for x in s.problem_lines())
    assert s.current.segment_id == seg.segment_id[1]  # the whole line counts; the broken one does not
    s.label(S)
    r = read_log(log)
    assert [e["label"] for e in r.entries] == [E, S]
    assert len(r.problems) == 1 and r.problems[0].line == 2  # no longer last: now reported as malformed
    assert r.problems[0].reason.startswith("malformed line ignored")


def test_duplicate_lines_resolve_latest_wins(seg, tmp_path):
    for lab in (E, C, C, S):
        record(tmp_path, "ann", seg.segment_id[0], lab)
    s = LabellingSession("ann", seg, tmp_path, trainer=FakeTrainer())
    assert s.current.segment_id == seg.segment_id[1]
    assert s.training_set().set_index("segment_id")["label"].to_dict() == {seg.segment_id[0]: S}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(["e", "c", "s", "n", "k", "u"]), max_size=30))
def test_any_sequence_of_actions_keeps_log_and_display_consistent(tmp_path_factory, actions):
    """Whatever the annotator does, the replayed log holds exactly the labels of this session
    that were not undone, and a labelled segment is never shown again (except by undo)."""
    seg = synthetic_segments(8)
    folder = tmp_path_factory.mktemp("prop")
    s = session(seg, folder)
    keys = label_keys()
    expected: dict[str, str] = {}
    stack: list[str] = []
    for a in actions:
        cur = s.current
        if a == "u":
            shown = s.undo()
            if stack:
                sid = stack.pop()
                expected.pop(sid)
                assert shown.segment_id == sid
            continue
        if cur is None:
            break
        assert cur.segment_id not in expected  # never show a labelled segment
        if a == "k":
            s.skip()
        else:
            s.label(keys[a])
            expected[cur.segment_id] = keys[a]
            stack.append(cur.segment_id)
    cur_log = replay(read_logs(folder).entries)
    assert dict(zip(cur_log["segment_id"], cur_log["label"])) == expected
    assert s.progress().session_labelled == len(expected)


# --------------------------------------------------------------------------- helpers


def test_uncertainty_measures():
    p = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0, 0, 0], [0.5, 0.3, 0.2, 0.0]])
    assert entropy(p) == pytest.approx([np.log(4), 0.0, -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2))], abs=1e-9)
    assert margin_uncertainty(p) == pytest.approx([1.0, 0.0, 0.8])


def test_label_keys():
    assert label_keys() == {"e": E, "c": C, "s": S, "n": N}
    assert label_keys(["yes", "yeah", "quit"]) == {"y": "yes", "e": "yeah", "i": "quit"}  # k u q ? are taken


def test_codebook_is_read(paths):
    cb = read_codebook(paths.labels / "CODEBOOK.md")
    assert set(cb.definitions) == set(LABELS)
    assert cb.one_liner(E).startswith("a restrictive or confrontational move")
    assert len(cb.rules) >= 13 and cb.rules[0].startswith("**Label the point")
    assert read_codebook(paths.labels / "missing.md").definitions == {}


def test_label_status(tmp_path):
    from xitu.paths import Paths

    (tmp_path / "data" / "labels").mkdir(parents=True)
    p = Paths(tmp_path)
    assert "0 current labels" in label_status(p).summary
    record(p.labels, "a1", "s1", E)
    record(p.labels, "a2", "s1", C)
    record(p.labels, "a1", "s2", N)
    retract(p.labels, "a1", "s2")
    st_ = label_status(p)
    assert "waiting for adjudication: 1" in st_.summary
    assert st_.table.loc["a1", "total"] == 1 and st_.table.loc["a2", "cooperation"] == 1
    assert gold_labels(replay(read_logs(p.labels).entries))[0].empty


def test_reserved_and_newline_names_are_refused_by_the_session(seg, tmp_path):
    for name in ("a1\n", "con", "NUL", "com1", "Lpt1"):
        with pytest.raises(LabelError, match="refused"):
            session(seg, tmp_path, annotator=name)
    assert list(tmp_path.iterdir()) == []
    for name in ("console", "com10", "nul_1", "auxiliary"):  # only the device names themselves
        session(seg, tmp_path / name, annotator=name).close()


def test_a_log_that_cannot_be_written_is_refused_at_start(seg, tmp_path, monkeypatch):
    (tmp_path / "ann.jsonl").mkdir()  # a folder where the log should be
    with pytest.raises(LabelError, match=r"ann\.jsonl: the log cannot be written"):
        session(seg, tmp_path)
    import os as _os

    import xitu.labels as L
    other = tmp_path / "ro"
    other.mkdir()
    record(other, "ann", "a0-s00", E)
    real_open = _os.open

    def refuse(path, flags, *a):  # a read-only log (chmod does not stop root, so simulate it)
        if str(path).endswith("ann.jsonl") and flags & (_os.O_WRONLY | _os.O_RDWR):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *a)

    monkeypatch.setattr(L.os, "open", refuse)
    with pytest.raises(LabelError, match="Permission denied"):
        session(seg, other)


# --------------------------------------------------------------------------- two windows (issue 12, item 8)


def test_a_second_session_of_the_same_annotator_is_refused_until_the_first_ends(seg, tmp_path):
    first = session(seg, tmp_path, annotator="ann")
    with pytest.raises(LabelError, match=r"annotator ann: another session holds .*ann\.jsonl \(a labelling session, pid"):
        session(seg, tmp_path, annotator="ann")
    other = session(seg, tmp_path, annotator="bob")  # another annotator is not affected
    first.label(E)
    first.close()
    second = session(seg, tmp_path, annotator="ann")  # released by close()
    assert second.current.segment_id != seg.segment_id[0]
    second.close()
    other.close()
    with session(seg, tmp_path, annotator="ann") as s3:  # a context manager releases it too
        s3.label(C)
    session(seg, tmp_path, annotator="ann").close()


def test_undo_retracts_only_this_sessions_own_decision(seg, tmp_path):
    s = session(seg, tmp_path)
    first = s.current.segment_id
    s.label(E)
    # something else (an older tool, a hand edit) relabels the same segment behind the lock
    record(tmp_path, "ann", first, C)
    assert s.undo() is s.current and s.current.segment_id != first
    assert "not undone" in s.notice
    log = lines(tmp_path / "ann.jsonl")
    assert [x["action"] for x in log] == ["label", "label"]  # no retraction of the other label
    assert replay(read_log(tmp_path / "ann.jsonl").entries).label.tolist() == [C]
    # its own decision is undone as before, and the retraction says whose it was
    s.label(S)
    assert s.undo() is not None and lines(tmp_path / "ann.jsonl")[-1]["session"] == s.session_id


def test_a_label_written_elsewhere_while_shown_is_not_overridden(seg, tmp_path):
    s = session(seg, tmp_path)
    shown = s.current.segment_id
    record(tmp_path, "ann", shown, N)  # written behind the lock while the segment is on screen
    with pytest.raises(SessionError, match="nothing was written"):
        s.label(E, segment_id=shown)
    assert replay(read_log(tmp_path / "ann.jsonl").entries).label.tolist() == [N]
    assert s.current.segment_id != shown


HOLDER = """
import sys
import pandas as pd
sys.path.insert(0, sys.argv[2])
from test_labelling import synthetic_segments
from xitu.labelling import LabellingSession
s = LabellingSession("ann", synthetic_segments(), sys.argv[1], order="corpus", show_guess=False)
print("holding", flush=True)
sys.stdin.read()
"""


def test_a_second_window_in_another_process_is_refused_and_a_killed_one_frees_the_log(seg, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), str(Path(__file__).parent)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "holding"
        with pytest.raises(LabelError, match=rf"annotator ann: another session holds .*pid {child.pid}"):
            session(seg, tmp_path)
        os.kill(child.pid, signal.SIGKILL)  # the window dies without closing anything
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    s = session(seg, tmp_path)  # the lock died with the process
    s.label(E)
    s.close()
    # and a second `xitu label` in a real process while this one holds the log: exit 2, one line
    holder = session(seg, tmp_path)
    try:
        out = subprocess.run([sys.executable, "-c", HOLDER, str(tmp_path), str(Path(__file__).parent)],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode != 0 and "another session holds" in out.stderr
    finally:
        holder.close()
