"""Topic quality on corpora other than the researcher's: the check corpora of
``data/checks/topics/`` (synthetic bilingual articles with the storyline each was written
for) and the held-out prose of ``data/checks/prose/`` and ``tests/data/prose_check/``.

Why: the topic settings were chosen on the seed corpus and two prose corpora. A claim such
as "topics are stable across seeds" or "Chinese segments share topics with English ones"
holds only if it holds on material the settings were not chosen on. Each check corpus is a
folder of exports; a ``storylines.tsv`` beside them (columns ``file``, ``title``,
``storyline``) gives the storyline each article was written for, so the topics can also be
compared with a known grouping (adjusted Rand index of the segments' topics against their
article's storyline; a segment of an article may well be about something else, so 1 is
not expected).

Run it from the project root (about a minute per corpus and setting on two cores)::

    .venv/bin/python -m xitu.topics.checks            # every check corpus, settings now and before
    .venv/bin/python -m xitu.topics.checks --now-only

It prints a Markdown table (one row per corpus and setting) and writes it, with the machine
and date, to ``build/topic_checks.md``. Nothing here is part of ``xitu run``: these corpora
must never be used to choose a setting, or they stop being a check.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from xitu.settings import TARGETS, TOPIC_SEEDS
from xitu.text import Tokenizer
from xitu.topics.model import (TopicSettings, embed_unique, fit_baseline, make_embedder, make_vectorizer,
                               topic_documents)
from xitu.topics.quality import compare_models, summarise_comparison

__all__ = ["BEFORE", "PROSE", "check_folders", "read_storylines", "load_check_corpus", "check_corpus", "main"]

#: The settings before December 2026 (``min_samples=2``, outliers to the nearest centroid), for
#: comparison with the defaults of :class:`~xitu.topics.model.TopicSettings`.
BEFORE = {"min_samples": 2, "outlier_strategy": "embeddings"}


#: The prose corpus was used, with the seed corpus, to choose the settings of December 2026: it
#: is tuning material, not a check (its name in the table says so).
PROSE = "prose (data/checks/prose + tests/data/prose_check; used to choose the settings)"


def check_folders(root: str | Path) -> dict[str, list[Path]]:
    """The corpora under the project ``root`` besides the seed corpus: name → folders of
    exports (a corpus may join several folders). Folders that do not exist are left out."""
    root = Path(root)
    found = {PROSE: [root / "data" / "checks" / "prose", root / "tests" / "data" / "prose_check"]}
    base = root / "data" / "checks" / "topics"
    for d in sorted(p for p in base.glob("*") if p.is_dir()) if base.is_dir() else []:
        found[f"topics/{d.name}"] = [d]
    return {k: [f for f in v if f.is_dir()] for k, v in found.items() if any(f.is_dir() for f in v)}


def read_storylines(folder: str | Path) -> pd.DataFrame | None:
    """``storylines.tsv`` of a check folder (tab-separated, columns ``file``, ``title``,
    ``storyline``; quotes are text), with the line number of each row, or ``None``."""
    import csv

    path = Path(folder) / "storylines.tsv"
    if not path.exists():
        return None
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE, encoding="utf-8-sig")
    missing = {"file", "title", "storyline"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}:1: columns {sorted(missing)} missing (need file, title, storyline)")
    return table.assign(line=np.arange(2, len(table) + 2))


def load_check_corpus(folders: Sequence[str | Path]) -> tuple[pd.DataFrame, pd.Series | None, int]:
    """Ingest the exports of ``folders`` as one corpus (copied to a temporary folder, so the
    files are never touched; which files count is decided as for ``data/raw``) and return its
    segment documents, each segment's storyline when every folder has a ``storylines.tsv``
    (else ``None``), and the number of ingest issues. A storyline row is tied to its article
    by file and title (as ingest stores it); an article without a row, a row that fits no
    article, a row given twice and an empty storyline are errors naming the file and line:
    a storyline file that does not fit its exports says nothing."""
    from xitu.corpus import ingest, scan_raw
    from xitu.vectorise import prepare

    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, folder in enumerate(folders):
            for f in scan_raw(folder)[0]:
                shutil.copy(f, Path(tmp) / f"{i}_{f.name}")
            tables.append(read_storylines(folder))
        corpus = ingest(tmp)
    segments = corpus.segments_with_articles()
    docs = topic_documents(segments, "segment")
    n_issues = len(corpus.report.issues)
    if any(t is None for t in tables):
        return docs, None, n_issues
    rows: dict[tuple[str, str], str] = {}
    where: dict[tuple[str, str], str] = {}
    for i, (folder, table) in enumerate(zip(folders, tables)):
        for r in table.itertuples(index=False):
            at = f"{Path(folder) / 'storylines.tsv'}:{r.line}"
            key = (f"{i}_{r.file.strip()}", prepare(r.title))
            if not r.storyline.strip():
                raise ValueError(f"{at}: empty storyline")
            if key in rows:
                raise ValueError(f"{at}: the same file and title as line {where[key].rsplit(':', 1)[1]}")
            rows[key], where[key] = r.storyline.strip(), at
    arts = corpus.articles
    keys = [(f, prepare(t)) for f, t in zip(arts["file"], arts["title"])]
    missing = [f"{f}:{ln} {t[:60]!r}" for (f, t), ln in zip(keys, arts["line"]) if (f, t) not in rows]
    if missing:
        raise ValueError(f"storylines.tsv has no row for {len(missing)} article(s), e.g. {missing[0]} "
                         "(files are named with the folder's number in front)")
    unused = sorted(set(rows) - set(keys))
    if unused:
        raise ValueError(f"{where[unused[0]]}: no article of {unused[0][0].split('_', 1)[1]} has this title "
                         f"({len(unused)} row(s) fit no article)")
    story = dict(zip(arts["article_id"], (rows[k] for k in keys)))
    return docs, docs["article_id"].map(story).reset_index(drop=True), n_issues


def check_corpus(docs: pd.DataFrame, storylines: pd.Series | None = None, settings: TopicSettings | None = None,
                 seeds: Sequence[int] = TOPIC_SEEDS, tokenizer: Tokenizer | None = None,
                 embeddings: np.ndarray | None = None) -> dict:
    """BERTopic against LDA/NMF over ``seeds`` on one check corpus (:func:`compare_models`),
    summarised as one row: segments, Chinese share, BERTopic's mean topics, ARI across
    seeds, outliers after reduction, Chinese segments in mixed topics, NPMI, NPMI within
    languages, diversity, NMF's NPMI, and (with ``storylines``) the mean ARI of BERTopic's
    and NMF's topics against the storylines."""
    from sklearn.metrics import adjusted_rand_score

    settings = settings or TopicSettings()
    tokenizer = tokenizer or Tokenizer()
    texts = docs["text"].tolist()
    if embeddings is None:
        embeddings = embed_unique(make_embedder(settings, tokenizer), texts)
    runs, fits = compare_models(texts, seeds, settings, tokenizer=tokenizer, progress=False,
                                languages=docs["language"].tolist(), embeddings=embeddings)
    s = summarise_comparison(runs).set_index("model")
    b, nmf = s.loc["BERTopic"], s.loc["NMF"]
    row = {"segments": len(docs), "zh_share": round(float((docs["language"] == "zh").mean()), 3),
           "topics": round(float(b["n_topics_mean"]), 1), "ari_seeds": round(float(b["ari_mean"]), 3),
           "outliers": round(float(b["outlier_share_mean"]), 3), "mixed_share": round(float(b["mixed_share_mean"]), 3),
           "npmi": round(float(b["npmi_mean"]), 3), "npmi_within": round(float(b["npmi_within_mean"]), 3),
           "diversity": round(float(b["diversity_mean"]), 3), "nmf_npmi": round(float(nmf["npmi_mean"]), 3),
           "storyline_ari": math.nan, "nmf_storyline_ari": math.nan}
    if storylines is not None:
        row["storyline_ari"] = round(float(np.mean([adjusted_rand_score(storylines, f.topics) for f in fits.values()])), 3)
        # the NMF fits of compare_models are not kept: refit them the same way (same seeds, same k)
        vec = make_vectorizer(tokenizer)
        counts = vec.fit_transform(texts)
        vocab = vec.get_feature_names_out()
        nmf_ari = [adjusted_rand_score(storylines, fit_baseline("nmf", texts, max(2, fits[int(sd)].n_topics), int(sd),
                                                                 tokenizer, settings.top_n_words, counts, vocab).topics) for sd in seeds]
        row["nmf_storyline_ari"] = round(float(np.mean(nmf_ari)), 3)
    return row


