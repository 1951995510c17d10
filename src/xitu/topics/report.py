"""What a fitted topic model says, for a reader: assignment tables, topics over time and by
query, the figures, and the generated reading text. See :mod:`xitu.topics`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from xitu.corpus import parse_published, split_queries
from xitu.topics.model import OUTLIER, TopicFit

# --------------------------------------------------------------------------- assignments


__all__ = [
    "segment_assignments",
    "write_assignments",
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


def write_assignments(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the topic assignments for the stance notebook (UTF-8 with BOM, like the other
    processed tables)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n", float_format="%.6g")
    return path


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
    table["share"] = (table["documents"] / totals.where(totals > 0)).fillna(0.0).round(6)
    table["topic_name"] = table["topic"].map(fit.names)
    bt = bt.assign(period=pd.to_datetime(bt["Timestamp"]).dt.strftime(
        "%Y-%m" if freq.upper().startswith("M") else "%Y-%m-%d"))
    words = bt.set_index(["period", "Topic"])["Words"]
    table["words"] = [words.get((p, t), "") for p, t in zip(table["period"], table["topic"])]
    table = table[["period", "topic", "topic_name", "documents", "share", "words"]]
    undated = pd.DataFrame({"doc_id": [ids[i] for i in np.flatnonzero(~dated)],
                            "topic": topics[~dated], "text": [fit.docs[i] for i in np.flatnonzero(~dated)]})
    return TopicsOverTime(table, undated, freq, global_tuning)


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
    table["share"] = (table["documents"] / table.groupby("query")["documents"].transform("sum")).round(6)
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
    table["share"] = (table["documents"] / len(t)).round(6)
    table["reassigned_outliers"] = [0 if k == OUTLIER else int(((fit.topics == k) & (fit.topics_raw == OUTLIER)).sum())
                                    for k in table["topic"]]
    if languages is not None:
        lang = np.asarray(list(languages))
        table["zh_documents"] = [int(((fit.topics == k) & (lang == "zh")).sum()) for k in table["topic"]]
    table["topic_name"] = table["topic"].map(fit.names)
    table["top_terms"] = [", ".join(words.get(int(k), [])) for k in table["topic"]]
    table = table.assign(_o=table["topic"].eq(OUTLIER)).sort_values(
        ["_o", "documents", "topic"], ascending=[True, False, True], kind="stable").drop(columns="_o")
    table = table.reset_index(drop=True)
    cols = ["topic", "topic_name", "documents", "share", "reassigned_outliers"]
    cols += ["zh_documents"] if languages is not None else []
    table = table[cols + ["top_terms"]]

    colors = topic_colors(fit.topics)
    fig, ax = figure(figsize=(10, 0.42 * len(table) + 1.3))
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["documents"], color=[colors[int(k)] for k in table["topic"]])
    ax.set_yticks(y, table["topic_name"])
    xmax = float(table["documents"].max())
    for yi, n, sh, terms in zip(y, table["documents"], table["share"], table["top_terms"]):
        short = ", ".join(terms.split(", ")[:7])
        ax.annotate(f"{n} ({sh:.0%})  {short}", (n, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color="#333333")
    ax.set_xlim(0, xmax * 2.6)
    ax.set_xlabel("documents")
    ax.grid(axis="y", visible=False)
    n_reassigned = int(((fit.topics_raw == OUTLIER) & (fit.topics != OUTLIER)).sum())
    ax.set_title(f"Topic sizes and top terms (BERTopic, {fit.n_topics} topics, {len(t)} documents; "
                 f"{n_reassigned} outliers reassigned)")
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
    """2-D UMAP of the document embeddings (cosine, seeded, duplicates merged), coloured by
    topic; topic ids at each topic's median position. Returns ``(fig, table)``."""
    from umap import UMAP

    from xitu.plots import figure

    seed = fit.settings.seed if seed is None else seed
    n = len(fit.docs)
    xy = UMAP(n_neighbors=max(2, min(15, n - 1)), n_components=2, min_dist=0.1, metric="cosine",
              random_state=seed, unique=True, n_jobs=1).fit_transform(fit.embeddings)
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


MEASURES = (("npmi", "NPMI coherence (higher = better)"), ("diversity", "Topic diversity"),
            ("outlier_share", "Outlier share after reduction"))


def comparison_figure(summary: pd.DataFrame):
    """Bars with ±1 SD over seeds for NPMI, diversity and outlier share of each model.
    Fit times are left out of the figure and its CSV, as they differ from run to run."""
    from xitu.plots import PALETTE, figure

    fig, axes = figure(1, len(MEASURES), figsize=(11, 3.4))
    models = list(summary["model"])
    for ax, (m, title) in zip(axes, MEASURES):
        mean, sd = summary[f"{m}_mean"].to_numpy(), summary[f"{m}_sd"].to_numpy()
        x = np.arange(len(models))
        ax.bar(x, mean, yerr=sd, capsize=4, color=PALETTE[: len(models)])
        ax.set_xticks(x, [f"{name}\n{v:.3f} ± {e:.3f}" for name, v, e in zip(models, mean, sd)])
        ax.axhline(0, color="#666666", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", visible=False)
    n = int(summary["seeds"].iloc[0]) if len(summary) else 0
    fig.suptitle(f"BERTopic vs LDA vs NMF on the same tokens (mean ± SD over {n} seeds)", fontsize=12,
                 x=0.01, ha="left")
    cols = ["model", "seeds"] + [f"{m}_{s}" for m in ("n_topics", "npmi", "diversity", "outlier_share_raw", "outlier_share")
                                 for s in ("mean", "sd")]
    return fig, summary[cols].round(6)


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
