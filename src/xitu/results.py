"""The README's "Results" section, written by the run from the tables it drew.

Every number a researcher reads in ``README.md`` between the markers
``<!-- results:start -->`` and ``<!-- results:end -->`` comes from this module, which reads the
figure tables (``figures/*/*.csv``), the processed corpus and the label logs. ``xitu run``
rewrites the section after a full run; ``tests/test_results.py`` checks that the committed
README says what the committed figures say. Nothing in the section is typed by hand.
"""

from __future__ import annotations

import math

from pathlib import Path

import pandas as pd

from xitu.paths import Paths
from xitu.settings import STANCE_LABELS, TARGETS

START = "<!-- results:start (written by `xitu run` from figures/ and data/; do not edit by hand) -->"
END = "<!-- results:end -->"


def _read(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path, keep_default_na=False)
    except (OSError, ValueError):
        return None


def _f(x, digits: int = 2) -> str:
    try:
        return f"{float(x):.{digits}f}"
    except (TypeError, ValueError):
        return str(x)


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def corpus_lines(paths: Paths) -> list[str]:
    """Articles and segments by language, from ``data/processed``."""
    from xitu.corpus import read_processed

    try:
        articles, segments = read_processed(paths.processed)
    except (OSError, ValueError):
        return []
    lang = segments["language"].value_counts()
    script = segments.loc[segments["language"].eq("zh"), "script"].value_counts()
    undated = int(articles["published"].eq("").sum())
    zh = ", ".join(f"{k} {v}" for k, v in script.items() if k)
    return [
        f"- **Corpus**: {len(articles)} articles and {len(segments)} segments "
        f"({', '.join(f'{k} {v}' for k, v in lang.items())}"
        + (f"; Chinese script: {zh}" if zh else "") + f"); {undated} article(s) undated.",
    ]


def label_lines(paths: Paths) -> list[str]:
    """Gold set and agreement, from ``data/labels``."""
    from xitu.agreement import krippendorff_alpha, pairwise_kappa
    from xitu.labels import decide_gold, read_logs, replay

    current = replay(read_logs(paths.labels).entries)
    if current.empty:
        return ["- **Gold labels**: none yet."]
    gold = decide_gold(current)
    counts = gold.gold["label"].value_counts()
    kappa = pairwise_kappa(current)
    alpha, n_alpha = krippendorff_alpha(current)
    pairs = "; ".join(f"{r.annotator_a}×{r.annotator_b} {_f(r.kappa)} ({int(r.n)})"
                      for r in kappa.itertuples(index=False) if r.n >= 2)
    out = [f"- **Gold labels** ({gold.summary()}): "
           + ", ".join(f"{k} {v}" for k, v in counts.items()) + "." + _gold_in_corpus(paths, gold.gold)]
    if pairs:
        out.append(f"  Cohen's kappa per annotator pair (segments): {pairs}; Krippendorff's alpha {_f(alpha)} "
                   f"over {n_alpha} segments. See `data/labels/README.md` for who the annotators were.")
    return out


def _gold_in_corpus(paths: Paths, gold: pd.DataFrame) -> str:
    """A sentence when some gold segments are not in ``data/processed`` (the label logs of
    another corpus, or segments whose text changed): notebook 03 trains on those in the
    corpus only. Empty when all are, or when there is no processed corpus to compare with."""
    from xitu.corpus import read_processed

    try:
        _, segments = read_processed(paths.processed)
    except (OSError, ValueError):
        return ""
    missing = int((~gold["segment_id"].isin(segments["segment_id"])).sum())
    if not missing:
        return ""
    present = len(gold) - missing
    where = "None of them is in this corpus" if not present else f"Only {present} of them are in this corpus"
    return (f" {where}: {missing} point at segments not in `data/processed` (labels of other exports, or of "
            "segments whose text changed); notebook 03 trains on those in the corpus only.")


def _missing(value) -> bool:
    """An empty cell of a table read by :func:`_read` (NaN is written as nothing)."""
    return value == "" or (isinstance(value, float) and math.isnan(value))


