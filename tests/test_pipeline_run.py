"""The rerun machinery on a small project of its own: notebooks are the source (an edited
cell is what runs, outputs are stripped), figure folders are all-or-nothing, stale inputs
are refused or rebuilt, and RUN.json records each notebook's seed and corpus."""
from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from xitu.paths import Paths
from xitu.pipeline import (NotebookFailed, OutputSkipped, PipelineError, StaleInput, corpus_fingerprint, notebook_context,
                           run, strip_outputs)

PARAMS = "root = None\nfigures_dir = None\nseed = 20261123"
SETUP = ("from xitu.pipeline import notebook_context\n"
         "ctx = notebook_context('{stem}', root, figures_dir, seed)\n"
         "import pandas as pd, matplotlib\nmatplotlib.use('Agg')\nfrom xitu.plots import figure\n")


def _nb(path, *cells):
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(PARAMS)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    nbformat.write(nb, str(path))


def _draw(name, value):
    return (f"fig, ax = figure()\nax.bar(['a'], [{value}])\n"
            f"ctx.save(fig, pd.DataFrame({{'x': ['a'], 'y': [{value}]}}), '{name}')")


@pytest.fixture()
def project(tmp_path, root):
    """A copy of the seed exports with three toy notebooks: 01 draws, 02 writes a table for
    03, 03 reads it and draws."""
    (tmp_path / "data").mkdir()
    shutil.copytree(root / "data" / "raw", tmp_path / "data" / "raw")
    (tmp_path / "pyproject.toml").write_text("[project]\nname='toy'\n")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _nb(nbs / "01-a.ipynb", SETUP.format(stem="01-a"), _draw("one", 1))
    _nb(nbs / "02-topics.ipynb", SETUP.format(stem="02-topics"),
        "articles, segments = ctx.corpus()\nctx.write_output(segments[['segment_id']].assign(topic=0), 'topic_assignments')")
    _nb(nbs / "03-stance.ipynb", SETUP.format(stem="03-stance"),
        "t = ctx.read_output('topic_assignments')\n" + _draw("three", "len(t)"))
    return Paths(tmp_path)


