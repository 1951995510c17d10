"""Rerun everything: ingest ``data/raw``, then execute every notebook in order with
papermill, writing figures to ``figures/<notebook>/``.

Notebooks take their parameters from a cell tagged ``parameters``::

    root = None         # project root; None: found from the working directory
    figures_dir = None  # None: figures/<notebook stem>
    seed = 20261123

Executed copies (with outputs) go to ``build/notebooks/``; the notebooks in ``notebooks/``
stay without outputs. The seeds and library versions of a run are recorded in
``figures/RUN.json`` (no timestamps, so an unchanged rerun changes no byte).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from xitu.paths import Paths

from xitu.settings import SEED  # noqa: E402  (one home for settings)
RECORDED_PACKAGES = ("bertopic", "hdbscan", "jieba", "matplotlib", "numpy", "opencc", "pandas",
                     "scikit-learn", "scipy", "umap-learn", "gensim")


def notebooks(paths: Paths) -> list[Path]:
    """The pipeline's notebooks: ``notebooks/NN-*.ipynb`` in order."""
    return sorted(p for p in paths.notebooks.glob("[0-9][0-9]-*.ipynb"))


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


def notebook_context(name: str, root: str | None = None, figures_dir: str | None = None,
                     seed: int = SEED) -> NotebookContext:
    """Set up a notebook: find the project, apply the plot style, pick its figure folder
    (``figures/<name>`` unless ``figures_dir`` is given)."""
    from xitu.plots import apply_style

    paths = Paths(Path(root).resolve()) if root else Paths.default()
    apply_style()
    figs = Path(figures_dir) if figures_dir else paths.figures / name
    figs.mkdir(parents=True, exist_ok=True)
    return NotebookContext(paths, figs, seed)


def run_manifest(seed: int, names: list[str]) -> dict:
    """What a run depended on: seed, notebooks, Python and library versions."""
    versions = {}
    for pkg in RECORDED_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "seed": seed,
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
        "notebooks": names,
        "python": ".".join(map(str, sys.version_info[:3])),
        "packages": versions,
    }


def run(paths: Paths | None = None, figures_dir: str | Path | None = None, only: list[str] | None = None,
        seed: int = SEED, progress: bool = True) -> list[Path]:
    """Ingest and execute the notebooks (all, or those whose stem starts with an entry of
    ``only``). Returns the executed notebooks' paths. Raises if a notebook fails; the
    executed copy in ``build/notebooks/`` then shows the failing cell."""
    import papermill as pm

    from xitu.corpus import ingest, write_processed

    paths = paths or Paths.default()
    os.environ.setdefault("PYTHONHASHSEED", "0")  # inherited by the kernels
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus = ingest(paths.raw)
    write_processed(corpus, paths.processed)
    print(corpus.report.summary().splitlines()[0], flush=True)

    figures_root = Path(figures_dir) if figures_dir else paths.figures
    out_dir = paths.build / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = [nb for nb in notebooks(paths) if not only or any(nb.stem.startswith(o) for o in only)]
    if not selected:
        raise FileNotFoundError(f"no notebook matches {only} in {paths.notebooks}")
    done = []
    for nb in selected:
        print(f"executing {nb.name}", flush=True)
        out = out_dir / nb.name
        pm.execute_notebook(
            str(nb), str(out),
            parameters={"root": str(paths.root), "figures_dir": str(figures_root / nb.stem), "seed": seed},
            kernel_name="python3", cwd=str(paths.notebooks), progress_bar=progress, log_output=False,
        )
        done.append(out)
    if not only:
        manifest = run_manifest(seed, [nb.name for nb in selected])
        (figures_root / "RUN.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return done
