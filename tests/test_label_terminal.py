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
    child = spawn(root, "--annotator", "tty1", "--order", "entropy", "--retrain-every", "2", "--show-guess")
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


# --------------------------------------------------------------------------- keys, colour, wrapping, rules (item 16)


def spawn_env(root: Path, extra: dict, *args: str) -> pexpect.spawn:
    env = {**os.environ, "XITU_ROOT": str(root), "PYTHONHASHSEED": "0", "COLUMNS": "100", **extra}
    env.pop("NO_COLOR", None) if "NO_COLOR" not in extra else None
    return pexpect.spawn(sys.executable, ["-m", "xitu.cli", "label", *args], cwd=str(root), env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 100))


def test_single_keys_without_enter_colour_and_rules_in_a_terminal(tmp_path):
    root = make_root(tmp_path)
    child = spawn_env(root, {"TERM": "xterm-256color"}, "--annotator", "keys1", "--order", "corpus", "--hide-guess")
    try:
        child.expect(PROMPT)
        child.send("e")  # no Enter
        child.expect("saved \x1b\\[1;31mescalation\x1b\\[0m for (\\S+)", timeout=15)
        child.expect(PROMPT)
        child.send("r")
        child.expect("decision rules for the hard cases", timeout=15)
        child.expect("17\\. Options weighed, not taken")
        child.expect(PROMPT)
        child.send("q")
        child.expect(r"session over: 1 label\(s\) saved", timeout=15)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert [e["label"] for e in log_entries(root, "keys1")] == ["escalation"]
    child = spawn_env(root, {"TERM": "xterm-256color", "NO_COLOR": "1"}, "--annotator", "keys1", "--order", "corpus",
                      "--hide-guess")
    try:
        child.expect(PROMPT)
        child.send("c")
        child.expect(SAVED, timeout=15)
        assert child.match.group(1) == "cooperation" and "\x1b[" not in child.before
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_line_mode_when_input_is_not_a_terminal(tmp_path):
    import subprocess

    root = make_root(tmp_path)
    out = subprocess.run([sys.executable, "-m", "xitu.cli", "label", "--annotator", "pipe1", "--order", "corpus",
                          "--hide-guess"], input="self-reliance\nq\n", capture_output=True, text=True, timeout=120,
                         env={**os.environ, "XITU_ROOT": str(root)}, cwd=root)
    assert out.returncode == 0, out.stderr
    assert "saved self-reliance for" in out.stdout and "\x1b[" not in out.stdout
    assert [e["label"] for e in log_entries(root, "pipe1")] == ["self-reliance"]


def test_wrapping_english_at_words_and_chinese_by_display_width():
    from xitu.label_terminal import _width, _wrap

    en = ("The export restrictions are expected to drive the domestic rare earth industry towards higher "
          "value-added sectors, with a reported 65% increase in R&D investment among magnet makers.")
    lines = _wrap(en, 40).splitlines()
    assert all(_width(x) <= 40 for x in lines) and " ".join(x.strip() for x in lines) == en  # no word split
    zh = "中国对稀土出口实施管制措施以后，Lynas公司和MP Materials加快了在澳大利亚和美国的稀土分离产能建设。" * 2
    lines = _wrap(zh, 30).splitlines()
    assert all(_width(x) <= 30 for x in lines)
    assert "".join(x.strip() for x in lines).replace(" ", "") == zh.replace(" ", "")
    assert all(x.count("Lynas") in (0, 1) for x in lines) and sum("Lynas" in x for x in lines) == 2  # kept whole
    mixed = "Rare earths (稀土, 稀土元素) are a group of 17 elements; China (中国) leads " * 3  # mostly English
    assert all(_width(x) <= 40 for x in _wrap(mixed, 40).splitlines())


def test_rules_key_in_process(seed_corpus, tmp_path):
    seg = seed_corpus.segments_with_articles()
    s = LabellingSession("t1", seg, tmp_path, order="corpus", show_guess=False)
    cb = read_codebook(ROOT / "data" / "labels" / "CODEBOOK.md")
    answers = iter(["r", "?", "q"])
    out = io.StringIO()
    run_session(s, cb, input_fn=lambda p: next(answers), out=out)
    text = out.getvalue()
    assert "decision rules for the hard cases" in text and "Options weighed, not taken" in text
    assert "r  rules" in text and "\x1b[" not in text  # not a terminal: no colour
