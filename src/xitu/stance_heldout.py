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

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from xitu.settings import SEED, STANCE_LABELS

#: Where notebook 03 looks for the held-out articles, relative to the project root.
DEFAULT_CHECK_DIR = Path("data") / "checks" / "prose"
GOLD_FILE = "gold.tsv"
#: Written into the figure folder instead of the scores when the check cannot be read.
NOT_MEASURED_FILE = "heldout_not_measured.md"
NOT_MEASURED_TITLE = "# Held-out articles not measured"
GOLD_COLUMNS = ("file", "number", "title", "stance")  # required; ``language`` and ``why`` are optional
#: The ``language`` values: what ingest read each article as (English; Chinese by script).
LANGUAGES = ("en", "zh_hans", "zh_hant")
_NUMBER_RE = re.compile(r"[0-9]+")


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


def _problems(found: list[str]) -> CheckError:
    more = f" (and {len(found) - 10} more)" if len(found) > 10 else ""
    return CheckError("; ".join(found[:10]) + more)


def comparable_title(title: str) -> str:
    """A title as ingest stores it, for comparing a gold row with its article: invisible
    characters removed, NFKC, Simplified script, white space runs as one space (the
    normalisation of :func:`xitu.vectorise.prepare`)."""
    from xitu.vectorise import prepare

    return prepare(title)


def read_gold(path: str | Path, labels=STANCE_LABELS) -> pd.DataFrame:
    """The article-level gold table ``gold.tsv``, read like a label table
    (:func:`xitu.labels.read_table`: TSV or CSV, UTF-8 or UTF-16 with a byte-order mark,
    quoted cells) and checked row by row: the columns ``file``, ``number`` (the article's
    position among the articles of its file, from 1), ``title`` and ``stance`` (a label of
    ``labels``; ``language``, when given, one of :data:`LANGUAGES`), no article twice. Every bad
    row is named by its line (:class:`CheckError`)."""
    from xitu.labels import LabelError, read_table

    path = Path(path)
    if not path.is_file():
        raise CheckError(f"{path}: missing (one row per article, tab-separated: {', '.join(GOLD_COLUMNS)}, "
                         "optional language and why)")
    found: list[tuple[int, str]] = []
    try:
        table = read_table(path, required=GOLD_COLUMNS, row_problems=found)
    except LabelError as e:
        raise CheckError(str(e)) from None
    problems = list(found)  # (line, why): rows with more cells than the header, then the checks below
    records, seen = [], {}
    for line, row in table.rows:
        rec = {c: str(row.get(c, "")).strip() for c in table.columns}
        rec.setdefault("language", "")
        rec["stance"] = rec["stance"].lower()
        rec["language"] = rec["language"].lower()
        if not rec["file"] or not rec["title"]:
            problems.append((line, "the file and the title must be given"))
            continue
        if not _NUMBER_RE.fullmatch(rec["number"]) or int(rec["number"]) < 1:
            problems.append((line, f"number {rec['number']!r} is not a whole number from 1"))
            continue
        if rec["stance"] not in labels:
            problems.append((line, f"stance {rec['stance']!r} is not one of {', '.join(labels)}"))
            continue
        if rec["language"] and rec["language"] not in LANGUAGES:
            problems.append((line, f"language {rec['language']!r} is not one of {', '.join(LANGUAGES)} "
                                   "(or leave it empty: it is read from the article)"))
            continue
        key = (rec["file"], int(rec["number"]))
        if key in seen:
            problems.append((line, f"article {key[1]} of {key[0]} is already given on line {seen[key]}"))
            continue
        seen[key] = line
        records.append({**rec, "number": int(rec["number"]), "gold_line": line})
    if problems:
        raise _problems([f"{path}:{line}: {why}" for line, why in sorted(problems, key=lambda p: p[0])])
    if not records:
        raise CheckError(f"{path}: no article rows below the header")
    return pd.DataFrame(records)


def _article_language(language: str, script: str) -> str:
    if language == "zh":
        return "zh_hant" if str(script) == "Hant" else "zh_hans"
    return str(language)


