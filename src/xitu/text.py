"""Bilingual tokeniser for mixed Chinese/English news text.

Steps, in order: NFKC normalisation → Traditional → Simplified (OpenCC ``t2s``) →
lower-case → line-wrap spaces between two Chinese characters removed → Chinese runs cut by
jieba (its own :class:`jieba.Tokenizer` instance, the project dictionary
``data/lexicon/rare_earth_zh.txt`` loaded, its cache in ``.cache/jieba``) and English words
taken by a regular expression → stopwords (Chinese, scikit-learn's English list, and the
domain list) and punctuation/number-only tokens dropped.

:class:`Tokenizer` is picklable (jieba and OpenCC are rebuilt lazily after unpickling) and
works as ``CountVectorizer(tokenizer=Tokenizer(), lowercase=False, token_pattern=None)``.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
HAN_RUN_RE = re.compile(f"[{HAN}]+")
WRAP_SPACE_RE = re.compile(f"(?<=[{HAN}])\\s+(?=[{HAN}])")
# u.s / e.u abbreviations, words with inner hyphens or apostrophes, letters+digits (g7, 14nm)
EN_TOKEN_RE = re.compile(r"[a-z](?:\.[a-z])+\.?|[a-z0-9]+(?:[-'’](?!s\b)[a-z0-9]+)*")
LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")

_LEXICON_FILES = ("rare_earth_zh.txt",)
_STOPWORD_FILES = ("stopwords_zh.txt", "stopwords_domain.txt")


# --------------------------------------------------------------------------- language, script


def detect_language(text: str) -> str:
    """``zh`` when Chinese characters outnumber Latin words, ``en`` when there are Latin
    words, ``und`` for neither."""
    han = len(HAN_RE.findall(text))
    words = len(LATIN_WORD_RE.findall(text))
    if han == 0 and words == 0:
        return "und"
    return "zh" if han >= words else "en"


@lru_cache(maxsize=4)
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


_CC_LOCK = threading.Lock()


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese with OpenCC's ``t2s`` (other text unchanged)."""
    with _CC_LOCK:
        return _opencc("t2s").convert(text)


def detect_script(text: str) -> str:
    """``Hant`` when at least 3% (and at least two) of the Chinese characters change under
    Traditional → Simplified conversion, ``Hans`` for other Chinese text, ``""`` for none."""
    han = HAN_RE.findall(text)
    if not han:
        return ""
    simp = to_simplified("".join(han))
    changed = sum(a != b for a, b in zip(han, simp))
    return "Hant" if changed >= 2 and changed >= 0.03 * len(han) else "Hans"


# --------------------------------------------------------------------------- lexicon files


