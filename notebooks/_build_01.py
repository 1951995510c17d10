"""Writes 01-corpus.ipynb. Edit here, then: python notebooks/_build_01.py"""
from pathlib import Path
from _make import code, md, params, write_notebook

cells = [
    md("""
# 01 · What is in the corpus

Search-tool exports in `data/raw/` are parsed by `xitu.corpus` into **articles** (stable ids,
all the queries that found them) and **segments** (one claim of a structured summary, or one
sentence of a Chinese body) — the unit that the topic and stance notebooks use. This
notebook reports what was read, what was kept with an issue and why, and draws the corpus:
articles per day, per query and per source, languages, segment lengths and the most frequent
terms in Chinese and English. Each figure is saved with its data as CSV in `figures/01-corpus/`.
"""),
    params(),
    code("""
from xitu import describe
from xitu.corpus import ingest
from xitu.pipeline import notebook_context
from xitu.text import Tokenizer

ctx = notebook_context("01-corpus", root, figures_dir, seed)
corpus = ingest(ctx.paths.raw)
articles, segments = corpus.articles, corpus.segments
tokenizer = Tokenizer(ctx.paths.lexicon)
print(corpus.report.summary())
"""),
    md("## Overview"),
    code("describe.corpus_overview(articles, segments)"),
    md("## Articles per day\nDates are those of the export's source line (local time of the outlet, as exported)."),
    code("""
fig, table = describe.articles_per_day(articles)
ctx.save(fig, table, "articles_per_day")
fig
"""),
    md("## Articles per search query\nAn article found by several queries counts once for each of them."),
    code("""
fig, table = describe.articles_per_query(articles)
ctx.save(fig, table, "articles_per_query")
fig
"""),
    md("## Sources"),
    code("""
fig, table = describe.sources(articles)
ctx.save(fig, table, "sources")
fig
"""),
    md("## Languages\nMost bodies are the search tool's English summaries of Chinese articles; some are Chinese text."),
    code("""
fig, table = describe.languages(articles, segments)
ctx.save(fig, table, "languages")
table
"""),
    md("## Segment lengths"),
    code("""
fig, table = describe.segment_lengths(segments, tokenizer)
ctx.save(fig, table, "segment_lengths")
table.groupby("language")[["n_chars", "n_tokens"]].describe().round(1)
"""),
    md("## Most frequent terms\nTokens from `xitu.text.Tokenizer` (jieba with the project dictionary; stopwords and the domain words *rare earth*/稀土 removed)."),
    code("""
fig, table = describe.top_terms(articles, segments, tokenizer, n=20)
ctx.save(fig, table, "top_terms")
fig
"""),
]
write_notebook(Path(__file__).with_name("01-corpus.ipynb"), cells)
