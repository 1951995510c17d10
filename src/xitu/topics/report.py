"""What a fitted topic model says, for a reader: assignment tables, topics over time and by
query, the figures, and the generated reading text. See :mod:`xitu.topics`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from xitu.corpus import parse_published, split_queries
from xitu.text import HAN_RE
from xitu.topics.model import OUTLIER, TopicFit, reduce_dimensions, round_sig
from xitu.topics.quality import language_mix, mixed_share

# --------------------------------------------------------------------------- assignments


__all__ = [
    "word_rules_figure",
    "stability_figure",
    "heldout_npmi_figure",
    "segment_assignments",
    "TopicsOverTime",
    "topics_over_time",
    "topics_by_query",
    "topic_colors",
    "topic_sizes",
    "share_over_time_figure",
    "query_heatmap_figure",
    "topic_map",
    "MEASURES",
    "comparison_figure",
    "describe_topics",
    "topic_words_table",
    "topic_examples",
    "hierarchy_figure",
    "topic_linkage",
    "language_figure",
    "class_heatmap_figure",
    "topics_by_class",
]

def segment_assignments(fit: TopicFit, documents: pd.DataFrame, segments: pd.DataFrame,
                        unit: str = "segment") -> pd.DataFrame:
    """One row per segment: ``segment_id, topic, topic_name, probability, reassigned, unit``
    (for the article unit each segment gets its article's topic)."""
    a = fit.assignments(documents["doc_id"])
    if unit == "article":
        a = a.rename(columns={"segment_id": "article_id"})
        a = segments[["segment_id", "article_id"]].merge(a, on="article_id", how="left", validate="m:1")
        a = a.drop(columns="article_id")
    a["unit"] = unit
    return a[["segment_id", "topic", "topic_name", "probability", "reassigned", "unit"]].reset_index(drop=True)


# --------------------------------------------------------------------------- over time, by query


@dataclass
class TopicsOverTime:
    """Topic counts and shares per period, with BERTopic's words of each topic in each period.

    ``table`` has one row per period and topic (``period`` ``"undated"`` for the documents
    without a date, which BERTopic cannot place); ``undated`` lists those documents;
    ``global_tuning`` says whether BERTopic's global tuning was used (it is switched off
    when a topic has no dated document, because BERTopic then mis-aligns its rows)."""

    table: pd.DataFrame
    undated: pd.DataFrame
    freq: str
    global_tuning: bool

    @property
    def n_undated(self) -> int:
        return len(self.undated)


def topics_over_time(fit: TopicFit, published: Sequence[str], ids: Sequence[str] | None = None,
                     freq: str = "M") -> TopicsOverTime:
    """Topic shares per period (``freq``: a pandas period alias, ``"M"`` months, ``"W"``
    weeks) and BERTopic's ``topics_over_time`` words per topic and period.

    BERTopic gets real datetimes (the start of each period): it would otherwise call
    ``pd.to_datetime(..., infer_datetime_format=...)``, which pandas 3 rejects. Undated
    documents are left out of BERTopic's call and reported in ``undated`` and as the
    ``"undated"`` period of ``table``."""
    ids = list(ids) if ids is not None else list(range(len(fit.docs)))
    if not (len(published) == len(fit.docs) == len(ids)):
        raise ValueError(f"{len(published)} timestamps and {len(ids)} ids for {len(fit.docs)} documents")
    ts = parse_published(published)
    dated = ts.notna().to_numpy()
    if not dated.any():
        raise ValueError("no document has a date; topics over time is undefined")
    start = ts.dt.to_period(freq).dt.start_time
    topics = fit.topics
    missing = set(int(t) for t in fit.model.topic_sizes_) - set(topics[dated].tolist())
    global_tuning = not missing
    idx = np.flatnonzero(dated)
    bt = fit.model.topics_over_time(
        [fit.docs[i] for i in idx], [start.iloc[i] for i in idx], topics=[int(topics[i]) for i in idx],
        global_tuning=global_tuning, evolution_tuning=True,
    )
    period = start.dt.strftime("%Y-%m" if freq.upper().startswith("M") else "%Y-%m-%d").where(dated, "undated")
    df = pd.DataFrame({"period": period.to_numpy(), "topic": topics})
    counts = df.groupby(["period", "topic"]).size()
    all_topics = sorted(set(topics.tolist()))
    # every period from the first to the last, empty ones included (an honest time axis)
    span = pd.period_range(ts.min(), ts.max(), freq=freq).start_time
    periods = list(span.strftime("%Y-%m" if freq.upper().startswith("M") else "%Y-%m-%d"))
    if not dated.all():
        periods.append("undated")
    grid = pd.MultiIndex.from_product([periods, all_topics], names=["period", "topic"])
    table = counts.reindex(grid, fill_value=0).rename("documents").reset_index()
    totals = table.groupby("period", sort=False)["documents"].transform("sum")
    table["share"] = round_sig((table["documents"] / totals.where(totals > 0)).fillna(0.0), 4)
    table["topic_name"] = table["topic"].map(fit.names)
    table["words"] = _cell_words(fit, df["period"].to_numpy(), table)
    table = table[["period", "topic", "topic_name", "documents", "share", "words"]]
    undated = pd.DataFrame({"doc_id": [ids[i] for i in np.flatnonzero(~dated)],
                            "topic": topics[~dated], "text": [fit.docs[i] for i in np.flatnonzero(~dated)]})
    return TopicsOverTime(table, undated, freq, global_tuning)


def _cell_words(fit: TopicFit, periods: np.ndarray, table: pd.DataFrame, topn: int = 5) -> list[str]:
    """Top words of each (period, topic) cell: the cell's word counts weighted by the
    model's c-TF-IDF idf, fillers left out, sorted by (−score, word) — deterministic on
    every machine (BERTopic's own per-period words come from an unstable sort)."""
    vec = fit.model.vectorizer_model
    vocab = np.asarray(vec.get_feature_names_out(), dtype=object)
    idf = np.asarray(fit.model.ctfidf_model._idf_diag.diagonal()).ravel()
    keep = np.array([w not in set(fit.fillers) for w in vocab])
    X = vec.transform(fit.docs).tocsr()
    out = []
    for p, t in zip(table["period"], table["topic"]):
        rows = np.flatnonzero((periods == p) & (fit.topics == t))
        if not len(rows):
            out.append("")
            continue
        tf = np.asarray(X[rows].sum(axis=0)).ravel()
        score = round_sig(tf * idf, 10)
        idx = np.flatnonzero((score > 0) & keep)
        order = idx[np.lexsort((vocab[idx], -score[idx]))][:topn]
        out.append(", ".join(str(vocab[i]) for i in order))
    return out


def topics_by_class(fit: TopicFit, classes: Sequence[str], column: str = "class") -> pd.DataFrame:
    """Documents per class (outlet, language, …) and topic, every combination listed;
    ``share`` is within the class (4 significant digits). A missing class (empty, NaN or None)
    is ``"(none)"``."""
    df = pd.DataFrame({column: ["(none)" if c is None or (isinstance(c, float) and np.isnan(c)) or not str(c) else str(c)
                                for c in classes], "topic": fit.topics})
    counts = df.groupby([column, "topic"]).size()
    grid = pd.MultiIndex.from_product([sorted(df[column].unique()), sorted(set(fit.topics.tolist()))],
                                      names=[column, "topic"])
    table = counts.reindex(grid, fill_value=0).rename("documents").reset_index()
    table["share"] = round_sig(table["documents"] / table.groupby(column)["documents"].transform("sum"), 4)
    table["topic_name"] = table["topic"].map(fit.names)
    return table[[column, "topic", "topic_name", "documents", "share"]]


def class_heatmap_figure(table: pd.DataFrame, column: str, names: dict[int, str], title: str | None = None,
                         max_classes: int = 25):
    """Heatmap: share of each class's documents per topic (numbers: documents). With more
    than ``max_classes`` classes the largest are shown and the rest pooled as "(other)"
    (in the figure and its table)."""
    totals = table.groupby(column)["documents"].sum().sort_values(ascending=False, kind="stable")
    if len(totals) > max_classes:
        keep = set(sorted(totals.index, key=lambda c: (-totals[c], c))[:max_classes - 1])
        table = table.assign(**{column: table[column].where(table[column].isin(keep), "(other)")})
        table = table.groupby([column, "topic"], as_index=False).agg(documents=("documents", "sum"),
                                                                    topic_name=("topic_name", "first"))
        table["share"] = round_sig(table["documents"] / table.groupby(column)["documents"].transform("sum"), 4)
        table = table[[column, "topic", "topic_name", "documents", "share"]]
    fig, ax = _topic_heatmap(table, column, names, 1.1, "Purples", f"share of the {column}'s documents")
    ax.set_title(title or f"Topics by {column} (numbers: documents)")
    return fig, table


def topics_by_query(fit: TopicFit, queries: Sequence[str]) -> pd.DataFrame:
    """Documents per search query and topic; a document found by several queries
    (``"q1; q2"``) counts for each. ``share`` is within the query."""
    df = pd.DataFrame({"query": list(queries), "topic": fit.topics})
    df["query"] = split_queries(df["query"])
    df = df.explode("query")
    df["query"] = df["query"].replace("", "(no query)")
    counts = df.groupby(["query", "topic"]).size()
    grid = pd.MultiIndex.from_product([sorted(df["query"].unique()), sorted(set(fit.topics.tolist()))],
                                      names=["query", "topic"])
    table = counts.reindex(grid, fill_value=0).rename("documents").reset_index()
    table["share"] = round_sig(table["documents"] / table.groupby("query")["documents"].transform("sum"), 4)
    table["topic_name"] = table["topic"].map(fit.names)
    return table[["query", "topic", "topic_name", "documents", "share"]]


# --------------------------------------------------------------------------- figures


def topic_colors(topics: Iterable[int]) -> dict[int, str]:
    """A fixed colour per topic id (tab20, in id order); outliers grey."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    ids = sorted(set(int(t) for t in topics) - {OUTLIER})
    out = {t: matplotlib.colors.to_hex(cmap(i % 20)) for i, t in enumerate(ids)}
    out[OUTLIER] = "#bbbbbb"
    return out


def topic_sizes(fit: TopicFit, languages: Sequence[str] | None = None):
    """Documents per topic (largest first, outliers last) with the top terms; returns
    ``(fig, table)``."""
    from xitu.plots import figure

    words = fit.topic_words(include_outliers=True)
    t = pd.Series(fit.topics)
    table = t.value_counts().rename_axis("topic").reset_index(name="documents")
    table["share"] = round_sig(table["documents"] / len(t), 4)
    table["reassigned_outliers"] = [0 if k == OUTLIER else int(((fit.topics == k) & (fit.topics_raw == OUTLIER)).sum())
                                    for k in table["topic"]]
    if languages is not None:
        lang = np.asarray(list(languages))
        table["zh_documents"] = [int(((fit.topics == k) & (lang == "zh")).sum()) for k in table["topic"]]
    table["topic_name"] = table["topic"].map(fit.names)
    table["top_terms"] = [", ".join(words.get(int(k), [])) for k in table["topic"]]
    if fit.words_by_language:
        table["english_words"] = [", ".join(fit.words_by_language.get(int(k), {}).get("en", [])[:6]) for k in table["topic"]]
        table["chinese_words"] = ["、".join(fit.words_by_language.get(int(k), {}).get("zh", [])[:6]) for k in table["topic"]]
    table = table.assign(_o=table["topic"].eq(OUTLIER)).sort_values(
        ["_o", "documents", "topic"], ascending=[True, False, True], kind="stable").drop(columns="_o")
    table = table.reset_index(drop=True)
    cols = ["topic", "topic_name", "documents", "share", "reassigned_outliers"]
    cols += ["zh_documents"] if languages is not None else []
    table = table[cols + ["top_terms"] + (["english_words", "chinese_words"] if fit.words_by_language else [])]

    colors = topic_colors(fit.topics)
    fig, ax = figure(figsize=(12, 0.42 * len(table) + 1.5))
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["documents"], color=[colors[int(k)] for k in table["topic"]])
    ax.set_yticks(y, table["topic_name"])
    xmax = float(table["documents"].max())
    zh_words = table["chinese_words"] if "chinese_words" in table else [""] * len(table)
    for yi, n, sh, terms, zw in zip(y, table["documents"], table["share"], table["top_terms"], zh_words):
        short = ", ".join(w for w in terms.split(", ") if not HAN_RE.search(w))
        short = ", ".join(short.split(", ")[:5]) + (f"  |  {'、'.join(zw.split('、')[:3])}" if zw else "")
        ax.annotate(f"{n} ({sh:.0%})  {short}", (n, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color="#333333")
    ax.set_xlim(0, xmax * 2.9)
    ax.set_xlabel("documents")
    ax.grid(axis="y", visible=False)
    n_reassigned = int(((fit.topics_raw == OUTLIER) & (fit.topics != OUTLIER)).sum())
    ax.set_title(f"Topic sizes and top terms\n(BERTopic, {fit.n_topics} topics, {len(t)} documents; "
                 f"{n_reassigned} outliers placed by their neighbours)")
    return fig, table


def _topic_order(index) -> list[int]:
    """Topic ids in id order, outliers last."""
    return sorted(index, key=lambda t: (t == OUTLIER, t))


def _heatmap(ax, matrix: pd.DataFrame, counts: pd.DataFrame, cmap="Blues"):
    im = ax.imshow(matrix.to_numpy(dtype=float), aspect="auto", cmap=cmap, vmin=0, vmax=max(0.01, float(matrix.max().max())))
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            n = int(counts.iat[i, j])
            if n:
                v = float(matrix.iat[i, j])
                ax.text(j, i, str(n), ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * float(matrix.max().max()) else "#222222")
    ax.set_yticks(range(matrix.shape[0]), [str(x) for x in matrix.index])
    ax.grid(False)
    return im


def _topic_heatmap(table: pd.DataFrame, column: str, names: dict[int, str], width_per_column: float,
                   cmap: str, bar_label: str):
    """Heatmap of each ``column`` value's documents per topic (share as colour, documents as
    numbers), with the column totals under the tick labels. Returns ``(fig, ax)``."""
    from xitu.plots import figure

    share = table.pivot(index="topic", columns=column, values="share")
    share = share.reindex(_topic_order(share.index))
    counts = table.pivot(index="topic", columns=column, values="documents").reindex_like(share)
    share.index = [names.get(int(k), str(k)) for k in share.index]
    totals = table.groupby(column)["documents"].sum()
    fig, ax = figure(figsize=(max(6, width_per_column * share.shape[1] + 4.5), 0.38 * share.shape[0] + 1.8))
    im = _heatmap(ax, share, counts, cmap=cmap)
    ax.set_xticks(range(share.shape[1]), [f"{c}\nn={int(totals[c])}" for c in share.columns])
    fig.colorbar(im, ax=ax, label=bar_label, shrink=0.8)
    return fig, ax


def share_over_time_figure(over: TopicsOverTime, names: dict[int, str]):
    """Heatmap: share of each period's documents per topic (numbers: documents). Returns
    ``(fig, table)``; the table includes the undated documents as period ``"undated"``."""
    t = over.table
    fig, ax = _topic_heatmap(t[t["period"] != "undated"], "period", names, 1.0, "Blues",
                             "share of the period's documents")
    unit = "month" if over.freq.upper().startswith("M") else "period"
    ax.set_title(f"Topic share per {unit} (numbers: documents; {over.n_undated} undated documents not shown)")
    return fig, t


def query_heatmap_figure(table: pd.DataFrame, names: dict[int, str]):
    """Heatmap: share of each search query's documents per topic (numbers: documents)."""
    fig, ax = _topic_heatmap(table, "query", names, 1.1, "Oranges", "share of the query's documents")
    ax.set_title("Topics by search query (numbers: documents)")
    return fig, table