def _verdicts(row: dict) -> str:
    met = [row["ari_seeds"] >= TARGETS["topics_ari"], row["outliers"] <= TARGETS["topics_outliers"],
           row["diversity"] >= TARGETS["topics_diversity"], row["npmi"] >= row["nmf_npmi"]]
    if not math.isnan(row["mixed_share"]):
        met.append(row["mixed_share"] >= TARGETS["topics_mixed_share"])
    return f"{sum(met)} of {len(met)}"


def main(argv: Sequence[str] | None = None) -> int:
    """The command of the module docstring."""
    from xitu.paths import find_root

    ap = argparse.ArgumentParser(prog="python -m xitu.topics.checks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=None, help="project root (default: XITU_ROOT or the project around this folder)")
    ap.add_argument("--now-only", action="store_true", help="only the current settings, not those before December 2026")
    args = ap.parse_args(argv)
    try:
        root = Path(args.root).resolve() if args.root else find_root()
    except (OSError, ValueError, RuntimeError) as e:
        print(f"xitu: error: {e}", file=sys.stderr)
        return 2
    corpora = {"seed (data/raw; used to choose the settings)": [root / "data" / "raw"], **check_folders(root)}
    variants = {"now": {}} if args.now_only else {"now": {}, "before": BEFORE}
    tokenizer = Tokenizer(root / "data" / "lexicon")
    rows = []
    for name, folders in corpora.items():
        try:
            docs, stories, n_issues = load_check_corpus(folders)
        except (OSError, ValueError) as e:
            print(f"xitu: error: {name}: {e}", file=sys.stderr)
            return 2
        if n_issues:
            print(f"{name}: ingest noted {n_issues} issue(s); `xitu ingest` on a copy of the folder lists them")
        emb = embed_unique(make_embedder(TopicSettings(), tokenizer), docs["text"].tolist())
        for vname, kw in variants.items():
            row = {"corpus": name, "settings": vname,
                   **check_corpus(docs, stories, replace(TopicSettings(), **kw), tokenizer=tokenizer, embeddings=emb)}
            row["targets_met"] = _verdicts(row)
            rows.append(row)
            print(f"{name} · {vname}: ARI across seeds {row['ari_seeds']}, outliers {row['outliers']}, "
                  f"storylines {row['storyline_ari']}", flush=True)
    table = pd.DataFrame(rows)
    md = "\n".join(["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
                   + ["| " + " | ".join(str(v) for v in r) + " |" for r in table.itertuples(index=False)])
    from datetime import date

    from xitu.io import atomic_write_text
    from xitu.pipeline import cpu_model

    out = root / "build" / "topic_checks.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = (f"# Topic checks, {date.today().isoformat()}, {cpu_model() or 'unknown CPU'}\n\n"
            f"Seeds {list(TOPIC_SEEDS)}; targets: ARI ≥ {TARGETS['topics_ari']}, outliers ≤ {TARGETS['topics_outliers']}, "
            f"diversity ≥ {TARGETS['topics_diversity']}, NPMI ≥ NMF's, mixed share ≥ {TARGETS['topics_mixed_share']}.\n\n"
            f"{md}\n")
    atomic_write_text(out, text)
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
