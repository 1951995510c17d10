"""Stance: one model everywhere, article-grouped evaluation, transfer checks, article stance."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from xitu import stance

TOY = {
    "escalation": ["China bans rare earth exports to the US", "US imposes tariffs on Chinese magnets", "中国宣布对美实施稀土出口管制",
                   "EU threatens sanctions over export controls", "China blacklists a European magnet maker", "美国对中国加征关税"],
    "cooperation": ["China and US agree a truce in Busan talks", "Beijing grants export licences to EU firms", "中美会晤达成协议，恢复稀土供应",
                    "Exports resume after the two sides eased controls", "China suspends the new controls for a year", "中欧谈判达成稀土豁免"],
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("embeddings"))


def _toy_table(n_articles: int = 6) -> tuple[pd.DataFrame, list[str]]:
    rows, y = [], []
    for lab, texts in TOY.items():
        for i, t in enumerate(texts):
            rows.append({"segment_id": f"{lab[:3]}{i}", "article_id": f"{lab[:3]}-a{i % (n_articles // 2)}",
                         "heading": "", "text": t, "language": "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in t) else "en"})
            y.append(lab)
    return pd.DataFrame(rows), y


def _templated():
    actors = ["China", "The US", "The EU", "Japan", "Beijing"]
    moves = {"hawk": ["bans magnet exports to", "imposes tariffs on", "sanctions firms of", "blacklists suppliers from"],
             "dove": ["agrees a truce with", "grants export licences to", "resumes supplies to", "holds friendly talks with"]}
    X, y = [], []
    for lab, verbs in moves.items():
        for i, a in enumerate(actors):
            for j, v in enumerate(verbs):
                X.append(f"{a} {v} {actors[(i + j + 1) % len(actors)]}")
                y.append(lab)
    return X, y


# --------------------------------------------------------------------------- the model


def test_any_label_set_traditional_script_and_tables(cache):
    seg, y = _toy_table()
    y = ["hawk" if l == "escalation" else "dove" for l in y]  # not the codebook's labels
    m = stance.train(seg, y, kind="embeddings", cache_dir=cache)
    assert set(m.classes_) == {"hawk", "dove"}
    assert type(m.steps[0][1]).__name__ == "SegmentText"  # what it reads is part of the fitted model
    trad = m.predict_proba(["中國宣布對美實施稀土出口管制", "中美會晤達成協議，恢復稀土供應"])
    simp = m.predict_proba(["中国宣布对美实施稀土出口管制", "中美会晤达成协议，恢复稀土供应"])
    np.testing.assert_allclose(trad, simp, atol=1e-6)
    X2, y2 = _templated()
    m2 = stance.train(X2, y2, kind="embeddings", cache_dir=cache)
    new = ["Japan bans magnet exports to Beijing", "The EU resumes supplies to China"]  # unseen combinations
    assert list(m2.predict(new)) == ["hawk", "dove"]


def test_training_needs_two_examples_per_class():
    with pytest.raises(ValueError, match="at least two examples"):
        stance.train(["a b", "c d", "e f"], ["x", "x", "y"])
    with pytest.raises(ValueError, match="two different labels"):
        stance.train(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="unknown model kind"):
        stance.make_classifier("bert")


def test_what_the_model_reads_is_its_columns(cache):
    """A heading-reading model sees the heading; the default reads the text alone."""
    seg = pd.DataFrame({"segment_id": ["1", "2"], "heading": ["Export bans", "Trade talks"], "text": ["It happened.", "It happened."]})
    with_h = stance.make_classifier("reference", ("heading", "text")).fit(seg, ["escalation", "cooperation"])
    text_only = stance.make_classifier("reference", ("text",)).fit(seg, ["escalation", "cooperation"])
    assert list(with_h.predict(seg)) == ["escalation", "cooperation"]
    p = text_only.predict_proba(seg)
    np.testing.assert_allclose(p[0], p[1])  # same text, same probabilities: the heading is not read
    assert stance.DEFAULT_COLUMNS == ("text",)


def test_predict_in_chunks_equals_predict_at_once(cache):
    seg, y = _toy_table()
    m = stance.train(seg, y, cache_dir=cache)
    once = stance.predict_table(m, seg, chunk_size=len(seg))
    chunked = stance.predict_table(m, seg, chunk_size=5)
    pd.testing.assert_frame_equal(once, chunked, atol=1e-9)
    assert list(once.columns[:3]) == ["segment_id", "predicted", "confidence"]
    np.testing.assert_allclose(once.filter(like="p_").sum(axis=1), 1)


def test_keyword_baseline_counts_hits():
    kb = stance.KeywordBaseline({"escalation": ["ban", "管制"], "cooperation": ["talks"]}).fit(["x"], ["none"])
    assert list(kb.predict(["A ban, another ban, and talks", "美國出口管制", "nothing here"])) == ["escalation", "escalation", "none"]


def test_tfidf_word_features_keep_function_words(tokenizer):
    X = ["sanctions against China", "talks with China", "中国与欧盟合作", "对美国实施管制"]
    m = stance.make_classifier("tfidf", tokenizer=tokenizer)
    words = m.named_steps["features"].transformer_list[0][1].fit(X).vocabulary_
    assert {"against", "with", "与", "对"} <= set(words)
    assert tokenizer("sanctions against China") == ["sanctions", "china"]


def test_codebook_definitions_and_zero_shot(paths, cache):
    defs = stance.label_definitions(paths.labels / "CODEBOOK.md")
    assert list(defs) == ["escalation", "cooperation", "self-reliance", "none"]
    assert "tariffs" in defs["escalation"] and "truces" in defs["cooperation"]
    z = stance.make_classifier("zero-shot", definitions=defs, cache_dir=cache).fit(["x"], ["none"])
    p = z.predict(["The US imposed new tariffs and sanctions on Chinese firms",
                   "Both sides agreed a truce and eased export controls"])
    assert list(p) == ["escalation", "cooperation"]


# --------------------------------------------------------------------------- metrics and folds


def test_macro_f1_from_counts_equals_sklearn():
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c", "d"]
    for _ in range(20):
        yt = rng.choice(labels[:3], 40)  # "d" never true: counted as 0, as f1_score does with labels given
        yp = rng.choice(labels, 40)
        assert stance.macro_f1(yt, yp, labels) == pytest.approx(
            f1_score(yt, yp, labels=labels, average="macro", zero_division=0))


def test_grouped_folds_never_split_an_article():
    rng = np.random.default_rng(1)
    groups = np.repeat([f"a{i}" for i in range(30)], rng.integers(3, 12, 30))
    y = rng.choice(["x", "y", "z"], len(groups))
    splits = stance.grouped_splits(y, groups, n_splits=5, n_repeats=3, seed=7)
    assert len(splits) == 15
    for r in range(3):
        tests = np.concatenate([te for rr, _, te in splits if rr == r])
        assert sorted(tests) == list(range(len(y)))  # each segment tested once per repeat
    for _, tr, te in splits:
        assert not set(groups[tr]) & set(groups[te])


def _slow_bootstrap(y, preds, groups, labels, n_boot, seed):
    """The reference: the same article draws, then sklearn's f1_score on the resampled segments."""
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(pd.Series(list(groups), dtype=object))
    A = len(uniq)
    members = [np.flatnonzero(codes == a) for a in range(A)]
    draws = np.vstack([rng.multinomial(A, np.full(A, 1 / A), size=min(250, n_boot - s)) for s in range(0, n_boot, 250)])
    vals = []
    for w in draws:
        idx = np.concatenate([np.tile(members[a], int(c)) for a, c in enumerate(w) if c])
        vals.append(np.mean([f1_score(y[idx], p[idx], labels=labels, average="macro", zero_division=0) for p in preds]))
    return np.percentile(vals, 2.5), np.percentile(vals, 97.5)


