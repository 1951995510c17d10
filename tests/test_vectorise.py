"""Multilingual embeddings: scripts, languages, cache, determinism, progress."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xitu import vectorise
from xitu.vectorise import SegmentText, embed

# Traditional / Simplified forms of one sentence (written for this test, not from the corpus)
SCRIPT_PAIRS = [
    ("中國宣布對稀土實施出口管制", "中国宣布对稀土实施出口管制"),
    ("美國與中國達成貿易協議", "美国与中国达成贸易协议"),
    ("歐盟計劃建立稀土戰略儲備", "欧盟计划建立稀土战略储备"),
    ("日本企業擔心磁鐵供應中斷", "日本企业担心磁铁供应中断"),
    ("雙方在釜山會談後恢復供應", "双方在釜山会谈后恢复供应"),
    ("澳洲礦業公司擴建精煉廠", "澳洲矿业公司扩建精炼厂"),
    ("稀土價格在管制後大幅上漲", "稀土价格在管制后大幅上涨"),
    ("北京暫停新的出口限制一年", "北京暂停新的出口限制一年"),
    ("華盛頓對中國企業實施制裁", "华盛顿对中国企业实施制裁"),
    ("這項技術可以回收廢舊電池中的稀土", "这项技术可以回收废旧电池中的稀土"),
    ("美國國防部投資國內磁鐵工廠", "美国国防部投资国内磁铁工厂"),
]

# English / Chinese sentences of the same meaning
LANG_PAIRS = [
    ("China imposes export controls on rare earths", "中国对稀土实施出口管制"),
    ("The United States and China reached a trade agreement", "美国和中国达成了贸易协议"),
    ("Japan is building a strategic stockpile of minerals", "日本正在建立矿产战略储备"),
    ("Rare earth prices rose sharply this week", "本周稀土价格大幅上涨"),
    ("The company opened a new magnet factory in Texas", "该公司在德克萨斯州开设了一家新的磁铁工厂"),
    ("Scientists developed a method to recycle old batteries", "科学家开发了一种回收旧电池的方法"),
    ("The weather in Beijing was sunny today", "北京今天天气晴朗"),
    ("Officials held talks in Geneva to ease tensions", "官员们在日内瓦举行会谈以缓和紧张局势"),
]


class CountingEncoder(vectorise.USEEncoder):
    """The real encoder, counting how many texts it is asked to encode."""

    def __init__(self, identity: str | None = None):
        super().__init__()
        self.calls = 0
        self.texts = 0
        self._identity = identity

    @property
    def identity(self) -> str:
        return self._identity or super().identity

    def encode(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return super().encode(texts)


def _cos(a, b):
    return (a * b).sum(axis=-1)


def test_traditional_and_simplified_forms_land_together():
    trad = embed([t for t, _ in SCRIPT_PAIRS], cache_dir=False)
    simp = embed([s for _, s in SCRIPT_PAIRS], cache_dir=False)
    same = _cos(trad, simp)
    assert (same > 0.99).all()
    other = trad @ simp.T
    np.fill_diagonal(other, -1)
    assert (same > other.max(axis=1)).all()  # each closer to its own other form than to any other sentence


def test_same_meaning_across_languages_is_closer_than_different_meaning():
    en = embed([e for e, _ in LANG_PAIRS], cache_dir=False)
    zh = embed([z for _, z in LANG_PAIRS], cache_dir=False)
    sim = en @ zh.T
    matched = np.diag(sim)
    mismatched = sim[~np.eye(len(LANG_PAIRS), dtype=bool)]
    assert matched.mean() > mismatched.mean() + 0.2
    nearest = sim.argmax(axis=1)
    assert (nearest == np.arange(len(LANG_PAIRS))).mean() >= 0.85  # translation found as nearest neighbour


def test_cache_avoids_re_embedding_and_is_keyed_by_model(tmp_path):
    texts = [e for e, _ in LANG_PAIRS] + [e for e, _ in LANG_PAIRS[:3]]  # with repeats
    enc = CountingEncoder()
    first = embed(texts, encoder=enc, cache_dir=tmp_path, batch_size=4)
    assert enc.texts == len(LANG_PAIRS)  # each distinct text once
    vectorise._CACHES.clear()  # a new process: only the disk is left
    again = CountingEncoder()
    second = embed(texts, encoder=again, cache_dir=tmp_path)
    assert again.calls == 0 and np.array_equal(first, second)
    other_model = CountingEncoder(identity="another-model-v1")
    embed(texts, encoder=other_model, cache_dir=tmp_path)
    assert other_model.texts == len(LANG_PAIRS)  # another model's vectors are never reused
    assert {p.name for p in tmp_path.iterdir()} == {enc.identity, "another-model-v1"}


def test_embeddings_are_deterministic_and_unit_length():
    texts = [t for pair in LANG_PAIRS for t in pair]
    a = embed(texts, cache_dir=False)
    b = embed(texts, cache_dir=False)
    assert a.dtype == np.float32 and a.shape == (len(texts), vectorise.EMBEDDING_DIM)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)


def test_progress_bar_on_long_work(tmp_path, capsys):
    texts = [f"rare earth sentence number {i}" for i in range(12)]
    embed(texts, cache_dir=tmp_path, batch_size=5, progress=True)
    err = capsys.readouterr().err
    assert "embedding" in err and "12/12" in err


def test_segment_text_reads_the_columns_it_is_given():
    seg = pd.DataFrame({"heading": ["Policy", ""], "text": ["China bans exports", "Talks resume"]})
    assert SegmentText(("heading", "text")).transform(seg) == ["Policy | China bans exports", "Talks resume"]
    assert SegmentText(("text",)).transform(seg) == ["China bans exports", "Talks resume"]
    assert SegmentText(("heading", "text")).transform(["plain text"]) == ["plain text"]
    with pytest.raises(KeyError):
        SegmentText(("text",)).transform(pd.DataFrame({"body": ["x"]}))


def test_a_very_long_text_is_embedded_in_pieces():
    """A text over ``max_chars`` is not one forward pass over all its tokens: it is the
    renormalised, length-weighted mean of its pieces; short texts in the same call are
    untouched and it lies close to the vector of its own first piece."""
    from xitu.corpus import cap_length
    from xitu.vectorise import USEEncoder

    enc = USEEncoder(threads=1)
    enc.max_chars = 2_000  # the rule at a tenth of the default length, to keep the test quick
    long = "China tightens rare earth export controls, " * 470
    short = "The EU answers with a raw materials act."
    both = enc.encode([short, long])
    np.testing.assert_array_equal(both[0], enc.encode([short])[0])
    pieces = cap_length(long, enc.max_chars)
    assert len(pieces) > 1
    p = enc.encode(pieces).astype(np.float64)
    w = np.array([len(x) for x in pieces], dtype=np.float64)
    want = (p * w[:, None]).sum(axis=0)
    np.testing.assert_allclose(both[1], want / np.linalg.norm(want), atol=1e-6)
    assert abs(np.linalg.norm(both[1]) - 1) < 1e-5 and float(both[1] @ p[0]) > 0.95


def test_worker_processes_give_the_same_bits(monkeypatch):
    """Embedding in worker processes (from PARALLEL_MIN_TEXTS texts on) changes the speed
    only: the same bits as in this process, in the same order."""
    from xitu import vectorise as V

    monkeypatch.setattr(V, "PARALLEL_MIN_TEXTS", 10)
    texts = [f"Rare earth shipment {i} was delayed at the port" if i % 3 else f"稀土出口许可第{i}批获批" for i in range(40)]
    enc = V.USEEncoder()
    assert V.embed_workers(40, enc) >= 1 and V.embed_workers(9, enc, workers=2) == 1
    assert V.embed_workers(40, V.USEEncoder(precision="float32"), workers=2) == 1  # bits differ there: never split
    here = V.embed(texts, encoder=enc, cache_dir=False, batch_size=7, workers=1)
    there = V.embed(texts, encoder=enc, cache_dir=False, batch_size=7, workers=2)
    np.testing.assert_array_equal(here, there)
    with pytest.raises(ValueError, match="XITU_EMBED_WORKERS"):
        monkeypatch.setenv("XITU_EMBED_WORKERS", "two")
        V.embed_workers(40, enc)