def _read_list(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def default_lexicon_dir() -> Path:
    """``data/lexicon`` of the project."""
    from xitu.paths import Paths

    return Paths.default().lexicon


def load_stopwords(lexicon_dir: Path | None = None) -> frozenset[str]:
    """Chinese + English (scikit-learn) + domain stopwords, normalised like tokens."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    lexicon_dir = Path(lexicon_dir or default_lexicon_dir())
    words = set(ENGLISH_STOP_WORDS)
    for name in _STOPWORD_FILES:
        p = lexicon_dir / name
        if p.exists():
            words.update(w.split()[0] for w in _read_list(p))
    return frozenset(to_simplified(unicodedata.normalize("NFKC", w)).lower() for w in words)


def domain_words(lexicon_dir: Path | None = None) -> list[str]:
    """The project dictionary's words (first column of ``rare_earth_zh.txt``)."""
    lexicon_dir = Path(lexicon_dir or default_lexicon_dir())
    return [w.split()[0] for name in _LEXICON_FILES for w in _read_list(lexicon_dir / name)]


# --------------------------------------------------------------------------- tokenizer


class Tokenizer:
    """Callable ``text -> list[str]`` for mixed Chinese/English text.

    Parameters
    ----------
    lexicon_dir
        Folder with ``rare_earth_zh.txt`` and the stopword lists (default ``data/lexicon``).
    cache_dir
        Where jieba keeps its prefix-dictionary cache (default ``.cache/jieba``).
    stopwords
        Drop stopwords (default True).
    hmm
        Let jieba guess unknown words with its HMM (default True, as ``jieba.lcut``).
    """

    def __init__(self, lexicon_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 stopwords: bool = True, hmm: bool = True):
        self.lexicon_dir = Path(lexicon_dir) if lexicon_dir else default_lexicon_dir()
        if cache_dir is None:
            from xitu.paths import Paths

            cache_dir = Paths(self.lexicon_dir.parents[1]).cache / "jieba"
        self.cache_dir = Path(cache_dir)
        self.use_stopwords = stopwords
        self.hmm = hmm
        self._jieba = None
        self._stop: frozenset[str] | None = None

    # pickling: keep the settings, rebuild jieba and OpenCC on first use
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_jieba"] = None
        state["_stop"] = None
        return state

    def __repr__(self) -> str:
        return f"Tokenizer(lexicon_dir={str(self.lexicon_dir)!r}, stopwords={self.use_stopwords}, hmm={self.hmm})"

    @property
    def jieba(self):
        """A jieba instance with the project dictionary loaded: one per process and lexicon
        (shared by every tokeniser of that lexicon, so ``sklearn.clone`` or unpickling does
        not reload it)."""
        if self._jieba is None:
            self._jieba = _load_jieba(self.lexicon_dir, self.cache_dir)
        return self._jieba

    def keeping_stopwords(self) -> "Tokenizer":
        """The same tokeniser with stopwords kept (for models where function words carry
        meaning, such as stance). It shares this tokeniser's loaded jieba dictionary."""
        other = Tokenizer(self.lexicon_dir, self.cache_dir, stopwords=False, hmm=self.hmm)
        other._jieba = self.jieba
        return other

    @property
    def stopwords(self) -> frozenset[str]:
        if self._stop is None:
            self._stop = load_stopwords(self.lexicon_dir) if self.use_stopwords else frozenset()
        return self._stop

    def normalise(self, text: str) -> str:
        """NFKC, Traditional → Simplified, lower-case, wrap spaces inside Chinese removed."""
        text = unicodedata.normalize("NFKC", text)
        text = to_simplified(text).lower()
        return WRAP_SPACE_RE.sub("", text)

    def __call__(self, text: str) -> list[str]:
        text = self.normalise(text)
        stop = self.stopwords
        cut = self.jieba.cut
        out: list[str] = []
        pos = 0
        for m in HAN_RUN_RE.finditer(text):
            if m.start() > pos:
                out.extend(EN_TOKEN_RE.findall(text, pos, m.start()))
            out.extend(cut(m.group(0), HMM=self.hmm))
            pos = m.end()
        if pos < len(text):
            out.extend(EN_TOKEN_RE.findall(text, pos))
        return [t for t in out if t not in stop and not t.isdigit() and (len(t) > 1 or HAN_RE.match(t))
                and not _NUMBERISH.fullmatch(t)]

    def tokenize_many(self, texts, progress: bool = False) -> list[list[str]]:
        """Tokenise an iterable of texts, with a progress bar when ``progress``."""
        if progress:
            from tqdm.auto import tqdm

            texts = tqdm(texts, desc="tokenising", unit="seg")
        return [self(t) for t in texts]


_NUMBERISH = re.compile(r"[\d.,%'’-]+")

_JIEBA: dict[tuple[str, tuple], object] = {}
_JIEBA_LOCK = threading.Lock()


def _load_jieba(lexicon_dir: Path, cache_dir: Path):
    """The jieba tokenizer of ``lexicon_dir``, loaded once per process. Keyed by the
    dictionary files' paths, sizes and modification times, so an edited lexicon reloads."""
    files = [Path(lexicon_dir) / name for name in _LEXICON_FILES]
    for p in files:
        if not p.exists():
            raise FileNotFoundError(f"project dictionary missing: {p}")
    key = (str(Path(lexicon_dir).resolve()), tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    with _JIEBA_LOCK:
        if key not in _JIEBA:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            tk = jieba.Tokenizer()
            tk.tmp_dir = str(cache_dir)
            tk.initialize()
            for p in files:
                with open(p, "rb") as f:  # jieba leaves a path it opens unclosed
                    tk.load_userdict(f)
            _JIEBA[key] = tk
        return _JIEBA[key]

