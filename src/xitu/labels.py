"""Stance labels as append-only logs, one per annotator.

Each annotator has ``data/labels/<annotator>.jsonl``; each line is one decision::

    {"segment_id": "a…-…", "text_hash": "…", "label": "escalation", "annotator": "a1",
     "time": "2026-11-23T11:00:00Z", "action": "label"}

``action`` is ``label`` or ``retract`` (undo: withdraws that annotator's current label of
the segment). Logs are only ever appended to, each line flushed and fsynced before the call
returns. The current label set is derived by replaying the logs: the latest line for a
segment wins. Adjudicated labels (disagreements settled, with their reason) are the log of
the pseudo-annotator ``adjudicated``. Which label is gold is decided in one place,
:func:`decide_gold` (the rule is in ``CODEBOOK.md``, "How gold is decided").

Reading is forgiving and loud: a half-written last line (a power cut mid-write) is skipped
and reported, a malformed line elsewhere is reported with its file and line, and labels
whose segment no longer exists after re-ingestion are reported, never dropped.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import pandas as pd

from xitu.settings import STANCE_LABELS

LABELS = STANCE_LABELS
ADJUDICATED = "adjudicated"
ANNOTATOR_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")  # used with fullmatch: no "a1\n"
#: Names Windows reserves for devices (in any case, with or without an extension): a log
#: ``con.jsonl`` cannot be opened there, so such a name is refused everywhere.
RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                            *(f"lpt{i}" for i in range(10))})
ACTIONS = ("label", "retract")


class LabelError(ValueError):
    """A label, annotator name or log line that cannot be accepted."""


def check_annotator(name: str) -> str:
    """Return ``name`` if it is a valid annotator name (letters, digits, ``_``/``-``, at most
    32 characters, starting with a letter or digit, the whole string: no trailing newline;
    not a Windows device name such as ``con``, ``nul``, ``com1``); raise :class:`LabelError`
    otherwise."""
    if not isinstance(name, str) or not ANNOTATOR_RE.fullmatch(name):
        raise LabelError(
            f"annotator name {name!r} refused: use 1-32 letters, digits, '_' or '-', "
            "starting with a letter or digit (it becomes a file name)"
        )
    if name.lower() in RESERVED_NAMES:
        raise LabelError(f"annotator name {name!r} refused: it is a device name on Windows "
                         f"({', '.join(sorted(RESERVED_NAMES)[:4])}, com1…, lpt1… cannot be file names there)")
    return name


def check_label(label: str, labels: Iterable[str] = LABELS) -> str:
    """Return ``label`` if it is one of ``labels``; raise :class:`LabelError` otherwise."""
    labels = tuple(labels)
    if label not in labels:
        raise LabelError(f"unknown label {label!r}: expected one of {', '.join(labels)}")
    return label


def log_path(folder: str | Path, annotator: str) -> Path:
    """The log file of ``annotator`` in ``folder``."""
    return Path(folder) / f"{check_annotator(annotator)}.jsonl"


def check_writable(folder: str | Path, annotator: str) -> Path:
    """Make sure ``annotator``'s log in ``folder`` can be appended to, before any work is done:
    the folder is created if missing, and the log (if it exists) is opened for appending
    (nothing is written). Raises :class:`LabelError` naming the file otherwise. Returns
    the log's path."""
    log = log_path(folder, annotator)
    check_no_case_twin(folder, annotator)
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.exists() or log.is_symlink():
            fd = os.open(log, os.O_WRONLY | os.O_APPEND)
            os.close(fd)
        elif not os.access(log.parent, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        raise LabelError(f"{log}: the log cannot be written ({e.strerror or e}): "
                         "fix its permissions (or the folder's) before labelling") from None
    return log


class LogLocked(LabelError):
    """Another session (window, terminal, import) is writing this annotator's log."""


class LogLock:
    """An exclusive lock on one annotator's log, held while a session may write to it.

    It is an ``fcntl.flock`` on ``<annotator>.lock`` next to the log, taken without waiting:
    a second holder is refused at once with :class:`LogLocked`. The operating system drops a
    flock when its file is closed, so the lock goes with :meth:`release`, with the end of
    the process, and with a crash or ``kill -9`` (no stale lock to clean up). The lock file
    holds a note on who holds it (process id, host, since when, what), shown in the refusal;
    it is never deleted (deleting it would let two holders lock two different files).
    """

    def __init__(self, folder: str | Path, annotator: str, what: str = "a labelling session"):
        self.annotator = check_annotator(annotator)
        self.log = log_path(folder, annotator)
        self.path = self.log.with_suffix(".lock")
        try:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise LabelError(f"{self.path}: cannot create the log's lock file ({e.strerror or e}): "
                             "the labels folder is not writable") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
            except OSError:
                holder = ""
            os.close(fd)
            raise LogLocked(
                f"annotator {annotator}: another session holds {self.log}"
                + (f" ({holder})" if holder else "")
                + "; finish that session first (its lock is released when it ends, its window or "
                  "kernel closes, or its process exits)") from None
        self._fd: int | None = fd
        note = f"{what}, pid {os.getpid()} on {socket.gethostname()}, since {now_iso()}"
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, note.encode("utf-8"), 0)
        except OSError:
            pass  # the note is only informative

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Release the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> "LogLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass


