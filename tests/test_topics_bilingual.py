"""Cross-lingual topics (issue 11): an English sentence and its Chinese paraphrase (Simplified
or Traditional) land in the same topic, Chinese segments share topics with English ones,
and the topic words are given per language. Pairs: ``tests/data/bilingual_pairs.tsv``
(written for this test, not from the corpus)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xitu import topics as T
from xitu.settings import TARGETS
from xitu.text import HAN_RE, detect_script
from xitu.vectorise import embed

PAIRS = Path(__file__).parent / "data" / "bilingual_pairs.tsv"


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    return pd.read_csv(PAIRS, sep="\t", comment="#")


def test_pairs_file_is_well_formed(pairs):
    header = PAIRS.read_text(encoding="utf-8").splitlines()[:2]
    assert any("written by" in line.lower() for line in header)
    assert len(pairs) >= 40 and pairs["storyline"].nunique() >= 8
    assert not pairs["en"].str.contains(HAN_RE).any()
    assert pairs["zh"].str.contains(HAN_RE).all()
    scripts = {detect_script(z) for z in pairs["zh"]}
    assert scripts == {"Hans", "Hant"}  # both scripts are tested


@pytest.fixture(scope="module")
def mixed_fit(pairs, seed_corpus, tokenizer):
    """One fit on the seed corpus's segments plus every pair's two sentences."""
    seg = seed_corpus.segments_with_articles()
    docs = seg["text"].tolist() + pairs["en"].tolist() + pairs["zh"].tolist()
    langs = seg["language"].tolist() + ["en"] * len(pairs) + ["zh"] * len(pairs)
    fit = T.fit_bertopic(docs, T.TopicSettings(), tokenizer, embeddings=embed(docs), languages=langs)
    return fit, len(seg), langs


def test_paraphrase_pairs_share_a_topic(mixed_fit, pairs):
    fit, n0, _ = mixed_fit
    m = len(pairs)
    en, zh = fit.topics[n0:n0 + m], fit.topics[n0 + m:]
    same = (en == zh) & (en != T.OUTLIER)
    assert same.mean() >= TARGETS["topics_pairs_same_topic"], pairs.loc[~same, ["storyline", "en"]]


def test_paraphrase_pairs_alone_share_a_topic(pairs, tokenizer):
    """The same on the 100 sentences alone, a tiny corpus of one-sentence documents, over the
    five topic seeds. Here HDBSCAN leaves up to a quarter of the sentences as outliers (which
    the target of issue 11 does not measure), so the test asks: when both sentences of a pair
    get a topic, is it the same one? And do the Chinese sentences share topics with English?"""
    from xitu.settings import TOPIC_SEEDS

    docs = pairs["en"].tolist() + pairs["zh"].tolist()
    langs = ["en"] * len(pairs) + ["zh"] * len(pairs)
    E = embed(docs)
    for seed in TOPIC_SEEDS:
        fit = T.fit_bertopic(docs, T.TopicSettings(seed=seed), tokenizer, embeddings=E, languages=langs)
        en, zh = fit.topics[: len(pairs)], fit.topics[len(pairs):]
        both = (en != T.OUTLIER) & (zh != T.OUTLIER)
        assert both.sum() >= len(pairs) // 2, seed
        assert (en[both] == zh[both]).mean() >= TARGETS["topics_pairs_same_topic"], seed
        kept = fit.topics != T.OUTLIER
        assert T.mixed_share(fit.topics[kept], list(np.asarray(langs)[kept])) >= TARGETS["topics_mixed_share"], seed


def test_mixed_topics_have_words_in_both_languages(mixed_fit):
    fit, _, langs = mixed_fit
    mix = T.language_mix(fit.topics, langs)
    both = mix.loc[mix["holds_both"], "topic"].tolist()
    assert both
    for t in both:
        bl = fit.words_by_language[t]
        assert bl["en"] and bl["zh"], (t, bl)
        assert not any(HAN_RE.search(w) for w in bl["en"]) and all(HAN_RE.search(w) for w in bl["zh"])
    table = T.topic_words_table(fit)
    assert {"english_words", "chinese_words"} <= set(table.columns)


def test_without_multilingual_embeddings_languages_split(pairs, tokenizer):
    """The guard of the test above: TF-IDF embeddings share no word across languages, so
    no pair shares a topic (the state issue 11 reported)."""
    docs = pairs["en"].tolist() + pairs["zh"].tolist()
    langs = ["en"] * len(pairs) + ["zh"] * len(pairs)
    fit = T.fit_bertopic(docs, T.TopicSettings(embedding="tfidf-svd"), tokenizer, languages=langs)
    en, zh = fit.topics[: len(pairs)], fit.topics[len(pairs):]
    assert ((en == zh) & (en != T.OUTLIER)).mean() < 0.5


def test_language_centring_moves_language_means_together():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8))
    X[:20] += 3.0  # language "a" shifted
    out = T.center_languages(X, ["a"] * 20 + ["b"] * 20)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)
    raw_gap = np.linalg.norm(X[:20].mean(0) / 1 - X[20:].mean(0))
    new_gap = np.linalg.norm(out[:20].mean(0) - out[20:].mean(0))
    assert new_gap < 0.2 * raw_gap / np.linalg.norm(X, axis=1).mean()
    np.testing.assert_array_equal(T.center_languages(X, ["a"] * 38 + ["b"] * 2), X)  # too few "b"


def _prose_corpus(tmp_path) -> pd.DataFrame:
    """The 60 synthetic prose articles of tests/data/prose_check and data/checks/prose (20 English,
    40 Chinese; not the seed corpus) as segment documents."""
    import shutil

    from xitu.corpus import ingest

    root = Path(__file__).resolve().parents[1]
    for i, folder in enumerate([root / "tests" / "data" / "prose_check", root / "data" / "checks" / "prose"]):
        for f in sorted(folder.glob("*.txt")):
            shutil.copy(f, tmp_path / f"{i}_{f.name}")
    return T.topic_documents(ingest(tmp_path).segments_with_articles(), "segment")


def test_topics_are_stable_across_seeds_beyond_the_seed_corpus(tmp_path, tokenizer):
    """Issue 11's stability target (ARI across the five topic seeds ≥ 0.6) on a second corpus
    beside the seed corpus: 736 segments of prose, 60 % Chinese (used, with the seed corpus, to
    choose the settings; the unseen check corpora are in data/checks/topics). With the
    settings before December 2026 (``min_samples=2``, outliers to the nearest centroid) the mean
    ARI here was 0.53; the default now, HDBSCAN's ``min_samples`` = ``min_cluster_size`` with
    outliers placed by their neighbours, gives 0.68. Outliers and language mixing are checked
    on the same fits."""
    from xitu.settings import TOPIC_SEEDS

    docs = _prose_corpus(tmp_path)
    assert len(docs) > 700 and (docs["language"] == "zh").mean() > 0.5
    E = embed(docs["text"].tolist())
    fits = [T.fit_bertopic(docs["text"], T.TopicSettings(seed=s), tokenizer, embeddings=E, languages=docs["language"])
            for s in TOPIC_SEEDS]
    ari = float(np.mean(T.stability([f.topics for f in fits])))
    assert ari >= TARGETS["topics_ari"], ari
    for f in fits:
        assert f.outlier_share <= TARGETS["topics_outliers"]
        assert T.mixed_share(f.topics, docs["language"]) >= TARGETS["topics_mixed_share"]