def test_bootstrap_over_articles_equals_a_slow_reference():
    rng = np.random.default_rng(3)
    groups = np.repeat([f"a{i}" for i in range(12)], rng.integers(2, 7, 12))
    labels = ["e", "c", "s", "n"]
    y = rng.choice(labels, len(groups))
    preds = np.where(rng.random((2, len(y))) < 0.6, y, rng.choice(labels, (2, len(y)))).astype(object)
    fast = stance.bootstrap_articles(y, preds, groups, labels, n_boot=300, seed=5)
    slow = _slow_bootstrap(y, preds, groups, labels, 300, 5)
    assert fast == pytest.approx(slow, abs=1e-12)


# --------------------------------------------------------------------------- evaluation and transfer


def test_evaluation_grouped_with_headings_removed_and_transfer(cache):
    """The heading carries the label, the text does not: a heading-reading model looks good on
    grouped folds and falls to chance with headings removed; the text-only model does not move."""
    rows, y = [], []
    for a in range(12):
        lab = ["escalation", "cooperation"][a % 2]
        for k in range(4):
            heading = "Sanctions and export bans" if lab == "escalation" else "Talks and a trade truce"
            rows.append({"segment_id": f"s{a}-{k}", "article_id": f"a{a}", "heading": heading,
                         "text": f"Report number {a * 4 + k} from the ministry", "language": "zh" if a >= 10 else "en"})
            y.append(lab)
    seg = pd.DataFrame(rows)
    models = {"heading": stance.make_classifier("reference", ("heading", "text")),
              "text": stance.make_classifier("reference", ("text",))}
    ev = stance.evaluate(seg, y, models, n_splits=3, n_repeats=2, n_boot=50, stratified=("text",))
    s = ev.scores.set_index(["model", "scheme"])["macro_f1"]
    assert s[("heading", "grouped")] == 1.0
    assert s[("heading", "grouped, no headings")] < 0.7
    assert s[("text", "grouped")] == s[("text", "grouped, no headings")]
    assert ("text", "stratified (optimistic)") in s.index and ("heading", "stratified (optimistic)") not in s.index
    assert ev.oof_proba["heading"].shape == (2, len(y), 2)
    tr = stance.transfer_language(seg, y, models, "en", "zh", n_boot=50).set_index("model")
    assert (tr["n"] == 8).all() and (tr["n_train"] == 40).all() and tr.loc["heading", "macro_f1"] == 1.0


