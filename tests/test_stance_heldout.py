"""The held-out article check (xitu.stance_heldout): its gold table is read strictly, every
gold row is tied to the article it names, and the scores are those of the articles."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from xitu import stance
from xitu.stance_heldout import CheckError, read_check, read_gold, score_check

HEADER = "file\tnumber\ttitle\tlanguage\tstance\twhy\n"


@pytest.fixture
def prose(paths, tmp_path):
    """A writable copy of the 24 synthetic prose articles of tests/data/prose_check."""
    dst = tmp_path / "check"
    shutil.copytree(paths.root / "tests" / "data" / "prose_check", dst)
    return dst


def test_read_gold_names_every_bad_row(tmp_path):
    p = tmp_path / "gold.tsv"
    p.write_text(HEADER + "en.txt\t1\tA\ten\tescalation\tok\n"
                          "en.txt\tone\tB\ten\tnone\tnumber is not a number\n"
                          "en.txt\t3\tC\ten\thawkish\tunknown label\n"
                          "en.txt\t1\tA again\ten\tnone\tsame article twice\n"
                          "en.txt\t5\tE\ten\n", encoding="utf-8")
    with pytest.raises(CheckError) as e:
        read_gold(p)
    msg = str(e.value)
    for line in (3, 4, 5, 6):
        assert f"gold.tsv:{line}:" in msg, msg
    assert "gold.tsv:2:" not in msg
    good = tmp_path / "good.tsv"
    good.write_text("\ufeff" + HEADER + "en.txt\t2\tB\ten\tnone\t\n\n", encoding="utf-8")  # BOM, blank line
    g = read_gold(good)
    assert g[["file", "number", "stance"]].values.tolist() == [["en.txt", 2, "none"]]


def test_read_gold_refuses_a_missing_file_or_column(tmp_path):
    with pytest.raises(CheckError, match="missing"):
        read_gold(tmp_path / "gold.tsv")
    p = tmp_path / "gold.tsv"
    p.write_text("file\tnumber\ttitle\tlanguage\nen.txt\t1\tA\ten\n", encoding="utf-8")
    with pytest.raises(CheckError, match=r"gold.tsv:1: missing column\(s\) \['stance'\]"):
        read_gold(p)
    # language is optional (read from the article); a given one must be a known code, and a
    # number must be plain digits (a superscript ² passed isdigit() and then failed int())
    p.write_text("file\tnumber\ttitle\tstance\tlanguage\nen.txt\t1\tA\tNone\t\nen.txt\t2\tB\tnone\tEnglish\n"
                 "en.txt\t\u00b2\tC\tnone\ten\n", encoding="utf-8")
    with pytest.raises(CheckError) as e:
        read_gold(p)
    assert "gold.tsv:3: language 'english'" in str(e.value) and "gold.tsv:4: number '²'" in str(e.value)
    assert "gold.tsv:2:" not in str(e.value)  # labels in capitals are read in lower case


def test_every_gold_row_must_name_the_article_it_scores(prose):
    check = read_check(prose)
    assert len(check.gold) == 24 and check.gold["article_id"].is_unique and not check.issues
    # each row's title is the title of the article it points at
    arts = check.segments.drop_duplicates("article_id").set_index("article_id")["title"]
    assert (check.gold["article_id"].map(arts) == check.gold["title"]).all()

    gold = (prose / "gold.tsv").read_text(encoding="utf-8").splitlines()
    first, second = gold[1].split("\t"), gold[2].split("\t")
    first[1], second[1] = second[1], first[1]  # lines 2 and 3 swap the articles they point at

    def write(rows):
        (prose / "gold.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    write([gold[0], "\t".join(first), "\t".join(second), *gold[3:]])
    with pytest.raises(CheckError) as e:
        read_check(prose)
    assert "gold.tsv:2: title" in str(e.value) and "gold.tsv:3: title" in str(e.value)
    assert "is not that of article 2 of en.txt" in str(e.value)
    second[1] = "99"
    write([gold[0], gold[1], "\t".join(second), *gold[3:]])
    with pytest.raises(CheckError, match=r"gold.tsv:3: en.txt has no article 99 \(8 article\(s\) read from it\)"):
        read_check(prose)


def test_held_out_scores_are_those_of_the_articles(prose, paths, tmp_path):
    """Real-prose-like input ingests with no issue; the scores table agrees with the
    predictions it comes with; the model in use beats the plain reference at article level
    (0.87 against 0.29 when these articles were first scored)."""
    from sklearn.metrics import f1_score

    from xitu.labels import gold_labels, read_logs, replay
    from xitu.processed import load_tables

    check = read_check(prose)
    _, segments = load_tables(paths)
    gold, _ = gold_labels(replay(read_logs(paths.labels).entries))
    train = gold.merge(segments, on="segment_id").reset_index(drop=True)
    cache = str(tmp_path / "emb")
    models = {stance.DEFAULT_NAME: stance.make_classifier(cache_dir=cache),
              stance.REFERENCE_NAME: stance.make_classifier("reference", cache_dir=cache)}
    scores, preds = score_check(check, models, train, train["label"].tolist(), n_boot=200)
    assert set(scores["language"]) == {"all", "en", "zh_hans", "zh_hant"}
    assert len(preds) == 2 * 24 and preds["predicted"].notna().all()
    labels = ["escalation", "cooperation", "self-reliance", "none"]
    for r in scores.itertuples(index=False):
        p = preds[(preds["model"] == r.model) & ((preds["language"] == r.language) | (r.language == "all"))]
        assert len(p) == r.n_articles
        assert r.macro_f1 == pytest.approx(f1_score(p["gold"], p["predicted"], labels=labels, average="macro",
                                                    zero_division=0))
        assert 0 <= r.ci_low <= r.ci_high <= 1
    total = scores[scores["language"] == "all"].set_index("model")["macro_f1"]
    assert total[stance.DEFAULT_NAME] > total[stance.REFERENCE_NAME] + 0.1, total


def test_the_committed_check_reads_cleanly_and_both_annotators_agree(paths):
    """data/checks/prose (README.md there): 36 articles ingest with no issue, every gold row
    names its article, and the second annotator's labels are of the same articles and agree
    with gold.tsv, except where gold.tsv records an adjudication."""
    folder = paths.root / "data" / "checks" / "prose"
    check = read_check(folder)
    assert len(check.gold) == 36 and not check.issues
    assert check.gold.groupby(["language", "stance"]).size().eq(3).all()
    gold = read_gold(folder / "gold.tsv")
    second = pd.read_csv(folder / "second_annotator.tsv", sep="\t", dtype=str, keep_default_na=False)
    second["number"] = second["number"].astype(int)
    both = gold.merge(second, on=["file", "number"], suffixes=("", "_second"), validate="1:1")
    assert len(both) == len(gold) == len(second)
    assert (both["title"] == both["title_second"].str.strip()).all()
    differ = both[both["stance"] != both["stance_second"]]
    assert differ["why"].str.contains("adjudicated", case=False).all(), differ[["file", "number"]]


def _small_check(folder, articles, gold_rows):
    """A check folder: ``articles`` = {file: [(title, body), ...]}, ``gold_rows`` = tab rows."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, arts in articles.items():
        lines = ["Workflow", "rare earths", "icon", "Search documents"]
        for i, (title, body) in enumerate(arts):
            lines += [title, f"Test Wire· 2025-10-{i + 1:02d} 10:00", body]
        (folder / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "gold.tsv").write_text(HEADER + "".join(r + "\n" for r in gold_rows), encoding="utf-8")
    return folder


