"""Tables and figures of ``notebooks/03-stance.ipynb``: evaluation, model selection and
stance distributions (by segment and by article).

Each figure function returns ``(figure, table)``; the table is what the figure plots.
Distribution figures use the *best available label* per segment: the human gold label where
there is one, else the classifier's prediction (the ``label_source`` column says which).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xitu.corpus import parse_published, split_queries
from xitu.labels import LABELS
from xitu.plots import PALETTE, STANCE_COLORS, figure


def _order(labels) -> list[str]:
    known = [l for l in LABELS if l in set(labels)]
    return known + sorted(set(labels) - set(known))


def best_labels(predictions: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Per segment: the gold label if any, else the predicted one, with ``label_source``."""
    df = predictions[["segment_id", "predicted", "confidence"]].merge(gold[["segment_id", "label"]], on="segment_id", how="left")
    df["label_source"] = np.where(df["label"].notna(), "gold", "predicted")
    df["stance"] = df["label"].fillna(df["predicted"])
    return df[["segment_id", "stance", "label_source", "predicted", "confidence"]]


def scores_figure(scores: pd.DataFrame, target: float | None = None,
                  xlabel: str = "macro-F1 (5-fold CV × 3 seeds; bars: 95% bootstrap over articles)",
                  title: str = "Stance classifier on articles it has not seen", highlight: str | None = None):
    """Macro-F1 with its 95% interval (bootstrap over articles) for each row of ``scores``
    (label: model and scheme); the target as a dashed line. Coloured: the rows of model
    ``highlight`` (default: the first row only)."""
    labels = [f"{m}\n[{sc}]" for m, sc in zip(scores["model"], scores["scheme"])]
    fig, ax = figure(figsize=(7.5, 0.55 * len(scores) + 1.4))
    y = np.arange(len(scores))[::-1]
    lead = (scores["model"] == highlight).to_numpy() if highlight is not None else np.arange(len(scores)) == 0
    colors = [("#bbbbbb" if "optimistic" in sc else PALETTE[0] if lead[i] else "#999999")
              for i, sc in enumerate(scores["scheme"])]
    ax.barh(y, scores["macro_f1"], color=colors)
    ax.errorbar(scores["macro_f1"], y, xerr=[scores["macro_f1"] - scores["ci_low"], scores["ci_high"] - scores["macro_f1"]],
                fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(y, labels, fontsize=7)
    for yi, v in zip(y, scores["macro_f1"]):  # no bar would read as 0
        if pd.isna(v):
            ax.annotate("not measured", (0.01, yi), va="center", fontsize=8, color="#555555")
    if target is not None:
        ax.axvline(target, color=PALETTE[3], ls="--", lw=1)
        ax.annotate(f"target {target}", (target, y.max() + 0.45), color=PALETTE[3], fontsize=8, ha="center")
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return fig, scores


def heldout_figure(scores: pd.DataFrame):
    """Article-level macro-F1 on the held-out check articles (:mod:`xitu.stance_heldout`),
    per model and language, with 95% bootstrap intervals over articles."""
    rows = scores.copy()
    rows["scheme"] = [f"{lang}, {n} articles" for lang, n in zip(rows["language"], rows["n_articles"])]
    fig, _ = scores_figure(rows, xlabel="article-level macro-F1 (bars: 95% bootstrap over articles)",
                           title="Held-out articles no model choice has seen (trained on all gold)",
                           highlight=rows["model"].iloc[0] if len(rows) else None)
    return fig, scores


def model_selection_table(ev, transfer: pd.DataFrame, articles: pd.DataFrame | None = None,
                          reference: str | None = None) -> pd.DataFrame:
    """One row per candidate: grouped macro-F1 and interval, with headings removed, the
    drop, English → Chinese, segment-stratified (optimistic) when computed, article level,
    and the margin over the reference (same folds)."""
    sc = ev.scores.set_index(["model", "scheme"])
    tr = transfer.set_index("model")
    art = articles.set_index("model") if articles is not None else None
    rows = []
    for name in dict.fromkeys(ev.scores["model"]):
        g = sc.loc[(name, "grouped")]
        row = {"model": name, "grouped": g["macro_f1"], "ci_low": g["ci_low"], "ci_high": g["ci_high"]}
        if (name, "grouped, no headings") in sc.index:
            row["no_headings"] = sc.loc[(name, "grouped, no headings"), "macro_f1"]
            row["heading_drop"] = row["grouped"] - row["no_headings"]
        row["en_to_zh"] = tr.loc[name, "macro_f1"] if name in tr.index else np.nan
        if (name, "stratified (optimistic)") in sc.index:
            row["stratified_optimistic"] = sc.loc[(name, "stratified (optimistic)"), "macro_f1"]
        if art is not None and name in art.index:
            row["article_level"] = art.loc[name, "macro_f1"]
        rows.append(row)
    out = pd.DataFrame(rows)
    if reference is not None and reference in set(out["model"]):
        out["over_reference"] = out["grouped"] - out.loc[out["model"] == reference, "grouped"].iloc[0]
    return out


def selection_figure(selection: pd.DataFrame, chosen: str | None = None):
    """Candidates side by side: grouped, headings removed, English → Chinese."""
    cols = [("grouped", "grouped by article"), ("no_headings", "headings removed"), ("en_to_zh", "train English → test Chinese")]
    cols = [(c, l) for c, l in cols if c in selection]
    fig, ax = figure(figsize=(8, 0.5 * len(selection) + 1.6))
    y = np.arange(len(selection))[::-1]
    h = 0.8 / len(cols)
    for i, ((c, lab), color) in enumerate(zip(cols, (PALETTE[0], PALETTE[1], PALETTE[2]))):
        if selection[c].isna().all():  # no bars would read as 0
            lab = f"{lab} (not measured)"
        ax.barh(y + (len(cols) / 2 - i - 0.5) * h, selection[c], height=h, color=color, label=lab)
    names = [f"▶ {m}" if m == chosen else m for m in selection["model"]]
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("macro-F1 (same grouped folds for every model)")
    ax.set_title("Model selection: which model generalises?")
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(axis="y", visible=False)
    return fig, selection


def confusion_figure(confusion: pd.DataFrame):
    """Row-normalised confusion matrix (recall on the diagonal), counts annotated."""
    order = _order(confusion.index)
    cm = confusion.loc[order, order]
    norm = cm.div(cm.sum(axis=1), axis=0)
    fig, ax = figure(figsize=(5.6, 4.6))
    im = ax.imshow(norm.values, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(order)), order, rotation=30, ha="right")
    ax.set_yticks(range(len(order)), order)
    for i in range(len(order)):
        for j in range(len(order)):
            ax.text(j, i, f"{norm.values[i, j]:.2f}\n({cm.values[i, j]})", ha="center", va="center", fontsize=8,
                    color="white" if norm.values[i, j] > 0.6 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.grid(False)
    ax.set_title("Confusion matrix (article-grouped folds, pooled over repeats)")
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of gold row")
    table = cm.reset_index().melt(id_vars="true", var_name="predicted", value_name="count")
    table["share_of_row"] = [norm.loc[t, p] for t, p in zip(table["true"], table["predicted"])]
    return fig, table


def learning_curve_figure(curve: pd.DataFrame, reference: float | None = None):
    """Macro-F1 on held-out articles against the training labels (grown by articles;
    mean ± sd over folds); the reference model's grouped score as a dashed line."""
    fig, ax = figure(figsize=(6.5, 3.6))
    ax.plot(curve["n_labels"], curve["macro_f1"], marker="o", color=PALETTE[0], label="chosen model")
    sd = curve["sd"].fillna(0)
    ax.fill_between(curve["n_labels"], curve["macro_f1"] - sd, curve["macro_f1"] + sd, color=PALETTE[0], alpha=0.2)
    if reference is not None:
        ax.axhline(reference, color="#999999", ls="--", lw=1, label="reference, all training articles")
    ax.set_xlabel("training labels (whole articles added)")
    ax.set_ylabel("macro-F1 on held-out articles")
    ax.set_ylim(0, 1)
    ax.set_title("Learning curve on article-grouped folds")
    ax.legend(loc="lower right")
    return fig, curve


def _stacked_shares(df: pd.DataFrame, by: str, title: str, horizontal: bool = True, rows: list | None = None,
                    unit: str = "segments"):
    order = _order(df["stance"])
    counts = pd.crosstab(df[by], df["stance"]).reindex(columns=order, fill_value=0)
    if rows is not None:
        counts = counts.reindex([r for r in rows if r in counts.index])
    shares = counts.div(counts.sum(axis=1), axis=0)
    fig, ax = figure(figsize=(8, max(2.6, 0.45 * len(shares) + 1.4)) if horizontal else (9, 3.8))
    left = np.zeros(len(shares))
    pos = np.arange(len(shares))[::-1] if horizontal else np.arange(len(shares))
    for lab in order:
        vals = shares[lab].to_numpy()
        if horizontal:
            ax.barh(pos, vals, left=left, color=STANCE_COLORS.get(lab), label=lab)
        else:
            ax.bar(pos, vals, bottom=left, color=STANCE_COLORS.get(lab), label=lab, width=0.8)
        left += vals
    labels = [f"{i} (n={n})" for i, n in zip(shares.index, counts.sum(axis=1))]
    if horizontal:
        ax.set_yticks(pos, labels)
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"share of {unit}")
        ax.grid(axis="y", visible=False)
    else:
        ax.set_xticks(pos, labels, rotation=45, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"share of {unit}")
        ax.grid(axis="x", visible=False)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="stance")
    table = counts.join(shares.add_prefix("share_")).reset_index()
    return fig, table