def read_check(folder: str | Path) -> Check:
    """Ingest the exports of ``folder`` and join ``gold.tsv`` to their articles.

    A gold row points at an article by file and position; the article's title must be the
    row's ``title`` (compared as :func:`comparable_title`), so a row can never score another
    article. Every article of the exports needs a row and a text to score; a ``language``
    given in a row must be what ingest read the article as (it is taken from the article
    otherwise). :class:`CheckError` names every row or article that does not fit."""
    from xitu.corpus import ingest

    folder = Path(folder)
    gold = read_gold(folder / GOLD_FILE)
    try:
        corpus = ingest(folder)
    except (ValueError, OSError) as e:  # an export that cannot be read at all, or none at all
        raise CheckError(f"{folder}: {e}") from None
    arts = corpus.articles.set_index("article_id")
    n_segments = corpus.segments.groupby("article_id").size()
    # every place an article was read from (an article found in several files is one article)
    places = []
    for aid, a in arts.iterrows():
        for occ in str(a["occurrences"]).split(";"):
            file, _, line = occ.strip().rpartition(":")
            if file and line.isdigit():
                places.append({"file": Path(file).name, "line": int(line), "article_id": aid})
    places = pd.DataFrame(places, columns=["file", "line", "article_id"]).sort_values(["file", "line"])
    places["number"] = places.groupby("file").cumcount() + 1
    titles = _titles_at(folder, places)
    joined = gold.merge(places, on=["file", "number"], how="left")
    problems = []
    for _, r in joined.iterrows():
        where = f"{folder / GOLD_FILE}:{r['gold_line']}"
        if pd.isna(r["article_id"]):
            n = int((places["file"] == r["file"]).sum())
            if n == 0:
                exports = ", ".join(sorted(places["file"].unique()))
                problems.append(f"{where}: no export {r['file']!r} in {folder} (exports with articles: {exports})")
            else:
                problems.append(f"{where}: {r['file']} has no article {r['number']} ({n} article(s) read from it)")
            continue
        here = titles.get((r["file"], int(r["line"])), arts.at[r["article_id"], "title"])
        if comparable_title(here) != comparable_title(r["title"]):
            a, b = comparable_title(r["title"]), comparable_title(here)
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            problems.append(f"{where}: title {r['title'][:60]!r} is not that of article {r['number']} of {r['file']} "
                            f"({here[:60]!r}; they differ from character {at + 1})")
            continue
        if not n_segments.get(r["article_id"], 0):
            problems.append(f"{where}: article {r['number']} of {r['file']} has no text to score (an empty body)")
            continue
        language = _article_language(arts.at[r["article_id"], "language"], arts.at[r["article_id"], "script"])
        if r["language"] and r["language"] != language:
            merged = ";" in str(arts.at[r["article_id"], "occurrences"])
            problems.append(f"{where}: language {r['language']!r}, but ingest read article {r['number']} of {r['file']} "
                            f"as {language!r}" + (" (the same article is in another export too, and is scored in "
                                                  "Simplified script)" if merged else ""))
    dup = joined[joined["article_id"].notna() & joined["article_id"].duplicated(keep=False)]
    for aid, rows in dup.groupby("article_id"):
        lines = ", ".join(map(str, rows["gold_line"]))
        problems.append(f"{folder / GOLD_FILE}: lines {lines} point at one article (ingest read them as one: the same "
                        "article twice, or in two scripts); keep one row")
    missing = places[~places["article_id"].isin(joined["article_id"])]
    for _, m in missing.drop_duplicates("article_id").iterrows():
        problems.append(f"{folder / m['file']}:{m['line']}: article {m['number']} has no row in {GOLD_FILE}; "
                        "give it one or remove it from the export")
    if problems:
        raise _problems(problems)
    gold = joined.drop(columns=["line"])
    gold["language"] = [_article_language(arts.at[a, "language"], arts.at[a, "script"]) for a in gold["article_id"]]
    issues = [f"{Path(i.file).name}:{i.line}: {i.action}: {i.reason}" for i in corpus.report.issues]
    return Check(folder, gold.reset_index(drop=True), corpus.segments_with_articles(), issues)


def _titles_at(folder: Path, places: pd.DataFrame) -> dict[tuple[str, int], str]:
    """The title line of every article place, as written in its export (ingest keeps one
    title for an article read from several places). Decoded as ingest does; a file it cannot
    decode keeps the ingested titles."""
    from xitu.corpus import decode_export, split_lines

    out = {}
    for file, rows in places.groupby("file"):
        try:
            lines = split_lines(decode_export((folder / file).read_bytes(), folder / file)[0])
        except (OSError, ValueError):  # ingest read it; keep its titles
            continue
        for line in rows["line"]:
            if 0 < int(line) <= len(lines):
                out[(file, int(line))] = lines[int(line) - 1]
    return out