ESC = ("China tightens rare earth export controls", "Beijing added seven heavy rare earths to its export control list on "
       "Friday, requiring licences for every shipment. Carmakers in Europe warned of shortages within weeks.")
COOP = ("US and China agree to ease magnet licences", "Negotiators from both sides agreed in London to speed up licences "
        "for rare earth magnets. Shipments to American factories resumed the following week.")


def test_what_read_check_refuses_and_what_it_accepts(tmp_path):
    """Second review of the check: each case names the row or article and says what to do."""
    # a title copied from the export with a double space and a no-break space is its title
    ok = _small_check(tmp_path / "ok", {"en.txt": [(ESC[0].replace(" ", "  ", 1).replace("rare", "rare\u00a0"), ESC[1]),
                                                   COOP]},
                      [f"en.txt\t1\t{ESC[0].replace(' ', '  ', 1).replace('rare', 'rare' + chr(160))}\t\tescalation\t",
                       f"en.txt\t2\t{COOP[0]}\ten\tcooperation\t"])
    check = read_check(ok)
    assert check.gold["language"].tolist() == ["en", "en"]  # read from the articles
    # a file name that is not an export of the folder
    (ok / "gold.tsv").write_text(HEADER + f"EN.txt\t1\t{ESC[0]}\ten\tescalation\t\n", encoding="utf-8")
    with pytest.raises(CheckError, match=r"gold.tsv:2: no export 'EN.txt' in .* \(exports with articles: en.txt\)"):
        read_check(ok)
    # an article of the exports without a row
    (ok / "gold.tsv").write_text(HEADER + f"en.txt\t2\t{COOP[0]}\ten\tcooperation\t\n", encoding="utf-8")
    with pytest.raises(CheckError, match=r"en.txt:5: article 1 has no row in gold.tsv"):
        read_check(ok)
    # an article with an empty body (ingest keeps it, with an issue): nothing to score
    empty = _small_check(tmp_path / "empty", {"en.txt": [ESC, ("A headline alone", "")]},
                         ["en.txt\t1\t" + ESC[0] + "\ten\tescalation\t", "en.txt\t2\tA headline alone\ten\tnone\t"])
    with pytest.raises(CheckError, match=r"gold.tsv:3: article 2 of en.txt has no text to score"):
        read_check(empty)
    # a language that is not what the article is written in
    wrong = _small_check(tmp_path / "wrong", {"en.txt": [ESC, COOP]},
                         ["en.txt\t1\t" + ESC[0] + "\tzh_hans\tescalation\t", "en.txt\t2\t" + COOP[0] + "\ten\tcooperation\t"])
    with pytest.raises(CheckError, match=r"gold.tsv:2: language 'zh_hans', but ingest read article 1 of en.txt as 'en'"):
        read_check(wrong)