def stance_over_time(labels: pd.DataFrame, segments: pd.DataFrame, articles: pd.DataFrame, freq: str = "W-MON"):
    """Stance shares per week of publication (undated articles left out, and counted in the title)."""
    df = labels.merge(segments[["segment_id", "article_id"]], on="segment_id").merge(articles[["article_id", "published"]], on="article_id")
    dated = df[df["published"] != ""].copy()
    period = parse_published(dated["published"]).dt.to_period(freq.split("-")[0] if freq.startswith("W") else freq)
    dated["week"] = period.dt.start_time.dt.strftime("%Y-%m-%d")
    n_undated = int((df["published"] == "").sum())
    fig, table = _stacked_shares(dated, "week", f"Stance share by week of publication ({n_undated} undated segments not shown)", horizontal=False)
    return fig, table


def stance_by(labels: pd.DataFrame, segments: pd.DataFrame, articles: pd.DataFrame, column: str, title: str):
    """Stance shares by an article column (``queries`` is split: an article counts for each query)."""
    df = labels.merge(segments[["segment_id", "article_id"]], on="segment_id").merge(articles[["article_id", column]], on="article_id")
    if column == "queries":
        df = df.assign(queries=split_queries(df["queries"])).explode("queries")
    df[column] = df[column].replace("", "(none)")
    return _stacked_shares(df, column, title)