def _bytes(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_failed_notebook_leaves_each_figure_folder_whole_and_says_which(project):
    run(project, progress=False)
    before = _bytes(project.figures)
    assert {"01-a/one.png", "03-stance/three.csv", "RUN.json"} <= set(before)
    # 01 now draws something else, 03 fails after drawing half of its figures
    _nb(project.notebooks / "01-a.ipynb", SETUP.format(stem="01-a"), _draw("one", 2))
    _nb(project.notebooks / "03-stance.ipynb", SETUP.format(stem="03-stance"), _draw("three", 7),
        "raise RuntimeError('boom in the middle')")
    with pytest.raises(NotebookFailed, match=r"03-stance.*boom in the middle.*Finished before it: 01-a, 02-topics"):
        run(project, progress=False)
    after = _bytes(project.figures)
    assert after["01-a/one.csv"] != before["01-a/one.csv"]  # 01 finished: new
    assert {k: v for k, v in after.items() if k.startswith("03-stance/")} == \
        {k: v for k, v in before.items() if k.startswith("03-stance/")}  # 03 failed: old and whole
    assert not (project.figures / ".staging").exists()


@pytest.mark.slow
def test_a_notebook_that_skips_leaves_its_reason_and_the_run_goes_on(project, capsys):
    """ctx.skip (notebook 03 on a corpus without enough gold labels): its folder holds only
    SKIPPED.md with the reason (no figure of another corpus stays), RUN.json says so, and
    the notebooks after it still run."""
    run(project, progress=False)
    assert (project.figures / "03-stance" / "three.png").exists()
    _nb(project.notebooks / "03-stance.ipynb", SETUP.format(stem="03-stance"), _draw("half", 1),
        "ctx.skip('no gold labels for this corpus yet')", _draw("never", 2))
    _nb(project.notebooks / "04-after.ipynb", SETUP.format(stem="04-after"), _draw("four", 4))
    run(project, progress=False)
    assert sorted(p.name for p in (project.figures / "03-stance").iterdir()) == ["SKIPPED.md"]
    assert "no gold labels for this corpus yet" in (project.figures / "03-stance" / "SKIPPED.md").read_text()
    assert (project.figures / "04-after" / "four.png").exists()
    manifest = json.loads((project.figures / "RUN.json").read_text())
    assert manifest["notebooks"]["03-stance"]["skipped"] == "no gold labels for this corpus yet"
    assert "skipped the rest of 03-stance.ipynb: no gold labels for this corpus yet" in capsys.readouterr().out


@pytest.mark.slow
def test_a_skipped_producer_tells_the_reader_why_and_is_not_rerun(project, capsys):
    """Notebook 02 on a corpus too small to model skips with ``outputs``: the table of the
    earlier corpus is removed (never read as this corpus's), notebook 03 gets OutputSkipped
    with the reason and leaves its topic section out, and ``--only 03`` does not rerun 02
    (rerunning would skip again). Before, 02 failed and 03/04 never ran."""
    run(project, progress=False)
    assert (project.processed / "topic_assignments.csv").is_file()
    _nb(project.notebooks / "02-topics.ipynb", SETUP.format(stem="02-topics"),
        "ctx.skip('too few documents to model', outputs=['topic_assignments'])")
    _nb(project.notebooks / "03-stance.ipynb", SETUP.format(stem="03-stance"),
        "from xitu.pipeline import OutputSkipped\n"
        "try:\n    t = ctx.read_output('topic_assignments')\nexcept OutputSkipped as e:\n    t = []\n"
        "    print('left out:', e)\n" + _draw("three", "len(t)"))
    run(project, progress=False)
    assert not (project.processed / "topic_assignments.csv").exists()
    assert sorted(p.name for p in (project.figures / "02-topics").iterdir()) == ["SKIPPED.md"]
    assert "0" in (project.figures / "03-stance" / "three.csv").read_text().splitlines()[1]
    ctx = notebook_context("03-stance", str(project.root), str(project.figures / "x"), 20261123)
    with pytest.raises(OutputSkipped, match="topic_assignments was not written for this corpus: too few documents"):
        ctx.read_output("topic_assignments")
    with pytest.raises(StaleInput, match="is missing"):  # another seed: the skip does not stand for it
        notebook_context("03-stance", str(project.root), str(project.figures / "x"), 7).read_output("topic_assignments")
    capsys.readouterr()
    run(project, only=["03"], progress=False)
    out = capsys.readouterr().out
    assert "rerunning 02-topics" not in out and "executing 03-stance" in out


@pytest.mark.slow
def test_ctrl_c_stops_the_run_with_one_message_and_whole_figure_folders(project):
    """Ctrl-C during notebook 02 (here: the notebook sends SIGINT to the xitu process):
    exit 130, no traceback on the terminal (the kernel's own noise goes to its log), the
    figures of 01 new, those of 02/03 as they were."""
    import os
    import subprocess
    import sys

    run(project, progress=False)
    before = _bytes(project.figures)
    _nb(project.notebooks / "01-a.ipynb", SETUP.format(stem="01-a"), _draw("one", 5))
    _nb(project.notebooks / "02-topics.ipynb", SETUP.format(stem="02-topics"),
        "import os, signal, time\nos.kill(int(os.environ['JPY_PARENT_PID']), signal.SIGINT)\ntime.sleep(30)")
    env = {**os.environ, "XITU_ROOT": str(project.root)}
    proc = subprocess.run([sys.executable, "-m", "xitu.cli", "run"], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "interrupted during 02-topics.ipynb. Finished before it: 01-a" in proc.stderr
    after = _bytes(project.figures)
    assert after["01-a/one.csv"] != before["01-a/one.csv"]
    assert {k: v for k, v in after.items() if k.startswith(("02-", "03-"))} == \
        {k: v for k, v in before.items() if k.startswith(("02-", "03-"))}
    assert not (project.figures / ".staging").exists()
    assert (project.build / "notebooks" / "02-topics.kernel.log").exists()


@pytest.mark.slow
def test_an_edited_cell_is_what_runs_and_its_outputs_never_stay_in_the_source(project):
    nb_path = project.notebooks / "01-a.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[-1].source = _draw("edited", 5)          # the researcher edits a cell in JupyterLab…
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="autosaved output\n")]
    nb.cells[-1].execution_count = 3                   # …and JupyterLab saves its outputs too
    nbformat.write(nb, str(nb_path))
    run(project, only=["01"], progress=False)
    assert (project.figures / "01-a" / "edited.png").is_file()
    assert "5" in (project.figures / "01-a" / "edited.csv").read_text()
    stored = nbformat.read(nb_path, as_version=4)
    assert stored.cells[-1].source == _draw("edited", 5)
    assert stored.cells[-1].outputs == [] and stored.cells[-1].execution_count is None