def test_one_article_in_two_scripts_is_one_row(tmp_path):
    """Ingest reads the same article in Simplified and Traditional script as one article: a
    row for each copy is refused as two rows for one article (the Traditional row used to be
    refused for a title it does have); one row, for either copy, is accepted."""
    hans = ("中国收紧稀土出口管制", "商务部宣布对七种中重稀土实施出口管制，出口须申领许可证。欧洲车企警告称数周内可能断供。")
    hant = ("中國收緊稀土出口管制", "商務部宣布對七種中重稀土實施出口管制，出口須申領許可證。歐洲車企警告稱數週內可能斷供。")
    both = _small_check(tmp_path / "both", {"a.txt": [hans], "b.txt": [hant]},
                        [f"a.txt\t1\t{hans[0]}\tzh_hans\tescalation\t", f"b.txt\t1\t{hant[0]}\t\tescalation\t"])
    with pytest.raises(CheckError, match=r"lines 2, 3 point at one article"):
        read_check(both)
    (both / "gold.tsv").write_text(HEADER + f"b.txt\t1\t{hant[0]}\t\tescalation\t\n", encoding="utf-8")
    assert read_check(both).gold["language"].tolist() == ["zh_hans"]  # scored in the Simplified text


def test_an_article_the_models_are_trained_on_is_not_held_out(tmp_path, paths):
    """A seed article copied into the check folder would be scored as unseen after being
    trained on: refused, naming the gold row."""
    from xitu.labels import gold_labels, read_logs, replay
    from xitu.processed import load_tables

    raw = (paths.raw / "000_5daa9991a6f03c11.txt").read_text(encoding="utf-8").split("\n")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "mine.txt").write_text("\n".join(raw[:7]) + "\n", encoding="utf-8")
    (folder / "gold.tsv").write_text(HEADER + f"mine.txt\t1\t{raw[4]}\t\tself-reliance\t\n", encoding="utf-8")
    check = read_check(folder)
    _, segments = load_tables(paths)
    gold, _ = gold_labels(replay(read_logs(paths.labels).entries))
    train = gold.merge(segments, on="segment_id")
    with pytest.raises(CheckError, match=r"gold.tsv:2: article 1 of mine.txt is in the gold set .* not held out"):
        score_check(check, {"m": stance.make_classifier(cache_dir=str(tmp_path / "emb"))}, train,
                    train["label"].tolist(), n_boot=10)


def test_macro_f1_averages_the_labels_that_occur(tmp_path, paths):
    """On a check whose articles hold two of the four labels, macro-F1 averages the labels
    that occur in gold or predictions (the labels no article has counted as zero: a check of
    two articles, both right, scored 0.5)."""
    from sklearn.metrics import f1_score

    from xitu.labels import gold_labels, read_logs, replay
    from xitu.processed import load_tables

    folder = _small_check(tmp_path / "two", {"en.txt": [ESC, COOP]},
                          ["en.txt\t1\t" + ESC[0] + "\ten\tescalation\t", "en.txt\t2\t" + COOP[0] + "\ten\tcooperation\t"])
    _, segments = load_tables(paths)
    gold, _ = gold_labels(replay(read_logs(paths.labels).entries))
    train = gold.merge(segments, on="segment_id")
    scores, preds = score_check(read_check(folder), {"m": stance.make_classifier(cache_dir=str(tmp_path / "emb"))},
                                train, train["label"].tolist(), n_boot=50)
    present = sorted(set(preds["gold"]) | set(preds["predicted"]))
    assert len(present) < 4
    want = f1_score(preds["gold"], preds["predicted"], labels=present, average="macro", zero_division=0)
    assert scores.set_index("language").loc["all", "macro_f1"] == pytest.approx(want)


def test_a_check_that_cannot_be_read_is_reported_not_measured(tmp_path, capsys):
    """Notebook 03's section: a bad row costs the held-out scores only, never the notebook's
    other figures; the reason is printed, written beside the figures and quoted by the README
    results (it failed the whole notebook, and notebook 04 after it)."""
    from xitu import results
    from xitu.stance_heldout import run_check

    bad = _small_check(tmp_path / "bad", {"en.txt": [ESC]}, ["en.txt\t1\t" + ESC[0] + "\ten\tmaybe\t"])
    figures = tmp_path / "figures" / "03-stance"
    figures.mkdir(parents=True)
    assert run_check(bad, {}, pd.DataFrame(), [], figures) is None
    assert "held-out articles not measured:" in capsys.readouterr().out
    lines = results.heldout_lines(tmp_path / "figures")
    assert len(lines) == 1 and lines[0].startswith("- **Held-out articles** (`data/checks/prose/`): not measured: ")
    assert "gold.tsv:2: stance 'maybe' is not one of" in lines[0]