def test_learning_curve_grows_by_articles(cache):
    seg, y = _toy_table(n_articles=6)
    curve = stance.learning_curve(seg, y, stance.make_classifier("reference"), fractions=(0.5, 1.0), n_splits=2, n_repeats=1)
    assert list(curve["fraction"]) == [0.5, 1.0]
    assert curve["n_articles"].iloc[0] < curve["n_articles"].iloc[1]


def test_choose_model_prefers_transfer_among_close_candidates():
    sel = pd.DataFrame({"model": ["a", "b", "c", "reference"], "grouped": [0.60, 0.59, 0.50, 0.70],
                        "en_to_zh": [0.40, 0.55, 0.90, 0.9], "no_headings": [0.6, 0.59, 0.5, 0.7],
                        "article_level": [0.5, 0.5, 0.9, 0.9]})
    assert stance.choose_model(sel, exclude=("reference",)) == "b"  # c transfers best but is not close on grouped
    assert stance.choose_model(sel, tolerance=0.2, exclude=("reference",)) == "c"


# --------------------------------------------------------------------------- article stance


def test_article_aggregation_with_none():
    classes = ["cooperation", "escalation", "none", "self-reliance"]
    ids = ["A", "A", "A", "A", "B", "B", "B", "B", "C", "C", "D"]
    proba = np.array([
        [0.1, 0.6, 0.2, 0.1],  # A: two escalation segments, one cooperation with more mass than either alone
        [0.1, 0.5, 0.3, 0.1],
        [0.7, 0.1, 0.1, 0.1],
        [0.1, 0.1, 0.7, 0.1],
        [0.1, 0.1, 0.7, 0.1],  # B: one stance-bearing segment of four (share 0.25) and below 0.3
        [0.1, 0.1, 0.7, 0.1],
        [0.1, 0.1, 0.7, 0.1],
        [0.1, 0.2, 0.1, 0.6],
        [0.2, 0.2, 0.5, 0.1],  # C: nothing stance-bearing -> none
        [0.1, 0.1, 0.6, 0.2],
        [0.45, 0.1, 0.05, 0.4],  # D: a single stance-bearing segment -> its label
    ])
    out = stance.aggregate_articles(ids, proba, classes, min_share=0.3, rule="share").set_index("article_id")
    assert out.loc["A", "stance"] == "escalation"  # summed 1.1 + 0.1 over A's bearing segments vs 0.9 cooperation
    assert out.loc["A", "n_stance_bearing"] == 3 and out.loc["A", "sum_escalation"] == pytest.approx(1.2)
    assert out.loc["B", "stance"] == "none" and out.loc["B", "stance_share"] == 0.25
    assert stance.aggregate_articles(ids, proba, classes, min_share=0.25, rule="share").set_index("article_id").loc["B", "stance"] == "self-reliance"
    assert out.loc["C", "stance"] == "none" and out.loc["C", "n_stance_bearing"] == 0
    assert out.loc["D", "stance"] == "cooperation"
    assert list(out.index) == ["A", "B", "C", "D"]


