"""Inter-annotator agreement and adjudication: ``xitu agree``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``xitu agree`` (kept here so the CLI module stays small)."""
    p.add_argument("--out", help="where to write the disagreements CSV "
                                 "(default build/agreement/disagreements.csv)")
    p.add_argument("--all", action="store_true",
                   help="list adjudicated disagreements too (default: only those still pending)")
    p.add_argument("--apply", metavar="CSV",
                   help="append the adjudications of a filled-in CSV (columns segment_id, label, reason) "
                        "to data/labels/adjudicated.jsonl; every row is checked before anything is written")


def main(args: argparse.Namespace) -> int:
    """Run ``xitu agree`` from parsed arguments."""
    import sys

    print("xitu agree: not available yet (work in progress)", file=sys.stderr)
    return 2
