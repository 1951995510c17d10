"""Tables and figures of ``notebooks/03-stance.ipynb``: evaluation and stance distributions.

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


def scores_figure(scores: pd.DataFrame, target: float | None = None):
    """Macro-F1 with its 95% interval for the classifier and the baselines."""
    fig, ax = figure(figsize=(6.5, 2.8))
    y = np.arange(len(scores))[::-1]
    ax.barh(y, scores["macro_f1"], color=[PALETTE[0], "#999999", PALETTE[1]][: len(scores)])
    ax.errorbar(scores["macro_f1"], y, xerr=[scores["macro_f1"] - scores["ci_low"], scores["ci_high"] - scores["macro_f1"]],
                fmt="none", ecolor="black", capsize=3)
    ax.set_yticks(y, scores["model"])
    if target is not None:
        ax.axvline(target, color=PALETTE[3], ls="--", lw=1)
        ax.annotate(f"target {target}", (target, y.max() + 0.45), color=PALETTE[3], fontsize=8, ha="center")
    ax.set_xlim(0, 1)
    ax.set_xlabel("macro-F1 (repeated stratified 5-fold CV; bars: 95% bootstrap interval)")
    ax.set_title("Stance classifier against baselines")
    ax.grid(axis="y", visible=False)
    return fig, scores


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
    ax.set_title("Confusion matrix (out-of-fold, pooled over repeats)")
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of gold row")
    table = cm.reset_index().melt(id_vars="true", var_name="predicted", value_name="count")
    table["share_of_row"] = [norm.loc[t, p] for t, p in zip(table["true"], table["predicted"])]
    return fig, table


def learning_curve_figure(curve: pd.DataFrame, baselines: pd.DataFrame | None = None):
    """Macro-F1 against the number of training labels (mean ± sd over folds)."""
    fig, ax = figure(figsize=(6.5, 3.6))
    ax.plot(curve["n_labels"], curve["macro_f1"], marker="o", color=PALETTE[0], label="classifier")
    sd = curve["sd"].fillna(0)
    ax.fill_between(curve["n_labels"], curve["macro_f1"] - sd, curve["macro_f1"] + sd, color=PALETTE[0], alpha=0.2)
    if baselines is not None:
        for (_, r), color in zip(baselines.iterrows(), ("#999999", PALETTE[1])):
            ax.axhline(r["macro_f1"], color=color, ls="--", lw=1, label=r["model"])
    ax.set_xlabel("training labels")
    ax.set_ylabel("macro-F1 on held-out folds")
    ax.set_ylim(0, 1)
    ax.set_title("Learning curve: does labelling more pay?")
    ax.legend(loc="lower right")
    return fig, curve


def _stacked_shares(df: pd.DataFrame, by: str, title: str, horizontal: bool = True, rows: list | None = None):
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
        ax.set_xlabel("share of segments")
        ax.grid(axis="y", visible=False)
    else:
        ax.set_xticks(pos, labels, rotation=45, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of segments")
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
    """Stance shares within each topic (topics from ``data/processed/topic_assignments.csv``)."""
    df = labels.merge(topics[["segment_id", "topic", "topic_name"]], on="segment_id")
    rows = df.drop_duplicates("topic_name").sort_values("topic")["topic_name"].tolist()  # -1 (outliers) first, then 0, 1, …
    return _stacked_shares(df, "topic_name", "Stance share within each topic", rows=rows)


def reading(scores: pd.DataFrame, per_class: pd.DataFrame, curve: pd.DataFrame, target: float = 0.75) -> str:
    """A few sentences that read the evaluation, written from this run's numbers."""
    s = scores.set_index("model")
    clf = s.loc["classifier"]
    pc = per_class[per_class["model"] == "classifier"].sort_values("f1")
    weakest, strongest = pc.iloc[0], pc.iloc[-1]
    out = [f"The classifier reaches macro-F1 {clf['macro_f1']:.2f} (95% interval {clf['ci_low']:.2f}–{clf['ci_high']:.2f}) "
           f"on {int(clf['n'])} gold segments, {'meeting' if clf['macro_f1'] >= target else 'below'} the {target:.2f} target."]
    if "keyword lexicon" in s.index:
        out.append(f"That is {clf['macro_f1'] - s.loc['keyword lexicon', 'macro_f1']:+.2f} over the keyword lexicon "
                   f"({s.loc['keyword lexicon', 'macro_f1']:.2f}) and {clf['macro_f1'] - s.loc['majority class', 'macro_f1']:+.2f} over the majority class.")
    out.append(f"The weakest class is {weakest['label']} (F1 {weakest['f1']:.2f}, precision {weakest['precision']:.2f}, "
               f"recall {weakest['recall']:.2f}, {int(weakest['support'])} examples); the strongest is {strongest['label']} (F1 {strongest['f1']:.2f}).")
    if len(curve) >= 2:
        a, b = curve.iloc[-2], curve.iloc[-1]
        slope = (b["macro_f1"] - a["macro_f1"]) / max(1, b["n_labels"] - a["n_labels"]) * 100
        verdict = "still rising: labelling more should pay" if slope > 0.005 else "flat: more labels of the same kind will add little"
        out.append(f"The learning curve goes from {curve.iloc[0]['macro_f1']:.2f} at {int(curve.iloc[0]['n_labels'])} labels to "
                   f"{b['macro_f1']:.2f} at {int(b['n_labels'])} ({slope:+.3f} per 100 labels at the end): {verdict}.")
        need = labels_for_target(curve, target)
        if clf["macro_f1"] < target and need is not None:
            gold_needed = need * clf["n"] / b["n_labels"]  # training folds hold n_labels of the n gold segments
            out.append(f"Extrapolating the upper half of the curve (macro-F1 linear in log labels), the target needs about "
                       f"{gold_needed:.0f} gold segments, {gold_needed - clf['n']:.0f} more than now, if new labels are like "
                       f"these (the rare classes above all); a rough guide, not a promise.")
    return " ".join(out)


def labels_for_target(curve: pd.DataFrame, target: float) -> float | None:
    """Training labels at which the learning curve would reach ``target``, from a fit of
    macro-F1 = a + b·ln(labels) to the curve's upper half; None if the curve is not rising."""
    upper = curve[curve["n_labels"] >= curve["n_labels"].median()]
    if len(upper) < 2:
        return None
    b, a = np.polyfit(np.log(upper["n_labels"].to_numpy(float)), upper["macro_f1"].to_numpy(float), 1)
    if b <= 0:
        return None
    return float(np.exp((target - a) / b))