def lock_log(folder: str | Path, annotator: str, what: str = "a labelling session") -> LogLock:
    """Take the exclusive lock on ``annotator``'s log (:class:`LogLock`), or raise
    :class:`LogLocked` naming the annotator when another session holds it. A name that
    differs from an existing log's only in capitals is refused (:func:`check_no_case_twin`)."""
    check_no_case_twin(folder, annotator)
    return LogLock(folder, annotator, what)


def check_no_case_twin(folder: str | Path, annotator: str) -> None:
    """Refuse ``annotator`` when a log exists whose name differs only in capitals ("Bob"
    next to "bob"): on macOS and Windows the two names are one file, and each would see the
    other's lines as claiming the wrong annotator."""
    twins = sorted(p.stem for p in Path(folder).glob("*.jsonl")
                   if p.stem != annotator and p.stem.casefold() == str(annotator).casefold())
    if twins:
        raise LabelError(f"annotator {annotator!r} refused: the log of {twins[0]!r} exists, and names that differ "
                         f"only in capitals are one file on macOS and Windows; use {twins[0]!r} or another name")


def now_iso() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def append_many(path: str | Path, entries: Iterable[dict]) -> int:
    """Append JSON lines to a log all-or-nothing and make them durable before returning.

    The lines are encoded first, then written in one go and fsynced. If anything fails
    (disk full, quota, I/O error, Ctrl-C), the file is truncated back to its previous length,
    so it is byte-identical to before, and a one-line :class:`LabelError` names the file.
    A log that does not end in a newline (half-written last line) gets one first, so the new
    lines are never glued to the broken one. Returns the number of lines written."""
    path = Path(path)
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries]
    if not lines:
        return 0
    data = "".join(lines).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as e:
        raise LabelError(f"{path}: cannot open the log for writing ({e.strerror or e}); nothing written") from None
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        if start > 0 and os.pread(fd, 1, start - 1) != b"\n":
            data = b"\n" + data
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except BaseException as e:
            try:  # roll back: the log is exactly as it was
                os.ftruncate(fd, start)
                os.fsync(fd)
                if new_file:
                    path.unlink()
            except OSError:
                pass
            if isinstance(e, OSError):
                raise LabelError(f"{path}: could not append {len(lines)} line(s) ({e.strerror or e}); "
                                 "nothing written, the log is as it was") from None
            raise
    finally:
        os.close(fd)
    if new_file:  # make the new directory entry durable too
        try:
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    return len(lines)


def append(path: str | Path, entry: dict) -> None:
    """Append one JSON line to a log and make it durable (fsync) before returning
    (:func:`append_many` with one entry: all-or-nothing, rolled back on failure)."""
    append_many(path, [entry])


