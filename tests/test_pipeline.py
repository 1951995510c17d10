"""The main job: a clean run regenerates every committed figure byte for byte; notebooks are
stored without outputs; the README maps every figure to its notebook."""
from __future__ import annotations

import json

import pytest

from xitu.pipeline import notebooks, run
from xitu.settings import SEED


def _files(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_clean_run_regenerates_committed_figures(paths, tmp_path, monkeypatch):
    """The committed figures were drawn by `make` with the machine's default thread counts;
    here every kernel runs its BLAS, OpenMP and numba single-threaded, so identical bytes also
    show that the figures do not depend on thread counts. (OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE are never touched: the kernel-invariance tests perturb inputs instead.)"""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    run(paths, figures_dir=tmp_path, progress=False)
    committed, fresh = _files(paths.figures), _files(tmp_path)
    assert fresh == committed, f"missing: {sorted(committed - fresh)}; new: {sorted(fresh - committed)}"
    changed = [f for f in sorted(committed) if (paths.figures / f).read_bytes() != (tmp_path / f).read_bytes()]
    assert not changed, f"figures differ from the committed ones: {changed}"
    manifest = json.loads((tmp_path / "RUN.json").read_text())
    assert set(manifest["notebooks"]) == {nb.stem for nb in notebooks(paths)}
    assert all(entry["seed"] == SEED for entry in manifest["notebooks"].values())


def test_every_figure_has_png_svg_csv(paths):
    """Every drawn figure comes with its SVG and the CSV it plots; a CSV without a figure is a
    reading table (e.g. topic_examples.csv) and must be named in the README's figure map."""
    files = _files(paths.figures)
    stems = {f.rsplit(".", 1)[0] for f in files if f.endswith((".png", ".svg"))}
    assert stems, "no figures committed"
    for s in stems:
        for ext in ("png", "svg", "csv"):
            assert (paths.figures / f"{s}.{ext}").exists(), f"{s}.{ext}"
    readme = (paths.root / "README.md").read_text(encoding="utf-8")
    for f in files:
        if f.endswith(".csv") and f.rsplit(".", 1)[0] not in stems:
            assert f"figures/{f}" in readme, f"table figures/{f} has no figure and is not in the README"


def test_readme_maps_every_figure_to_its_notebook(paths):
    readme = (paths.root / "README.md").read_text(encoding="utf-8")
    for f in sorted(_files(paths.figures)):
        if f.endswith(".png"):
            assert f"figures/{f}" in readme, f"README does not mention figures/{f}"


def test_notebooks_are_stored_without_outputs_and_have_parameters(paths):
    import nbformat

    for nb_path in notebooks(paths):
        nb = nbformat.read(nb_path, as_version=4)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), nb_path.name
        for c in nb.cells:
            if c.cell_type == "code":
                assert not c.outputs and c.execution_count is None, f"{nb_path.name} has outputs"