def topic_map(fit: TopicFit, ids: Sequence[str] | None = None, languages: Sequence[str] | None = None,
              seed: int | None = None):
    """2-D UMAP of the document embeddings (cosine, seeded, duplicates merged, with the
    machine-independent recipe of :func:`xitu.topics.model.reduce_dimensions`), coloured by
    topic; topic ids at each topic's median position. Returns ``(fig, table)``."""
    from xitu.plots import figure

    seed = fit.settings.seed if seed is None else seed
    n = len(fit.docs)
    xy, _ = reduce_dimensions(fit.embeddings, replace(fit.settings, n_components=2, min_dist=0.1, seed=seed,
                                                      reducer="umap", output_decimals=4))
    table = pd.DataFrame({"doc_id": list(ids) if ids is not None else list(range(n)),
                          "x": np.round(xy[:, 0], 4), "y": np.round(xy[:, 1], 4), "topic": fit.topics})
    table["topic_name"] = table["topic"].map(fit.names)
    if languages is not None:
        table["language"] = list(languages)
    colors = topic_colors(fit.topics)
    fig, ax = figure(figsize=(8.5, 6.5))
    for t in sorted(set(fit.topics.tolist())):
        sub = table[table["topic"] == t]
        zh = sub["language"].eq("zh") if languages is not None else pd.Series(False, index=sub.index)
        for mask, marker in ((~zh, "o"), (zh, "^")):
            part = sub[mask]
            if len(part):
                ax.scatter(part["x"], part["y"], s=14 if t != OUTLIER else 10, c=colors[t], marker=marker,
                           alpha=0.85 if t != OUTLIER else 0.6, linewidths=0,
                           label=fit.names[t] if marker == "o" or not (~zh).any() else None)
        if t != OUTLIER:
            ax.annotate(str(t), (sub["x"].median(), sub["y"].median()), fontsize=9,
                        ha="center", va="center", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec=colors[t], alpha=0.8))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=1.5)
    extra = " (triangles: Chinese segments)" if languages is not None else ""
    ax.set_title(f"Documents in two dimensions (UMAP of the embeddings), coloured by topic{extra}")
    return fig, table