def stance_by_topic(labels: pd.DataFrame, topics: pd.DataFrame):
    """Stance shares within each topic (topics from ``data/processed/topic_assignments.csv``).
    Every segment in ``labels`` must have a topic: ids missing from ``topics`` (assignments
    from another corpus) raise instead of being dropped by the join."""
    missing = set(labels["segment_id"]) - set(topics["segment_id"])
    if missing:
        raise ValueError(f"{len(missing)} of {labels['segment_id'].nunique()} segments have no topic assignment "
                         f"(e.g. {sorted(missing)[0]}): the assignments come from another corpus; rerun notebook 02")
    df = labels.merge(topics[["segment_id", "topic", "topic_name"]], on="segment_id", validate="m:1")
    rows = df.drop_duplicates("topic_name").sort_values("topic")["topic_name"].tolist()  # -1 (outliers) first, then 0, 1, …
    return _stacked_shares(df, "topic_name", "Stance share within each topic", rows=rows)


def reading(selection: pd.DataFrame, chosen: str, default: str, reference: str, per_class: pd.DataFrame,
            curve: pd.DataFrame, targets: dict, n_segments: int, n_articles: int, n_candidates: int) -> str:
    """Sentences that read the evaluation, written from this run's numbers."""
    s = selection.set_index("model")
    d, ref = s.loc[default], s.loc[reference]
    t = targets["stance_macro_f1_grouped"]
    out = [f"On folds grouped by article ({n_articles} articles, {n_segments} gold segments), the model in use "
           f"({default}) reaches macro-F1 {d['grouped']:.2f} (95% interval over articles {d['ci_low']:.2f}–{d['ci_high']:.2f}), "
           f"{'meeting' if d['grouped'] >= t else 'below'} the {t:.2f} target; the plain reference scores {ref['grouped']:.2f} "
           f"on the same folds ({d['grouped'] - ref['grouped']:+.2f}; target {targets['stance_over_reference']:+.2f})."]
    if "stratified_optimistic" in s and not np.isnan(d.get("stratified_optimistic", np.nan)):
        out.append(f"Folds that split articles would report {d['stratified_optimistic']:.2f}: segments of one article "
                   f"share wording, so that number leaks and is not the one to quote.")
    if np.isnan(d["en_to_zh"]):
        out.append("The English → Chinese check was not measured: the gold set lacks English or Chinese segments.")
    else:
        out.append(f"Trained on English segments only, it scores {d['en_to_zh']:.2f} on the Chinese ones (reference "
                   f"{ref['en_to_zh']:.2f}; target {targets['stance_en_to_zh']:.2f}).")
    out.append(f"With headings removed from the test segments it scores {d['no_headings']:.2f} "
               f"({round(-d['heading_drop'], 2) + 0.0:+.2f} against with headings).")
    if chosen == default:
        out.append(f"Among the {n_candidates} candidates, the rule (within 0.02 of the best grouped score, the best mean of "
                   f"English → Chinese, headings removed and article level) picks the model in use.")
    else:
        out.append(f"Among the {n_candidates} candidates, the rule (within 0.02 of the best grouped score, the best mean of "
                   f"English → Chinese, headings removed and article level) picks {chosen} ({s.loc[chosen, 'grouped']:.2f} grouped), not the model in use: "
                   f"a difference of {s.loc[chosen, 'grouped'] - d['grouped']:+.2f} that this gold set cannot tell from noise.")
    out.append(f"Choosing the best of {n_candidates} on the same folds flatters the winner a little: its score is an "
               f"upper estimate of what a fresh set of articles would give.")
    pc = per_class.sort_values("f1")
    weakest, strongest = pc.iloc[0], pc.iloc[-1]
    out.append(f"The weakest class is {weakest['label']} (F1 {weakest['f1']:.2f}, precision {weakest['precision']:.2f}, "
               f"recall {weakest['recall']:.2f}, {int(weakest['support'])} examples); the strongest is {strongest['label']} "
               f"(F1 {strongest['f1']:.2f}).")
    if len(curve) >= 2:
        a, b = curve.iloc[-2], curve.iloc[-1]
        slope = (b["macro_f1"] - a["macro_f1"]) / max(1, b["n_labels"] - a["n_labels"]) * 100
        verdict = "still rising: labelling more articles should pay" if slope > 0.005 else "flat: more labels of the same kind will add little"
        out.append(f"The learning curve goes from {curve.iloc[0]['macro_f1']:.2f} at {curve.iloc[0]['n_labels']:.0f} labels "
                   f"({curve.iloc[0]['n_articles']:.0f} articles) to {b['macro_f1']:.2f} at {b['n_labels']:.0f} "
                   f"({slope:+.3f} per 100 labels at the end): {verdict}.")
        need = labels_for_target(curve, t)
        if d["grouped"] < t and need is not None:
            gold_needed = need * n_segments / b["n_labels"]
            out.append(f"Extrapolating the upper half of the curve (macro-F1 linear in log labels), the target needs about "
                       f"{gold_needed:.0f} gold segments, {gold_needed - n_segments:.0f} more than now, if new labels are like "
                       f"these; a rough guide, not a promise.")
    out.append("What these numbers cannot show: the gold segments are mostly English AI summaries of a few dozen articles "
               "from few outlets; real prose, other outlets and Traditional-script text are only approximated "
               "(headings removed, the Chinese segments, script conversion before embedding).")
    return " ".join(out)