def test_article_stance_from_predictions_and_gold():
    pred = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "p_cooperation": [0.8, 0.1, 0.1], "p_none": [0.1, 0.8, 0.8],
                         "p_escalation": [0.1, 0.1, 0.1]})
    segs = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "article_id": ["a", "a", "b"]})
    art = stance.article_stance(pred, segs, min_share=0.5, rule="share").set_index("article_id")
    assert art.loc["a", "stance"] == "cooperation" and art.loc["b", "stance"] == "none"
    gold = stance.gold_article_stance(segs, ["escalation", "none", "none"], min_share=0.5, rule="share").set_index("article_id")
    assert gold.loc["a", "stance"] == "escalation" and gold.loc["b", "stance"] == "none"


def test_article_scores_aggregate_out_of_fold_probabilities():
    classes = ["cooperation", "escalation", "none"]
    segs = pd.DataFrame({"article_id": ["a", "a", "b", "b", "c", "c"]})
    y = ["escalation", "escalation", "cooperation", "none", "none", "none"]  # gold articles: escalation, cooperation, none
    good = np.array([[0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]])
    bad = good[:, [1, 0, 2]]  # cooperation and escalation swapped
    ev = stance.Evaluation(pd.DataFrame(), pd.DataFrame(), {}, {}, {"good": good[None], "bad": np.stack([bad, good])}, classes)
    out = stance.article_scores(ev, segs, y, min_share=0.5, n_boot=50, rule="share").set_index("model")
    assert out.loc["good", "macro_f1"] == 1.0 and out.loc["good", "gold_none_articles"] == 1
    assert out.loc["bad", "macro_f1"] == pytest.approx(np.mean([1 / 3, 1.0]))  # repeat 1: only none right; repeat 2: all right
    assert out.loc["good", "predicted_none_articles"] == 1


# --------------------------------------------------------------------------- one model everywhere


