"""Quality of topic models: NPMI coherence, topic diversity, outlier share, and the
comparison of BERTopic with LDA and NMF over seeds. See :mod:`xitu.topics`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from xitu.text import Tokenizer
from xitu.topics.model import (OUTLIER, TopicFit, TopicSettings, embed_unique, fit_baseline, fit_bertopic,
                               make_embedder, make_vectorizer, outlier_share)

# --------------------------------------------------------------------------- quality


__all__ = [
    "topic_diversity",
    "npmi_coherence",
    "ModelScore",
    "score",
    "warm_up_numba",
    "compare_models",
    "summarise_comparison",
]

def topic_diversity(topic_words: Iterable[Sequence[str]], topn: int = 10) -> float:
    """Share of unique words among the top ``topn`` words of all topics (1 = no word shared
    between topics), as defined by Dieng et al. (2020) and used in the BERTopic paper."""
    tops = [list(w)[:topn] for w in topic_words]
    total = sum(len(w) for w in tops)
    if total == 0:
        raise ValueError("topic diversity of no topic words is undefined")
    return len({w for ws in tops for w in ws}) / total


def npmi_coherence(topic_words: Iterable[Sequence[str]], texts: Sequence[Sequence[str]], topn: int = 10,
                   window_size: int | None = None) -> tuple[float, list[float]]:
    """NPMI coherence of topics against tokenised ``texts`` with gensim's
    ``CoherenceModel(coherence="c_npmi")`` (boolean sliding window of 10 tokens,
    normalised PMI of every pair of top words, mean per topic, mean over topics).

    Topics are their top ``topn`` words; words absent from ``texts`` are dropped (gensim
    raises on them) and topics with fewer than two words left are skipped. Returns the mean
    and the per-topic values (NaN for skipped topics)."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    texts = [list(t) for t in texts]
    dictionary = Dictionary(texts)
    known = dictionary.token2id
    tops = [[w for w in list(ws)[:topn] if w in known] for ws in topic_words]
    usable = [i for i, ws in enumerate(tops) if len(ws) >= 2]
    if not usable:
        raise ValueError("no topic has two words found in the texts; NPMI is undefined")
    cm = CoherenceModel(topics=[tops[i] for i in usable], texts=texts, dictionary=dictionary,
                        coherence="c_npmi", topn=topn, window_size=window_size, processes=1)
    vals = cm.get_coherence_per_topic()
    per = [math.nan] * len(tops)
    for i, v in zip(usable, vals):
        per[i] = float(v)
    return float(np.mean(vals)), per


@dataclass
class ModelScore:
    model: str
    seed: int
    n_topics: int
    npmi: float
    diversity: float
    outlier_share: float
    outlier_share_raw: float
    fit_seconds: float


def score(model: str, seed: int, topic_words: dict[int, list[str]], texts, topics, topics_raw=None,
          fit_seconds: float = math.nan, topn: int = 10) -> ModelScore:
    """NPMI, diversity and outlier share of one fitted model (outlier topic excluded)."""
    words = [w for t, w in sorted(topic_words.items()) if t != OUTLIER]
    npmi, _ = npmi_coherence(words, texts, topn)
    return ModelScore(model, seed, len(words), npmi, topic_diversity(words, topn), outlier_share(topics),
                      outlier_share(topics if topics_raw is None else topics_raw), fit_seconds)


def warm_up_numba(approximate: bool = False) -> None:
    """Compile UMAP's numba functions on a tiny random problem, so that a timed fit does not
    include JIT compilation (about 10 s, once per process). ``approximate=True`` also
    compiles pynndescent (about 40 s more), which UMAP uses from 4,096 documents on."""
    from umap import UMAP

    X = np.random.default_rng(0).normal(size=(80, 8))
    for approx in (False, True) if approximate else (False,):
        UMAP(n_neighbors=5, n_components=2, metric="cosine", random_state=0, n_jobs=1, low_memory=True,
             force_approximation_algorithm=approx).fit_transform(X)


def compare_models(docs: Sequence[str], seeds: Sequence[int], settings: TopicSettings | None = None,
                   n_topics: int | None = None, tokenizer: Tokenizer | None = None,
                   progress: bool = True) -> tuple[pd.DataFrame, dict[int, TopicFit]]:
    """Fit BERTopic, LDA and NMF once per seed on the same documents and tokens and score
    them. ``n_topics`` (LDA/NMF) ``None`` means: as many topics as BERTopic found with that
    seed. Returns one row per model and seed, and the BERTopic fits by seed."""
    from tqdm.auto import tqdm

    settings = settings or TopicSettings()
    tokenizer = tokenizer or Tokenizer()
    docs = list(docs)
    texts = tokenizer.tokenize_many(docs)
    vec = make_vectorizer(tokenizer)
    counts = vec.fit_transform(docs)
    vocab = vec.get_feature_names_out()
    topn = settings.top_n_words
    rows, fits = [], {}
    warm_up_numba(approximate=len(docs) >= 4096)
    shared = None  # sentence-transformers embeddings do not depend on the seed: embed once
    if settings.embedding == "sentence-transformers":
        shared = embed_unique(make_embedder(settings, tokenizer), docs, progress=progress)
    for seed in tqdm(list(seeds), desc="seeds", disable=not progress):
        fit = fit_bertopic(docs, replace(settings, seed=int(seed)), tokenizer, embeddings=shared)
        fits[int(seed)] = fit
        rows.append(score("BERTopic", seed, fit.topic_words(topn), texts, fit.topics, fit.topics_raw,
                          fit.fit_seconds, topn))
        k = n_topics or max(2, fit.n_topics)
        for kind in ("lda", "nmf"):
            b = fit_baseline(kind, docs, k, int(seed), tokenizer, topn, counts, vocab)
            rows.append(score(b.name, seed, b.topic_words, texts, b.topics, None, b.fit_seconds, topn))
    return pd.DataFrame([r.__dict__ for r in rows]), fits


def summarise_comparison(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (over seeds) of every measure, one row per model."""
    measures = ["n_topics", "npmi", "diversity", "outlier_share_raw", "outlier_share", "fit_seconds"]
    g = runs.groupby("model", sort=False)[measures]
    mean, sd = g.mean(), g.std(ddof=1).fillna(0.0)
    out = pd.DataFrame(index=mean.index)
    for m in measures:
        out[f"{m}_mean"] = mean[m]
        out[f"{m}_sd"] = sd[m]
    out.insert(0, "seeds", g.size())
    return out.reset_index()