def targets_table(selection: pd.DataFrame, default: str, reference: str, targets: dict) -> pd.DataFrame:
    """The issue's targets against this run's numbers for the model in use."""
    s = selection.set_index("model")
    d, ref = s.loc[default], s.loc[reference]
    rows = [
        ("grouped macro-F1", f">= {targets['stance_macro_f1_grouped']}", d["grouped"], d["grouped"] >= targets["stance_macro_f1_grouped"]),
        ("grouped macro-F1 over reference", f">= +{targets['stance_over_reference']}", d["grouped"] - ref["grouped"],
         d["grouped"] - ref["grouped"] >= targets["stance_over_reference"]),
        ("train English → test Chinese", f">= {targets['stance_en_to_zh']}", d["en_to_zh"], d["en_to_zh"] >= targets["stance_en_to_zh"]),
        ("drop with headings removed", f"<= {targets['stance_heading_drop']}", d["heading_drop"],
         d["heading_drop"] <= targets["stance_heading_drop"]),
    ]
    return pd.DataFrame([{"target": a, "wanted": b, "measured": round(float(c), 3) if not np.isnan(c) else "not measured",
                          "met": bool(e) if not np.isnan(c) else None} for a, b, c, e in rows])


def article_stance_by(art: pd.DataFrame, articles: pd.DataFrame, by: str, title: str, freq: str = "W"):
    """Article-level stance shares by outlet (``by="source"``) or by week (``by="week"``)."""
    df = art[["article_id", "stance"]].merge(articles[["article_id", "source", "published"]], on="article_id")
    if by == "week":
        dated = df[df["published"] != ""].copy()
        dated["week"] = parse_published(dated["published"]).dt.to_period(freq).dt.start_time.dt.strftime("%Y-%m-%d")
        n_undated = len(df) - len(dated)
        fig, table = _stacked_shares(dated, "week", f"{title} ({n_undated} undated articles not shown)", horizontal=False,
                                     unit="articles")
    else:
        df[by] = df[by].replace("", "(unknown)")
        fig, table = _stacked_shares(df, by, title, unit="articles")
    return fig, table


def labels_for_target(curve: pd.DataFrame, target: float) -> float | None:
    """Training labels at which the learning curve would reach ``target``, from a fit of
    macro-F1 = a + b·ln(labels) to the curve's upper half; None if the curve is not rising."""
    upper = curve[curve["n_labels"] >= curve["n_labels"].median()]
    sizes = upper["n_labels"].to_numpy(float)
    if len(upper) < 2 or np.ptp(np.log(sizes)) < 0.1:  # one training size (a tiny gold set): no slope to read
        return None
    b, a = np.polyfit(np.log(sizes), upper["macro_f1"].to_numpy(float), 1)
    if not b > 1e-3:  # flat or falling (or noise around flat): no finite answer
        return None
    return float(np.exp((target - a) / b))
