"""Bilingual tokeniser for mixed Chinese/English news text.

Steps, in order: NFKC normalisation → Traditional → Simplified (OpenCC ``t2s``) →
lower-case → line-wrap spaces between two Chinese characters removed → Chinese runs cut by
jieba (its own :class:`jieba.Tokenizer` instance, the domain dictionary loaded, its cache in
``.cache/jieba`` of the project or ``~/.cache/xitu/jieba`` outside one) and English words
taken by a regular expression → stopwords (Chinese, scikit-learn's English list, and the
domain list) and punctuation/number-only tokens dropped.

The domain dictionary (``rare_earth_zh.txt``), the stopword lists and the stance keyword
lexicon ship inside the package (``xitu/lexicon/``, read with :mod:`importlib.resources`),
so :class:`Tokenizer` works from any folder after ``pip install``. A project's own
``data/lexicon/`` files of the same names *extend* them (their words are added).
Corpus-wide words such as 稀土 are tokens, not stopwords: the topic models leave them out of
topic words by a data-driven rule (:func:`xitu.topics.model.filler_words`).

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

# Han characters: the CJK blocks of the Basic Multilingual Plane, 〇 (U+3007, the zero of
# "二〇二五年") and the supplementary ideographs (extensions B to H: names, Cantonese, 𠮷).
HAN = r"\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN_RE = re.compile(f"[{HAN}]")
HAN_RUN_RE = re.compile(f"[{HAN}]+")
WRAP_SPACE_RE = re.compile(f"(?<=[{HAN}])\\s+(?=[{HAN}])")
# u.s / e.u abbreviations, words with inner hyphens or apostrophes, letters+digits (g7, 14nm)
EN_TOKEN_RE = re.compile(r"[a-z](?:\.[a-z])+\.?|[a-z0-9]+(?:[-'’](?!s\b)[a-z0-9]+)*")
LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
# Invisible format characters (Unicode category Cf) that NFKC keeps: soft hyphen, zero-width
# space/joiners, left-to-right and right-to-left marks, bidi embeddings and isolates, word
# joiner, byte-order mark. Copied from web pages they split words ("稀\u200b土" → 稀, 土) and
# make one outlet or title two ("\u200eReuters"), so they are removed before anything else.
INVISIBLE_RE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                          "\ufeff\ufff9-\ufffb]")


def strip_invisible(text: str) -> str:
    """``text`` without invisible format characters (:data:`INVISIBLE_RE`)."""
    return INVISIBLE_RE.sub("", text)

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


def packaged_lexicon_dir() -> Path:
    """The folder of the lexicon files shipped inside the package (``xitu/lexicon``)."""
    from importlib.resources import files

    return Path(str(files("xitu") / "lexicon"))


def default_lexicon_dir() -> Path | None:
    """``data/lexicon`` of the project, or ``None`` outside a project (the packaged
    files are then used alone)."""
    from xitu.paths import Paths

    try:
        return Paths.default().lexicon
    except FileNotFoundError:
        return None


def lexicon_files(name: str, lexicon_dir: Path | None = None) -> list[Path]:
    """The files a lexicon ``name`` is read from: the packaged one, then the project's file
    of the same name in ``lexicon_dir`` when it exists (it extends the packaged one)."""
    out = [packaged_lexicon_dir() / name]
    if lexicon_dir is not None:
        p = Path(lexicon_dir) / name
        if p.is_file() and p.resolve() != out[0].resolve():
            out.append(p)
    return [p for p in out if p.is_file()]


def default_cache_dir(lexicon_dir: Path | None = None) -> Path:
    """Where jieba keeps its dictionary cache (:func:`xitu.paths.cache_dir`): the project of
    ``lexicon_dir`` when it is a project's ``data/lexicon``, else the usual rule."""
    from xitu.paths import cache_dir

    root = Path(lexicon_dir).parents[1] if lexicon_dir is not None and Path(lexicon_dir).parent.name == "data" else None
    return cache_dir("jieba", root)


def load_stopwords(lexicon_dir: Path | None = None) -> frozenset[str]:
    """Chinese + English (scikit-learn) + domain stopwords, normalised like tokens."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    lexicon_dir = lexicon_dir or default_lexicon_dir()
    words = set(ENGLISH_STOP_WORDS)
    for name in _STOPWORD_FILES:
        for p in lexicon_files(name, lexicon_dir):
            words.update(w.split()[0] for w in _read_list(p))
    return frozenset(to_simplified(unicodedata.normalize("NFKC", w)).lower() for w in words)


def domain_words(lexicon_dir: Path | None = None) -> list[str]:
    """The domain dictionary's words (first column of ``rare_earth_zh.txt``: the packaged
    file, then the project's additions)."""
    lexicon_dir = lexicon_dir or default_lexicon_dir()
    return list(dict.fromkeys(w.split()[0] for name in _LEXICON_FILES for p in lexicon_files(name, lexicon_dir)
                              for w in _read_list(p)))


# --------------------------------------------------------------------------- tokenizer


_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_ACRONYM_RE = re.compile(r"[A-Z][A-Z0-9]{1,4}")


