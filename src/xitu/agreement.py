"""Inter-annotator agreement and adjudication: ``xitu agree``.

- Cohen's kappa (``sklearn.metrics.cohen_kappa_score``) for every pair of annotators, on
  the segments both have labelled;
- Krippendorff's alpha (nominal, the ``krippendorff`` package) over all annotators, every
  segment labelled by at least two of them counting (missing labels allowed);
- the disagreements — segments whose annotators gave different labels — with their text and
  each annotator's label, written as a CSV with empty ``label`` and ``reason`` columns to
  fill in; :func:`apply_adjudications` appends the filled-in rows to the adjudication log
  (``data/labels/adjudicated.jsonl``) with their reasons, after checking every row.

Agreement is computed on the annotators' own current labels (``labels.replay``); the
adjudication log is never counted as an annotator.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from xitu.labels import (ADJUDICATED, LABELS, LabelError, append_many, check_label, lock_log, log_path,
                         make_entry)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``xitu agree`` (kept here so the CLI module stays small)."""
    p.add_argument("--out", help="where to write the disagreements CSV "
                                 "(default build/agreement/disagreements.csv)")
    p.add_argument("--all", action="store_true",
                   help="list adjudicated disagreements too (default: only those still pending)")
    p.add_argument("--apply", metavar="CSV",
                   help="append the adjudications of a filled-in CSV (columns segment_id, label, reason) "
                        "to data/labels/adjudicated.jsonl; every row is checked before anything is written")


# --------------------------------------------------------------------------- statistics


def _humans(current: pd.DataFrame) -> pd.DataFrame:
    return current[current["annotator"].ne(ADJUDICATED)]


