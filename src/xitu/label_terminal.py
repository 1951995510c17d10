"""Terminal front end of the labelling session: ``xitu label --annotator NAME``.

One segment at a time, on :class:`xitu.labelling.LabellingSession`::

    e escalation   c cooperation   s self-reliance   n none
    k skip         u undo          ? help (codebook)  r decision rules   q quit

In a terminal each key acts at once, without Enter (the terminal is put in cbreak mode
with ``termios``/``tty`` while waiting for a key, and restored after). When the input is
not a terminal (a pipe, a script) or with ``--line-mode``, answers are read line by line,
and a label can also be typed in full (``self-reliance``). Labels are shown in colour (ANSI),
unless ``NO_COLOR`` is set, the output is not a terminal, or ``TERM=dumb``. English text is
wrapped at word boundaries; Chinese by display width (two columns a character).

Every label is appended to ``data/labels/<annotator>.jsonl`` and fsynced before the next
segment is printed; the line ``saved <label> for <segment>`` confirms it. Ctrl-D and Ctrl-C
quit like ``q`` (nothing is lost: every confirmed label is already on disk).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import unicodedata
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
    p.add_argument("--show-guess", action="store_true",
                   help="show the classifier's guess (off by default: a guess on screen anchors the label)")
    p.add_argument("--hide-guess", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    p.add_argument("--line-mode", action="store_true",
                   help="read whole lines (type a key or a label, then Enter) instead of single keys")


# --------------------------------------------------------------------------- keys, colour, wrapping

COLOURS = {"escalation": "31", "cooperation": "32", "self-reliance": "36", "none": "33"}


def use_colour(out: TextIO, env=None) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set (https://no-color.org) or ``TERM`` is
    ``dumb``."""
    env = os.environ if env is None else env
    if "NO_COLOR" in env or env.get("TERM", "") == "dumb":
        return False
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, label: str, colour: bool) -> str:
    """``text`` in the colour of ``label`` (bold), or plain when ``colour`` is off."""
    code = COLOURS.get(label)
    return f"\x1b[1;{code}m{text}\x1b[0m" if colour and code else text


