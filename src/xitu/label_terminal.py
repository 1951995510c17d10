"""Terminal front end of the labelling session: ``xitu label --annotator NAME``.

Plain ``input()`` prompts, one segment at a time, on :class:`xitu.labelling.LabellingSession`::

    e escalation   c cooperation   s self-reliance   n none
    k skip         u undo          ? help (codebook)  q quit

A label can also be typed in full (``self-reliance``). Every label is appended to
``data/labels/<annotator>.jsonl`` and fsynced before the next segment is printed; the line
``saved <label> for <segment>`` confirms it. Ctrl-D and Ctrl-C quit like ``q`` (nothing is
lost: every confirmed label is already on disk).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Callable, TextIO

ORDERS = ("entropy", "margin", "random", "corpus")
POOLS = ("auto", "unlabelled", "own")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``xitu label`` (kept here so the CLI module stays small)."""
    p.add_argument("--annotator", required=True,
                   help="your name: letters, digits, '_' or '-' (your log is data/labels/NAME.jsonl)")
    p.add_argument("--order", choices=ORDERS, default="entropy",
                   help="entropy/margin: the classifier's least certain segments first (default entropy); "
                        "random; corpus: articles by date")
    p.add_argument("--pool", choices=POOLS, default="auto",
                   help="unlabelled: segments nobody has labelled; own: segments you have not labelled "
                        "(a second opinion for agreement); auto (default): unlabelled, then own")
    p.add_argument("--query", action="append", help="only articles found by this search query (repeatable)")
    p.add_argument("--language", choices=("en", "zh"), help="only segments in this language")
    p.add_argument("--since", help="only articles published on or after this date (YYYY-MM-DD)")
    p.add_argument("--until", help="only articles published on or before this date (YYYY-MM-DD)")
    p.add_argument("--retrain-every", type=int, default=10, metavar="N",
                   help="retrain the classifier after every N labels (default 10; 0: never)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random order")
    p.add_argument("--hide-guess", action="store_true", help="do not show the classifier's guess")



def _wrap(text: str, width: int, indent: str = "    ") -> str:
    """Wrap to ``width`` terminal columns; Chinese characters take two columns each."""
    import unicodedata

    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    if wide > len(text) / 3:  # mostly Chinese: no spaces to break at, two columns a character
        width = (width - len(indent)) // 2 + len(indent)
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False)


def key_line(session) -> str:
    """The shortcut keys: ``e escalation · c cooperation · … · k skip · u undo · ? help · q quit``."""
    labs = " · ".join(f"{k} {lab}" for k, lab in session.keys.items())
    return f"{labs} · k skip · u undo · ? help · q quit"


def help_text(session, codebook) -> str:
    """The keys with each label's codebook one-liner, and where the full codebook is."""
    lines = ["keys (or type a label in full):"]
    for k, lab in session.keys.items():
        gist = codebook.one_liner(lab) if codebook else ""
        lines.append(f"  {k}  {lab:<14} {gist}")
    lines += ["  k  skip           put this segment aside for this session (nothing is written)",
              "  u  undo           retract your last label of this session and show it again",
              "  q  quit           stop; every saved label is already on disk (Ctrl-D too)"]
    if codebook and codebook.rules:
        lines.append(f"decision rules: {len(codebook.rules)} in data/labels/CODEBOOK.md, e.g. rule 1: "
                     + codebook.rules[0].split(". ")[0].replace("**", "") + ".")
    return "\n".join(lines)


