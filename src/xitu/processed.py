"""The processed corpus tables, ingested once and read by everything downstream.

``data/raw`` → :func:`refresh` (``xitu ingest``) → ``data/processed/{articles,segments}.csv``
→ notebooks and commands (:func:`load_tables`). A stamp beside the tables
(``data/processed/raw.fingerprint``) holds the hash of the raw exports and of the parser that
read them; :func:`load_tables` re-ingests only when that stamp does not match (new or changed
exports, a new parser), so a command never works on tables older than ``data/raw``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from xitu.paths import Paths

STAMP = "raw.fingerprint"


#: The tables every notebook reads, and so the ones a corpus fingerprint covers.
CORPUS_TABLES = ("articles.csv", "segments.csv")


def tables_fingerprint(processed: str | Path) -> str | None:
    """SHA-256 (16 hex digits) of the processed corpus tables (what every notebook reads), or
    ``None`` when one is missing."""
    processed = Path(processed)
    h = hashlib.sha256()
    for name in CORPUS_TABLES:
        p = processed / name
        if not p.is_file():
            return None
        h.update(name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def raw_fingerprint(paths: Paths) -> str:
    """SHA-256 (16 hex digits) of every regular file in ``data/raw`` (names and bytes) and of
    the parser's source, so new exports or a new parser make the tables stale."""
    import xitu.corpus

    h = hashlib.sha256()
    h.update(Path(xitu.corpus.__file__).read_bytes())
    raw = paths.raw
    if raw.is_dir():
        for p in sorted(raw.iterdir()):
            if p.is_file():
                h.update(p.name.encode("utf-8", "surrogateescape"))
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def refresh(paths: Paths, verbose: bool = False):
    """Ingest ``data/raw`` and write the processed tables with their stamp; returns the
    :class:`~xitu.corpus.Corpus`."""
    from xitu.corpus import ingest, write_processed
    from xitu.io import atomic_write_text

    fingerprint = raw_fingerprint(paths)
    corpus = ingest(paths.raw)
    write_processed(corpus, paths.processed)
    atomic_write_text(paths.processed / STAMP, fingerprint + "\n")
    if verbose:
        print(corpus.report.summary().splitlines()[0], flush=True)
    return corpus


def is_fresh(paths: Paths) -> bool:
    """True when the processed tables exist and were made from the current ``data/raw``."""
    stamp = paths.processed / STAMP
    if not (stamp.is_file() and (paths.processed / "segments.csv").is_file()
            and (paths.processed / "articles.csv").is_file()):
        return False
    return stamp.read_text(encoding="utf-8").strip() == raw_fingerprint(paths)


def load_tables(paths: Paths | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(articles, segments)`` from ``data/processed``, ingesting first when they are missing
    or older than ``data/raw``."""
    from xitu.corpus import read_processed

    paths = paths or Paths.default()
    if not is_fresh(paths):
        refresh(paths)
    return read_processed(paths.processed)


def segments_with_articles(paths: Paths | None = None) -> pd.DataFrame:
    """Every segment with its article's title, source, date and queries."""
    from xitu.corpus import join_articles

    articles, segments = load_tables(paths)
    return join_articles(segments, articles)
