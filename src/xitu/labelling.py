"""The labelling session: one core for the notebook widget and the terminal.

A :class:`LabellingSession` shows one segment at a time to one annotator and takes a
decision: a label, *skip* (this session only, nothing written), *undo* (retracts this
session's last label and shows that segment again) or *quit*. It promises:

- every label is appended to ``data/labels/<annotator>.jsonl`` and flushed to disk
  (``xitu.labels.record`` fsyncs) **before** the next segment is chosen and shown; the log is
  never rewritten, undo appends a retraction;
- a segment the annotator has labelled is never shown again (their log is re-read before
  every pick, so a second window or a restart resumes where they left off);
- log lines that cannot be used (a half-written last line after a power cut, a malformed
  line) are reported in :attr:`LabellingSession.problems`, never silently dropped.

Which segment comes next
    ``order="entropy"`` (default) or ``"margin"``: the classifier's least certain segment
    first — the entropy of ``predict_proba``, or one minus the gap between its two most
    probable classes. The classifier is trained on the gold set of all logs
    (``labels.decide_gold``), single labels so far, and the annotator's own labels, and retrained every
    ``retrain_every`` labels so the order follows what was just learned. Until there are
    two labels in each of two classes it cannot be trained; the session then falls back to
    corpus order and says so in :attr:`LabellingSession.model_status`.
    ``order="random"`` (seeded) and ``order="corpus"`` (articles by date, segments in
    reading order) need no classifier.

Which segments are candidates
    ``pool="unlabelled"``: segments nobody has labelled; ``pool="own"``: segments this
    annotator has not labelled (a second opinion, for agreement); ``pool="auto"`` (default):
    unlabelled ones while there are any, then the annotator's own pool. Filters narrow the
    candidates by search query, publication date and language.

When the own pool holds segments that others labelled, the classifier has been trained on
those labels, so its guess would reveal them: the guess is then hidden (the codebook says a
second annotator never sees another's labels); the order still uses it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from xitu.labels import (ADJUDICATED, LABELS, LabelError, check_annotator, check_label, check_writable,
                         decide_gold, lock_log, read_log, read_logs, record, replay, retract)

from xitu.settings import SEED  # noqa: E402  (one home for settings)
ORDERS = ("entropy", "margin", "random", "corpus")
POOLS = ("auto", "unlabelled", "own")
ACTION_KEYS = {"k": "skip", "u": "undo", "q": "quit", "?": "help", "r": "rules"}
REQUIRED_COLUMNS = ("segment_id", "text", "text_hash", "article_id", "position", "section", "heading",
                    "language", "title", "source", "published", "queries")


class SessionError(ValueError):
    """A labelling session cannot be set up or cannot do what was asked."""


# --------------------------------------------------------------------------- keys and codebook


def label_keys(labels: Sequence[str] = LABELS) -> dict[str, str]:
    """One-letter shortcut for every label: the first letter of the label (or the next of its
    letters) not yet taken and not an action key (k, u, q, ?, r). ``LABELS`` gives
    ``e``scalation, ``c``ooperation, ``s``elf-reliance, ``n``one."""
    keys: dict[str, str] = {}
    for lab in labels:
        for ch in lab.lower():
            if ch.isalnum() and ch not in keys and ch not in ACTION_KEYS:
                keys[ch] = lab
                break
        else:
            raise SessionError(f"no free shortcut letter for label {lab!r}")
    return keys


@dataclass
class Codebook:
    """The label definitions and decision rules of ``CODEBOOK.md``, for the front ends."""

    definitions: dict[str, str]
    rules: list[str]
    title: str = "Codebook"

    def one_liner(self, label: str, width: int = 110) -> str:
        """The gist of a label's definition: the text before its first colon, shortened."""
        d = self.definitions.get(label, "")
        d = d.split(": ", 1)[0]
        return d if len(d) <= width else d[: width - 1].rstrip() + "…"


_ROW_RE = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$")
_RULE_RE = re.compile(r"^(\d+)\.\s+(.*)$")


