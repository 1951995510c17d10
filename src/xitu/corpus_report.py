"""What is in the corpus: the tables and figures of ``notebooks/01-corpus.ipynb``.

Each function takes the corpus tables and returns ``(figure, table)``; the table is exactly
what the figure plots and is saved next to it as CSV.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from xitu.corpus import parse_published, split_queries
from xitu.plots import PALETTE, barh, figure
from xitu.text import HAN_RE, Tokenizer

NO_SOURCE = "(no source line)"


def articles_per_day(articles: pd.DataFrame):
    """Articles per publication day (undated articles counted in the title)."""
    dated = parse_published(articles["published"])
    days = dated.dt.normalize().value_counts().sort_index()
    full = pd.date_range(days.index.min(), days.index.max(), freq="D") if len(days) else pd.DatetimeIndex([])
    days = days.reindex(full, fill_value=0)
    table = pd.DataFrame({"date": days.index.strftime("%Y-%m-%d"), "articles": days.values})
    fig, ax = figure(figsize=(9, 3.6))
    ax.bar(days.index, days.values, width=1.0, color=PALETTE[0])
    undated = int(dated.isna().sum())
    ax.set_title(f"Articles per day (n = {int(days.sum())} dated, {undated} undated)")
    ax.set_ylabel("articles")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.autofmt_xdate()
    return fig, table


def _explode_queries(articles: pd.DataFrame) -> pd.Series:
    return split_queries(articles["queries"]).explode()


def articles_per_query(articles: pd.DataFrame):
    """Articles per search query (an article found by several queries counts for each)."""
    counts = _explode_queries(articles).value_counts().sort_values(ascending=False, kind="stable")
    table = counts.rename_axis("query").reset_index(name="articles")
    fig, ax = barh(counts, "Articles per search query", "articles")
    return fig, table


def sources(articles: pd.DataFrame):
    """Articles per outlet (source line of the export)."""
    counts = articles["source"].replace("", NO_SOURCE).value_counts().sort_values(ascending=False, kind="stable")
    table = counts.rename_axis("source").reset_index(name="articles")
    fig, ax = barh(counts, "Articles per source", "articles", color=PALETTE[1])
    return fig, table


def languages(articles: pd.DataFrame, segments: pd.DataFrame):
    """Language (and Chinese script) of article bodies and of segments."""
    def lab(df):
        return (df["language"] + df["script"].map(lambda s: f" ({s})" if s else "")).value_counts()

    table = pd.DataFrame({"articles": lab(articles), "segments": lab(segments)}).fillna(0).astype(int)
    table = table.rename_axis("language").reset_index().sort_values("language").reset_index(drop=True)
    fig, axes = figure(1, 2, figsize=(8, 3))
    for ax, col, color in zip(axes, ("articles", "segments"), PALETTE):
        ax.bar(table["language"], table[col], color=color)
        ax.set_title(f"{col.capitalize()} by language")
        for x, y in zip(table["language"], table[col]):
            ax.annotate(str(y), (x, y), ha="center", va="bottom", fontsize=9)
        ax.grid(axis="x", visible=False)
    return fig, table


def segment_lengths(segments: pd.DataFrame, tokenizer: Tokenizer):
    """Segment length in characters and in tokens, by language."""
    table = segments[["segment_id", "language", "n_chars"]].copy()
    table["n_tokens"] = [len(t) for t in tokenizer.tokenize_many(segments["text"])]
    langs = sorted(table["language"].unique())
    fig, axes = figure(1, 2, figsize=(9, 3.4))
    for ax, col, title in zip(axes, ("n_chars", "n_tokens"), ("characters", "tokens")):
        for lang, color in zip(langs, PALETTE):
            ax.hist(table.loc[table["language"] == lang, col], bins=20, alpha=0.75, color=color, label=lang)
        ax.set_title(f"Segment length in {title}")
        ax.set_xlabel(title)
        ax.set_ylabel("segments")
        ax.legend(title="language")
    return fig, table


def term_counts(texts, tokenizer: Tokenizer) -> pd.DataFrame:
    """Token frequencies over ``texts``, split into Chinese and English terms."""
    counts = Counter(t for toks in tokenizer.tokenize_many(texts) for t in toks)
    df = pd.DataFrame(counts.items(), columns=["term", "count"])
    df["script"] = ["zh" if HAN_RE.search(t) else "en" for t in df["term"]]
    return df.sort_values(["count", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)


def top_terms(articles: pd.DataFrame, segments: pd.DataFrame, tokenizer: Tokenizer, n: int = 20):
    """Most frequent Chinese and English terms over titles and segments (stopwords removed)."""
    texts = list(articles["title"]) + list(segments["text"])
    counts = term_counts(texts, tokenizer)
    table = pd.concat([counts[counts["script"] == s].head(n) for s in ("zh", "en")], ignore_index=True)
    fig, axes = figure(1, 2, figsize=(10, 0.28 * n + 1.2))
    for ax, s, color, title in zip(axes, ("zh", "en"), PALETTE, ("Chinese terms (titles, Chinese bodies)", "English terms (summaries)")):
        sub = table[table["script"] == s].set_index("term")["count"]
        barh(sub, title, "count", color=color, ax=ax)
    return fig, table


def corpus_overview(articles: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """One-row-per-fact summary table for the notebook's opening."""
    dated = articles.loc[articles["published"] != "", "published"]
    return pd.DataFrame({
        "fact": ["articles", "segments", "queries", "sources", "first date", "last date",
                 "structured summaries", "plain bodies"],
        "value": [len(articles), len(segments), _explode_queries(articles).nunique(),
                  articles["source"].nunique(), dated.min() if len(dated) else "", dated.max() if len(dated) else "",
                  int((articles["body_format"] == "structured").sum()), int((articles["body_format"] == "plain").sum())],
    })