def make_entry(annotator: str, segment_id: str, label: str, text_hash: str = "",
               labels: Iterable[str] = LABELS, reason: str = "", time: str | None = None,
               session: str = "") -> dict:
    """Validate one labelling decision and return its log entry (nothing is written). An
    adjudication (annotator ``adjudicated``) needs its ``reason``.
    ``session`` (optional) identifies the labelling session that made the decision, so that
    its undo can tell its own decisions from others'."""
    if annotator == ADJUDICATED and not str(reason).strip():
        raise LabelError("an adjudication needs its reason; adjudications are entered through 'xitu agree --apply'")
    entry = {
        "segment_id": segment_id,
        "text_hash": text_hash,
        "label": check_label(label, labels),
        "annotator": check_annotator(annotator),
        "time": time or now_iso(),
        "action": "label",
    }
    if reason:
        entry["reason"] = reason
    if session:
        entry["session"] = session
    return entry


def record(folder: str | Path, annotator: str, segment_id: str, label: str, text_hash: str = "",
           labels: Iterable[str] = LABELS, reason: str = "", time: str | None = None,
           session: str = "") -> dict:
    """Validate and append one labelling decision to ``annotator``'s log; return the entry."""
    entry = make_entry(annotator, segment_id, label, text_hash, labels, reason, time, session)
    append(log_path(folder, annotator), entry)
    return entry


def retract(folder: str | Path, annotator: str, segment_id: str, time: str | None = None,
            session: str = "") -> dict:
    """Append a retraction (undo) of ``annotator``'s current label for ``segment_id``."""
    entry = {"segment_id": segment_id, "annotator": check_annotator(annotator),
             "time": time or now_iso(), "action": "retract", "label": None, "text_hash": ""}
    if session:
        entry["session"] = session
    append(log_path(folder, annotator), entry)
    return entry


@dataclass
class LogProblem:
    """A line of a log that was not used, and why."""

    file: str
    line: int
    reason: str


@dataclass
class LogRead:
    """Entries read from one or more logs, and the lines that could not be used."""

    entries: list[dict] = field(default_factory=list)
    problems: list[LogProblem] = field(default_factory=list)


def read_log(path: str | Path, labels: Iterable[str] = LABELS) -> LogRead:
    """Read one log. Malformed lines are reported (a half-written last line as such), and so
    is a line whose ``annotator`` is not the log's own (``a2.jsonl`` claiming ``a1`` or
    ``adjudicated``) or an adjudication without its reason: such lines are ignored, so they
    can neither retract another annotator's label nor change the gold set."""
    path = Path(path)
    out = LogRead()
    if not path.exists():
        return out
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    ends_clean = raw.endswith(b"\n") or not raw
    labels = tuple(labels)
    for i, b in enumerate(lines, start=1):
        if not b.strip():
            continue
        last = i == len(lines) and not ends_clean
        try:
            e = json.loads(b.decode("utf-8"))
            if not isinstance(e, dict):
                raise ValueError("not a JSON object")
            for key in ("segment_id", "annotator", "action"):
                if not isinstance(e.get(key), str):
                    raise ValueError(f"missing {key}")
            if e["action"] not in ACTIONS:
                raise ValueError(f"unknown action {e['action']!r}")
            if e["action"] == "label" and e.get("label") not in labels:
                raise ValueError(f"unknown label {e.get('label')!r}")
        except (ValueError, UnicodeDecodeError) as err:
            why = "half-written last line (interrupted write), ignored" if last else f"malformed line ignored: {err}"
            out.problems.append(LogProblem(str(path), i, why))
            continue
        if e["annotator"] != path.stem:  # a2.jsonl speaks for a2 only, never for a1 or the adjudication
            out.problems.append(LogProblem(str(path), i, f"line claims annotator {e['annotator']!r} but this is "
                                                         f"{path.stem}'s log; ignored"))
            continue
        if e["annotator"] == ADJUDICATED and e["action"] == "label" and not str(e.get("reason", "")).strip():
            out.problems.append(LogProblem(str(path), i, "adjudication without a reason; ignored"))
            continue
        e["_file"], e["_line"] = str(path), i
        out.entries.append(e)
    return out


