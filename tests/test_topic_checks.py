"""The check corpora of data/checks/topics/ (issue 11: topic claims on material the settings
were not chosen on) and the command that scores them, ``python -m xitu.topics.checks``."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from xitu.settings import SEED
from xitu.topics import checks


def test_every_check_article_has_its_storyline_in_both_languages(root):
    folders = checks.check_folders(root)
    topic_corpora = [k for k in folders if k.startswith("topics/")]
    assert topic_corpora, folders
    for name in topic_corpora:
        docs, story, n_issues = checks.load_check_corpus(folders[name])
        assert n_issues == 0, name  # written in the export format: read without a problem
        assert story is not None and story.notna().all() and len(story) == len(docs)
        by_story = docs.assign(story=story.to_numpy()).groupby("story")["language"].agg(set)
        assert (by_story.map(len) == 2).all(), (name, by_story)  # every storyline in English and Chinese
        readme = (folders[name][0] / "README.md").read_text(encoding="utf-8").lower()
        assert "ai assistant" in readme and "invented" in readme  # who wrote them, and the caution


def test_a_storyline_file_that_misses_an_article_is_refused(root, tmp_path):
    src = checks.check_folders(root)
    src = next(v[0] for k, v in src.items() if k.startswith("topics/"))
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    tsv = tmp_path / "storylines.tsv"
    lines = tsv.read_text(encoding="utf-8").splitlines()

    def refused(text: str, match: str):
        tsv.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=match):
            checks.load_check_corpus([tmp_path])

    refused("\n".join(lines[:-1]) + "\n", "no row for 1 article")
    refused("\n".join(lines + [lines[-1]]) + "\n", r"storylines.tsv:42: the same file and title as line 41")
    refused("\n".join(lines + ["en.txt\t99\tA title no export has\ta"]) + "\n", r"storylines.tsv:42: no article of en.txt")
    refused("\n".join(lines[:-1] + [lines[-1].rsplit("\t", 1)[0] + "\t "]) + "\n", r"storylines.tsv:41: empty storyline")
    wrong_file = lines[-1].split("\t", 1)
    refused("\n".join(lines[:-1] + ["en.txt\t" + wrong_file[1]]) + "\n", "no row for 1 article")  # title of another file
    refused("file\ttitle\n", r"columns \['storyline'\] missing")


def test_check_corpus_scores_topics_against_storylines(root, tokenizer):
    name, folders = next((k, v) for k, v in checks.check_folders(root).items() if k.startswith("topics/"))
    docs, story, _ = checks.load_check_corpus(folders)
    row = checks.check_corpus(docs, story, seeds=[SEED], tokenizer=tokenizer)
    assert row["segments"] == len(docs) and 0 < row["zh_share"] < 1
    assert row["topics"] >= 2 and row["outliers"] <= 0.1
    # the topics follow the storylines the articles were written for better than chance would
    assert row["storyline_ari"] > 0.05 and row["nmf_storyline_ari"] > 0.0
    assert np.isnan(row["ari_seeds"])  # one seed: no stability to measure
