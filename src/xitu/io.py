"""Writing files so that nothing is lost or half-written.

* :func:`atomic_write_text` / :func:`atomic_write_bytes`: write a temporary file in the same
  folder, fsync it, then rename it over the target (a reader sees the old file or the new one,
  never half of one).
* :func:`atomic_replace_dir`: build a whole folder elsewhere, then swap it in.
* :func:`excel_safe`: neutralise cells that a spreadsheet would run as a formula
  (``=``, ``+``, ``-``, ``@``, tab, carriage return at the start) by prefixing a single quote,
  the OWASP "CSV injection" advice. Only exported copies change; stored text never does.
* :func:`write_csv`: a table as UTF-8 CSV, excel-safe by default, written atomically.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all-or-nothing (temporary file in the same folder, fsync,
    rename). The file gets the mode an ordinary write would give (an existing file keeps its
    mode; a new one ``0o666`` less the umask), not the ``0o600`` of a temporary file.
    Raises ``OSError`` (e.g. read-only folder, disk full) with the target unchanged."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Text version of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode(encoding))


def excel_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot start a spreadsheet formula: a cell that
    begins with ``= + - @``, a tab or a carriage return gets a leading ``'``. Numbers are left
    alone (a negative number is a number, not a formula)."""
    out = table.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        out[col] = s.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def write_csv(table: pd.DataFrame, path: str | Path, *, safe: bool = True, bom: bool = False,
              float_format: str | None = "%.6g") -> Path:
    """Write ``table`` as CSV atomically. ``safe`` neutralises formula-like cells (for files a
    researcher opens in Excel or LibreOffice); ``bom`` adds a UTF-8 byte-order mark so Excel
    reads the Chinese correctly."""
    df = excel_safe(table) if safe else table
    text = df.to_csv(index=False, lineterminator="\n", float_format=float_format)
    return atomic_write_bytes(path, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def atomic_replace_dir(staging: str | Path, target: str | Path) -> Path:
    """Swap the finished folder ``staging`` in for ``target`` (which may not exist yet). The old
    folder is renamed aside first and removed only after the new one is in place, so at every
    moment ``target`` is either the complete old folder or the complete new one (two renames;
    a crash between them leaves ``target`` missing and the old copy beside it as
    ``.<name>.old``, never a mixture)."""
    staging, target = Path(staging), Path(target)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    _fsync_dir(target.parent)
    if old.exists():
        shutil.rmtree(old)
    return target