def read_logs(folder: str | Path, labels: Iterable[str] = LABELS) -> LogRead:
    """Read every ``*.jsonl`` log in ``folder`` (sorted by name)."""
    out = LogRead()
    for p in sorted(Path(folder).glob("*.jsonl")):
        r = read_log(p, labels)
        out.entries += r.entries
        out.problems += r.problems
    return out


def replay(entries: Iterable[dict]) -> pd.DataFrame:
    """Current labels per (annotator, segment): the latest line wins, a retraction removes.

    Lines are taken in file order (a log is append-only, so later lines are later decisions).
    Returns columns ``annotator, segment_id, label, text_hash, time, reason``.
    """
    current: dict[tuple[str, str], dict] = {}
    for e in entries:
        key = (e["annotator"], e["segment_id"])
        if e["action"] == "retract":
            current.pop(key, None)
        else:
            current[key] = e
    rows = [{"annotator": a, "segment_id": s, "label": e["label"], "text_hash": e.get("text_hash", ""),
             "time": e.get("time", ""), "reason": e.get("reason", "")} for (a, s), e in current.items()]
    cols = ["annotator", "segment_id", "label", "text_hash", "time", "reason"]
    return pd.DataFrame(rows, columns=cols).sort_values(["annotator", "segment_id"]).reset_index(drop=True)


def wide(current: pd.DataFrame) -> pd.DataFrame:
    """One row per segment, one column per annotator (labels), from :func:`replay`."""
    if current.empty:
        return pd.DataFrame()
    return current.pivot(index="segment_id", columns="annotator", values="label")


GOLD_RULE = ("an adjudication stands; otherwise the label of a strict majority of the segment's annotators "
             "(more than half, and at least two agreeing) stands; a tie or no majority waits for adjudication; "
             "a segment only one annotator has labelled takes that label (reported as single-coded)")


@dataclass
class GoldSet:
    """The gold set and what is not (yet) in it, decided by :func:`decide_gold`.

    ``gold``: ``segment_id, label, source, votes, reason`` — ``source`` says how the label
    was decided (``adjudicated``, ``agreed``: every annotator gave it, ``majority``: more
    than half did, ``single``: only one annotator has labelled it); ``votes`` lists each
    annotator's label (``a1=none; a2=none``); ``reason`` is the adjudication's.
    ``unresolved``: ties and segments without a majority, waiting for adjudication
    (``segment_id`` and one column per annotator). ``single``: the single-coded segments
    (also in gold), which a second opinion would check."""

    gold: pd.DataFrame
    unresolved: pd.DataFrame
    single: pd.DataFrame

    def summary(self) -> str:
        """One line with the counts, the same wherever gold is reported."""
        src = self.gold["source"].value_counts()
        how = ", ".join(f"{k} {src[k]}" for k in ("agreed", "majority", "adjudicated", "single") if k in src)
        return (f"gold set: {len(self.gold)} segments" + (f" ({how})" if how else "")
                + f"; waiting for adjudication: {len(self.unresolved)}")