@pytest.mark.slow
def test_only_03_reruns_02_when_its_table_is_stale_and_run_json_records_the_seed(project, capsys):
    run(project, progress=False)
    manifest = json.loads((project.figures / "RUN.json").read_text())
    assert manifest["notebooks"]["03-stance"]["seed"] == 20261123
    run(project, only=["03"], seed=5, progress=False)
    assert "rerunning 02-topics first" in capsys.readouterr().out
    manifest = json.loads((project.figures / "RUN.json").read_text())
    assert manifest["notebooks"]["03-stance"]["seed"] == 5
    assert manifest["notebooks"]["02-topics"]["seed"] == 5
    assert manifest["notebooks"]["01-a"]["seed"] == 20261123  # not rerun: still says so


def test_reading_a_stale_or_missing_table_is_refused(project):
    from xitu.corpus import ingest, write_processed

    write_processed(ingest(project.raw), project.processed)
    ctx = notebook_context("02-topics", str(project.root), str(project.root / "build" / "f"), 1)
    with pytest.raises(StaleInput, match="topic_assignments.csv is missing"):
        ctx.read_output("topic_assignments")
    _, segments = ctx.corpus()
    ctx.write_output(segments[["segment_id"]].assign(topic=0), "topic_assignments")
    assert len(ctx.read_output("topic_assignments")) == len(segments)
    other_seed = notebook_context("03-stance", str(project.root), str(project.root / "build" / "f"), 2)
    with pytest.raises(StaleInput, match="seed 1, not 2"):
        other_seed.read_output("topic_assignments")
    (project.raw / "000_5daa9991a6f03c11.txt").unlink()  # the corpus changes
    write_processed(ingest(project.raw), project.processed)
    with pytest.raises(StaleInput, match="another corpus"):
        ctx.read_output("topic_assignments")
    assert corpus_fingerprint(project.processed) != json.loads(
        (project.processed / "topic_assignments.meta.json").read_text())["corpus"]


def test_strip_outputs_keeps_sources(tmp_path):
    p = tmp_path / "x.ipynb"
    _nb(p, "print('hi')")
    nb = nbformat.read(p, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, str(p))
    assert strip_outputs(p) is True
    again = nbformat.read(p, as_version=4)
    assert again.cells[1].source == "print('hi')" and again.cells[1].outputs == []
    assert strip_outputs(p) is False


@pytest.mark.parametrize("seed", [-1, 2**32, "x", 1.5])
def test_bad_seeds_are_refused_with_one_line(seed, project):
    with pytest.raises(PipelineError, match="seed"):
        notebook_context("01-a", str(project.root), None, seed)


def test_a_root_that_is_not_a_project_is_refused(tmp_path):
    with pytest.raises(PipelineError, match="not an xitu project"):
        notebook_context("01-a", str(tmp_path / "nonexistent"), None, 1)


def test_cli_run_bad_seed_exits_2_without_traceback(root):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "xitu.cli", "run", "--seed", "-1"], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "seed -1" in out.stderr


def test_commands_read_processed_tables_and_reingest_only_when_raw_changes(project):
    from xitu import processed

    assert not processed.is_fresh(project)
    articles, segments = processed.load_tables(project)       # missing: ingested once
    assert processed.is_fresh(project) and len(segments) == 380
    stamp = (project.processed / "segments.csv").stat().st_mtime_ns
    processed.load_tables(project)                             # fresh: read, not rewritten
    assert (project.processed / "segments.csv").stat().st_mtime_ns == stamp
    (project.raw / "000_5daa9991a6f03c11.txt").unlink()        # the raw exports change
    assert not processed.is_fresh(project)
    _, fewer = processed.load_tables(project)
    assert len(fewer) < len(segments) and processed.is_fresh(project)


def test_make_lab_opens_all_notebooks_and_works_as_root(root):
    """Issue 12.15: `make lab` failed as root ("Use --allow-root") and copied one scratch
    notebook over itself each time; it now opens notebooks/ itself, with --allow-root for root."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-W", ".venv/.dev", "lab"], cwd=root, capture_output=True, text=True)
    cmd = [line for line in out.stdout.splitlines() if "jupyter lab" in line]
    assert cmd, out.stdout + out.stderr
    assert "--notebook-dir=notebooks" in cmd[-1] and "--allow-root" in cmd[-1]
    assert "cp " not in out.stdout and "build/lab" not in out.stdout