def pairwise_kappa(current: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa for each pair of annotators on the segments both labelled.

    ``current`` is :func:`xitu.labels.replay` output. Columns: ``annotator_a, annotator_b,
    n`` (shared segments), ``agreement`` (observed share), ``kappa`` (NaN when it is
    undefined: fewer than two shared segments, or both used one and the same label only).
    """
    from sklearn.metrics import cohen_kappa_score

    h = _humans(current)
    w = h.pivot(index="segment_id", columns="annotator", values="label") if len(h) else pd.DataFrame()
    rows = []
    for a, b in combinations(sorted(w.columns), 2):
        both = w[[a, b]].dropna()
        n = len(both)
        agree = float((both[a] == both[b]).mean()) if n else float("nan")
        kappa = float("nan")
        if n >= 2 and len(set(both[a]) | set(both[b])) > 1:
            kappa = float(cohen_kappa_score(both[a], both[b]))
        rows.append({"annotator_a": a, "annotator_b": b, "n": n, "agreement": agree, "kappa": kappa})
    return pd.DataFrame(rows, columns=["annotator_a", "annotator_b", "n", "agreement", "kappa"])


def krippendorff_alpha(current: pd.DataFrame, labels: Sequence[str] = LABELS) -> tuple[float, int]:
    """Krippendorff's alpha (nominal) over all annotators. Returns ``(alpha, n)`` where ``n``
    is the number of segments labelled by at least two annotators (the pairable ones);
    alpha is NaN when fewer than one such segment or only one label value occurs."""
    import krippendorff

    h = _humans(current)
    if h.empty:
        return float("nan"), 0
    w = h.pivot(index="segment_id", columns="annotator", values="label")
    w = w[w.notna().sum(axis=1) >= 2]
    values = sorted(set(w.stack()), key=lambda v: (v not in labels, labels.index(v) if v in labels else 0, v))
    if len(w) == 0 or len(values) < 2:
        return float("nan"), len(w)
    code = {v: i for i, v in enumerate(values)}
    data = np.array([[code[x] if isinstance(x, str) else np.nan for x in w[c]] for c in w.columns], dtype=float)
    alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal",
                               value_domain=list(range(len(values))))
    return float(alpha), len(w)


def disagreements(current: pd.DataFrame, segments: pd.DataFrame | None = None,
                  include_adjudicated: bool = False) -> pd.DataFrame:
    """Segments whose annotators gave different labels, one row each: ``segment_id``, the
    article's ``title`` and ``published`` date, the segment's ``context`` (Group heading) and
    ``text`` (empty if the segment is no longer in the corpus), one column per annotator, the
    current ``adjudicated`` label and its ``adjudication_reason`` if any, then empty ``label``
    and ``reason`` columns for the adjudicator. Adjudicated ones are left out unless
    ``include_adjudicated``."""
    h = _humans(current)
    annotators = sorted(h["annotator"].unique()) if len(h) else []
    base = ["segment_id", "title", "published", "context", "text"]
    tail = ["adjudicated", "adjudication_reason", "label", "reason"]
    if h.empty:
        return pd.DataFrame(columns=base + annotators + tail)
    w = h.pivot(index="segment_id", columns="annotator", values="label")
    differ = w.apply(lambda r: len(set(r.dropna())) > 1, axis=1)
    w = w[differ]
    adj = current[current["annotator"].eq(ADJUDICATED)].set_index("segment_id")
    rows = []
    seg = segments.set_index("segment_id") if segments is not None else None
    for sid, r in w.iterrows():
        done = sid in adj.index
        if done and not include_adjudicated:
            continue
        row = {"segment_id": sid, "title": "", "published": "", "context": "", "text": ""}
        if seg is not None and sid in seg.index:
            s = seg.loc[sid]
            sec, head = str(s.get("section", "") or ""), str(s.get("heading", "") or "")
            row.update(title=str(s.get("title", "") or ""), published=str(s.get("published", "") or ""),
                       context=f"{sec}: {head}" if sec and head else sec or head, text=str(s["text"]))
        row.update({a: (r[a] if isinstance(r[a], str) else "") for a in annotators})
        row.update(adjudicated=adj.loc[sid, "label"] if done else "",
                   adjudication_reason=adj.loc[sid, "reason"] if done else "", label="", reason="")
        rows.append(row)
    return pd.DataFrame(rows, columns=base + annotators + tail)


@dataclass
class AgreementReport:
    """Everything ``xitu agree`` prints."""

    counts: pd.DataFrame  # labels per annotator
    kappa: pd.DataFrame  # pairwise_kappa
    alpha: float
    alpha_n: int
    disagreements: pd.DataFrame  # pending (or all) disagreements
    n_disagreements: int  # all disagreements, adjudicated or not
    n_adjudicated: int  # of those, adjudicated
    gold: str = ""  # labels.GoldSet.summary(): gold, waiting for adjudication, single

    def summary(self, max_rows: int = 50, width: int = 100) -> str:
        """Readable lines: labels per annotator, kappa per pair, alpha, disagreements."""
        out = []
        if self.counts.empty:
            return "no labels yet"
        out.append("labels per annotator:")
        out += ["  " + line for line in self.counts.to_string().splitlines()]
        out.append("")
        if self.kappa.empty:
            out.append("Cohen's kappa: needs two annotators")
        else:
            out.append("Cohen's kappa per pair (on the segments both labelled):")
            for r in self.kappa.itertuples(index=False):
                k = "undefined" if math.isnan(r.kappa) else f"{r.kappa:.3f}"
                ag = "" if math.isnan(r.agreement) else f", observed agreement {r.agreement:.1%}"
                out.append(f"  {r.annotator_a} × {r.annotator_b}: kappa {k} on {r.n} segments{ag}")
        a = "undefined" if math.isnan(self.alpha) else f"{self.alpha:.3f}"
        out.append(f"Krippendorff's alpha (nominal, all annotators): {a} on {self.alpha_n} segments "
                   "labelled by two or more")
        out.append("")
        pending = self.n_disagreements - self.n_adjudicated
        out.append(f"disagreements: {self.n_disagreements} ({self.n_adjudicated} adjudicated, {pending} pending)")
        if self.gold:
            out.append(self.gold)
        ann = [c for c in self.disagreements.columns
               if c not in ("segment_id", "title", "published", "context", "text", "adjudicated",
                            "adjudication_reason", "label", "reason")]
        for r in self.disagreements.head(max_rows).to_dict("records"):
            votes = ", ".join(f"{a}={r[a]}" for a in ann if r[a])
            adj = f" → adjudicated {r['adjudicated']}" if r["adjudicated"] else ""
            text = r["text"] if len(r["text"]) <= width else r["text"][: width - 1] + "…"
            out.append(f"  {r['segment_id']}  {votes}{adj}\n      {text}")
        if len(self.disagreements) > max_rows:
            out.append(f"  … and {len(self.disagreements) - max_rows} more (all in the CSV)")
        return "\n".join(out)


def agreement_report(current: pd.DataFrame, segments: pd.DataFrame | None = None,
                     include_adjudicated: bool = False, labels: Sequence[str] = LABELS) -> AgreementReport:
    """Compute the agreement report from current labels (:func:`xitu.labels.replay`)."""
    h = _humans(current)
    counts = (h.groupby(["annotator", "label"]).size().unstack(fill_value=0) if len(h) else pd.DataFrame())
    if len(counts):
        counts = counts.reindex(columns=[c for c in labels if c in counts.columns])
        counts["total"] = counts.sum(axis=1)
    alpha, n = krippendorff_alpha(current, labels)
    every = disagreements(current, segments, include_adjudicated=True)
    n_adj = int(every["adjudicated"].ne("").sum()) if len(every) else 0
    shown = every if include_adjudicated else every[every["adjudicated"].eq("")]
    from xitu.labels import decide_gold

    return AgreementReport(counts, pairwise_kappa(current), alpha, n, shown.reset_index(drop=True), len(every), n_adj,
                           decide_gold(current).summary())


# --------------------------------------------------------------------------- adjudication


def apply_adjudications(path: str | Path, folder: str | Path, segments: pd.DataFrame,
                        labels: Iterable[str] = LABELS, current: pd.DataFrame | None = None) -> dict:
    """Append the adjudications of a filled-in CSV to the adjudication log.

    The CSV needs columns ``segment_id``, ``label`` and ``reason`` (other columns, such as
    those :func:`disagreements` writes, are ignored). Rows with an empty ``label`` are left
    for later. Every other row must name a segment of the corpus, a known label and a
    non-empty reason, and a segment may appear only once; the segment must be in
    disagreement (its annotators gave different labels): a segment on which the annotators
    agree, or that nobody labelled, is refused; all problems are reported together
    and **nothing is written** unless every row is valid. A row identical to the segment's
    current adjudication (same label and reason) is not written again.

    Returns counts: ``written``, ``pending`` (empty label), ``unchanged``.
    """
    from xitu.labels import read_table

    path = Path(path)
    labels = tuple(labels)
    table = read_table(path, required=("segment_id", "label", "reason"))
    hashes = segments.drop_duplicates("segment_id").set_index("segment_id")["text_hash"]
    if current is None:
        from xitu.labels import read_logs, replay

        current = replay(read_logs(folder, labels).entries)
    a = current[current["annotator"].eq(ADJUDICATED)]
    adj = {r.segment_id: (r.label, r.reason) for r in a.itertuples(index=False)}
    h = _humans(current)
    votes = h.groupby("segment_id")["label"].agg(lambda x: sorted(set(x))) if len(h) else pd.Series(dtype=object)
    errors, todo, seen = [], [], {}
    pending = unchanged = 0
    for line, r in table.rows:
        sid, lab, why = r["segment_id"].strip(), r["label"].strip(), r["reason"].strip()
        if not lab:
            pending += 1
            continue
        where = f"{path}:{line}"
        if not sid:
            errors.append(f"{where}: empty segment_id")
            continue
        if sid not in hashes.index:
            errors.append(f"{where}: unknown segment id {sid!r} (not in the corpus)")
        try:
            check_label(lab, labels)
        except LabelError as e:
            errors.append(f"{where}: {e}")
        if not why:
            errors.append(f"{where}: an adjudication needs its reason (column 'reason' is empty)")
        if sid in hashes.index and len(votes.get(sid, [])) < 2:  # only a disagreement is adjudicated
            given = votes.get(sid, [])
            errors.append(f"{where}: segment {sid} is not in disagreement ("
                          + (f"its annotators agree on {given[0]}" if given else "nobody has labelled it")
                          + "); only a disagreement can be adjudicated")
        if sid in seen:
            errors.append(f"{where}: segment {sid} already adjudicated on line {seen[sid]} of this file")
        seen.setdefault(sid, line)
        if adj.get(sid) == (lab, why):
            unchanged += 1
            continue
        todo.append((sid, lab, why))
    if errors:
        raise LabelError(f"nothing written; {len(errors)} problem(s) in {path}:\n  " + "\n  ".join(errors))
    entries = [make_entry(ADJUDICATED, sid, lab, hashes[sid], labels, reason=why) for sid, lab, why in todo]
    with lock_log(folder, ADJUDICATED, what="xitu agree --apply"):
        append_many(log_path(folder, ADJUDICATED), entries)  # one write: every row or none
    return {"written": len(todo), "pending": pending, "unchanged": unchanged}


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table for a spreadsheet: UTF-8 with BOM (so the Chinese text shows), written
    atomically, and excel-safe (:func:`xitu.io.write_csv`): a cell that would start a formula
    (``=HYPERLINK(…``, ``+``, ``-``, ``@``) gets a leading ``'`` in this copy only; the logs
    keep the text as it was."""
    from xitu.io import write_csv as safe_csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return safe_csv(df, path, safe=True, bom=True)


def main(args: argparse.Namespace) -> int:
    """Run ``xitu agree`` from parsed arguments."""
    from xitu.labelling import load_segments
    from xitu.labels import read_logs, replay
    from xitu.paths import Paths

    paths = Paths.default()
    segments = load_segments(paths)
    logs = read_logs(paths.labels)
    for p in logs.problems:
        print(f"warning: {p.file}:{p.line}: {p.reason}")
    current = replay(logs.entries)
    if args.apply:
        n = apply_adjudications(args.apply, paths.labels, segments, current=current)
        print(f"adjudications from {args.apply}: {n['written']} appended to "
              f"{paths.labels / (ADJUDICATED + '.jsonl')}, {n['unchanged']} already recorded, "
              f"{n['pending']} row(s) without a label left pending")
        current = replay(read_logs(paths.labels).entries)
    report = agreement_report(current, segments, include_adjudicated=args.all)
    print(report.summary())
    out = Path(args.out) if args.out else paths.build / "agreement" / "disagreements.csv"
    write_csv(report.disagreements, out)
    print(f"\nwrote {len(report.disagreements)} disagreement(s) to {out}")
    if len(report.disagreements):
        print("to adjudicate: copy it, fill in 'label' and 'reason' for each row (leave 'label' empty to decide "
              "later), then run: xitu agree --apply YOUR_COPY.csv")
    return 0
