"""The terminal front end: a scripted session in-process, the real ``xitu label`` through a
pseudo-terminal, and a session killed with SIGKILL that loses no confirmed label."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from xitu.label_terminal import run_session
from xitu.labelling import LabellingSession, read_codebook
from xitu.labels import read_log, replay

ROOT = Path(__file__).resolve().parents[1]
PROMPT = r"label \[e/c/s/n · k u \? q\]> "
SAVED = r"saved (\S+) for (\S+)\r?\n"


def make_root(tmp: Path, logs: bool = False) -> Path:
    """A throw-away project: the seed exports, lexicon and codebook (and optionally the
    project's label logs) under ``tmp``; nothing of the repository is written."""
    (tmp / "data" / "labels").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw", tmp / "data" / "raw")
    shutil.copytree(ROOT / "data" / "lexicon", tmp / "data" / "lexicon")
    shutil.copy(ROOT / "data" / "labels" / "CODEBOOK.md", tmp / "data" / "labels")
    if logs:
        for f in (ROOT / "data" / "labels").glob("*.jsonl"):
            shutil.copy(f, tmp / "data" / "labels")
    if (ROOT / ".cache" / "jieba").is_dir():  # saves rebuilding jieba's dictionary cache
        shutil.copytree(ROOT / ".cache" / "jieba", tmp / ".cache" / "jieba")
    (tmp / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    return tmp


def spawn(root: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "XITU_ROOT": str(root), "PYTHONHASHSEED": "0", "COLUMNS": "100", "TERM": "dumb"}
    return pexpect.spawn(sys.executable, ["-m", "xitu.cli", "label", *args], cwd=str(root), env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 100))


def log_entries(root: Path, name: str) -> list[dict]:
    return read_log(root / "data" / "labels" / f"{name}.jsonl").entries


# --------------------------------------------------------------------------- in-process


def test_scripted_session_in_process(seed_corpus, tmp_path):
    seg = seed_corpus.segments_with_articles()
    s = LabellingSession("t0", seg, tmp_path, order="corpus", show_guess=False)
    cb = read_codebook(ROOT / "data" / "labels" / "CODEBOOK.md")
    answers = iter(["e", "self-reliance", "?", "x", "", "k", "u", "N"])

    def typed(prompt):
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None  # Ctrl-D after the last answer

    out = io.StringIO()
    n = run_session(s, cb, input_fn=typed, out=out)
    text = out.getvalue()
    ids = list(seg.segment_id)
    assert f"saved escalation for {ids[0]}" in text and f"saved self-reliance for {ids[1]}" in text
    assert "a restrictive or confrontational move" in text  # help shows the codebook one-liners
    assert "unknown key 'x'" in text and f"skipped {ids[2]}" in text
    assert f"undone: your label of {ids[1]} was retracted" in text
    assert f"saved none for {ids[1]}" in text  # the undone segment came back and got a new label
    assert n == 2 and "session over: 2 label(s)" in text
    cur = replay(read_log(tmp_path / "t0.jsonl").entries)
    assert dict(zip(cur.segment_id, cur.label)) == {ids[0]: "escalation", ids[1]: "none"}


# --------------------------------------------------------------------------- pseudo-terminal


def test_xitu_label_through_a_pseudo_terminal(tmp_path):
    root = make_root(tmp_path)
    child = spawn(root, "--annotator", "tty1", "--order", "entropy", "--retrain-every", "2")
    try:
        child.expect("no classifier yet")  # no labels at all: corpus order, and it says so
        child.expect(PROMPT)
        saved = []
        for key, label in [("e", "escalation"), ("c", "cooperation"), ("e", "escalation")]:
            child.sendline(key)
            child.expect(SAVED)
            assert child.match.group(1) == label
            saved.append(child.match.group(2))
            child.expect(PROMPT)
        child.sendline("c")  # 2 × escalation + 2 × cooperation: the classifier can be trained now
        child.expect(SAVED)
        saved.append(child.match.group(2))
        child.expect(r"retrained: least certain first \(entropy\); classifier trained on 4 labels")
        child.expect(r"classifier guess: (\S+) \((0\.\d\d)\)")
        assert child.match.group(1) in ("escalation", "cooperation")
        child.expect(PROMPT)
        child.sendline("?")
        child.expect("building one's own or one's allies' independent capacity")
        child.expect(PROMPT)
        child.sendline("k")
        child.expect(r"skipped (\S+)")
        child.expect(PROMPT)
        child.sendline("u")
        child.expect(f"undone: your label of {re.escape(saved[-1])} was retracted")
        child.expect(re.escape(saved[-1]) + r" · en · shown again after undo")
        child.expect(PROMPT)
        child.sendline("q")
        child.expect(r"session over: 3 label\(s\) saved")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    entries = log_entries(root, "tty1")
    assert [(e["action"], e["segment_id"]) for e in entries] == [
        *[("label", s) for s in saved], ("retract", saved[-1])]
    assert [e["label"] for e in entries[:4]] == ["escalation", "cooperation", "escalation", "cooperation"]


def test_sigkill_mid_session_loses_no_confirmed_label_and_resumes(tmp_path):
    root = make_root(tmp_path)
    child = spawn(root, "--annotator", "k1", "--order", "random", "--seed", "7", "--hide-guess")
    confirmed = {}
    try:
        child.expect(PROMPT)
        for key in "escn":
            child.sendline(key)
            child.expect(SAVED)
            confirmed[child.match.group(2)] = child.match.group(1)
            child.expect(PROMPT)
        child.sendline("e")  # a fifth label, killed at an arbitrary point of its handling
        os.kill(child.pid, signal.SIGKILL)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.signalstatus == signal.SIGKILL
    r = read_log(root / "data" / "labels" / "k1.jsonl")
    cur = dict(zip(*[replay(r.entries)[c] for c in ("segment_id", "label")]))
    assert {k: cur[k] for k in confirmed} == confirmed  # every confirmed decision is on disk
    assert len(cur) in (4, 5)  # the fifth is there whole or not at all ...
    assert all("half-written" in p.reason for p in r.problems)  # ... or as a reported half line
    # resuming shows none of the labelled segments: go through the rest of the pool
    child = spawn(root, "--annotator", "k1", "--order", "random", "--seed", "7", "--hide-guess")
    try:
        child.expect(r"\[(\S+) · (en|zh) · random order\]")
        assert child.match.group(1) not in cur
        child.expect(PROMPT)
        child.sendline("q")
        child.expect(r"session over: 0 label\(s\) saved .*; (\d+) segment\(s\) labelled by k1 in all")
        assert int(child.match.group(1)) == len(cur)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_odd_annotator_name_is_refused_with_a_clear_message(tmp_path):
    root = make_root(tmp_path)
    child = spawn(root, "--annotator", "../evil")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "annotator name '../evil' refused" in child.before
    assert list((root / "data" / "labels").glob("*.jsonl")) == []
