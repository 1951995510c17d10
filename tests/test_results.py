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
    # a label left out for too few examples is said, next to the score and in the target row
    sc = pd.read_csv(folder / "scores.csv").assign(labels="escalation, none, self-reliance")
    sc.to_csv(folder / "scores.csv", index=False)
    lines = "\n".join(results.stance_lines(tmp_path))
    assert "Macro-F1 over the 3 labels the gold set can train; left out (too few examples): cooperation" in lines
    assert "| grouped macro-F1 (without cooperation) | ≥ 0.68 | 0.60 | **no** |" in lines
    (folder / "SKIPPED.md").write_text("# Skipped\n\nno gold labels for the segments of this corpus yet\n")
    assert results.stance_lines(tmp_path) == [
        "- **Stance**: not evaluated on this corpus: no gold labels for the segments of this corpus yet"]
    (tmp_path / "02-topics").mkdir()
    (tmp_path / "02-topics" / "SKIPPED.md").write_text("# Skipped\n\ntopic modelling needs at least 9 different documents\n")
    assert results.topic_lines(tmp_path) == [
        "- **Topics**: not modelled on this corpus: topic modelling needs at least 9 different documents"]


def test_heldout_lines_are_written_from_the_table(tmp_path):
    """The held-out article line quotes the table notebook 03 wrote, model by model, and is
    absent when there is no table (a project without data/checks/prose)."""
    import pandas as pd

    from xitu import results

    assert results.heldout_lines(tmp_path) == []
    folder = tmp_path / "03-stance"
    folder.mkdir()
    rows = [("m", "all", 0.7123, 0.6, 0.8, 6, 2, 1), ("m", "en", 0.5, 0.2, 0.7, 3, 1, 1), ("m", "zh_hant", 0.9, 0.5, 1, 3, 1, 0),
            ("ref", "all", 0.3, 0.1, 0.45, 6, 2, 0)]
    pd.DataFrame(rows, columns=["model", "language", "macro_f1", "ci_low", "ci_high", "n_articles", "gold_none",
                                "predicted_none"]).to_csv(folder / "heldout_articles.csv", index=False)
    lines = results.heldout_lines(tmp_path)
    assert lines[0].startswith("- **Held-out articles** (`figures/03-stance/heldout_articles.csv`; 6 articles")
    assert lines[1] == "  m: **0.71** (0.60–0.80); en 0.50 (3); zh_hant 0.90 (3); articles predicted *none*: 1 (gold: 2)."
    assert lines[2] == "  ref: **0.30** (0.10–0.45); articles predicted *none*: 0 (gold: 2)."


def test_word_rule_lines_are_written_from_the_table(tmp_path):
    from xitu.results import word_rule_lines
    from xitu.io import write_csv
    import pandas as pd

    assert word_rule_lines(tmp_path) == []  # no notebook 02 yet: no line
    table = pd.DataFrame({"kind": ["word rule on BERTopic's clusters", "model"], "name": ["rule A", "NMF"],
                          "seeds": [3, 3], "npmi_mean": [0.0123, 0.2], "npmi_sd": [0.001, 0.002],
                          "diversity_mean": [0.91, 0.8], "diversity_sd": [0.01, 0.02]})
    (tmp_path / "02-topics").mkdir()
    write_csv(table, tmp_path / "02-topics" / "word_rules.csv")
    lines = word_rule_lines(tmp_path)
    assert "3 seeds" in lines[1]
    assert "  | rule A | 0.012 ± 0.001 | 0.910 ± 0.010 |" in lines
    assert "  | NMF (its own topics) | 0.200 ± 0.002 | 0.800 ± 0.020 |" in lines


def test_stability_lines_count_stable_and_untrusted_topics(tmp_path):
    from xitu.results import stability_lines
    from xitu.io import write_csv
    import pandas as pd

    assert stability_lines(tmp_path) == []
    (tmp_path / "02-topics").mkdir()
    table = pd.DataFrame({"topic": [0, 1, 2], "topic_name": ["a", "b", "c"], "documents": [10, 5, 3],
                          "jaccard_mean": [0.9, 0.75, 0.2], "jaccard_min": [0.8, 0.7, 0.1], "recurs_share": [1, 1, 0]})
    write_csv(table, tmp_path / "02-topics" / "topic_stability.csv")
    line = stability_lines(tmp_path)[1]
    assert "of the run seed's 3 topics, 2 are stable" in line and "15 of 18 documents" in line
    assert "1 should not be trusted (mean < 0.6)" in line
    write_csv(table.assign(jaccard_mean=float("nan")), tmp_path / "02-topics" / "topic_stability.csv")
    assert stability_lines(tmp_path) == []  # one seed: no line rather than "0 stable"


def test_gold_line_says_when_the_labels_belong_to_another_corpus(tmp_path, root):
    """Review 3: with a researcher's own exports in data/raw (and the shipped label logs
    kept), the README said "gold set: 380 segments … self-reliance 139, …" above a corpus of
    11 segments whose stance line read "no gold labels for the segments of this corpus yet".
    The gold line now says how many of the gold segments are in the corpus."""
    (tmp_path / "data" / "raw").mkdir(parents=True)
    src = (root / "data" / "raw" / "004_c73b6274a546cfca.txt").read_text(encoding="utf-8").splitlines()
    (tmp_path / "data" / "raw" / "own.txt").write_text(
        "\n".join(src[:4] + ["An article the annotators never saw", "Reuters· 2025-09-01 10:00",
                             "China tightened rare earth export licences again on Monday."]) + "\n", encoding="utf-8")
    shutil.copytree(root / "data" / "labels", tmp_path / "data" / "labels", ignore=shutil.ignore_patterns("*.lock"))
    p = Paths(tmp_path)
    processed.load_tables(p)
    text = results_section(p)
    assert "gold set: 380 segments" in text
    assert "None of them is in this corpus" in text and "380 point at segments not in `data/processed`" in text
    shutil.rmtree(tmp_path / "data" / "raw")  # the seed corpus again: every gold segment is in it
    shutil.copytree(root / "data" / "raw", tmp_path / "data" / "raw")
    processed.load_tables(p)
    assert "not in `data/processed`" not in results_section(p)


def test_heldout_npmi_lines_are_written_from_the_table(tmp_path):
    from xitu.results import heldout_npmi_lines
    from xitu.io import write_csv
    import pandas as pd

    assert heldout_npmi_lines(tmp_path) == []
    (tmp_path / "02-topics").mkdir()
    table = pd.DataFrame({"model": ["M"], "seeds": [3], "npmi_chosen_half_mean": [0.2], "npmi_chosen_half_sd": [0.01],
                          "npmi_held_out_mean": [-0.3], "npmi_held_out_sd": [0.02], "diversity_mean": [float("nan")],
                          "diversity_sd": [float("nan")]})
    write_csv(table, tmp_path / "02-topics" / "heldout_npmi.csv")
    lines = heldout_npmi_lines(tmp_path)
    assert "3 seeds" in lines[1] and "  | M | 0.200 ± 0.010 | -0.300 ± 0.020 | — |" in lines
