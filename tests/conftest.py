"""Shared fixtures: the project paths, the seed corpus (parsed once per session), and a
helper that writes export files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def paths():
    from xitu.paths import Paths

    return Paths(ROOT)


@pytest.fixture(scope="session")
def seed_corpus(paths):
    from xitu.corpus import ingest

    return ingest(paths.raw)


@pytest.fixture(scope="session")
def tokenizer(paths, tmp_path_factory):
    from xitu.text import Tokenizer

    return Tokenizer(paths.lexicon, cache_dir=tmp_path_factory.mktemp("jieba"))


def make_export(query: str, articles: list[tuple], header: bool = True) -> str:
    """Text of an export: articles are (title, meta or None, body or None)."""
    lines = ["Workflow", query, "icon", "Search documents"] if header else []
    for title, meta, body in articles:
        lines.append(title)
        if meta is not None:
            lines.append(meta)
        if body is not None:
            lines.append(body)
    return "\n".join(lines) + "\n"