def decide_gold(current: pd.DataFrame) -> GoldSet:
    """Decide the gold label of every labelled segment from current labels (:func:`replay`),
    by the rule of ``CODEBOOK.md`` ("How gold is decided", :data:`GOLD_RULE`):

    1. an adjudication stands;
    2. otherwise a label given by a strict majority of the segment's annotators (more than
       half of them, and at least two) stands — ``agreed`` when all gave it, else ``majority``;
    3. a tie or no majority waits for adjudication (``unresolved``), not in gold;
    4. a segment only one annotator has labelled takes that label (``single``): a researcher
       labelling new exports alone trains the classifier at once; how much of gold is
       single-coded is always reported, and agreement is measured on double-coded segments only.

    This is the one place the rule lives: the widget, the terminal, ``xitu labels status``,
    ``xitu agree``, ``xitu labels export`` and the classifier's training set all use it."""
    gold_cols = ["segment_id", "label", "source", "votes", "reason"]
    if current.empty:
        return GoldSet(pd.DataFrame(columns=gold_cols), pd.DataFrame(columns=["segment_id"]),
                       pd.DataFrame(columns=["segment_id", "annotator", "label"]))
    adj = current[current["annotator"].eq(ADJUDICATED)].set_index("segment_id")
    humans = current[current["annotator"].ne(ADJUDICATED)]
    gold, unresolved, single = [], [], []
    by_seg = {sid: g for sid, g in humans.groupby("segment_id", sort=True)}
    for sid in sorted(set(by_seg) | set(adj.index)):
        g = by_seg.get(sid)
        votes = "; ".join(f"{a}={lab}" for a, lab in zip(g["annotator"], g["label"])) if g is not None else ""
        if sid in adj.index:
            gold.append((sid, adj.loc[sid, "label"], "adjudicated", votes, adj.loc[sid, "reason"]))
            continue
        n = len(g)
        counts = g["label"].value_counts()
        top, c = counts.index[0], int(counts.iloc[0])
        if n == 1:
            single.append({"segment_id": sid, "annotator": g["annotator"].iloc[0], "label": top})
            gold.append((sid, top, "single", votes, ""))
        elif c >= 2 and c * 2 > n:
            gold.append((sid, top, "agreed" if c == n else "majority", votes, ""))
        else:
            unresolved.append({"segment_id": sid, **dict(zip(g["annotator"], g["label"]))})
    return GoldSet(pd.DataFrame(gold, columns=gold_cols), pd.DataFrame(unresolved, columns=None if unresolved else ["segment_id"]),
                   pd.DataFrame(single, columns=["segment_id", "annotator", "label"]))


