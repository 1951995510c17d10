"""Size of the default (runtime) environment and BERTopic's import time.
Target: the runtime packages take under 1 GB on disk (no PyTorch)."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def runtime_packages() -> list[str]:
    lines = (ROOT / "requirements" / "runtime.lock").read_text().splitlines()
    return [m.group(1) for l in lines if (m := re.match(r"^([A-Za-z0-9_.\-]+)==", l))]


def dist_size(name: str) -> int:
    """Bytes on disk of an installed distribution's files (including compiled caches)."""
    d = metadata.distribution(name)
    total, seen = 0, set()
    for f in d.files or []:
        p = Path(d.locate_file(f))
        if p.is_file() and p not in seen:
            seen.add(p)
            total += p.stat().st_size
    for top in (d.read_text("top_level.txt") or "").split():  # __pycache__ written at run time
        for p in Path(d.locate_file(top)).rglob("*.pyc") if Path(d.locate_file(top)).is_dir() else []:
            if p not in seen:
                seen.add(p)
                total += p.stat().st_size
    return total


def torch_version() -> str:
    """PyTorch's version in this environment, or "not installed" (the default environment)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"


def run() -> list[dict]:
    sizes = {n: dist_size(n) for n in runtime_packages()}
    total = sum(sizes.values())
    big = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    t = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import bertopic"], check=True)
        t.append(time.perf_counter() - t0)
    torch = torch_version()
    return [{
        "benchmark": "runtime environment",
        "packages": len(sizes),
        "size MB": round(total / 2**20),
        "largest": ", ".join(f"{n} {s / 2**20:.0f}" for n, s in big),
        "import bertopic s (best of 3, fresh process)": round(min(t), 2),
        "torch in this venv": torch,
        "target": "< 1024 MB",
    }]


if __name__ == "__main__":
    from benchmarks.__main__ import main

    main(["bench_env"])