def test_labelling_session_ranks_with_the_notebook_model(seed_corpus, paths, tmp_path):
    """The session's ranking model is notebook 03's model: same parameters, same predictions."""
    from xitu.labelling import LabellingSession, _project_trainer
    from xitu.labels import gold_labels, read_logs, replay
    from xitu.text import Tokenizer

    for f in paths.labels.glob("*.jsonl"):
        shutil.copy(f, tmp_path)
    seg = seed_corpus.segments_with_articles()
    s = LabellingSession("newcomer", seg, tmp_path, order="entropy", pool="own", show_guess=True,
                         trainer=_project_trainer(paths))
    gold, _ = gold_labels(replay(read_logs(paths.labels).entries))
    gold_seg = gold.merge(seed_corpus.segments, on="segment_id")
    nb = stance.train(gold_seg, gold_seg["label"], tokenizer=Tokenizer(paths.lexicon), cache_dir=str(paths.cache / "embeddings"))
    assert s.model is not None and s.n_training == len(gold_seg)

    def params(m):  # every parameter, nested ones included, as text
        return {k: repr(v) for k, v in m.get_params(deep=True).items()}

    assert params(s.model) == params(nb)
    assert list(s.model.classes_) == list(nb.classes_)
    np.testing.assert_allclose(s.model.predict_proba(seg), nb.predict_proba(seg), atol=1e-6)
    np.testing.assert_allclose(s._proba.to_numpy(), nb.predict_proba(s.candidates), atol=1e-6)


# --------------------------------------------------------------------------- report


def test_reading_and_targets_are_written_from_the_numbers():
    from xitu.settings import TARGETS
    from xitu.stance_report import reading, targets_table

    sel = pd.DataFrame({"model": ["m", "ref"], "grouped": [0.70, 0.60], "ci_low": [0.61, 0.5], "ci_high": [0.78, 0.7],
                        "no_headings": [0.69, 0.6], "heading_drop": [0.01, 0.0], "en_to_zh": [0.56, 0.2],
                        "stratified_optimistic": [0.8, np.nan], "article_level": [0.6, 0.4]})
    per_class = pd.DataFrame({"label": ["a", "b"], "f1": [0.9, 0.4], "precision": [0.9, 0.5], "recall": [0.9, 0.3], "support": [60, 40]})
    curve = pd.DataFrame({"n_articles": [5, 10, 20, 40], "n_labels": [40, 80, 160, 320], "macro_f1": [0.4, 0.5, 0.6, 0.7]})
    text = reading(sel, "m", "m", "ref", per_class, curve, TARGETS, 400, 40, 3)
    assert "macro-F1 0.70 (95% interval over articles 0.61–0.78), meeting the 0.68 target" in text
    assert "reference scores 0.60 on the same folds (+0.10" in text and "would report 0.80" in text
    assert "scores 0.56 on the Chinese ones" in text and "(-0.01 against with headings)" in text
    assert "picks the model in use" in text and "best of 3" in text
    assert "weakest class is b (F1 0.40" in text and "still rising" in text and "Extrapolating" not in text
    other = reading(sel.assign(grouped=[0.6, 0.5]), "ref", "m", "ref", per_class, curve, TARGETS, 400, 40, 3)
    assert "picks ref" in other and "below the 0.68 target" in other and "Extrapolating" in other
    t = targets_table(sel, "m", "ref", TARGETS).set_index("target")
    assert t["met"].tolist() == [True, True, True, True]
    assert t.loc["grouped macro-F1 over reference", "measured"] == pytest.approx(0.1)


def test_labels_for_target_follows_a_log_linear_curve():
    from xitu.stance_report import labels_for_target

    curve = pd.DataFrame({"n_labels": [50, 100, 200, 400], "macro_f1": [0.3, 0.4, 0.5, 0.6]})
    assert labels_for_target(curve, 0.7) == pytest.approx(800)
    assert labels_for_target(curve.assign(macro_f1=[0.6, 0.6, 0.55, 0.5]), 0.7) is None
    # a tiny gold set: every point of the curve trained on the same 20 labels (numerically a
    # near-zero slope, which once gave "791959115442 gold segments"): no extrapolation
    same = pd.DataFrame({"n_labels": [20.5] * 4, "macro_f1": [0.137, 0.137, 0.137, 0.137 + 1e-12]})
    assert labels_for_target(same, 0.68) is None


