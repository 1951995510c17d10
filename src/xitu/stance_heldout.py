"""A held-out check of the stance model on whole articles it has never seen.

Cross-validation on the gold set says how well the model reads *the project's* material (AI
summaries of one search tool, mostly English). What a researcher cites is how it reads new
articles. A **check folder** (default ``data/checks/prose/``) holds such articles: exports in
the search tool's format (``*.txt``) and ``gold.tsv``, one row per article with its
article-level stance, decided by reading the article (columns ``file``, ``number`` — the
article's position in its file, from 1 — ``title``, ``language``, ``stance``; ``why`` is
optional). No model choice may look at it; it is scored once per run by notebook 03.

:func:`read_check` ingests the folder with the project's own parser (an ingest issue is
reported, not hidden) and joins the gold rows to the articles, checking each row's title
against the article it points to. :func:`score_check` trains each model on the whole gold set,
predicts every segment of the check articles, aggregates them to article stance
(:func:`xitu.stance.article_stance`, the rule in use) and scores macro-F1 per language and over
all articles, with a 95% bootstrap interval over articles.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from xitu.settings import SEED, STANCE_LABELS

#: Where notebook 03 looks for the held-out articles, relative to the project root.
DEFAULT_CHECK_DIR = Path("data") / "checks" / "prose"
GOLD_FILE = "gold.tsv"
GOLD_COLUMNS = ("file", "number", "title", "language", "stance")


class CheckError(ValueError):
    """The check folder cannot be read as it is; the message names the file and line."""


@dataclass
class Check:
    """The held-out articles: ``gold`` (one row per article: ``article_id``, ``language``,
    ``stance``, ``title``, …), ``segments`` (their segments, as the ingest made them) and
    ``issues`` (what ingest reported about the exports, as text lines; empty when clean)."""

    folder: Path
    gold: pd.DataFrame
    segments: pd.DataFrame
    issues: list[str]


def read_gold(path: str | Path, labels=STANCE_LABELS) -> pd.DataFrame:
    """The article-level gold table ``gold.tsv`` (tab-separated, UTF-8), checked row by row:
    every required column, a whole ``number`` ≥ 1, a label of ``labels``, no article twice.
    Every bad row is named by its line (:class:`CheckError`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CheckError(f"{path}: missing (one row per article: {', '.join(GOLD_COLUMNS)})") from None
    except UnicodeDecodeError as e:
        raise CheckError(f"{path}: not UTF-8 ({e.reason} at byte {e.start}); save it as UTF-8") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise CheckError(f"{path}: empty; the first line names the columns ({', '.join(GOLD_COLUMNS)})")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in GOLD_COLUMNS if c not in header]
    if missing:
        raise CheckError(f"{path}:1: missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
    col = {c: header.index(c) for c in header}
    problems, records, seen = [], [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"{path}:{line}: {len(row)} cells for {len(header)} columns")
            continue
        rec = {c: row[col[c]].strip() for c in header}
        if not rec["number"].isdigit() or int(rec["number"]) < 1:
            problems.append(f"{path}:{line}: number {rec['number']!r} is not a whole number from 1")
            continue
        if rec["stance"] not in labels:
            problems.append(f"{path}:{line}: stance {rec['stance']!r} is not one of {', '.join(labels)}")
            continue
        key = (rec["file"], int(rec["number"]))
        if key in seen:
            problems.append(f"{path}:{line}: article {key[1]} of {key[0]} is already given on line {seen[key]}")
            continue
        seen[key] = line
        records.append({**rec, "number": int(rec["number"]), "gold_line": line})
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise CheckError("; ".join(problems[:10]) + more)
    if not records:
        raise CheckError(f"{path}: no article rows below the header")
    return pd.DataFrame(records)


def read_check(folder: str | Path) -> Check:
    """Ingest the exports of ``folder`` and join ``gold.tsv`` to their articles.

    A gold row points at an article by file and position; the article's title must equal the
    row's ``title`` (after trimming), so a row can never silently score another article.
    :class:`CheckError` names every row that does not fit."""
    from xitu.corpus import ingest

    folder = Path(folder)
    gold = read_gold(folder / GOLD_FILE)
    corpus = ingest(folder)
    arts = corpus.articles.copy()
    # an article found in several files is one article: point at it from each of its places
    places = []
    for _, a in arts.iterrows():
        for occ in str(a["occurrences"]).split(";"):
            file, _, line = occ.strip().rpartition(":")
            if file and line.isdigit():
                places.append({"file": Path(file).name, "line": int(line), "article_id": a["article_id"],
                               "article_title": a["title"]})
    places = pd.DataFrame(places).sort_values(["file", "line"]).reset_index(drop=True)
    places["number"] = places.groupby("file").cumcount() + 1
    joined = gold.merge(places, on=["file", "number"], how="left")
    problems = []
    for _, r in joined.iterrows():
        where = f"{folder / GOLD_FILE}:{r['gold_line']}"
        if pd.isna(r["article_id"]):
            n = int((places["file"] == r["file"]).sum())
            problems.append(f"{where}: {r['file']} has no article {r['number']} ({n} article(s) read from it)")
        elif str(r["article_title"]).strip() != r["title"]:
            problems.append(f"{where}: title {r['title'][:60]!r} is not that of article {r['number']} of "
                            f"{r['file']} ({str(r['article_title'])[:60]!r})")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise CheckError("; ".join(problems[:10]) + more)
    if joined["article_id"].duplicated().any():
        dup = joined[joined["article_id"].duplicated(keep=False)]
        raise CheckError(f"{folder / GOLD_FILE}: lines {', '.join(map(str, dup['gold_line']))} point at one "
                         "article (the same article in two files): keep one row")
    issues = [f"{Path(i.file).name}:{i.line}: {i.action}: {i.reason}" for i in corpus.report.issues]
    gold = joined.drop(columns=["article_title", "line"])
    return Check(folder, gold.reset_index(drop=True), corpus.segments_with_articles(), issues)


def score_check(check: Check, models: dict, train_segments: pd.DataFrame, labels, *, n_boot: int = 1000,
                seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train each model (name → unfitted estimator over segment tables) on all of
    ``train_segments``/``labels``, predict the check's segments, take article stance by the
    rule in use, and score it against the check's gold.

    Returns ``(scores, predictions)``: ``scores`` has one row per model and language (and
    ``"all"``): ``macro_f1`` over the four labels, ``ci_low``/``ci_high`` (95% bootstrap over
    articles), ``accuracy``, ``n_articles``, ``gold_none``, ``predicted_none``;
    ``predictions`` one row per model and article: gold and predicted stance."""
    from xitu import stance

    classes = list(STANCE_LABELS)
    y = list(labels)
    gold = check.gold.set_index("article_id")
    rows, preds = [], []
    with stance._one_thread():
        for name, model in models.items():
            fitted = clone(model).fit(train_segments.reset_index(drop=True), np.asarray(y, dtype=object))
            art = stance.article_stance(stance.predict_table(fitted, check.segments), check.segments)
            pred = art.set_index("article_id")["stance"].reindex(gold.index)
            preds.append(pd.DataFrame({"model": name, "article_id": gold.index, "language": gold["language"].to_numpy(),
                                       "title": gold["title"].to_numpy(), "gold": gold["stance"].to_numpy(),
                                       "predicted": pred.to_numpy()}))
            for lang in ["all", *sorted(gold["language"].unique())]:
                sel = np.ones(len(gold), bool) if lang == "all" else (gold["language"] == lang).to_numpy()
                g, p = gold["stance"].to_numpy()[sel], pred.to_numpy()[sel]
                lo, hi = stance.bootstrap_articles(g, p, gold.index[sel], classes, n_boot, seed)
                rows.append({"model": name, "language": lang, "macro_f1": stance.macro_f1(g, p, classes),
                             "ci_low": lo, "ci_high": hi, "accuracy": float(np.mean(g == p)),
                             "n_articles": int(sel.sum()), "gold_none": int((g == stance.NONE_LABEL).sum()),
                             "predicted_none": int((p == stance.NONE_LABEL).sum())})
    return pd.DataFrame(rows), pd.concat(preds, ignore_index=True)
