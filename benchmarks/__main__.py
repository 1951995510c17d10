"""python -m benchmarks [name ...]: run the benchmarks and append to benchmarks/RESULTS.md."""
from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    from xitu.pipeline import cpu_model

    cpu = cpu_model() or platform.machine()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def to_markdown(rows: list[dict]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    return "\n".join(out)


def main(names: list[str]) -> int:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    mods = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        mods = [m for m in mods if any(n in m for n in names)]
    report = [f"\n## {date.today().isoformat()} — {machine()}\n"]
    for m in mods:
        print(f"running {m} …", flush=True)
        rows = importlib.import_module(f"benchmarks.{m}").run()
        report.append(f"### {m}\n\n{to_markdown(rows)}\n")
        print(to_markdown(rows), flush=True)
    with open(HERE / "RESULTS.md", "a", encoding="utf-8") as f:
        f.write("\n".join(report))
    print(f"appended to {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