def show_item(session, item, width: int = 88) -> str:
    """The segment as printed: progress, article (date, source, title), Group heading, text
    and the classifier's guess."""
    pr = session.progress()
    head = (f"── {pr.session_labelled} labelled this session · {pr.own_total} by you in all · "
            f"{pr.remaining} left ")
    lines = [head + "─" * max(3, width - len(head))]
    lines.append(" · ".join(x for x in (item.published or "undated", item.source, item.title) if x))
    ctx = item.context
    lines.append((f"{ctx}   " if ctx else "") + f"[{item.segment_id} · {item.language} · {item.why}]")
    lines.append("")
    lines.append(_wrap(item.text, width))
    lines.append("")
    if item.guess is not None:
        lines.append(f"classifier guess: {item.guess} ({item.guess_probability:.2f})")
    elif session.model is not None and not session.show_guess:
        lines.append("classifier guess hidden (it was trained on others' labels of these segments)")
    else:
        lines.append("classifier guess: none yet")
    return "\n".join(lines)


def run_session(session, codebook=None, input_fn: Callable[[str], str] = input, out: TextIO | None = None,
                width: int = 88) -> int:
    """Label in a loop until the pool is empty or the annotator quits. Returns the number of
    labels of this session that stand (undone ones excluded)."""
    out = out or sys.stdout

    def say(*lines: str) -> None:
        print(*lines, sep="\n", file=out, flush=True)

    say(f"xitu label — {session.describe()}")
    for line in session.problem_lines():
        say(f"warning: {line}")
    say("keys: " + key_line(session) + "   (? for the codebook's definitions)")
    if session.notice:
        say(f"note: {session.notice}")
    prompt = f"label [{'/'.join(session.keys)} · k u ? q]> "
    try:
        _loop(session, codebook, input_fn, say, prompt, width)
    except KeyboardInterrupt:  # Ctrl-C while saving or retraining: what was confirmed is on disk
        say("", "interrupted")
    pr = session.close()
    say(f"session over: {pr.session_labelled} label(s) saved to {session.log}; "
        f"{pr.own_total} segment(s) labelled by {session.annotator} in all.",
        "Rerun everything ('make', or 'xitu run') to retrain the stance classifier and redraw the figures;",
        "'xitu agree' compares annotators.")
    return pr.session_labelled


def _loop(session, codebook, input_fn, say, prompt: str, width: int) -> None:
    shown = None
    while True:
        item = session.current
        if item is None:
            say("", "nothing left to label with these filters and this pool.")
            break
        if item is not shown:
            say("", show_item(session, item, width))
            shown = item
        try:
            answer = input_fn(prompt)
        except (EOFError, KeyboardInterrupt):
            say("")
            break
        a = answer.strip().lower()
        if a in session.keys or a in session.labels:
            lab = session.keys.get(a, a)
            before = session.retrained
            entry = session.label(lab, segment_id=item.segment_id)
            say(f"saved {entry['label']} for {entry['segment_id']}")
            if session.retrained != before:
                say(f"retrained: {session.model_status}")
            if session.notice:
                say(f"note: {session.notice}")
        elif a == "k":
            session.skip(item.segment_id)
            say(f"skipped {item.segment_id} (for this session only)")
        elif a == "u":
            session.undo()
            say(session.notice)
            shown = None
        elif a in ("?", "h", "help"):
            say(help_text(session, codebook))
        elif a in ("q", "quit", "exit"):
            break
        elif a == "":
            say("type a key: " + key_line(session))
        else:
            say(f"unknown key {answer.strip()!r}: " + key_line(session))


def main(args: argparse.Namespace) -> int:
    """Run ``xitu label`` from parsed arguments."""
    import shutil

    from xitu.labelling import open_session, read_codebook
    from xitu.paths import Paths

    paths = Paths.default()
    print("reading the corpus and the label logs…", flush=True)
    session = open_session(
        args.annotator, paths, order=args.order, pool=args.pool, query=args.query, since=args.since,
        until=args.until, language=args.language, retrain_every=args.retrain_every, seed=args.seed,
        show_guess=False if args.hide_guess else None,
        on_status=lambda msg: print(msg, flush=True),
    )
    codebook = read_codebook(paths.labels / "CODEBOOK.md", session.labels)
    width = max(40, min(100, shutil.get_terminal_size((88, 24)).columns - 2))
    run_session(session, codebook, width=width)
    return 0
