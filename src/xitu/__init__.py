"""xitu (稀土): topics and stance in news coverage of the rare-earth dispute.

The pipeline runs ``data/raw`` → :mod:`xitu.corpus` → :mod:`xitu.text` →
:mod:`xitu.vectorise` → :mod:`xitu.topics` / :mod:`xitu.stance` → :mod:`xitu.plots` →
``notebooks/``.

Importing xitu makes numba (used by UMAP) compile for the portable x86-64 baseline instead of
the host CPU: numba's code for an AVX-512 host and for an AVX2 host sums in another order, and
UMAP's layout amplifies those last bits into other topics (see :mod:`xitu.numeric`).
"""

from xitu.numeric import portable_numba as _portable_numba

_portable_numba()

__version__ = "0.1.0"
