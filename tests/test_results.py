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


def test_stance_lines_for_a_corpus_without_chinese_gold_or_without_labels(tmp_path):
    """An English-only gold set leaves the English → Chinese check empty: the README says
    "not measured" instead of the run failing at the end; a skipped notebook 03 gives its
    reason."""
    import pandas as pd

    from xitu import results

    folder = tmp_path / "03-stance"
    folder.mkdir()
    pd.DataFrame({"model": ["m", "reference: chars"], "scheme": ["grouped", "grouped"], "macro_f1": [0.6, 0.5],
                  "ci_low": [0.5, 0.4], "ci_high": [0.7, 0.6], "n": [95, 95], "n_articles": [10, 10],
                  "folds": [5, 5], "repeats": [3, 3]}).to_csv(folder / "scores.csv", index=False)
    pd.DataFrame({"model": ["m"] * 3, "scheme": ["train English → test Chinese", "grouped, with headings",
                                                  "grouped, headings removed"],
                  "macro_f1": [float("nan"), 0.6, 0.6]}).to_csv(folder / "transfer_checks.csv", index=False)
    lines = "\n".join(results.stance_lines(tmp_path))
    assert "| trained on English, tested on Chinese | ≥ 0.55 | not measured (no gold segments on one side) | — |" in lines
    assert "| drop when headings are removed | ≤ 0.05 | 0.00 | yes |" in lines
    (folder / "SKIPPED.md").write_text("# Skipped\n\nno gold labels for the segments of this corpus yet\n")
    assert results.stance_lines(tmp_path) == [
        "- **Stance**: not evaluated on this corpus: no gold labels for the segments of this corpus yet"]