def test_reading_says_not_measured_when_a_transfer_side_is_empty():
    from xitu.settings import TARGETS
    from xitu.stance_report import reading, targets_table

    sel = pd.DataFrame({"model": ["m", "ref"], "grouped": [0.5, 0.4], "ci_low": [0.4, 0.3], "ci_high": [0.6, 0.5],
                        "no_headings": [0.5, 0.4], "heading_drop": [0.0, 0.0], "en_to_zh": [np.nan, np.nan],
                        "article_level": [0.5, 0.4]})
    per_class = pd.DataFrame({"label": ["a", "b"], "f1": [0.6, 0.4], "precision": [0.6, 0.5], "recall": [0.6, 0.3], "support": [6, 4]})
    curve = pd.DataFrame({"n_articles": [2.0] * 3, "n_labels": [20.5] * 3, "macro_f1": [0.137] * 3})
    text = reading(sel, "m", "m", "ref", per_class, curve, TARGETS, 31, 3, 3)
    assert "English → Chinese check was not measured" in text and "nan" not in text and "Extrapolating" not in text
    t = targets_table(sel, "m", "ref", TARGETS).set_index("target")
    assert t.loc["train English → test Chinese", "measured"] == "not measured"
    assert t.loc["train English → test Chinese", "met"] is None


def test_stance_by_topic_refuses_assignments_that_miss_segments():
    """A stale topic table used to be inner-joined and its missing segments dropped."""
    import pandas as pd
    import pytest

    from xitu import stance_report

    labels = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "label": ["none", "escalation", "none"]})
    topics = pd.DataFrame({"segment_id": ["s1", "s2"], "topic": [0, 1], "topic_name": ["0: a", "1: b"]})
    with pytest.raises(ValueError, match="1 of 3 segments have no topic"):
        stance_report.stance_by_topic(labels, topics)


def test_article_stance_by_mean_probability_keeps_none_reachable():
    """The default rule: the class with the highest mean probability over all of an article's
    segments. An article none of whose segments is stance-bearing is none, whatever the
    probabilities (checked on random rows); ties go to none."""
    classes = ["escalation", "cooperation", "self-reliance", "none"]
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.dirichlet(np.ones(4), size=rng.integers(1, 9))
        for row in p:  # move each row's largest probability to none: no segment bears stance
            j = row.argmax()
            row[[3, j]] = row[[j, 3]]
        assert (p.argmax(axis=1) == 3).all()
        out = stance.aggregate_articles(["a"] * len(p), p, classes)
        assert out.loc[0, "stance"] == "none"
    proba = np.array([[0.5, 0.1, 0.1, 0.3],   # A: one strong escalation segment …
                      [0.1, 0.1, 0.1, 0.7],   # … and two neutral ones: none on average
                      [0.1, 0.1, 0.1, 0.7],
                      [0.6, 0.1, 0.1, 0.2],   # B: mostly escalation
                      [0.4, 0.2, 0.1, 0.3],
                      [0.25, 0.25, 0.25, 0.25]])  # C: a tie: none
    out = stance.aggregate_articles(list("AAABBC"), proba, classes).set_index("article_id")
    assert out["stance"].to_dict() == {"A": "none", "B": "escalation", "C": "none"}
    np.testing.assert_allclose(out.loc["B", ["mean_escalation", "mean_none"]].to_numpy(float), [0.5, 0.25])
    gold = stance.gold_article_stance(pd.DataFrame({"article_id": list("AAABB")}),
                                      ["escalation", "none", "none", "cooperation", "cooperation"])
    assert gold.set_index("article_id")["stance"].to_dict() == {"A": "none", "B": "cooperation"}
    with pytest.raises(ValueError, match="rule"):
        stance.aggregate_articles(["a"], proba[:1], classes, rule="vote")


