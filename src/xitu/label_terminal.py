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


def main(args: argparse.Namespace) -> int:
    """Run ``xitu label`` from parsed arguments."""
    print("xitu label: not available yet (work in progress)", file=sys.stderr)
    return 2
