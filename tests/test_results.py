"""Every number in the README's results section is written by the run from the committed
tables, never typed by hand."""
from __future__ import annotations

import shutil

from xitu import processed
from xitu.paths import Paths
from xitu.results import END, START, results_section, update_readme


def test_the_readme_says_what_the_committed_figures_say(paths):
    processed.load_tables(paths)  # the corpus lines read data/processed (ingested if missing)
    readme = (paths.root / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    committed = readme[readme.index(START):readme.index(END) + len(END)]
    assert committed == results_section(paths), "README results are stale: run `make` (xitu run rewrites them)"


def test_update_readme_rewrites_only_the_marked_section(tmp_path, root):
    shutil.copytree(root / "data" / "raw", tmp_path / "data" / "raw")
    shutil.copytree(root / "data" / "labels", tmp_path / "data" / "labels",
                    ignore=shutil.ignore_patterns("*.lock"))
    shutil.copytree(root / "figures", tmp_path / "figures")
    p = Paths(tmp_path)
    processed.load_tables(p)
    (tmp_path / "README.md").write_text(f"# t\n\nbefore\n\n{START}\n- typed by hand: 0.99\n{END}\n\nafter\n",
                                        encoding="utf-8")
    assert update_readme(p) is True
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert text.startswith("# t\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "typed by hand" not in text and "380 segments" in text
    assert update_readme(p) is False  # a second run changes no byte


def test_a_partial_run_on_new_data_says_which_figures_are_stale(tmp_path, root):
    """After `xitu run --only 01` on new data the corpus line is new but the topic and stance
    rows are not: the section says so instead of mixing them silently."""
    import json

    shutil.copytree(root / "data" / "raw", tmp_path / "data" / "raw")
    shutil.copytree(root / "data" / "labels", tmp_path / "data" / "labels", ignore=shutil.ignore_patterns("*.lock"))
    shutil.copytree(root / "figures", tmp_path / "figures")
    p = Paths(tmp_path)
    processed.load_tables(p)
    assert "Stale" not in results_section(p)
    run = json.loads((tmp_path / "figures" / "RUN.json").read_text())
    run["notebooks"]["01-corpus"]["corpus"] = "0123456789abcdef"  # as if 01 were redrawn from other data
    (tmp_path / "figures" / "RUN.json").write_text(json.dumps(run))
    assert "the figures of 01-corpus were drawn from another corpus" in results_section(p)