def test_memo_vectorizer_equals_scikit_learns():
    """The reference features remember each text's n-grams; the matrices must be exactly
    those of TfidfVectorizer, on a second fit too (the memo in use) and after pickling."""
    import pickle

    from sklearn.feature_extraction.text import TfidfVectorizer

    from xitu.stance import MemoTfidfVectorizer, _chars_preprocess, reference_features

    texts = ["China tightens rare-earth export controls", "中國收緊稀土出口管制", "稀土 出口", "",
             "The EU answers with a critical raw materials act", "China tightens rare-earth export controls"]
    plain = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=_chars_preprocess)
    want = plain.fit_transform(texts)
    for _ in range(2):
        memo = reference_features()
        assert isinstance(memo, MemoTfidfVectorizer)
        got = memo.fit_transform(texts)
        assert (got != want).nnz == 0 and list(memo.get_feature_names_out()) == list(plain.get_feature_names_out())
    again = pickle.loads(pickle.dumps(memo))
    assert (again.transform(texts[:3]) != plain.transform(texts[:3])).nnz == 0
    # a preprocessor that cannot be named (a lambda) is never memoised under another's name
    shout = MemoTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 2), preprocessor=lambda t: t.upper())
    assert "CH" in shout.fit(texts).vocabulary_


def test_train_takes_any_label_type_and_refuses_unclear_input(cache):
    """Outside data: integer or boolean labels work as given; None/NaN texts or labels, one
    string instead of a list, mismatched lengths and the zero-shot kind with labels the
    codebook does not define are refused with a message instead of being read wrongly."""
    texts = ["we support this plan", "a plan we back", "we welcome the plan",
             "we oppose the plan strongly", "this plan must be stopped", "we reject the plan",
             "the weather is fine", "it rained on Tuesday", "the shop opens at nine"]
    for labels in ([0] * 3 + [1] * 3 + [2] * 3, ["FAVOR"] * 3 + ["AGAINST"] * 3 + ["NONE"] * 3):
        m = stance.train(texts, labels, cache_dir=cache)
        assert list(m.classes_) == sorted(set(labels)) and m.predict(["we back this plan"])[0] in set(labels)
    with pytest.raises(TypeError, match="not text, at position"):
        stance.train([None] + texts[1:], [0] * 3 + [1] * 3 + [2] * 3, cache_dir=cache)
    with pytest.raises(ValueError, match="missing .None or NaN. at position"):
        stance.train(texts, [float("nan")] + [0] * 2 + [1] * 3 + [2] * 3, cache_dir=cache)
    with pytest.raises(ValueError, match="8 labels for 9 texts"):
        stance.train(texts, [0] * 3 + [1] * 3 + [2] * 2, cache_dir=cache)
    with pytest.raises(ValueError, match="zero-shot model knows only the codebook"):
        stance.train(texts, ["FAVOR"] * 3 + ["AGAINST"] * 3 + ["NONE"] * 3, kind="zero-shot", cache_dir=cache)
    with pytest.raises(TypeError, match="got one string"):
        m.predict_proba("我们支持这个计划。")