MEASURES = (("npmi", "NPMI coherence (higher = better)"),
            ("npmi_within", "NPMI, pairs of one language\n(cross-language pairs left out)"), ("diversity", "Topic diversity"),
            ("outlier_share", "Outlier share after reduction"), ("ari", "Stability: ARI across seeds"),
            ("mixed_share", "Chinese segments in topics\nalso holding English"))


def comparison_figure(summary: pd.DataFrame):
    """Bars with ±1 SD over seeds for NPMI, diversity and outlier share of each model.
    Fit times are left out of the figure and its CSV, as they differ from run to run."""
    from xitu.plots import PALETTE, figure

    measures = [(m, title) for m, title in MEASURES if f"{m}_mean" in summary.columns]
    fig, axes = figure(1, len(measures), figsize=(3.1 * len(measures) + 1.5, 3.6))
    models = list(summary["model"])
    for ax, (m, title) in zip(np.atleast_1d(axes), measures):
        mean, sd = summary[f"{m}_mean"].to_numpy(), summary[f"{m}_sd"].to_numpy()
        x = np.arange(len(models))
        ax.bar(x, mean, yerr=sd, capsize=4, color=PALETTE[: len(models)])
        ax.set_xticks(x, [f"{name}\n{v:.3f} ± {e:.3f}" if np.isfinite(v) else f"{name}\nnot measured"
                          for name, v, e in zip(models, mean, sd)], fontsize=8)
        ax.axhline(0, color="#666666", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", visible=False)
    n = int(summary["seeds"].iloc[0]) if len(summary) else 0
    fig.suptitle(f"BERTopic vs LDA vs NMF on the same tokens (mean ± SD over {n} seeds; ARI: mean with the other seeds)",
                 fontsize=12, x=0.01, ha="left")
    counts = [c for c in ("seeds", "seeds_with_topics") if c in summary.columns]
    measures = [f"{m}_{s}" for m in ("n_topics", "npmi", "npmi_within", "diversity", "outlier_share_raw",
                                     "outlier_share", "ari", "mixed_share")
                for s in ("mean", "sd") if f"{m}_{s}" in summary.columns]
    table = summary[["model", *counts, *measures]].copy()
    for c in measures:
        table[c] = round_sig(table[c].astype(float), 4)
    return fig, table


def stability_figure(fit: TopicFit, others: Sequence[np.ndarray]):
    """Each topic's mean Jaccard with its best match in the other seeds
    (:func:`xitu.topics.topic_stability`), whiskers down to the smallest, with Hennig's
    lines at 0.6 (not to be trusted below) and 0.75 (stable from); returns ``(fig, table)``."""
    from xitu.plots import figure
    from xitu.topics.quality import JACCARD_STABLE, JACCARD_UNTRUSTED, topic_stability

    table = topic_stability(fit.topics, others)
    table.insert(1, "topic_name", table["topic"].map(fit.names))
    for c in ("jaccard_mean", "jaccard_min", "recurs_share"):  # as written to the CSV, and judged as written
        table[c] = round_sig(table[c].astype(float), 4)
    colors = topic_colors(fit.topics)
    fig, ax = figure(figsize=(9, 0.42 * max(len(table), 1) + 1.5))
    y = np.arange(len(table))[::-1]
    if len(table) and not others:
        ax.text(0.5, 0.5, "one seed only: no other seed to compare with", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_yticks([])
    elif len(table):
        ax.barh(y, table["jaccard_mean"], color=[colors[int(k)] for k in table["topic"]])
        ax.errorbar(table["jaccard_mean"], y, xerr=[table["jaccard_mean"] - table["jaccard_min"], np.zeros(len(table))],
                    fmt="none", ecolor="#333333", capsize=3, linewidth=0.9)
        ax.set_yticks(y, table["topic_name"])
        for yi, m, n in zip(y, table["jaccard_mean"], table["documents"]):
            ax.annotate(f"{m:g}  ({n} docs)", (1.0, yi), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=8, color="#333333", annotation_clip=False)
    else:
        ax.text(0.5, 0.5, "no topic in this fit", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    for x, what in ((JACCARD_UNTRUSTED, "not to be trusted below"), (JACCARD_STABLE, "stable from")):
        ax.axvline(x, color="#777777", linestyle="--", linewidth=0.9)
        ax.annotate(what, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 2), textcoords="offset points",
                    fontsize=8, color="#555555")
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("Jaccard with the best-matching topic of each other seed (bar: mean; whisker: smallest)")
    ax.grid(axis="y", visible=False)
    stable = int((table["jaccard_mean"] >= JACCARD_STABLE).sum())
    counted = (f"{stable} of {len(table)} stable" if others else
               "not measured (one seed: no other seed to compare with)")  # not "0 of N stable"
    ax.set_title(f"Topics that recur across seeds: {counted}\n"
                 f"(mean Jaccard ≥ {JACCARD_STABLE} with their best match in {len(others)} other seeds; Hennig 2007)",
                 fontsize=10, loc="left", pad=14)
    return fig, table


def word_rules_figure(rules: pd.DataFrame, models: pd.DataFrame | None = None, diversity_target: float | None = None):
    """NPMI against diversity of each rule for topic words on BERTopic's clusters
    (:func:`xitu.topics.summarise_word_rules`), ±1 SD over seeds, with the LDA and NMF
    models of :func:`xitu.topics.summarise_comparison` (``models``) in grey. Dashed lines:
    NMF's NPMI and ``diversity_target``; dash-dotted: the upper bound of NPMI over choices of
    words among the candidates. The table behind it has one row per rule, bound or model."""
    from xitu.plots import PALETTE, figure, wrap

    from xitu.topics.quality import UPPER_BOUND

    fig, ax = figure(figsize=(8.6, 5.2))
    rows = []
    for k, r in enumerate(rules.itertuples(index=False)):
        row = {"kind": "word rule on BERTopic's clusters", "name": r.rule, "seeds": int(r.seeds),
               "seeds_with_topics": int(getattr(r, "seeds_with_topics", r.seeds)), "npmi_mean": r.npmi_mean,
               "npmi_sd": r.npmi_sd, "diversity_mean": r.diversity_mean, "diversity_sd": r.diversity_sd}
        if r.rule == UPPER_BOUND:  # no word list, so no diversity: a line, not a point
            row["kind"] = "upper bound on BERTopic's clusters"
            if np.isfinite(r.npmi_mean):
                ax.axhline(r.npmi_mean, color=PALETTE[k % len(PALETTE)], linestyle="-.", linewidth=1.1,
                           label=wrap(f"{r.rule}: {r.npmi_mean:.3f}", 46))
            rows.append(row)
            continue
        searched = r.rule.startswith("most coherent")
        measured = np.isfinite(r.npmi_mean) and np.isfinite(r.diversity_mean)
        ax.errorbar(r.diversity_mean, r.npmi_mean, xerr=r.diversity_sd, yerr=r.npmi_sd, fmt="D" if searched else "o",
                    color=PALETTE[k % len(PALETTE)], mfc="white" if searched else PALETTE[k % len(PALETTE)], ms=7, capsize=3,
                    label=wrap(f"{r.rule}: " + (f"{r.npmi_mean:.3f} / {r.diversity_mean:.3f}" if measured else "not measured"), 46))
        rows.append(row)
    nmf_npmi = None
    if models is not None:
        for r in models[models["model"].isin(["LDA", "NMF"])].itertuples(index=False):
            ax.errorbar(r.diversity_mean, r.npmi_mean, xerr=r.diversity_sd, yerr=r.npmi_sd, fmt="s", color="#777777",
                        ms=6, capsize=3)
            ax.annotate(r.model, (r.diversity_mean, r.npmi_mean), xytext=(6, 4), textcoords="offset points",
                        fontsize=9, color="#555555")
            rows.append({"kind": "model", "name": r.model, "seeds": int(r.seeds),
                         "seeds_with_topics": int(getattr(r, "seeds_with_topics", r.seeds)), "npmi_mean": r.npmi_mean,
                         "npmi_sd": r.npmi_sd, "diversity_mean": r.diversity_mean, "diversity_sd": r.diversity_sd})
            if r.model == "NMF":
                nmf_npmi = float(r.npmi_mean)
    if nmf_npmi is not None:
        ax.axhline(nmf_npmi, color="#777777", linestyle="--", linewidth=0.9)
    if diversity_target is not None:
        ax.axvline(diversity_target, color="#777777", linestyle=":", linewidth=0.9)
    ax.set_xlabel("topic diversity (dotted: target)")
    ax.set_ylabel("NPMI coherence (dashed: NMF)")
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="rule: NPMI / diversity",
              title_fontsize=8)
    n = int(rules["seeds"].max()) if len(rules) else 0
    ax.set_title(f"How the choice of topic words trades coherence for diversity (same clusters; mean ± SD over {n} seeds)",
                 fontsize=10, loc="left")
    table = pd.DataFrame(rows, columns=["kind", "name", "seeds", "seeds_with_topics", "npmi_mean", "npmi_sd", "diversity_mean",
                                        "diversity_sd"])
    for c in ("npmi_mean", "npmi_sd", "diversity_mean", "diversity_sd"):
        table[c] = round_sig(table[c].astype(float), 4)
    return fig, table


def heldout_npmi_figure(summary: pd.DataFrame):
    """NPMI of each model's topic words on the half of the articles they were chosen on and
    on the held-out half (:func:`xitu.topics.summarise_heldout_npmi`), ±1 SD over seeds;
    returns ``(fig, table)``."""
    from xitu.plots import PALETTE, figure

    fig, ax = figure(figsize=(8.6, 3.8))
    y = np.arange(len(summary))[::-1]
    h = 0.38
    for k, (col, label) in enumerate((("npmi_chosen_half", "half A (words chosen here)"),
                                      ("npmi_held_out", "half B (held out)"))):
        mean, sd = summary[f"{col}_mean"].to_numpy(float), summary[f"{col}_sd"].to_numpy(float)
        ax.barh(y + (0.5 - k) * h, mean, height=h, xerr=sd, capsize=3, color=PALETTE[k], label=label)
        for yi, v in zip(y + (0.5 - k) * h, mean):
            ax.annotate("not measured" if not np.isfinite(v) else f"{v:.3f}", (0, yi), xytext=(4 if not np.isfinite(v) or v >= 0 else -4, 0),
                        textcoords="offset points", va="center", ha="left" if not np.isfinite(v) or v >= 0 else "right",
                        fontsize=8, color="#333333")
    ax.set_yticks(y, summary["model"])
    ax.axvline(0, color="#666666", linewidth=0.8)
    ax.set_xlabel("NPMI coherence (top words)")
    ax.grid(axis="y", visible=False)
    ax.legend(fontsize=8, loc="lower right")
    n = int(summary["seeds"].max()) if len(summary) else 0
    ax.set_title(f"Topic words chosen on half of the articles, NPMI counted on each half\n(mean ± SD over {n} seeds; "
                 "segments of one article stay in one half)", fontsize=10, loc="left")
    table = summary.copy()
    for c in table.columns:
        if c.endswith(("_mean", "_sd")):
            table[c] = round_sig(table[c].astype(float), 4)
    return fig, table


# --------------------------------------------------------------------------- reading


def describe_topics(sizes: pd.DataFrame, over: TopicsOverTime, by_query: pd.DataFrame, top: int = 6) -> str:
    """Facts about the largest topics, as Markdown bullets: size, top terms, peak month,
    the query whose documents it most often takes, Chinese share. Generated from the
    tables of a run, so the text always matches the figures."""
    lines = []
    t = over.table[over.table["period"] != "undated"]
    for r in sizes[sizes["topic"] != OUTLIER].head(top).itertuples(index=False):
        k = int(r.topic)
        tt = t[t["topic"] == k]
        peak = tt.loc[tt["share"].idxmax()] if len(tt) else None
        q = by_query[by_query["topic"] == k]
        bq = q.loc[q["share"].idxmax()] if len(q) else None
        zh = f", {int(r.zh_documents)} of them Chinese" if hasattr(r, "zh_documents") and r.zh_documents else ""
        s = f"- **{r.topic_name}** — {r.documents} documents ({r.share:.0%}{zh}); top terms: {r.top_terms}."
        if peak is not None and peak["documents"] > 0:
            s += f" Largest share in {peak['period']} ({peak['share']:.0%} of that month's documents)."
        if bq is not None and bq["documents"] > 0:
            s += f" Most present in query {bq['query']} ({bq['share']:.0%} of its documents)."
        lines.append(s)
    out = sizes[sizes["topic"] == OUTLIER]
    if len(out):
        lines.append(f"- Outliers left after reduction: {int(out['documents'].iloc[0])} documents "
                     f"({float(out['share'].iloc[0]):.0%}).")
    if over.n_undated:
        lines.append(f"- {over.n_undated} undated documents are counted in the sizes but not in the time figure.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- languages, hierarchy, examples


def language_figure(fit: TopicFit, languages: Sequence[str]):
    """Share of Chinese documents in each topic (bars; numbers: Chinese / all documents)
    and, in the title, the corpus measure: the share of Chinese documents sitting in a
    topic that also holds English ones. Returns ``(fig, table)``."""
    from xitu.plots import PALETTE, figure

    table = language_mix(fit.topics, languages, fit.names)
    share = mixed_share(fit.topics, languages)
    fig, ax = figure(figsize=(9, 0.36 * len(table) + 1.6))
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["zh_share"], color=[PALETTE[1] if b else "#bbbbbb" for b in table["holds_both"]])
    ax.set_yticks(y, table["topic_name"])
    for yi, z, n in zip(y, table["zh_documents"], table["documents"]):
        ax.annotate(f"{z} / {n}", (float(z) / n if n else 0, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color="#333333")
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("share of the topic's documents that are Chinese")
    ax.grid(axis="y", visible=False)
    zh_total = int(table["zh_documents"].sum())
    measured = (f"{share:.0%} of the {zh_total} Chinese documents sit in topics that also hold English ones"
                if np.isfinite(share) else "language mixing not measured: the corpus holds one language only")
    ax.set_title(f"Chinese documents per topic (grey: outliers or a topic of one language)\n{measured}", fontsize=10,
                 loc="left")
    table = table.assign(corpus_mixed_share=round_sig(share, 4))
    return fig, table


def topic_linkage(fit: TopicFit):
    """The topic hierarchy as BERTopic's ``hierarchical_topics`` computes it (Ward linkage,
    optimal leaf order, on 1 − cosine similarity of the topics' c-TF-IDF rows, outliers
    left out) as a scipy linkage matrix, with the topic id of each leaf. Distances are
    rounded to 10 significant digits before the linkage, so that near-ties resolve the
    same way everywhere."""
    import scipy.cluster.hierarchy as sch
    from scipy.spatial.distance import squareform
    from sklearn.metrics.pairwise import cosine_similarity

    model = fit.model
    offset = 1 if model._outliers else 0
    ids = [t for t in sorted(model.topic_sizes_) if t != OUTLIER]
    if len(ids) < 2:
        raise ValueError("a hierarchy needs at least two topics")
    X = model.c_tf_idf_[offset:offset + len(ids)]
    D = round_sig(np.clip(1 - cosine_similarity(X), 0, None), 10)
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0)
    Z = sch.linkage(squareform(D, checks=False), "ward", optimal_ordering=True)
    return Z, ids


def hierarchy_figure(fit: TopicFit):
    """Dendrogram of the topics (see :func:`topic_linkage`) labelled with topic names, and
    the table of merges: ``step, left, right, distance, documents, topics`` (node ids as
    scipy's: leaves are topic ids, merge ``i`` is node ``n_topics + i``). With fewer than two
    topics (a small corpus, or a seed whose fit found one or none) there is nothing to merge:
    the figure says so and the table is empty."""
    import scipy.cluster.hierarchy as sch

    from xitu.plots import figure

    columns = ["step", "node", "left", "right", "distance", "documents", "topics"]
    if fit.n_topics < 2:
        fig, ax = figure(figsize=(10, 1.8))
        ax.axis("off")
        ax.set_title("Topic hierarchy (which storylines merge first)")
        ax.text(0.5, 0.5, f"no hierarchy: the fit found {fit.n_topics} topic(s), a hierarchy needs at least two",
                ha="center", va="center", transform=ax.transAxes)
        return fig, pd.DataFrame(columns=columns)
    Z, ids = topic_linkage(fit)
    n = len(ids)
    sizes = {t: int((fit.topics == t).sum()) for t in ids}
    members: dict[int, list[int]] = {i: [ids[i]] for i in range(n)}
    rows = []
    for step, (a, b, d, _) in enumerate(Z):
        a, b = int(a), int(b)
        members[n + step] = members[a] + members[b]
        label = lambda node: f"topic {ids[node]}" if node < n else f"node {node}"  # noqa: E731
        rows.append({"step": step, "node": n + step, "left": label(a), "right": label(b),
                     "distance": float(round_sig(d, 4)),
                     "documents": sum(sizes[t] for t in members[n + step]),
                     "topics": ", ".join(str(t) for t in sorted(members[n + step]))})
    table = pd.DataFrame(rows, columns=columns)
    fig, ax = figure(figsize=(10, 0.38 * n + 1.5))
    sch.dendrogram(Z, orientation="left", labels=[fit.names[t] for t in ids], ax=ax, color_threshold=0,
                   above_threshold_color="#555555", leaf_font_size=9)
    ax.set_xlabel("Ward distance (1 − cosine similarity of c-TF-IDF)")
    ax.grid(False)
    ax.set_title("Topic hierarchy (which storylines merge first)")
    return fig, table


def topic_examples(fit: TopicFit, ids: Sequence[str] | None = None, languages: Sequence[str] | None = None,
                   n: int = 5, per_language: int = 1) -> pd.DataFrame:
    """Representative documents of each topic, for naming it: the ``n`` members closest
    (cosine) to the topic's centroid embedding, plus, when ``languages`` are given, the
    ``per_language`` closest of each language not already listed. Ties go to the earlier
    document. Columns: ``topic, topic_name, rank, doc_id, language, similarity, text``."""
    from sklearn.preprocessing import normalize

    ids = list(ids) if ids is not None else list(range(len(fit.docs)))
    lang = np.asarray(list(languages)) if languages is not None else None
    E = normalize(np.asarray(fit.embeddings, dtype=np.float64))
    rows = []
    for t in sorted(set(fit.topics.tolist()) - {OUTLIER}):
        members = np.flatnonzero(fit.topics == t)
        c = E[members].mean(axis=0)
        c = c / (np.linalg.norm(c) or 1.0)
        sim = round_sig(E[members] @ c, 10)
        order = members[np.lexsort((members, -sim))]
        pick = list(order[:n])
        if lang is not None:
            for lg in sorted(set(lang[members].tolist())):
                extra = [i for i in order if lang[i] == lg and i not in pick][:per_language]
                if not any(lang[i] == lg for i in pick):
                    pick += extra
        simd = dict(zip(members.tolist(), sim.tolist()))
        for r, i in enumerate(pick, 1):
            rows.append({"topic": t, "topic_name": fit.names[t], "rank": r, "doc_id": ids[i],
                         "language": lang[i] if lang is not None else "",
                         "similarity": float(round_sig(simd[int(i)], 4)), "text": fit.docs[i]})
    return pd.DataFrame(rows, columns=["topic", "topic_name", "rank", "doc_id", "language", "similarity", "text"])


def topic_words_table(fit: TopicFit) -> pd.DataFrame:
    """Per topic: its name, size, the top words (mixed), the top English and the top
    Chinese words side by side, and the filler words left out (same for every topic)."""
    rows = []
    for t, words in fit.topic_words().items():
        bl = fit.words_by_language.get(t, {"en": [], "zh": []})
        rows.append({"topic": t, "topic_name": fit.names[t], "documents": int((fit.topics == t).sum()),
                     "top_words": ", ".join(words), "english_words": ", ".join(bl["en"]),
                     "chinese_words": "、".join(bl["zh"])})
    out = pd.DataFrame(rows)
    out.attrs["fillers"] = list(fit.fillers)
    return out