def read_key(prompt: str, out: TextIO | None = None, fd: int | None = None) -> str:
    """Show ``prompt`` and read one key from the terminal without waiting for Enter (cbreak
    mode: no echo, no line editing; Ctrl-C still interrupts). The terminal's settings are
    restored afterwards. Enter gives ``""``, Ctrl-D raises :class:`EOFError`, an escape
    sequence (arrow keys) is swallowed and gives ``""``."""
    import select
    import termios
    import tty

    out = out or sys.stdout
    fd = sys.stdin.fileno() if fd is None else fd
    out.write(prompt)
    out.flush()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        data = os.read(fd, 1)
        if data == b"\x1b":  # an escape sequence: drop the rest of it
            while select.select([fd], [], [], 0.05)[0]:
                os.read(fd, 16)
            return ""
        while data and data[0] >= 0x80 and len(data) < 4:  # the rest of a UTF-8 character
            try:
                data.decode("utf-8")
                break
            except UnicodeDecodeError:
                data += os.read(fd, 1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    if data in (b"", b"\x04"):
        raise EOFError
    ch = data.decode("utf-8", "replace")
    if ch in ("\r", "\n"):
        out.write("\n")
        return ""
    out.write(ch + "\n")  # echo the key, so the transcript shows what was pressed
    out.flush()
    return ch



def _width(text: str) -> int:
    """Display width in terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def _wrap(text: str, width: int, indent: str = "    ") -> str:
    """Wrap to ``width`` terminal columns. English (and any text with spaces) breaks at word
    boundaries (:mod:`textwrap`), words longer than a line are split; Chinese characters may
    break anywhere but take two columns each, and a Latin word inside Chinese text is kept
    whole. Every line fits ``width`` columns."""
    import re

    room = max(8, width - _width(indent))
    if not any(unicodedata.east_asian_width(ch) in "WF" for ch in text):  # plain textwrap
        return textwrap.fill(text, width=room + len(indent), initial_indent=indent, subsequent_indent=indent,
                             break_long_words=True, break_on_hyphens=False)
    # tokens: a run of spaces, a single wide character, or a run of other characters (a word)
    tokens = re.findall(r"\s+|[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60"
                        r"\uffe0-\uffe6\U00020000-\U0003fffd]|[^\s\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3"
                        r"\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]+", text)
    lines, cur, w = [], "", 0
    for tok in tokens:
        if tok.isspace():
            if cur:
                cur, w = cur + " ", w + 1
            continue
        tw = _width(tok)
        if w + tw > room and cur.strip():
            lines.append(cur.rstrip())
            cur, w = "", 0
        while tw > room:  # a word longer than a line
            cut, cw = "", 0
            for ch in tok:
                if cw + _width(ch) > room:
                    break
                cut, cw = cut + ch, cw + _width(ch)
            lines.append(cut)
            tok = tok[len(cut):]
            tw = _width(tok)
        cur, w = cur + tok, w + tw
    if cur.strip():
        lines.append(cur.rstrip())
    return "\n".join(indent + line for line in lines)


def key_line(session, colour: bool = False) -> str:
    """The shortcut keys: ``e escalation · c cooperation · … · k skip · u undo · ? help · r rules · q quit``."""
    labs = " · ".join(f"{k} {paint(lab, lab, colour)}" for k, lab in session.keys.items())
    return f"{labs} · k skip · u undo · ? help · r rules · q quit"


def help_text(session, codebook) -> str:
    """The keys with each label's codebook one-liner, and where the full codebook is."""
    lines = ["keys (or type a label in full):"]
    for k, lab in session.keys.items():
        gist = codebook.one_liner(lab) if codebook else ""
        lines.append(f"  {k}  {lab:<14} {gist}")
    lines += ["  k  skip           put this segment aside for this session (nothing is written)",
              "  u  undo           retract your last label of this session and show it again",
              "  r  rules          show the codebook's decision rules for the hard cases",
              "  q  quit           stop; every saved label is already on disk (Ctrl-D too)"]
    if codebook and codebook.rules:
        lines.append(f"decision rules: {len(codebook.rules)} in data/labels/CODEBOOK.md (press r), e.g. rule 1: "
                     + codebook.rules[0].split(". ")[0].replace("**", "") + ".")
    return "\n".join(lines)


def rules_text(codebook, width: int = 88) -> str:
    """The codebook's numbered decision rules, wrapped, for the ``r`` key."""
    if not codebook or not codebook.rules:
        return "no decision rules found (data/labels/CODEBOOK.md)"
    out = [f"decision rules for the hard cases ({codebook.title}):"]
    for i, rule in enumerate(codebook.rules, start=1):
        body = _wrap(rule.replace("**", "").replace("`", ""), width, indent="     ")
        out.append(f"{i:>3}." + body[4:])
    return "\n".join(out)


def show_item(session, item, width: int = 88, colour: bool = False) -> str:
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
        lines.append(f"classifier guess: {paint(item.guess, item.guess, colour)} ({item.guess_probability:.2f})")
    elif session.model is not None and not session.show_guess:
        lines.append("classifier guess hidden: read the segment first (--show-guess shows it)")
    else:
        lines.append("classifier guess: none yet")
    return "\n".join(lines)


def run_session(session, codebook=None, input_fn: Callable[[str], str] = input, out: TextIO | None = None,
                width: int = 88, colour: bool | None = None, key_mode: bool = False) -> int:
    """Label in a loop until the pool is empty or the annotator quits. Returns the number of
    labels of this session that stand (undone ones excluded). ``input_fn(prompt)`` gives the
    next answer (:func:`read_key` for single keys, ``input`` for lines); with ``key_mode`` an
    empty answer (Enter) is ignored quietly. ``colour``: ANSI colours (default:
    :func:`use_colour`)."""
    out = out or sys.stdout
    colour = use_colour(out) if colour is None else colour

    def say(*lines: str) -> None:
        print(*lines, sep="\n", file=out, flush=True)

    say(f"xitu label — {session.describe()}")
    for line in session.problem_lines():
        say(f"warning: {line}")
    say("keys: " + key_line(session, colour) + "   (? for the codebook's definitions, r for its decision rules)")
    if session.notice:
        say(f"note: {session.notice}")
    prompt = f"label [{'/'.join(session.keys)} · k u ? q]> "
    try:
        _loop(session, codebook, input_fn, say, prompt, width, colour, key_mode)
    except KeyboardInterrupt:  # Ctrl-C while saving or retraining: what was confirmed is on disk
        say("", "interrupted")
    pr = session.close()
    say(f"session over: {pr.session_labelled} label(s) saved to {session.log}; "
        f"{pr.own_total} segment(s) labelled by {session.annotator} in all.",
        "Rerun everything ('make', or 'xitu run') to retrain the stance classifier and redraw the figures;",
        "'xitu agree' compares annotators.")
    return pr.session_labelled


def _loop(session, codebook, input_fn, say, prompt: str, width: int, colour: bool = False,
          key_mode: bool = False) -> None:
    shown = None
    while True:
        item = session.current
        if item is None:
            say("", "nothing left to label with these filters and this pool.")
            break
        if item is not shown:
            say("", show_item(session, item, width, colour))
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
            say(f"saved {paint(entry['label'], entry['label'], colour)} for {entry['segment_id']}")
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
        elif a in ("r", "rules"):
            say(rules_text(codebook, width))
        elif a in ("q", "quit", "exit"):
            break
        elif a == "":
            if not key_mode:  # in key mode Enter does nothing (a line sent after a key)
                say("type a key: " + key_line(session, colour))
        else:
            say(f"unknown key {answer.strip()!r}: " + key_line(session, colour))


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
        show_guess=bool(args.show_guess and not args.hide_guess),
        on_status=lambda msg: print(msg, flush=True),
    )
    codebook = read_codebook(paths.labels / "CODEBOOK.md", session.labels)
    width = max(40, min(100, shutil.get_terminal_size((88, 24)).columns - 2))
    keys = not args.line_mode and sys.stdin.isatty()
    try:
        run_session(session, codebook, input_fn=read_key if keys else input, width=width, key_mode=keys)
    finally:
        session.close()  # releases the annotator's log for other sessions
    return 0
