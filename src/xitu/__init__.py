"""xitu (稀土): topics and stance in news coverage of the rare-earth dispute.

The pipeline runs ``data/raw`` → :mod:`xitu.corpus` → :mod:`xitu.text` →
:mod:`xitu.topics` / :mod:`xitu.stance` → :mod:`xitu.plots` → ``notebooks/``.
"""

__version__ = "0.1.0"
