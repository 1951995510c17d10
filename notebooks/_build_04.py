"""Writes 04-label.ipynb. Edit here, then: python notebooks/_build_04.py"""
from pathlib import Path
from _make import code, md, params, write_notebook

cells = [
    md("""
# 04 · Label more examples

Label stance segments with the codebook at hand, **the ones the classifier is least sure of
first**. Each label is appended to `data/labels/<your name>.jsonl` and written to disk before
the next segment appears; nothing is ever overwritten (undo appends a retraction). You can stop
at any time and come back: segments you have labelled are never shown to you again.

**How to label 20 segments**

1. Run all cells (*Run → Run All Cells*). In the widget at the bottom, type your name
   (letters, digits, `_` or `-`) and click **start labelling** — or set `annotator = "yourname"`
   in the parameters cell below before running.
2. Read the segment with its article title, date, source and `Group` heading; click a label.
   Keyboard: click into the **keys** box, then type `e` escalation, `c` cooperation,
   `s` self-reliance, `n` none, `k` skip, `u` undo. The definitions and decision rules are in
   the **codebook** panel.
3. The classifier is retrained every `retrain_every` labels, so the order follows what you just
   taught it. The progress bar counts towards `goal`.
4. Rerun everything (`make`, or `xitu run` in a terminal): the stance classifier, its figures and
   the learning curve are computed again with your labels.

The same session runs in a terminal: `xitu label --annotator yourname`. `xitu agree` compares
annotators (Cohen's kappa, Krippendorff's alpha) and lists disagreements for adjudication.

When the pipeline executes this notebook headless, the widget only waits for a name: no label
is made.
"""),
    params('''annotator = None       # your name, e.g. "alice"; None: the widget asks for it
order = "entropy"      # entropy or margin (least certain first), random, corpus
pool = "auto"          # unlabelled (nobody labelled), own (you have not labelled), auto: unlabelled, then own
query = None           # only articles found by this search query, e.g. "稀土管控"
language = None        # "en" or "zh"
since = None           # "YYYY-MM-DD"
until = None
retrain_every = 10     # retrain the classifier after this many labels
goal = 20              # labels to aim for in this session (progress bar)'''),
    code("""
from pathlib import Path

from xitu.labelling import label_status
from xitu.label_widget import labelling_app
from xitu.paths import Paths

paths = Paths(Path(root).resolve()) if root else Paths.default()
status = label_status(paths)
print(status.summary)
status.table
"""),
    md("## Label"),
    code("""
app = labelling_app(annotator, paths, goal=goal, order=order, pool=pool, query=query, language=language,
                    since=since, until=until, retrain_every=retrain_every, seed=seed)
app
"""),
]
write_notebook(Path(__file__).with_name("04-label.ipynb"), cells)