def gold_labels(current: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The gold set from current labels, by the rule of :func:`decide_gold`. Returns
    ``(gold, unresolved)``: gold has columns ``segment_id, label, source``
    (``adjudicated``/``agreed``/``majority``); unresolved lists ties and segments without a
    majority, waiting for adjudication. Single labels are in neither (see :func:`decide_gold`)."""
    g = decide_gold(current)
    return g.gold[["segment_id", "label", "source"]].reset_index(drop=True), g.unresolved


def orphans(current: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Labels whose segment is missing from ``segments`` (``status='missing'``) or whose text
    changed since it was labelled (``status='text changed'``). Reported, never dropped."""
    seg = segments.set_index("segment_id")["text_hash"]
    rows = []
    for r in current.itertuples(index=False):
        if r.segment_id not in seg.index:
            rows.append({**r._asdict(), "status": "missing"})
        elif r.text_hash and r.text_hash != seg[r.segment_id]:
            rows.append({**r._asdict(), "status": "text changed"})
    return pd.DataFrame(rows, columns=[*current.columns, "status"])


@dataclass
class Table:
    """A CSV/TSV read by :func:`read_table`: column names and rows, each row with the physical
    line of the file where its record starts (a cell may span several lines)."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, dict]]


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, enc = raw[3:], "utf-8"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text": UTF-16 with a BOM
        enc = "utf-16"
    else:
        enc = "utf-8"
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n" if enc == "utf-8" else "\n".encode("utf-16-le")) + 1
        if enc == "utf-8" and b"\x00" in raw[:200]:
            why = "looks like UTF-16 without a byte-order mark"
        elif enc == "utf-8":
            why = (f"not UTF-8 text (byte 0x{raw[e.start]:02x}; a legacy encoding such as GBK from a Chinese "
                   "Excel?)")
        else:
            why = "broken UTF-16 text"
        raise LabelError(f"{path}:{line}: {why}: save it as 'CSV UTF-8' (or 'Unicode Text') and try again") from None


def read_table(path: str | Path, required: Iterable[str] = (), row_problems: list | None = None) -> Table:
    """Read a label table (CSV, or TSV: ``.tsv``/``.tab``, or a tab-separated first line) as
    text cells. UTF-8 (with or without BOM) and UTF-16 with a BOM (Excel's "Unicode Text")
    are read; anything else (GBK from a Chinese Excel) is refused with the file and line.
    Every problem raises :class:`LabelError` with ``file:line``, the line being the physical
    line where the record starts (a quoted cell may span lines). With ``row_problems`` (a
    list), a row with more cells than the header is added to it as ``(line, reason)`` and
    left out, so that the caller can name it with the other bad rows."""
    import csv
    import io

    path = Path(path)
    if path.is_dir():
        raise LabelError(f"{path}: is a folder; expected a CSV or TSV file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelError(f"{path}: no such file") from None
    except OSError as e:
        raise LabelError(f"{path}: cannot be read ({e.strerror or e})") from None
    text = _decode(path, raw)
    if not text.strip():
        raise LabelError(f"{path}: the file is empty")
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") or ("\t" in first and "," not in first) else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=sep, strict=True)
    columns: list[str] | None = None
    rows: list[tuple[int, dict]] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise LabelError(f"{path}:{line}: cannot be read as {'TSV' if sep == chr(9) else 'CSV'} ({e})") from None
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            columns = [c.strip() for c in cells]
            twice = sorted({c for c in columns if c and columns.count(c) > 1})
            if twice:  # which of the two columns was meant? (the last one used to win silently)
                raise LabelError(f"{path}:{line}: column(s) {twice} appear more than once in the header; keep one of each")
            continue
        if len(cells) > len(columns):
            why = f"{len(cells)} cells but {len(columns)} columns in the header"
            if row_problems is None:
                raise LabelError(f"{path}:{line}: {why}")
            row_problems.append((line, why))  # the caller names it with the other bad rows
            continue
        rows.append((line, dict(zip(columns, cells + [""] * (len(columns) - len(cells))))))
    columns = columns or []
    missing = [c for c in required if c not in columns]
    if missing:
        raise LabelError(f"{path}:1: missing column(s) {missing}; found {columns}")
    return Table(path, columns, rows)


class ImportResult(int):
    """The number of labels :func:`import_table` appended (an ``int``), with ``unchanged``:
    rows that were already the annotator's current label for that segment and were not
    written again (importing the same file twice changes nothing)."""

    unchanged: int = 0

    def __new__(cls, appended: int, unchanged: int = 0):
        obj = super().__new__(cls, appended)
        obj.unchanged = int(unchanged)
        return obj


def import_table(path: str | Path, folder: str | Path, annotator: str, segments: pd.DataFrame,
                 labels: Iterable[str] = LABELS) -> ImportResult:
    """Append labels from a CSV/TSV with columns ``segment_id`` and ``label`` (optional
    ``reason``) to ``annotator``'s log (:func:`read_table`: UTF-8 or UTF-16 with BOM). Every
    row is validated first; nothing is written if any row is bad. The error names the file
    and the line where the first bad record starts, and the lines of the others. A segment
    given twice with different labels is an error too (which one was meant?). Rows equal to
    the annotator's current label (same label and reason, same text) are not appended again,
    so re-importing a file is harmless; a file without a ``reason`` column leaves the reasons
    already given as they are. The rest is appended in one write. Returns the
    number appended (:class:`ImportResult`, with ``unchanged``)."""
    path = Path(path)
    check_annotator(annotator)
    if annotator == ADJUDICATED:
        raise LabelError(f"'{ADJUDICATED}' is the adjudication log: labels cannot be imported into it; "
                         "adjudications are entered, each with its reason, through 'xitu agree --apply FILE'")
    problems: list[tuple[int, str]] = []
    table = read_table(path, required=("segment_id", "label"), row_problems=problems)
    hashes = segments.set_index("segment_id")["text_hash"]
    labels = tuple(labels)
    entries, first_line = [], {}
    for line, r in table.rows:
        sid, lab = r["segment_id"].strip(), r["label"].strip()
        try:
            if sid not in hashes.index:
                raise LabelError(f"unknown segment id {sid!r}")
            entry = make_entry(annotator, sid, lab, hashes[sid], labels, reason=r.get("reason", "") or "")
            if sid in first_line:
                before_line, before = first_line[sid]
                if (before["label"], before.get("reason", "")) != (entry["label"], entry.get("reason", "")):
                    raise LabelError(f"segment {sid!r} is also on line {before_line} with another label or "
                                     "reason; keep one row per segment")
                continue  # the same row twice: once is enough
            first_line[sid] = (line, entry)
            entries.append(entry)
        except LabelError as e:
            problems.append((line, str(e)))
    if problems:
        problems.sort(key=lambda p: p[0])
        line, why = problems[0]
        more = ""
        if len(problems) > 1:
            shown = ", ".join(str(n) for n, _ in problems[1:11])
            more = f" (and {len(problems) - 1} more bad row(s), on line(s) {shown}{', …' if len(problems) > 11 else ''})"
        raise LabelError(f"{path}:{line}: {why}{more}; nothing was imported")
    log = log_path(folder, annotator)
    with lock_log(folder, annotator, what="xitu labels import"):
        current = {}
        if log.exists():
            current = {r.segment_id: (r.label, r.reason, r.text_hash)
                       for r in replay(read_log(log, labels).entries).itertuples()}
        if "reason" not in table.columns:
            # a file without reasons says nothing about them: the same label keeps the reason
            # the annotator gave before (it would otherwise be replaced by an empty one)
            for e in entries:
                before = current.get(e["segment_id"])
                if before and (before[0], before[2]) == (e["label"], e["text_hash"]) and before[1]:
                    e["reason"] = before[1]
        new = [e for e in entries
               if current.get(e["segment_id"]) != (e["label"], e.get("reason", ""), e["text_hash"])]
        appended = append_many(log, new) if new else 0  # one write: all rows or none
    return ImportResult(appended, len(entries) - len(new))



EXPORT_COLUMNS = ["segment_id", "label", "decided_by", "annotators", "annotator_reasons", "adjudication_reason",
                  "article_id", "title", "published", "source", "language", "context", "text"]


def gold_export(current: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """The gold set as a table for sharing: each gold segment's ``label``, how it was decided
    (``decided_by``: ``agreed``, ``majority`` or ``adjudicated``, :func:`decide_gold`), each
    annotator's label (``annotators``: ``a1=none; a2=none``) and the reasons annotators gave
    (``annotator_reasons``: ``a1: rule 4``), the adjudication's reason, the
    article (id, title, date, source), the language, the Group heading and the text. A gold
    label whose segment is no longer in the corpus keeps its row with empty text."""
    g = decide_gold(current).gold.rename(columns={"source": "decided_by", "votes": "annotators",
                                                  "reason": "adjudication_reason"})
    seg = segments.drop_duplicates("segment_id")
    cols = [c for c in ("segment_id", "article_id", "title", "published", "source", "language", "section",
                        "heading", "text") if c in seg.columns]
    out = g.merge(seg[cols], on="segment_id", how="left")
    for c in ("article_id", "title", "published", "source", "language", "section", "heading", "text"):
        out[c] = out[c].fillna("").astype(str) if c in out.columns else ""
    out["context"] = [f"{a}: {b}" if a and b else a or b for a, b in zip(out["section"], out["heading"])]
    human = current[(current["annotator"] != ADJUDICATED) & current["reason"].fillna("").astype(str).str.strip().ne("")]
    reasons = {sid: "; ".join(f"{a}: {r}" for a, r in zip(g["annotator"], g["reason"]))
               for sid, g in human.sort_values(["segment_id", "annotator"]).groupby("segment_id")}
    out["annotator_reasons"] = out["segment_id"].map(reasons).fillna("")
    return out[EXPORT_COLUMNS].sort_values("segment_id").reset_index(drop=True)


def write_export(table: pd.DataFrame, path: str | Path, fmt: str = "csv") -> Path:
    """Write :func:`gold_export` all-or-nothing: ``csv`` is excel-safe (formula-like cells
    get a leading ``'``, UTF-8 with BOM); ``jsonl`` keeps every text exactly as stored."""
    from xitu.io import atomic_write_text, write_csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return write_csv(table, path, safe=True, bom=True)
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in table.to_dict("records"))
        return atomic_write_text(path, text)
    raise LabelError(f"unknown export format {fmt!r}: csv or jsonl")
