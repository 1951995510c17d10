"""Stance classifier: training on 250 gold labels, predicting 100,000 segments.
Targets: train < 5 s; predict 100,000 < 60 s.

Next to each time, the same work by a reference model in the same process: scikit-learn's
default ``TfidfVectorizer`` (its own regex tokeniser, no jieba, no character n-grams, no
calibration) into a ``LinearSVC``. The ratio says what the bilingual features and the
calibration cost on this machine, whatever its speed."""
from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run() -> list[dict]:
    import pandas as pd

    from xitu import stance
    from xitu.corpus import ingest
    from xitu.labels import gold_labels, read_logs, replay

    c = ingest(ROOT / "data" / "raw")
    gold, _ = gold_labels(replay(read_logs(ROOT / "data" / "labels").entries))
    g = gold.merge(c.segments, on="segment_id").sample(n=min(250, len(gold)), random_state=0)
    X, y = stance.stance_input(g), g["label"].tolist()
    from xitu.text import Tokenizer

    tok = Tokenizer()
    tok("预热")  # load jieba's dictionary outside the timing
    t0 = time.perf_counter(); model = stance.train(X, y, tokenizer=tok); t_train = time.perf_counter() - t0
    big = c.segments.sample(n=100_000, replace=True, random_state=0).reset_index(drop=True)
    t0 = time.perf_counter(); pred = stance.predict_table(model, big); t_pred = time.perf_counter() - t0

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    t0 = time.perf_counter(); ref = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(X, y); r_train = time.perf_counter() - t0
    t0 = time.perf_counter(); ref.predict(stance.stance_input(big)); r_pred = time.perf_counter() - t0
    return [
        {"benchmark": "train stance classifier", "labels": len(y), "seconds": round(t_train, 2), "target": "< 5 s",
         "reference seconds": round(r_train, 3), "ratio xitu / reference": round(t_train / r_train, 1)},
        {"benchmark": "predict stance", "segments": len(pred), "seconds": round(t_pred, 1), "target": "< 60 s",
         "reference seconds": round(r_pred, 2), "ratio xitu / reference": round(t_pred / r_pred, 1)},
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["bench_stance"])
