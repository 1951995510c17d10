"""Writes 03-stance.ipynb. Edit here, then: python notebooks/_build_03.py"""
from pathlib import Path
from _make import code, md, params, write_notebook

cells = [
    md("""
# 03 · Stance: how good is the classifier, and what stance does coverage take?

Labels follow `data/labels/CODEBOOK.md` (escalation, cooperation, self-reliance, none). The
gold set is replayed from the annotators' append-only logs in `data/labels/` (`xitu.labels`):
an adjudicated label wins, otherwise the annotators' agreed (or single) label. The classifier
(`xitu.stance`) reads each segment with its group heading: word 1–2-grams from the xitu
tokeniser and character 1–3-grams of the normalised text (so Chinese and Traditional script
work) into a calibrated linear SVM.

Evaluation is repeated stratified 5-fold cross-validation on the gold set, with a
majority-class and a keyword-lexicon baseline (`data/lexicon/stance_keywords.tsv`) on the
same folds. Figures go to `figures/03-stance/`.
"""),
    params("n_repeats = 3      # repeats of stratified 5-fold CV\nn_boot = 1000      # bootstrap resamples for the 95% interval"),
    code("""
import time
import pandas as pd
from xitu import stance, stance_report
from xitu.corpus import ingest
from xitu.labels import read_logs, replay, gold_labels, orphans
from xitu.pipeline import notebook_context
from xitu.text import Tokenizer

ctx = notebook_context("03-stance", root, figures_dir, seed)
corpus = ingest(ctx.paths.raw)
segments, articles = corpus.segments, corpus.articles
logs = read_logs(ctx.paths.labels)
current = replay(logs.entries)
gold, unresolved = gold_labels(current)
lost = orphans(current, segments)
for p in logs.problems:
    print(f"log problem: {p.file}:{p.line}: {p.reason}")
print(f"gold set: {len(gold)} segments; waiting for adjudication: {len(unresolved)}; labels pointing at missing/changed segments: {len(lost)}")
lost
"""),
    md("## The gold set"),
    code("""
gold_seg = gold.merge(segments, on="segment_id")  # orphaned labels are listed above, not used
summary = pd.crosstab(gold_seg["label"], gold_seg["language"], margins=True)
summary
"""),
    md("## Cross-validated evaluation"),
    code("""
tok = Tokenizer(ctx.paths.lexicon)
keywords = stance.load_keywords(ctx.paths.lexicon / "stance_keywords.tsv")
X, y = stance.stance_input(gold_seg), gold_seg["label"].tolist()
ev = stance.evaluate(X, y, keywords=keywords, n_repeats=n_repeats, n_boot=n_boot, seed=seed, tokenizer=tok)
fig, table = stance_report.scores_figure(ev.scores, target=0.75)
ctx.save(fig, table, "scores")
ev.scores.round(3)
"""),
    code("""
ev.per_class.pivot(index="label", columns="model", values="f1").round(3)
"""),
    code("""
ev.per_class[ev.per_class["model"] == "classifier"].round(3)
"""),
    code("""
fig, table = stance_report.confusion_figure(ev.confusion)
ctx.save(fig, table, "confusion_matrix")
fig
"""),
    md("## Learning curve\nIf the curve is still rising at the right-hand end, labelling more segments (notebook 04, most uncertain first) will pay."),
    code("""
curve = stance.learning_curve(X, y, seed=seed, tokenizer=tok)
fig, table = stance_report.learning_curve_figure(curve, ev.scores[ev.scores["model"] != "classifier"])
ctx.save(fig, table, "learning_curve")
curve.round(3)
"""),
    md("## Reading\nWritten from this run's numbers (`stance_report.reading`)."),
    code("""
from IPython.display import Markdown
Markdown(stance_report.reading(ev.scores, ev.per_class, curve))
"""),
    md("## Targets"),
    code("""
clf = ev.scores.set_index("model")
t0 = time.perf_counter(); model = stance.train(X, y, tokenizer=tok, seed=seed); train_s = time.perf_counter() - t0
targets = pd.DataFrame([
    {"target": "macro-F1 >= 0.75 (4 labels, CV)", "measured": round(clf.loc["classifier", "macro_f1"], 3),
     "met": clf.loc["classifier", "macro_f1"] >= 0.75},
    {"target": "macro-F1 >= keyword baseline + 0.15", "measured": round(clf.loc["classifier", "macro_f1"] - clf.loc["keyword lexicon", "macro_f1"], 3),
     "met": clf.loc["classifier", "macro_f1"] - clf.loc["keyword lexicon", "macro_f1"] >= 0.15},
    {"target": f"train on {len(y)} labels < 5 s", "measured": "see benchmarks/RESULTS.md (make bench)", "met": None},
])
targets
"""),
    md("## Predictions for every segment, and article-level stance"),
    code("""
pred = stance.predict_table(model, segments)
pred.to_csv(ctx.paths.processed / "stance_predictions.csv", index=False, encoding="utf-8-sig")
art = stance.article_stance(pred, segments)
art.to_csv(ctx.paths.processed / "article_stance.csv", index=False, encoding="utf-8-sig")
labels = stance_report.best_labels(pred, gold)
labels["label_source"].value_counts()
"""),
    md("## Stance over time, by query, by source"),
    code("""
fig, table = stance_report.stance_over_time(labels, segments, articles)
ctx.save(fig, table, "stance_over_time")
fig
"""),
    code("""
fig, table = stance_report.stance_by(labels, segments, articles, "queries", "Stance share by search query")
ctx.save(fig, table, "stance_by_query")
fig
"""),
    code("""
fig, table = stance_report.stance_by(labels, segments, articles, "source", "Stance share by source")
ctx.save(fig, table, "stance_by_source")
fig
"""),
    md("## Stance × topic\nUses the topic assignments written by notebook 02 (`data/processed/topic_assignments.csv`)."),
    code("""
topics_file = ctx.paths.processed / "topic_assignments.csv"
if topics_file.exists():
    topics = pd.read_csv(topics_file, encoding="utf-8-sig", keep_default_na=False)
    fig, table = stance_report.stance_by_topic(labels, topics)
    ctx.save(fig, table, "stance_by_topic")
    display(fig)
else:
    print("no topic assignments yet: run notebook 02 first (xitu run does)")
"""),
]
write_notebook(Path(__file__).with_name("03-stance.ipynb"), cells)
