"""The ``xitu`` command.

    xitu ingest                  parse data/raw into data/processed, print the report
    xitu run [--only 01 02]      ingest and execute the notebooks, writing figures/
    xitu notebooks strip         remove outputs from notebooks/*.ipynb
    xitu labels import FILE --annotator NAME   append labels from a CSV/TSV to a log
    xitu labels status           labels per annotator, gold set, orphans, log problems
    xitu labels export [--format csv|jsonl] [--out FILE]   gold labels with text and provenance
    xitu label --annotator NAME  label segments in the terminal, least certain first
    xitu agree [--apply CSV]     agreement (kappa, alpha), disagreements, adjudication
"""

from __future__ import annotations

import argparse
import sys

from xitu.paths import Paths


def _cmd_ingest(args) -> int:
    """Parse the exports, write the tables all-or-nothing, print the report. Foreseeable
    failures (a malformed export, a missing or unreadable raw folder, an unwritable output
    folder) are one line on stderr and exit code 2, never a traceback."""
    from xitu.corpus import ExportFormatError, ingest, write_processed
    from xitu.processed import STAMP, raw_fingerprint

    paths = Paths.default()
    raw, out = args.raw or paths.raw, args.out or paths.processed
    default = args.raw is None and args.out is None
    try:
        fingerprint = raw_fingerprint(paths) if default else None
        corpus = ingest(raw)
    except (ExportFormatError, FileNotFoundError, NotADirectoryError) as e:
        print(f"xitu: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"xitu: error: cannot read {e.filename or raw}: {e.strerror or e}", file=sys.stderr)
        return 2
    try:
        written = write_processed(corpus, out)
        if default:  # stamp: commands and notebooks re-ingest only when data/raw changes
            from xitu.io import atomic_write_text

            atomic_write_text(paths.processed / STAMP, fingerprint + "\n")
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        print(f"xitu: error: cannot write the tables to {out}: {e.strerror or e}{where}; nothing was changed there",
              file=sys.stderr)
        return 2
    print(corpus.report.summary())
    for p in written:
        print(f"wrote {p}")
    return 0


def _cmd_run(args) -> int:
    from xitu.pipeline import NotebookFailed, PipelineError, RunInterrupted, run
    from xitu.settings import SEED

    try:
        run(figures_dir=args.figures, only=args.only, seed=args.seed if args.seed is not None else SEED)
    except RunInterrupted as e:
        print(f"\nxitu: {e}", file=sys.stderr)
        return 130
    except NotebookFailed as e:
        print(f"xitu: {e}", file=sys.stderr)
        return 1
    except PipelineError as e:
        print(f"xitu: error: {e}", file=sys.stderr)
        return 2
    return 0


def _cmd_notebooks_strip(args) -> int:
    from xitu.pipeline import notebooks, strip_outputs

    paths = Paths.default()
    changed = [nb for nb in notebooks(paths) if strip_outputs(nb)]
    for nb in changed:
        print(f"stripped outputs from {nb.relative_to(paths.root)}")
    if not changed:
        print("no notebook had outputs")
    return 0


def _one_line_errors(fn):
    """For the label commands: a file-system error (a folder where a file is expected, an
    unwritable folder, a full disk) becomes a one-line ``xitu: error`` and exit 2, never a
    traceback (``main`` prints :class:`ValueError` that way)."""
    import functools

    @functools.wraps(fn)
    def run(args):
        try:
            return fn(args)
        except (ValueError, FileNotFoundError):
            raise
        except OSError as e:
            where = e.filename or ""
            raise ValueError(f"{where}: {e.strerror or e}" if where else f"{e.strerror or e}") from None

    return run


@_one_line_errors
def _cmd_labels_import(args) -> int:
    from xitu.labels import import_table
    from xitu.processed import load_tables

    paths = Paths.default()
    n = import_table(args.file, paths.labels, args.annotator, load_tables(paths)[1])
    same = f"; {n.unchanged} row(s) were already this annotator's label and were not written again" if n.unchanged else ""
    print(f"appended {n} labels to {paths.labels / (args.annotator + '.jsonl')}{same}")
    return 0


@_one_line_errors
def _cmd_labels_status(args) -> int:
    from xitu.labels import decide_gold, orphans, read_logs, replay
    from xitu.processed import load_tables

    paths = Paths.default()
    logs = read_logs(paths.labels)
    current = replay(logs.entries)
    print(current.groupby(["annotator", "label"]).size().unstack(fill_value=0).to_string() if len(current) else "no labels yet")
    segments = load_tables(paths)[1]
    gold = decide_gold(current)
    in_corpus = int(gold.gold["segment_id"].isin(set(segments["segment_id"])).sum())
    print(gold.summary() + ("" if in_corpus == len(gold.gold) else
                            f"; {in_corpus} of them are segments of this corpus ({len(segments)} segments)"))
    orph = orphans(current, segments)
    for r in orph.head(10).itertuples(index=False):
        print(f"orphan label ({r.status}): {r.annotator} {r.segment_id} {r.label}")
    if len(orph) > 10:
        from xitu.io import write_csv

        out = paths.build / "labels" / "orphans.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(orph, out)
        counts = ", ".join(f"{k} {v}" for k, v in orph["status"].value_counts().items())
        print(f"… {len(orph)} orphan labels in all ({counts}): the full list is in {out}")
    for p in logs.problems:
        print(f"{p.file}:{p.line}: {p.reason}")
    return 0


@_one_line_errors
def _cmd_labels_export(args) -> int:
    from xitu.labelling import load_segments
    from xitu.labels import decide_gold, gold_export, read_logs, replay, write_export

    paths = Paths.default()
    logs = read_logs(paths.labels)
    for p in logs.problems:
        print(f"warning: {p.file}:{p.line}: {p.reason}", file=sys.stderr)
    current = replay(logs.entries)
    table = gold_export(current, load_segments(paths))
    out = args.out or paths.build / "labels" / f"gold.{args.format}"
    write_export(table, out, args.format)
    print(decide_gold(current).summary())
    elsewhere = int(table["text"].eq("").sum())
    note = f" ({elsewhere} of them for segments not in this corpus: their text and article are empty)" if elsewhere else ""
    print(f"wrote {len(table)} gold labels to {out}{note}")
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xitu")
    except PackageNotFoundError:
        return "unknown (not installed)"


@_one_line_errors
def _cmd_label(args) -> int:
    from xitu.label_terminal import main as label_main

    return label_main(args)


@_one_line_errors
def _cmd_agree(args) -> int:
    from xitu.agreement import main as agree_main

    return agree_main(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``xitu`` command."""
    parser = argparse.ArgumentParser(prog="xitu", description="Topics and stance in rare-earth news coverage.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="parse data/raw into data/processed")
    p.add_argument("--raw", help="folder of exports (default data/raw)")
    p.add_argument("--out", help="output folder (default data/processed)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("run", help="ingest and execute every notebook, writing figures/")
    p.add_argument("--only", nargs="+", action="extend", help="notebook prefixes to run, e.g. 01 02 (or --only 01 --only 02)")
    p.add_argument("--figures", help="figures folder (default figures/)")
    p.add_argument("--seed", type=int, help="random seed passed to every notebook")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("notebooks", help="notebook housekeeping")
    nsub = p.add_subparsers(dest="notebooks_command", required=True)
    q = nsub.add_parser("strip", help="remove outputs from notebooks/*.ipynb (sources unchanged)")
    q.set_defaults(func=_cmd_notebooks_strip)

    p = sub.add_parser("labels", help="label logs: import, status, export")
    lsub = p.add_subparsers(dest="labels_command", required=True)
    q = lsub.add_parser("import", help="append labels from a CSV/TSV (segment_id, label[, reason])")
    q.add_argument("file")
    q.add_argument("--annotator", required=True)
    q.set_defaults(func=_cmd_labels_import)
    q = lsub.add_parser("status", help="labels per annotator, gold set, orphans")
    q.set_defaults(func=_cmd_labels_status)
    q = lsub.add_parser("export", help="the gold labels with their text, article and how each was decided")
    q.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                   help="csv (default; excel-safe, UTF-8 with BOM) or jsonl (text exactly as stored)")
    q.add_argument("--out", help="output file (default build/labels/gold.csv or .jsonl)")
    q.set_defaults(func=_cmd_labels_export)

    from xitu import agreement, label_terminal

    p = sub.add_parser("label", help="label segments in the terminal (active learning)")
    label_terminal.add_arguments(p)
    p.set_defaults(func=_cmd_label)
    p = sub.add_parser("agree", help="inter-annotator agreement, disagreements, adjudication")
    agreement.add_arguments(p)
    p.set_defaults(func=_cmd_agree)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xitu`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: outputs are written all-or-nothing, so say so and stop
        print("\nxitu: interrupted; files are written whole or not at all, so nothing is half-written",
              file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError) as e:  # clear message, no traceback, for user errors
        print(f"xitu: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # unreadable or unwritable files and folders
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"xitu: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