def read_codebook(path: str | Path, labels: Sequence[str] = LABELS) -> Codebook:
    """Parse the label table (rows ``| `label` | definition |``) and the numbered decision
    rules of a codebook. A missing file gives empty definitions (the tools still work)."""
    path = Path(path)
    if not path.is_file():
        return Codebook({}, [], "Codebook (not found: " + str(path) + ")")
    definitions: dict[str, str] = {}
    rules: list[str] = []
    title = "Codebook"
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
        if line.startswith("## "):
            section = line[3:].strip().lower()
            continue
        m = _ROW_RE.match(line)
        if m and m.group(1) in labels and m.group(1) not in definitions:
            definitions[m.group(1)] = m.group(2).replace("… |", "…").strip()
            continue
        if section.startswith("decision rules"):
            m = _RULE_RE.match(line.strip())
            if m:
                rules.append(m.group(2).strip())
            elif line.startswith("   ") and rules and line.strip():
                rules[-1] += " " + line.strip()
    return Codebook(definitions, rules, title)


# --------------------------------------------------------------------------- uncertainty


def entropy(proba: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each row of class probabilities: high = uncertain."""
    p = np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin_uncertainty(proba: np.ndarray) -> np.ndarray:
    """One minus the gap between the two most probable classes of each row: high = uncertain."""
    p = np.sort(np.asarray(proba, dtype=float), axis=1)
    if p.shape[1] < 2:
        return np.zeros(len(p))
    return 1.0 - (p[:, -1] - p[:, -2])


# --------------------------------------------------------------------------- data


def load_segments(paths=None) -> pd.DataFrame:
    """Every segment with its article's title, source, date and queries, from the processed
    tables (ingested first when ``data/raw`` changed; see :mod:`xitu.processed`)."""
    from xitu.processed import segments_with_articles

    return segments_with_articles(paths)


def _check_date(value: str | None, name: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise SessionError(f"{name} must be a date like 2025-08-19, got {value!r}") from None


def filter_segments(segments: pd.DataFrame, query: str | Iterable[str] | None = None, since: str | None = None,
                    until: str | None = None, language: str | None = None) -> pd.DataFrame:
    """The segments whose article was found by one of ``query`` (exact search query), was
    published between ``since`` and ``until`` (inclusive, ``YYYY-MM-DD``; undated articles
    are left out when a date is given) and whose own language is ``language``."""
    keep = pd.Series(True, index=segments.index)
    if query:
        wanted = {query} if isinstance(query, str) else set(query)
        wanted = {q.strip() for q in wanted if q and q.strip()}
        if wanted:
            found = segments["queries"].fillna("").map(lambda s: {q.strip() for q in s.split(";")})
            keep &= found.map(lambda qs: bool(qs & wanted))
    since, until = _check_date(since, "since"), _check_date(until, "until")
    day = segments["published"].fillna("").astype(str).str[:10]
    if since:
        keep &= day.ne("") & (day >= since)
    if until:
        keep &= day.ne("") & (day <= until)
    if language:
        keep &= segments["language"].eq(language)
    return segments[keep]


# --------------------------------------------------------------------------- session


@dataclass(frozen=True)
class Item:
    """One segment as a front end shows it."""

    segment_id: str
    text: str
    text_hash: str
    title: str
    source: str
    published: str
    section: str
    heading: str
    language: str
    queries: str
    guess: str | None = None  # the classifier's label, None if no classifier or hidden
    guess_probability: float | None = None
    probabilities: dict = field(default_factory=dict)
    uncertainty: float | None = None
    why: str = ""  # why this segment comes now ("least certain: entropy 1.21", "corpus order")

    @property
    def context(self) -> str:
        """The segment's place in its article: ``Group 2: Policy Impact``, ``Core Viewpoint``."""
        if self.section and self.heading:
            return f"{self.section}: {self.heading}"
        return self.section or self.heading or ""


@dataclass
class Progress:
    """Counts for a progress display."""

    session_labelled: int  # labels of this session still standing (undone ones excluded)
    own_total: int  # segments with a current label by this annotator (all sessions)
    remaining: int  # candidates left in the active pool (after filters, minus skipped)
    skipped: int  # skipped in this session
    pool: str  # the active pool: unlabelled or own


def _s(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


class LabellingSession:
    """Active-learning labelling for one annotator (see the module docstring).

    Parameters
    ----------
    annotator
        The annotator's name (letters, digits, ``_``, ``-``); ``adjudicated`` is refused
        (adjudications are entered with their reasons through ``xitu agree --apply``).
    segments
        Segments joined with their articles (:func:`load_segments`).
    folder
        The label logs folder (``data/labels``).
    order, pool, query, since, until, language
        Ordering, candidate pool and filters (module docstring).
    retrain_every
        Retrain the classifier after this many labels of the session (0: never).
    trainer
        ``trainer(texts, labels) -> model`` with ``predict_proba`` and ``classes_``;
        default :func:`xitu.stance.train`.
    show_guess
        Show the classifier's guess (default: no; a guess on screen anchors the label).
    on_status
        Called with a short message before slow steps (retraining), for the front ends.
    """

    def __init__(self, annotator: str, segments: pd.DataFrame, folder: str | Path, *, order: str = "entropy",
                 pool: str = "auto", query: str | Iterable[str] | None = None, since: str | None = None,
                 until: str | None = None, language: str | None = None, retrain_every: int = 10,
                 seed: int | None = None, labels: Sequence[str] = LABELS,
                 trainer: Callable | None = None, show_guess: bool | None = None,
                 on_status: Callable[[str], None] | None = None):
        self.annotator = check_annotator(annotator)
        if annotator == ADJUDICATED:
            raise LabelError(f"{ADJUDICATED!r} is the adjudication log, not an annotator: enter adjudications "
                             "with their reasons through 'xitu agree --apply FILE'")
        if order not in ORDERS:
            raise SessionError(f"unknown order {order!r}: expected one of {', '.join(ORDERS)}")
        if pool not in POOLS:
            raise SessionError(f"unknown pool {pool!r}: expected one of {', '.join(POOLS)}")
        if retrain_every is None or int(retrain_every) < 0:
            raise SessionError(f"retrain_every must be 0 (never) or a positive number, got {retrain_every!r}")
        missing = [c for c in REQUIRED_COLUMNS if c not in segments.columns]
        if missing:
            raise SessionError(f"segments lack columns {missing}: pass corpus.segments_with_articles()")
        self.labels = tuple(labels)
        self.keys = label_keys(self.labels)
        self.folder = Path(folder)
        self.log = check_writable(self.folder, self.annotator)  # refuse now, not at the first key
        # one session per annotator log at a time (a second window is refused); released by
        # close(), and by the operating system when this process ends, however it ends
        self._lock = lock_log(self.folder, self.annotator)
        self.session_id = secrets.token_hex(6)  # written with each decision: undo retracts only ours
        try:
            self._setup(segments, order, pool, query, since, until, language, retrain_every, seed, trainer,
                        show_guess, on_status)
        except BaseException:
            self._lock.release()
            raise

    def _setup(self, segments, order, pool, query, since, until, language, retrain_every, seed, trainer,
               show_guess, on_status) -> None:
        self.order = order
        self.pool_option = pool
        self.retrain_every = int(retrain_every)
        self.seed = SEED if seed is None else int(seed)
        self.trainer = trainer
        self._show_guess = show_guess
        self.on_status = on_status
        self.segments = segments.drop_duplicates("segment_id").reset_index(drop=True)
        self.candidates = filter_segments(self.segments, query, since, until, language)
        self.filters = {k: v for k, v in dict(query=query, since=since, until=until, language=language).items() if v}
        if self.candidates.empty:
            raise SessionError(f"no segment matches the filters {self.filters}")
        self._by_id = self.candidates.set_index("segment_id", drop=False)
        self._rank_corpus = list(self.candidates["segment_id"])
        rng = np.random.default_rng(self.seed)
        self._rank_random = list(np.asarray(self._rank_corpus, dtype=object)[rng.permutation(len(self._rank_corpus))])

        self.problems: list = []  # labels.LogProblem of every log line that was not used
        self.history: list[str] = []  # segment ids labelled in this session (undone ones removed)
        self.skipped: set[str] = set()
        self.closed = False
        self.model = None
        self.model_status = ""
        self.n_training = 0
        self.retrained = 0  # how many times the classifier was (re)trained in this session
        self._since_training = 0
        self._scores: dict[str, float] = {}
        self._proba: pd.DataFrame | None = None
        self._rank_uncertain: list[str] = []
        self.active_pool = "unlabelled" if pool in ("auto", "unlabelled") else "own"
        self.notice = ""  # a one-off message for the front end (pool switched, nothing to undo …)

        self._others: set[str] = set()
        self._own: set[str] = set()
        self._too_few = False  # the last training attempt lacked labels (retried after every label)
        self._read_all_logs()
        if self.uses_classifier:
            self.retrain()
        else:
            self.model_status = f"{order} order, classifier guess hidden"
        self.current: Item | None = None
        self._advance()

    # ----------------------------------------------------------------- logs and training

    def _read_all_logs(self) -> pd.DataFrame:
        """Read every log; remember who labelled what; return the replayed current labels."""
        logs = read_logs(self.folder, self.labels)
        self.problems = logs.problems
        current = replay(logs.entries)
        self.gold = decide_gold(current)  # the gold set as every report shows it
        mine = current["annotator"].eq(self.annotator)
        self._own = set(current.loc[mine, "segment_id"])
        self._others = set(current.loc[~mine, "segment_id"])
        return current

    def _refresh_own(self) -> None:
        """Re-read this annotator's own log (cheap), so labels written elsewhere count."""
        r = read_log(self.log, self.labels)
        own = replay(r.entries)
        self._own = set(own["segment_id"])
        others = [p for p in self.problems if p.file != str(self.log)]
        self.problems = others + r.problems

    def training_set(self, current: pd.DataFrame | None = None) -> pd.DataFrame:
        """The labels the classifier learns from, restricted to segments of the corpus:
        the gold set of all logs (:func:`xitu.labels.decide_gold`), then segments with a
        single label so far (provisional, waiting for a second opinion), then this
        annotator's own labels of segments in neither. Columns ``segment_id, label, text,
        kind`` (``gold``, ``single``, ``own``)."""
        if current is None:
            current = self._read_all_logs()
        g = decide_gold(current)
        self.gold = g
        gold = g.gold[["segment_id", "label"]].assign(kind="gold")
        single = g.single[["segment_id", "label"]].assign(kind="single")
        own = current[current["annotator"].eq(self.annotator)][["segment_id", "label"]].assign(kind="own")
        labelled = pd.concat([gold, single, own], ignore_index=True).drop_duplicates("segment_id", keep="first")
        labelled = labelled[labelled["label"].isin(self.labels)]
        return labelled.merge(self.segments[["segment_id", "text"]], on="segment_id", how="inner")

    @property
    def uses_classifier(self) -> bool:
        """Whether this session trains a classifier: for the uncertainty orders, and for the
        guess shown with each segment (unless switched off, or hidden in the own pool)."""
        return (self.order in ("entropy", "margin") or self._show_guess is True
                or (self._show_guess is None and self.pool_option != "own"))

    def retrain(self) -> bool:
        """(Re)train the classifier and re-rank the candidates by its uncertainty. Returns
        whether a classifier is now available; if not, :attr:`model_status` says why and the
        order falls back to corpus order."""
        if not self.uses_classifier:
            return False
        current = self._read_all_logs()
        train = self.training_set(current)
        self.n_training = len(train)
        self._since_training = 0
        counts = train["label"].value_counts()
        enough = len(counts) >= 2 and int(counts.min()) >= 2 if len(counts) else False
        self._too_few = not enough
        if not enough:
            self.model, self._scores, self._proba, self._rank_uncertain = None, {}, None, []
            have = ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
            self.model_status = ("no classifier yet: it needs at least 2 labels in each of 2 classes "
                                 f"(labels so far: {have})")
            if self.order in ("entropy", "margin"):
                self.model_status += "; showing segments in corpus order until then"
            return False
        if self.on_status:
            self.on_status(f"training the classifier on {len(train)} labels…")
        try:
            trainer = self.trainer or _default_trainer()
            if getattr(trainer, "reads_tables", False):  # the project's stance model reads segment tables
                rows = self.segments.drop_duplicates("segment_id").set_index("segment_id").loc[train["segment_id"]].reset_index()
                model = trainer(rows, list(train["label"]))
                proba = np.asarray(model.predict_proba(self.candidates), dtype=float)
            else:  # a custom trainer(texts, labels)
                model = trainer(list(train["text"]), list(train["label"]))
                proba = np.asarray(model.predict_proba(list(self.candidates["text"])), dtype=float)
        except Exception as e:  # a broken classifier must not stop labelling
            self.model, self._scores, self._proba, self._rank_uncertain = None, {}, None, []
            self.model_status = f"classifier failed ({type(e).__name__}: {e})"
            if self.order in ("entropy", "margin"):
                self.model_status += "; showing segments in corpus order"
            return False
        u = entropy(proba) if self.order == "entropy" else margin_uncertainty(proba)
        ids = list(self.candidates["segment_id"])
        self.model = model
        self._proba = pd.DataFrame(proba, index=ids, columns=[str(c) for c in model.classes_])
        self._scores = dict(zip(ids, u))
        # most uncertain first; ties in corpus order (a stable sort keeps it)
        order = np.argsort(-u, kind="stable")
        self._rank_uncertain = [ids[i] for i in order] if self.order in ("entropy", "margin") else []
        self.retrained += 1
        kinds = train["kind"].value_counts()
        parts = " + ".join(f"{kinds[k]} {w}" for k, w in (("gold", "gold"), ("single", "single-label"),
                                                           ("own", "your own")) if k in kinds)
        trained = (f"classifier trained on {len(train)} labels ({', '.join(f'{k} {v}' for k, v in counts.items())};"
                   f" {parts})")
        self.model_status = (f"least certain first ({self.order}); " if self._rank_uncertain
                             else f"{self.order} order; ") + trained
        return True

    # ----------------------------------------------------------------- picking

    def _ranking(self) -> tuple[list[str], str]:
        if self.order in ("entropy", "margin") and self._rank_uncertain:
            return self._rank_uncertain, "uncertainty"
        if self.order == "random":
            return self._rank_random, "random order"
        return self._rank_corpus, "corpus order"

    def _excluded(self, pool: str) -> set[str]:
        done = self._own | self.skipped
        return done | self._others if pool == "unlabelled" else done

    def _remaining(self, pool: str) -> list[str]:
        ranking, _ = self._ranking()
        ex = self._excluded(pool)
        return [s for s in ranking if s not in ex]

    def _advance(self, show: str | None = None) -> Item | None:
        """Choose the next segment (or show ``show``) and make it :attr:`current`."""
        self._refresh_own()
        if show is not None:
            self.current = self._item(show, "shown again after undo")
            return self.current
        left = self._remaining(self.active_pool)
        if not left and self.pool_option == "auto" and self.active_pool == "unlabelled":
            self.active_pool = "own"
            self.notice = ("every segment matching the filters has a label from someone: now showing segments "
                           "you have not labelled yet (a second opinion, compared in 'xitu agree')")
            left = self._remaining("own")
        if not left:
            self.current = None
            return None
        self.current = self._item(left[0])
        return self.current

    @property
    def show_guess(self) -> bool:
        """Whether the classifier's guess is shown: only when asked for (``show_guess=True``).
        A guess on screen anchors the annotator (the label drifts towards the model), and
        gold labels must come from reading the segment; the order still uses the classifier.
        In the own pool a guess would also reveal other annotators' labels of the segment
        (the model was trained on them): ask for it there only to review, not to code."""
        if self._show_guess is not None:
            return bool(self._show_guess)
        return False

    def _item(self, sid: str, why: str | None = None) -> Item:
        r = self._by_id.loc[sid]
        guess = p = None
        probs: dict = {}
        u = self._scores.get(sid)
        if self._proba is not None and sid in self._proba.index:
            row = self._proba.loc[sid]
            if self.show_guess:
                guess, p = str(row.idxmax()), float(row.max())
                probs = {k: float(v) for k, v in row.items()}
        if why is None:
            _, how = self._ranking()
            if how == "uncertainty" and u is not None:
                why = f"least certain first ({self.order} {u:.2f})"
            elif self.order in ("entropy", "margin"):
                why = "corpus order (no classifier yet)"
            else:
                why = how
        return Item(segment_id=sid, text=_s(r["text"]), text_hash=_s(r["text_hash"]), title=_s(r["title"]),
                    source=_s(r["source"]), published=_s(r["published"]), section=_s(r["section"]),
                    heading=_s(r["heading"]), language=_s(r["language"]), queries=_s(r["queries"]),
                    guess=guess, guess_probability=p, probabilities=probs,
                    uncertainty=None if u is None else float(u), why=why)

    # ----------------------------------------------------------------- decisions

    def _check_open(self, segment_id: str | None) -> Item:
        if self.closed:
            raise SessionError("this labelling session has ended")
        if self.current is None:
            raise SessionError("no segment left to label with these filters")
        if segment_id is not None and segment_id != self.current.segment_id:
            raise SessionError(f"segment {segment_id} is no longer the one shown ({self.current.segment_id}); "
                               "nothing was written")
        return self.current

    def label(self, label: str, segment_id: str | None = None) -> dict:
        """Record ``label`` for the current segment (durably, before anything else happens),
        retrain if due, and move on. ``segment_id``, when given, must be the segment shown
        (protects against a stale click). Returns the log entry written."""
        check_label(label, self.labels)
        item = self._check_open(segment_id)
        self._refresh_own()
        if item.segment_id in self._own:  # written to the log by something else since it was shown
            self._advance()
            raise SessionError(f"{item.segment_id} already has a label of yours in {self.log} (written "
                               "elsewhere since it was shown); nothing was written, your label there stands")
        entry = record(self.folder, self.annotator, item.segment_id, label, item.text_hash, self.labels,
                       session=self.session_id)
        self._own.add(item.segment_id)
        self.history.append(item.segment_id)
        self._since_training += 1
        self.notice = ""
        if self.uses_classifier and self.retrain_every and (self._too_few or self._since_training >= self.retrain_every):
            self.retrain()
        self._advance()
        return entry

    def skip(self, segment_id: str | None = None) -> Item | None:
        """Put the current segment aside for the rest of this session (nothing is written)."""
        item = self._check_open(segment_id)
        self.skipped.add(item.segment_id)
        self.notice = ""
        return self._advance()

    def undo(self) -> Item | None:
        """Retract this session's last standing label (a retraction line is appended) and
        show that segment again. Returns it, or ``None`` (with :attr:`notice` set) when this
        session has no label left to undo. Only this session's own decision is retracted: if
        the annotator's current label of that segment was written by anything else since
        (another session, an import), nothing is written and :attr:`notice` says so."""
        if self.closed:
            raise SessionError("this labelling session has ended")
        if not self.history:
            self.notice = "nothing to undo in this session"
            return None
        sid = self.history.pop()
        last = None
        for e in read_log(self.log, self.labels).entries:  # the decision on sid that stands now
            if e["segment_id"] == sid:
                last = e
        if last is None or last["action"] != "label" or last.get("session") != self.session_id:
            self._refresh_own()
            self.notice = (f"not undone: your label of {sid} was changed or withdrawn elsewhere since this "
                           "session set it; nothing was retracted")
            return self.current
        retract(self.folder, self.annotator, sid, session=self.session_id)
        self._own.discard(sid)
        self.skipped.discard(sid)
        self.notice = f"undone: your label of {sid} was retracted"
        return self._advance(show=sid)

    def close(self) -> Progress:
        """End the session (every label is already on disk), release the annotator's log for
        other sessions, and return the final counts."""
        self.closed = True
        self._lock.release()
        return self.progress()

    quit = close

    def __enter__(self) -> "LabellingSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------- reporting

    def progress(self) -> Progress:
        """Counts for the progress display."""
        remaining = len(self._remaining(self.active_pool))
        return Progress(session_labelled=len(self.history), own_total=len(self._own), remaining=remaining,
                        skipped=len(self.skipped), pool=self.active_pool)

    def problem_lines(self) -> list[str]:
        """Readable lines for every log line that was not used."""
        return [f"{p.file}:{p.line}: {p.reason}" for p in self.problems]

    def describe(self) -> str:
        """One line: annotator, log, pool, filters and how segments are ordered."""
        f = ", ".join(f"{k}={v}" for k, v in self.filters.items())
        pool = {"unlabelled": "segments nobody has labelled", "own": "segments you have not labelled"}[self.active_pool]
        return (f"annotator {self.annotator} → {self.log} · {pool}" + (f" · filters: {f}" if f else "")
                + f" · {self.model_status} · {self.gold.summary()}")


def _default_trainer() -> Callable:
    from xitu.stance import session_trainer

    return session_trainer()


def open_session(annotator: str, paths=None, segments: pd.DataFrame | None = None, **options) -> LabellingSession:
    """A session on the project's corpus and label logs (``data/raw``, ``data/labels``)."""
    from xitu.paths import Paths

    paths = paths or Paths.default()
    check_annotator(annotator)  # refuse a bad name before the corpus is read
    if segments is None:
        segments = load_segments(paths)
    if "trainer" not in options:
        options["trainer"] = _project_trainer(paths)
    return LabellingSession(annotator, segments, paths.labels, **options)


def _project_trainer(paths) -> Callable:
    """:func:`xitu.stance.train` with the project's tokenizer (its lexicon and jieba cache)."""

    from xitu.stance import session_trainer
    from xitu.text import Tokenizer

    return session_trainer(Tokenizer(paths.lexicon, cache_dir=paths.cache / "jieba"),
                           cache_dir=str(paths.cache / "embeddings"))


@dataclass
class LabelStatus:
    """Where labelling stands: labels per annotator and label, and a readable summary."""

    table: pd.DataFrame  # annotator × label counts of current labels, with a total column
    summary: str


def label_status(paths=None, labels: Sequence[str] = LABELS) -> LabelStatus:
    """Current labels per annotator, the size of the gold set, disagreements waiting for
    adjudication and any log line that could not be used."""
    from xitu.paths import Paths

    paths = paths or Paths.default()
    logs = read_logs(paths.labels, labels)
    current = replay(logs.entries)
    gs = decide_gold(current)
    if current.empty:
        table = pd.DataFrame(columns=[*labels, "total"])
    else:
        table = current.groupby(["annotator", "label"]).size().unstack(fill_value=0)
        table = table.reindex(columns=[c for c in labels if c in table.columns])
        table["total"] = table.sum(axis=1)
    lines = [f"label logs in {paths.labels}: {len(current)} current labels by "
             f"{current['annotator'].nunique() if len(current) else 0} annotator(s)",
             gs.summary() + (" (see 'xitu agree')" if len(gs.unresolved) else "")]
    lines += [f"warning: {p.file}:{p.line}: {p.reason}" for p in logs.problems]
    return LabelStatus(table, "\n".join(lines))