def held_out_overlap(check: Check, train_segments: pd.DataFrame) -> list[str]:
    """Gold rows whose article is also in the training set (same article id, or a segment
    with the same text): such an article is not held out. As ``file:line`` messages."""
    trained_ids = set(train_segments["article_id"]) if "article_id" in train_segments else set()
    trained_text = set(train_segments["text_hash"]) if "text_hash" in train_segments else set()
    seg_hash = check.segments.groupby("article_id")["text_hash"].agg(set) if "text_hash" in check.segments else {}
    out = []
    for _, r in check.gold.iterrows():
        shared = len(seg_hash.get(r["article_id"], set()) & trained_text) if len(trained_text) else 0
        if r["article_id"] in trained_ids or shared:
            out.append(f"{check.folder / GOLD_FILE}:{r['gold_line']}: article {r['number']} of {r['file']} is in the "
                       f"gold set the models are trained on ({shared} segment(s) with the same text): it is not held out")
    return out


def score_check(check: Check, models: dict, train_segments: pd.DataFrame, labels, *, n_boot: int = 1000,
                seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train each model (name → unfitted estimator over segment tables) on all of
    ``train_segments``/``labels``, predict the check's segments, take article stance by the
    rule in use, and score it against the check's gold.

    Returns ``(scores, predictions)``: ``scores`` has one row per model and language (and
    ``"all"``): ``macro_f1``, ``ci_low``/``ci_high`` (95% bootstrap over
    articles), ``accuracy``, ``n_articles``, ``gold_none``, ``predicted_none``;
    ``predictions`` one row per model and article: gold and predicted stance. Macro-F1
    averages the labels that occur among the articles scored (in gold or predicted).
    :class:`CheckError` when an article of the check is in the training set (not held out)."""
    from xitu import stance

    overlap = held_out_overlap(check, train_segments)
    if overlap:
        raise _problems(overlap)
    y = list(labels)
    gold = check.gold.set_index("article_id")
    rows, preds = [], []
    with stance._one_thread():
        for name, model in models.items():
            fitted = clone(model).fit(train_segments.reset_index(drop=True), np.asarray(y, dtype=object))
            art = stance.article_stance(stance.predict_table(fitted, check.segments), check.segments)
            pred = art.set_index("article_id")["stance"].reindex(gold.index)
            if pred.isna().any():  # read_check refuses articles without text: this is a bug
                raise RuntimeError(f"no prediction for article(s) {list(gold.index[pred.isna()][:5])}")
            preds.append(pd.DataFrame({"model": name, "article_id": gold.index, "language": gold["language"].to_numpy(),
                                       "title": gold["title"].to_numpy(), "gold": gold["stance"].to_numpy(),
                                       "predicted": pred.to_numpy()}))
            for lang in ["all", *sorted(gold["language"].unique())]:
                sel = np.ones(len(gold), bool) if lang == "all" else (gold["language"] == lang).to_numpy()
                g, p = gold["stance"].to_numpy()[sel], pred.to_numpy()[sel]
                # labels that occur (in gold or predicted): one no article has and none is
                # given would add a constant zero to the macro average
                classes = [c for c in STANCE_LABELS if (g == c).any() or (p == c).any()]
                lo, hi = stance.bootstrap_articles(g, p, gold.index[sel], classes, n_boot, seed)
                rows.append({"model": name, "language": lang, "macro_f1": stance.macro_f1(g, p, classes),
                             "ci_low": lo, "ci_high": hi, "accuracy": float(np.mean(g == p)),
                             "n_articles": int(sel.sum()), "gold_none": int((g == stance.NONE_LABEL).sum()),
                             "predicted_none": int((p == stance.NONE_LABEL).sum())})
    return pd.DataFrame(rows), pd.concat(preds, ignore_index=True)


def run_check(folder: str | Path, models: dict, train_segments: pd.DataFrame, labels, figures: str | Path, *,
              n_boot: int = 1000, seed: int = SEED):
    """Notebook 03's held-out section: :func:`read_check` and :func:`score_check`, or, when the
    folder cannot be read as it is (:class:`CheckError`), the reason in
    ``figures/NOT_MEASURED_FILE`` (the README results say it) and ``None``: a problem in this
    optional check does not cost the notebook's other figures. Returns ``(check, scores,
    predictions)`` or ``None``."""
    from xitu.io import atomic_write_text

    try:
        check = read_check(folder)
        scores, preds = score_check(check, models, train_segments, labels, n_boot=n_boot, seed=seed)
    except CheckError as e:
        atomic_write_text(Path(figures) / NOT_MEASURED_FILE, f"{NOT_MEASURED_TITLE}\n\n{e}\n")
        print(f"held-out articles not measured: {e}")
        return None
    return check, scores, preds