def _acronyms(text: str) -> frozenset[str]:
    """Lower-cased words written in capitals (2–5 characters: US, EU, WHO), unless the text
    has three or more Latin words and half or more of them are in capitals (a shouted
    headline, not acronyms)."""
    words = _LATIN_WORD_RE.findall(unicodedata.normalize("NFKC", text))
    caps = [w for w in words if _ACRONYM_RE.fullmatch(w)]
    if not caps or (len(words) >= 3 and 2 * len(caps) >= len(words)):
        return frozenset()
    return frozenset(w.lower() for w in caps)


class Tokenizer:
    """Callable ``text -> list[str]`` for mixed Chinese/English text.

    Parameters
    ----------
    lexicon_dir
        The project's lexicon folder, whose files extend the packaged ones (default: the
        project's ``data/lexicon``; none outside a project).
    cache_dir
        Where jieba keeps its prefix-dictionary cache (default: :func:`default_cache_dir`).
    stopwords
        Drop stopwords (default True).
    hmm
        Let jieba guess unknown words with its HMM (default True, as ``jieba.lcut``).
    """

    def __init__(self, lexicon_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 stopwords: bool = True, hmm: bool = True):
        self.lexicon_dir = Path(lexicon_dir) if lexicon_dir else default_lexicon_dir()
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir(self.lexicon_dir)
        self.use_stopwords = stopwords
        self.hmm = hmm
        self._jieba = None
        self._stop: frozenset[str] | None = None
        self._singles = False

    # pickling: keep the settings, rebuild jieba and OpenCC on first use
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_jieba"] = None
        state["_stop"] = None
        state["_singles"] = False
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

    @property
    def single_char_terms(self):
        """A pattern of the one-character domain terms (镝, 铽, 镓, …), or ``None``. jieba
        hands runs of one-character words to its HMM, which glues them to a neighbour
        (对镝, 称镝); these terms are therefore split off before jieba sees the text."""
        if getattr(self, "_singles", False) is False:
            chars = sorted({w for w in domain_words(self.lexicon_dir) if len(w) == 1 and HAN_RE.match(w)})
            self._singles = re.compile("([" + "".join(chars) + "])") if chars else None
        return self._singles

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
        """Invisible format characters removed, NFKC, Traditional → Simplified, lower-case,
        wrap spaces inside Chinese removed."""
        text = unicodedata.normalize("NFKC", strip_invisible(text))
        text = to_simplified(text).lower()
        return WRAP_SPACE_RE.sub("", text)

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text`` (see the class docstring). A stopword written in capitals
        as an acronym ("US", "IT", "WHO") is kept, lower-cased, unless the text is shouting
        (:func:`_acronyms`)."""
        if not isinstance(text, str):
            raise TypeError(f"the tokeniser reads text (str), got {type(text).__name__}: {text!r:.40}")
        caps = _acronyms(text)
        text = self.normalise(text)
        stop = self.stopwords
        cut = self.jieba.cut
        out: list[str] = []
        pos = 0
        singles = self.single_char_terms
        for m in HAN_RUN_RE.finditer(text):
            if m.start() > pos:
                out.extend(EN_TOKEN_RE.findall(text, pos, m.start()))
            run = m.group(0)
            if singles is not None and singles.search(run):
                for piece in singles.split(run):  # the split keeps the terms (one capturing group)
                    if piece:
                        out.extend([piece] if singles.fullmatch(piece) else cut(piece, HMM=self.hmm))
            else:
                out.extend(cut(run, HMM=self.hmm))
            pos = m.end()
        if pos < len(text):
            out.extend(EN_TOKEN_RE.findall(text, pos))
        return [t for t in out if (t not in stop or t in caps) and not t.isdigit() and (len(t) > 1 or HAN_RE.match(t))
                and not _NUMBERISH.fullmatch(t)]

    def tokenize(self, text: str) -> list[str]:
        """The tokens of one text (the same as calling the tokeniser: ``tok(text)``)."""
        return self(text)

    def tokenize_many(self, texts, progress: bool = False) -> list[list[str]]:
        """Tokenise an iterable of texts, with a progress bar when ``progress``."""
        if progress:
            from tqdm.auto import tqdm

            texts = tqdm(texts, desc="tokenising", unit="seg")
        return [self(t) for t in texts]


_NUMBERISH = re.compile(r"[\d.,%'’-]+")

_JIEBA: dict[tuple[str, tuple], object] = {}
_JIEBA_LOCK = threading.Lock()


def _load_jieba(lexicon_dir: Path | None, cache_dir: Path):
    """The jieba tokenizer with the packaged dictionary and a project's extension in
    ``lexicon_dir`` (:func:`lexicon_files`), loaded once per process. Keyed by the dictionary
    files' paths, sizes and modification times, so an edited lexicon reloads."""
    files = []
    for name in _LEXICON_FILES:
        found = lexicon_files(name, lexicon_dir)
        if not found:
            raise FileNotFoundError(f"domain dictionary {name} missing from {packaged_lexicon_dir()}")
        files += found
    key = (tuple(str(p.resolve()) for p in files), tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in files))
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