def test_evaluation_plan_says_why_instead_of_failing():
    """Notebook 03 on a researcher's own small corpus: a sentence, not a scikit-learn error."""
    segs = pd.DataFrame({"article_id": list("aabbccdd"), "language": ["en"] * 8})
    assert "no gold labels" in stance.evaluation_plan(segs.iloc[:0], []).skip
    assert "at least two examples" in stance.evaluation_plan(segs, list("xxxxxxxy")).skip
    assert "from 2 article(s)" in stance.evaluation_plan(segs.iloc[:4], list("xyxy")).skip
    ok = stance.evaluation_plan(segs, list("xyxyxyxy"))
    assert ok.skip == "" and ok.n_splits == 4 and "no gold segments in 'zh'" in ok.transfer
    both = stance.evaluation_plan(segs.assign(language=["en"] * 6 + ["zh"] * 2), list("xyxyxyxy"))
    assert both.transfer == "" and both.n_splits == 4
    # one label used once is left out, with a note, and the others are evaluated (it stopped
    # the whole notebook); the plan's apply() drops exactly its segments
    rare = stance.evaluation_plan(segs, list("xyxyxyxz"))
    assert rare.skip == "" and rare.dropped == {"z": 1} and "'z' (1 example)" in rare.note
    kept, y = rare.apply(segs, list("xyxyxyxz"))
    assert y == list("xyxyxyx") and kept["article_id"].tolist() == list("aabbccd")
    assert stance.evaluation_plan(segs, list("xyxyxyx") + [None]).skip  # a missing label is not "rare"
    assert "at least two examples" in stance.evaluation_plan(segs, list("xxxxxxyz")).skip  # one label would remain


def test_train_refuses_pandas_missing_labels():
    """Review: pandas' NA (a "string" or nullable column, as read_csv with dtype="string"
    gives) and NaT were not seen as missing: they became a class "<NA>"/"NaT" that the
    model was trained on and could predict."""
    texts = ["China bans exports", "US imposes tariffs", "EU and China cooperate", "Talks succeed",
             "中国限制稀土出口", "美国加征关税"]
    labels = ["escalation", "escalation", "cooperation", "cooperation"]
    for missing in (pd.Series(labels + [pd.NA, pd.NA], dtype="string"), labels + [pd.NA, pd.NA],
                    labels + [pd.NaT, pd.NaT]):
        with pytest.raises(ValueError, match="2 label.s. missing .* at position.s. 4, 5"):
            stance.train(texts, missing)


def test_a_gold_set_without_some_codebook_label_is_scored_on_its_own_labels(cache):
    """The zero-shot prior knows every codebook label; on a gold set that lacks some of them
    (a researcher's first labels) the transfer check and the stratified folds scored its
    predictions of the missing labels and failed with KeyError; now every model is scored
    on the labels the gold set has."""
    segs, y = _toy_table()
    models = {"zero-shot": stance.make_classifier("zero-shot", cache_dir=cache),
              "default": stance.make_classifier(cache_dir=cache)}
    raw = stance.make_classifier("zero-shot", cache_dir=cache).fit(segs, y).predict(segs)
    assert set(raw) - set(y), "the check needs a zero-shot prediction outside the gold labels"
    tr = stance.transfer_language(segs, y, models, "en", "zh", n_boot=50)
    assert tr["macro_f1"].notna().all()
    ev = stance.evaluate(segs, y, models, n_splits=2, n_repeats=1, n_boot=50, stratified=("zero-shot",))
    for (name, scheme), P in ev.oof.items():
        assert set(P.ravel()) <= set(y), (name, scheme)


def test_stance_figures_say_not_measured_where_a_check_has_no_value():
    """Review 3: on an English-only gold set the English → Chinese rows of
    transfer_checks.png and model_selection.png were empty bars, which read as a score of 0."""
    import matplotlib.pyplot as plt

    from xitu import stance_report

    rows = pd.DataFrame({"model": ["m", "m"], "scheme": ["train English → test Chinese", "grouped"],
                         "macro_f1": [np.nan, 0.6], "ci_low": [np.nan, 0.5], "ci_high": [np.nan, 0.7]})
    fig, _ = stance_report.scores_figure(rows)
    assert [t.get_text() for t in fig.axes[0].texts] == ["not measured"]
    sel = pd.DataFrame({"model": ["a", "b"], "grouped": [0.6, 0.5], "no_headings": [0.6, 0.5], "en_to_zh": [np.nan, np.nan]})
    fig, _ = stance_report.selection_figure(sel, "a")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[-1] == "train English → test Chinese (not measured)"
    plt.close("all")
