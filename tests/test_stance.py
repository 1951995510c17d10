"""Stance classifier: generic labels, Chinese/Traditional input, evaluation, predictions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xitu import stance

TOY = {
    "escalation": ["China bans rare earth exports to the US", "US imposes tariffs on Chinese magnets", "中国宣布对美实施稀土出口管制",
                   "EU threatens sanctions over export controls", "China blacklists a European magnet maker", "美国对中国加征关税"],
    "cooperation": ["China and US agree a truce in Busan talks", "Beijing grants export licences to EU firms", "中美会晤达成协议，恢复稀土供应",
                    "Exports resume after the two sides eased controls", "China suspends the new controls for a year", "中欧谈判达成稀土豁免"],
}


def _toy():
    X = [t for lab in TOY for t in TOY[lab]]
    y = [lab for lab in TOY for _ in TOY[lab]]
    return X, y


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


def test_any_label_set_and_traditional_script(tokenizer):
    X, y = _toy()
    y = ["hawk" if l == "escalation" else "dove" for l in y]  # not the codebook's labels
    m = stance.train(X, y, tokenizer=tokenizer)
    assert set(m.classes_) == {"hawk", "dove"}
    # Traditional script is read exactly like its Simplified form
    trad = m.predict_proba(["中國宣布對美實施稀土出口管制", "中美會晤達成協議，恢復稀土供應"])
    simp = m.predict_proba(["中国宣布对美实施稀土出口管制", "中美会晤达成协议，恢复稀土供应"])
    assert np.allclose(trad, simp) and np.allclose(trad.sum(axis=1), 1)
    # and the model separates the classes it was given (a calibrated score, not a constant)
    X2, y2 = _templated()
    m2 = stance.train(X2, y2, tokenizer=tokenizer)
    new = ["Japan bans magnet exports to Beijing", "The EU resumes supplies to China"]  # unseen combinations
    assert list(m2.predict(new)) == ["hawk", "dove"]
    assert (m2.predict_proba(new).max(axis=1) > 0.7).all()


def test_training_needs_two_examples_per_class(tokenizer):
    with pytest.raises(ValueError, match="at least two examples"):
        stance.train(["a b", "c d", "e f"], ["x", "x", "y"], tokenizer=tokenizer)
    with pytest.raises(ValueError, match="two different labels"):
        stance.train(["a", "b"], ["x", "x"], tokenizer=tokenizer)


def test_keyword_baseline_counts_hits():
    kb = stance.KeywordBaseline({"escalation": ["ban", "管制"], "cooperation": ["talks"]}).fit(["x"], ["none"])
    assert list(kb.predict(["A ban, another ban, and talks", "美國出口管制", "nothing here"])) == ["escalation", "escalation", "none"]


def test_evaluation_and_learning_curve_shapes(tokenizer):
    X, y = _toy()
    ev = stance.evaluate(X, y, keywords={"escalation": ["ban"]}, n_splits=2, n_repeats=2, n_boot=50, tokenizer=tokenizer)
    assert list(ev.scores["model"]) == ["classifier", "majority class", "keyword lexicon"]
    s = ev.scores.set_index("model")
    assert s.loc["majority class", "macro_f1"] == pytest.approx(1 / 3)  # predicts one class: F1 2/3 and 0
    assert ((s["ci_low"] <= s["macro_f1"]) & (s["macro_f1"] <= s["ci_high"])).all()
    assert ev.confusion.to_numpy().sum() == len(y) * 2
    curve = stance.learning_curve(X, y, sizes=[4, 6], n_splits=2, n_repeats=1, tokenizer=tokenizer)
    assert list(curve["n_labels"]) == [4, 6]


def test_predictions_and_article_share(tokenizer):
    X, y = _toy()
    m = stance.train(X, y, tokenizer=tokenizer)
    segs = pd.DataFrame({"segment_id": ["s1", "s2", "s3"], "article_id": ["a", "a", "b"], "heading": ["", "Talks", ""],
                         "text": ["China bans exports", "the sides agree a truce", "稀土出口管制"]})
    pred = stance.predict_table(m, segs)
    assert list(pred.columns[:3]) == ["segment_id", "predicted", "confidence"]
    art = stance.article_stance(pred, segs).set_index("article_id")
    assert art.loc["a", "n_segments"] == 2
    assert art.filter(like="share_").sum(axis=1).round(6).eq(1).all()


def test_reading_is_written_from_the_numbers():
    from xitu.stance_report import reading

    scores = pd.DataFrame({"model": ["classifier", "majority class", "keyword lexicon"], "macro_f1": [0.8, 0.2, 0.5],
                           "ci_low": [0.7, 0.1, 0.4], "ci_high": [0.9, 0.3, 0.6], "n": [100] * 3})
    per_class = pd.DataFrame({"model": ["classifier"] * 2, "label": ["a", "b"], "f1": [0.9, 0.4],
                              "precision": [0.9, 0.5], "recall": [0.9, 0.3], "support": [60, 40]})
    curve = pd.DataFrame({"n_labels": [40, 80], "macro_f1": [0.6, 0.8]})
    text = reading(scores, per_class, curve)
    assert "macro-F1 0.80 (95% interval 0.70–0.90)" in text and "meeting the 0.75 target" in text
    assert "+0.30 over the keyword lexicon" in text and "weakest class is b (F1 0.40" in text
    assert "still rising" in text
    flat = reading(scores.assign(macro_f1=[0.6, 0.2, 0.5]), per_class, curve.assign(macro_f1=[0.6, 0.6]))
    assert "below the 0.75 target" in flat and "flat" in flat and "Extrapolating" not in flat
    # below target and rising: how many gold segments the log-linear trend needs
    rising = pd.DataFrame({"n_labels": [40, 80, 160, 320], "macro_f1": [0.4, 0.5, 0.6, 0.7]})  # +0.1 per doubling
    below = reading(scores.assign(macro_f1=[0.7, 0.2, 0.5], n=[400] * 3), per_class, rising)
    assert "about 566 gold segments, 166 more than now" in below  # 0.75 at 320·√2 ≈ 453 training labels = 566 × 320/400


def test_labels_for_target_follows_a_log_linear_curve():
    from xitu.stance_report import labels_for_target

    curve = pd.DataFrame({"n_labels": [50, 100, 200, 400], "macro_f1": [0.3, 0.4, 0.5, 0.6]})
    assert labels_for_target(curve, 0.7) == pytest.approx(800)
    assert labels_for_target(curve.assign(macro_f1=[0.6, 0.6, 0.55, 0.5]), 0.7) is None


def test_word_features_keep_function_words_that_carry_stance(tokenizer):
    """Stopword lists are for topics; the stance model must still see 'against', 'with', 与."""
    X = ["sanctions against China", "talks with China", "中国与欧盟合作", "对美国实施管制"]
    m = stance.make_classifier(tokenizer)
    words = m.named_steps["features"].transformer_list[0][1].fit(X).vocabulary_
    assert {"against", "with", "与", "对"} <= set(words)
    assert tokenizer("sanctions against China") == ["sanctions", "china"]  # the topic tokeniser still drops them
    assert tokenizer.keeping_stopwords().jieba is tokenizer.jieba  # one dictionary in memory, loaded once