#: The language-mixing measure of a corpus without Chinese or without English segments.
NOT_MIXED = "not measured (one language)"


def _skip_reason(figures: Path, notebook: str) -> str | None:
    """The reason a notebook gave for skipping this corpus (its ``SKIPPED.md``), or ``None``."""
    from xitu.pipeline import SKIP_NOTE

    note = figures / notebook / SKIP_NOTE
    if not note.is_file():
        return None
    return " ".join(note.read_text(encoding="utf-8").replace("# Skipped", "").split())


def topic_lines(figures: Path) -> list[str]:
    """Topic model quality against the baselines and the targets."""
    reason = _skip_reason(figures, "02-topics")
    if reason is not None:
        return [f"- **Topics**: not modelled on this corpus: {reason}"]
    mc = _read(figures / "02-topics" / "model_comparison.csv")
    if mc is None or "model" not in mc:
        return []
    rows = {r["model"]: r for r in mc.to_dict("records")}
    b = rows.get("BERTopic")
    partial = ""
    if b is not None and "seeds" in b and pd.notna(b.get("seeds_with_topics")) and b["seeds_with_topics"] < b["seeds"]:
        n = int(b["seeds_with_topics"])
        partial = (f"; NPMI and diversity of BERTopic over the {n} seed(s) whose fit found a topic "
                   "(the others put every document in the outlier topic)" if n else
                   "; BERTopic found no topic with any seed (every document an outlier): no NPMI or diversity")
    out = ["- **Topics** (`figures/02-topics/model_comparison.csv`, "
           f"{int(b['seeds']) if b is not None and 'seeds' in b else '?'} seeds; mean ± SD{partial}):", "",
           "  | model | topics | NPMI | NPMI within languages | diversity | outliers after reduction | ARI across seeds | Chinese segments in mixed topics |",
           "  |---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        def cell(col, digits=3):
            if f"{col}_mean" not in r:
                return "—"
            if col == "mixed_share" and _missing(r[f"{col}_mean"]):
                return NOT_MIXED
            return f"{_f(r[f'{col}_mean'], digits)} ± {_f(r.get(f'{col}_sd', 0), digits)}"
        out.append(f"  | {name} | {_f(r.get('n_topics_mean', ''), 1)} | {cell('npmi')} | {cell('npmi_within')} | {cell('diversity')} | "
                   f"{cell('outlier_share')} | {cell('ari')} | {cell('mixed_share')} |")
    if b is not None:
        nmf = rows.get("NMF")
        checks = [
            ("Chinese segments in topics that also hold English", f"≥ {TARGETS['topics_mixed_share']}",
             b.get("mixed_share_mean"), lambda v: v >= TARGETS["topics_mixed_share"]),
            ("BERTopic NPMI ≥ NMF's", f"≥ {_f(nmf['npmi_mean'], 3)}" if nmf is not None else "—",
             b.get("npmi_mean"), lambda v: nmf is not None and v >= nmf["npmi_mean"]),
            ("BERTopic NPMI within languages ≥ NMF's (not the issue's measure; see notebook 02)",
             f"≥ {_f(nmf['npmi_within_mean'], 3)}" if nmf is not None and "npmi_within_mean" in nmf else "—",
             b.get("npmi_within_mean"), lambda v: nmf is not None and v >= nmf.get("npmi_within_mean", math.inf)),
            ("diversity", f"≥ {TARGETS['topics_diversity']}", b.get("diversity_mean"),
             lambda v: v >= TARGETS["topics_diversity"]),
            ("outliers after reduction", f"≤ {TARGETS['topics_outliers']}", b.get("outlier_share_mean"),
             lambda v: v <= TARGETS["topics_outliers"]),
            ("ARI across seeds", f"≥ {TARGETS['topics_ari']}", b.get("ari_mean"), lambda v: v >= TARGETS["topics_ari"]),
        ]
        out += ["", "  | topic target | target | measured | met? |", "  |---|---|---|---|"]
        for what, target, value, ok in checks:
            if what.startswith("Chinese segments") and value is not None and _missing(value):
                out.append(f"  | {what} | {target} | {NOT_MIXED} | — |")
                continue
            if value is None or value == "":
                continue
            out.append(f"  | {what} | {target} | {_f(value, 3)} | {_met(ok(float(value)))} |")
    return out + stability_lines(figures) + word_rule_lines(figures) + heldout_npmi_lines(figures)


def heldout_npmi_lines(figures: Path) -> list[str]:
    """NPMI of topic words chosen on one half of the articles and counted on the other
    (``heldout_npmi.csv`` of notebook 02), as a table."""
    h = _read(figures / "02-topics" / "heldout_npmi.csv")
    if h is None or "npmi_held_out_mean" not in h or h.empty:
        return []
    out = ["", f"  Topic words chosen on half of the articles, NPMI counted on the other half (`figures/02-topics/"
               f"heldout_npmi.csv`, {int(pd.to_numeric(h['seeds']).max())} seeds; the halves split articles, never "
               "an article's segments):", "",
           "  | model | NPMI, half the words were chosen on | NPMI, held-out half | diversity |", "  |---|---|---|---|"]
    for r in h.to_dict("records"):
        cells = [("—" if _missing(r[f"{m}_mean"]) else f"{_f(r[f'{m}_mean'], 3)} ± {_f(r[f'{m}_sd'], 3)}")
                 for m in ("npmi_chosen_half", "npmi_held_out", "diversity")]
        out.append(f"  | {r['model']} | " + " | ".join(cells) + " |")
    return out


def stability_lines(figures: Path) -> list[str]:
    """How many topics of the run seed's fit recur across the other seeds
    (``topic_stability.csv`` of notebook 02)."""
    from xitu.topics.quality import JACCARD_STABLE, JACCARD_UNTRUSTED

    st = _read(figures / "02-topics" / "topic_stability.csv")
    if st is None or "jaccard_mean" not in st or st.empty:
        return []
    mean = pd.to_numeric(st["jaccard_mean"], errors="coerce")
    if mean.isna().all():
        return []
    stable, untrusted = int((mean >= JACCARD_STABLE).sum()), int((mean < JACCARD_UNTRUSTED).sum())
    docs = pd.to_numeric(st["documents"], errors="coerce")
    return ["", f"  Topics that recur across seeds (`figures/02-topics/topic_stability.csv`, Hennig's cluster-wise "
                f"Jaccard): of the run seed's {len(st)} topics, {stable} are stable (mean Jaccard ≥ {JACCARD_STABLE} with "
                f"their best match in the other seeds; {int(docs[mean >= JACCARD_STABLE].sum())} of "
                f"{int(docs.sum())} documents) and {untrusted} should not be trusted (mean < {JACCARD_UNTRUSTED}). This is "
                "the fit's own randomness on this corpus, not a resampling of the documents."]


def word_rule_lines(figures: Path) -> list[str]:
    """NPMI and diversity of the rules for topic words on BERTopic's clusters
    (``word_rules.csv`` of notebook 02), as a table."""
    wr = _read(figures / "02-topics" / "word_rules.csv")
    if wr is None or "kind" not in wr:
        return []
    rules = wr[wr["kind"] != "model"]
    if rules.empty:
        return []
    out = ["", f"  Topic words by other rules on the same clusters (`figures/02-topics/word_rules.csv`, "
               f"{int(rules['seeds'].max())} seeds). The search picks words by NPMI itself, so it is not a rule to read "
               "topics by, and a better search could beat it; the upper bound is the most any choice among the same "
               "candidate words could reach:", "",
           "  | rule for topic words | NPMI | diversity |", "  |---|---|---|"]
    for r in wr.to_dict("records"):
        name = r["name"] if r["kind"] != "model" else f"{r['name']} (its own topics)"
        diversity = "—" if _missing(r["diversity_mean"]) else f"{_f(r['diversity_mean'], 3)} ± {_f(r['diversity_sd'], 3)}"
        out.append(f"  | {name} | {_f(r['npmi_mean'], 3)} ± {_f(r['npmi_sd'], 3)} | {diversity} |")
    return out


def stance_lines(figures: Path) -> list[str]:
    """Stance classifier quality (grouped by article), transfer checks and targets."""
    reason = _skip_reason(figures, "03-stance")
    if reason is not None:
        return [f"- **Stance**: not evaluated on this corpus: {reason}"]
    scores = _read(figures / "03-stance" / "scores.csv")
    if scores is None or "scheme" not in scores:
        return []
    grouped = scores[scores["scheme"].eq("grouped")]
    if grouped.empty:
        return []
    best = grouped.iloc[0]
    ref = grouped[grouped["model"].str.startswith("reference")]
    out = [f"- **Stance** (`figures/03-stance/scores.csv`; cross-validation grouped by article, "
           f"{int(best['folds'])} folds × {int(best['repeats'])} repeats, 95% interval from a bootstrap over "
           f"{int(best['n_articles'])} articles): the chosen model, *{best['model']}*, reaches macro-F1 "
           f"**{_f(best['macro_f1'])}** ({_f(best['ci_low'])}–{_f(best['ci_high'])}) on {int(best['n'])} gold segments."]
    for r in grouped.iloc[1:].itertuples(index=False):
        out.append(f"  {r.model}: {_f(r.macro_f1)} ({_f(r.ci_low)}–{_f(r.ci_high)}).")
    left_out = []
    if "labels" in scores and isinstance(best.get("labels"), str):
        scored = [l.strip() for l in best["labels"].split(",")]
        left_out = [l for l in STANCE_LABELS if l not in scored]
        if left_out:
            out.append(f"  Macro-F1 over the {len(scored)} labels the gold set can train; left out (too few examples): "
                       f"{', '.join(left_out)}: not comparable with a four-label figure or target.")
    opt = scores[scores["scheme"].str.startswith("stratified") & scores["model"].eq(best["model"])]
    if len(opt):
        out.append(f"  Segment-stratified folds (same-article leakage, optimistic): {_f(opt.iloc[0]['macro_f1'])}.")
    transfer = _read(figures / "03-stance" / "transfer_checks.csv")
    checks = [("grouped macro-F1" + (f" (without {', '.join(left_out)})" if left_out else ""),
               f"≥ {TARGETS['stance_macro_f1_grouped']}", best["macro_f1"],
               best["macro_f1"] >= TARGETS["stance_macro_f1_grouped"])]
    if len(ref):
        gap = best["macro_f1"] - ref.iloc[0]["macro_f1"]
        checks.append(("over the plain reference, same folds", f"≥ +{TARGETS['stance_over_reference']}",
                       f"+{_f(gap)}" if gap >= 0 else _f(gap), gap >= TARGETS["stance_over_reference"] - 1e-9))
    if transfer is not None and "scheme" in transfer:
        mine = pd.to_numeric(transfer[transfer["model"].eq(best["model"])].set_index("scheme")["macro_f1"],
                             errors="coerce")
        en_zh = [s for s in mine.index if "Chinese" in s]
        if en_zh:
            v = mine[en_zh[0]]
            if pd.isna(v):  # no Chinese (or no English) gold segments: nothing to measure
                checks.append(("trained on English, tested on Chinese", f"≥ {TARGETS['stance_en_to_zh']}",
                               "not measured (no gold segments on one side)", None))
            else:
                checks.append(("trained on English, tested on Chinese", f"≥ {TARGETS['stance_en_to_zh']}", v,
                               v >= TARGETS["stance_en_to_zh"]))
        with_h = [s for s in mine.index if "with headings" in s]
        without = [s for s in mine.index if "headings removed" in s]
        if with_h and without:
            drop = mine[with_h[0]] - mine[without[0]]
            checks.append(("drop when headings are removed", f"≤ {TARGETS['stance_heading_drop']}", drop,
                           drop <= TARGETS["stance_heading_drop"]))
    out += ["", "  | stance target | target | measured | met? |", "  |---|---|---|---|"]
    for what, target, value, ok in checks:
        out.append(f"  | {what} | {target} | {value if isinstance(value, str) else _f(value)} | "
                   f"{'—' if ok is None else _met(bool(ok))} |")
    return out


def heldout_lines(figures: Path) -> list[str]:
    """Article-level scores on the held-out check articles (notebook 03, when the project has
    ``data/checks/prose/``): every model, over all articles and per language."""
    from xitu.stance_heldout import NOT_MEASURED_FILE, NOT_MEASURED_TITLE

    note = figures / "03-stance" / NOT_MEASURED_FILE
    if note.is_file():
        reason = " ".join(note.read_text(encoding="utf-8").replace(NOT_MEASURED_TITLE, "").split())
        return [f"- **Held-out articles** (`data/checks/prose/`): not measured: {reason}"]
    held = _read(figures / "03-stance" / "heldout_articles.csv")
    if held is None or not {"model", "language", "macro_f1"} <= set(held.columns) or held.empty:
        return []
    total = held[held["language"].eq("all")]
    if total.empty:
        return []
    n = int(total.iloc[0]["n_articles"])
    out = [f"- **Held-out articles** (`figures/03-stance/heldout_articles.csv`; {n} articles in `data/checks/prose/`, "
           "never used for a choice; trained on the whole gold set; article-level macro-F1, 95% bootstrap over articles):"]
    for model, rows in held.groupby("model", sort=False):
        a = rows[rows["language"].eq("all")].iloc[0]
        parts = [f"**{_f(a['macro_f1'])}** ({_f(a['ci_low'])}–{_f(a['ci_high'])})"]
        parts += [f"{r.language} {_f(r.macro_f1)} ({int(r.n_articles)})"
                  for r in rows[~rows["language"].eq("all")].itertuples(index=False)]
        parts.append(f"articles predicted *none*: {int(a['predicted_none'])} (gold: {int(a['gold_none'])})")
        out.append(f"  {model}: {'; '.join(parts)}.")
    return out


def staleness_lines(paths: Paths, figures: Path) -> list[str]:
    """A warning when some figure folders were drawn from another corpus than the current
    ``data/processed`` (e.g. after ``xitu run --only 01`` on new data), from ``RUN.json``."""
    import json

    from xitu.processed import tables_fingerprint

    try:
        entries = json.loads((figures / "RUN.json").read_text(encoding="utf-8")).get("notebooks", {})
    except (OSError, ValueError, AttributeError):
        return []
    current = tables_fingerprint(paths.processed)
    if current is None:
        return []
    if not isinstance(entries, dict):
        return []
    stale = sorted(k for k, v in entries.items() if isinstance(v, dict) and v.get("corpus") != current)
    seeds = sorted({v.get("seed") for v in entries.values() if isinstance(v, dict)}, key=str)
    out = []
    if stale:
        out.append(f"- **Stale:** the figures of {', '.join(stale)} were drawn from another corpus than the current "
                   "`data/processed`; their numbers below are from that corpus. Run `xitu run` to redraw everything.")
    if len(seeds) > 1:
        out.append(f"- **Mixed seeds** in `figures/RUN.json` ({', '.join(map(str, seeds))}): see it for which notebook used which.")
    return out


def results_section(paths: Paths | None = None, figures: Path | None = None) -> str:
    """The Markdown of the README's results section (markers included)."""
    paths = paths or Paths.default()
    figures = Path(figures or paths.figures)
    lines = [START, ""] + staleness_lines(paths, figures)
    for part in (corpus_lines(paths), label_lines(paths), topic_lines(figures), stance_lines(figures),
                 heldout_lines(figures)):
        if part:
            lines += part
    lines += ["", END]
    return "\n".join(lines)


def update_readme(paths: Paths | None = None, figures: Path | None = None) -> bool:
    """Rewrite the results section of ``README.md`` in place (atomically). Returns True when
    the README changed; does nothing if the markers are missing."""
    from xitu.io import atomic_write_text

    paths = paths or Paths.default()
    readme = paths.root / "README.md"
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return False
    if START not in text or END not in text:
        return False
    a, b = text.index(START), text.index(END) + len(END)
    new = text[:a] + results_section(paths, figures) + text[b:]
    if new != text:
        atomic_write_text(readme, new)
        return True
    return False
