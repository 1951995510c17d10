"""Numeric settings that make results the same on every machine.

:func:`portable_numba` makes numba compile for one fixed CPU target (``generic``, the x86-64
baseline every machine has) unless ``XITU_NATIVE_NUMBA=1``. By default numba compiles for the
host CPU: on an AVX-512 machine its vectorised loops add floating-point numbers in another
order than on an AVX2 machine, and UMAP's layout (numba code) amplifies those last bits into
other topic assignments (measured: the seed corpus got other topics with
``NUMBA_CPU_NAME=skylake-avx512`` than with ``haswell``). With one target every machine runs
the same instructions. Cost: the layout step runs without wide vector instructions
(``make bench``). BLAS threads and the BLAS kernel are handled where BLAS is used
(:mod:`xitu.vectorise` computes in float64, the topic fit runs single-threaded and rounds);
``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are never changed.
"""

from __future__ import annotations

import os
import sys

PORTABLE_CPU = "generic"


def portable_numba() -> str | None:
    """Set numba's compile target to :data:`PORTABLE_CPU` (environment variables
    ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES``, re-read if numba is already imported). Returns
    the target, or ``None`` when ``XITU_NATIVE_NUMBA=1`` keeps numba's host default. Functions
    numba compiled before this call keep their host code: import xitu before fitting anything
    with UMAP."""
    if os.environ.get("XITU_NATIVE_NUMBA") == "1":
        return None
    os.environ["NUMBA_CPU_NAME"] = PORTABLE_CPU
    os.environ.pop("NUMBA_CPU_FEATURES", None)
    if "numba" in sys.modules:  # already imported: make it read the variables again
        try:
            from numba.core import config

            config.reload_config()
        except Exception:  # pragma: no cover - an old or unusual numba
            pass
    return PORTABLE_CPU


_UMAP_CACHED = False


def load_umap():
    """Import UMAP with numba's on-disk cache switched on for its compiled functions, and
    return the ``UMAP`` class.

    UMAP declares its numba functions without ``cache=True``, so every new process spends
    8–15 s compiling them again (notebook 02, every test process, every benchmark). This
    turns on numba's own cache for each of them (``Dispatcher.enable_caching``, what
    ``cache=True`` does): compiled code is kept next to the module (numba's default cache
    locator, or the user-wide cache when site-packages is read-only) and reused while the
    source file, numba and the CPU target are unchanged. Numba keys the cache by the compile
    target, so the portable target of :func:`portable_numba` gets its own entries: the code
    loaded from the cache is the code a fresh compile would produce.
    """
    global _UMAP_CACHED
    import umap
    from umap import UMAP

    if not _UMAP_CACHED:
        try:
            from numba.core.dispatcher import Dispatcher

            import umap.layouts
            import umap.sparse
            import umap.spectral
            import umap.umap_
            import umap.utils
            import umap.distances

            for module in (umap.umap_, umap.layouts, umap.utils, umap.distances, umap.sparse, umap.spectral):
                for value in vars(module).values():
                    if isinstance(value, Dispatcher) and type(value._cache).__name__ == "NullCache":
                        value.enable_caching()
        except Exception:  # pragma: no cover - an unusual numba: compile as before
            pass
        _UMAP_CACHED = True
    del umap
    return UMAP


def usable_cpus(limit: int = 4) -> int:
    """CPUs this process may use, at most ``limit``: joblib's count, which respects the CPU
    affinity and a container's CPU quota (``os.cpu_count()`` reports the host's CPUs)."""
    try:
        from joblib import cpu_count

        n = cpu_count(only_physical_cores=False)
    except Exception:  # pragma: no cover - joblib is a scikit-learn dependency
        n = os.cpu_count() or 1
    return max(1, min(int(limit), int(n)))
