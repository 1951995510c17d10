"""One home for the project's settings: the seed, the label set, the stance and topic
targets, and the constants that more than one module shares.

Change a value here and every module, notebook and command picks it up; the value used by a
run is recorded in ``figures/RUN.json``.
"""

from __future__ import annotations

#: The seed of every random step (CV folds, bootstrap, UMAP, samples). Recorded in RUN.json.
SEED = 20261123

#: Stance labels of the codebook (data/labels/CODEBOOK.md), in display order.
STANCE_LABELS = ("escalation", "cooperation", "self-reliance", "none")

#: Seeds over which topic models are compared (stability, NPMI spread).
TOPIC_SEEDS = (20261123, 1, 2, 3, 4)

#: Targets the reports compare against (issue texts; change them here, not in notebooks).
TARGETS = {
    "stance_macro_f1_grouped": 0.68,
    "stance_over_reference": 0.05,
    "stance_en_to_zh": 0.55,
    "stance_heading_drop": 0.05,
    "topics_mixed_share": 0.8,
    "topics_pairs_same_topic": 0.8,
    "topics_diversity": 0.85,
    "topics_outliers": 0.10,
    "topics_ari": 0.6,
}
