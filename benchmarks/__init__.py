"""Benchmarks: `make bench` runs every `bench_*.py` module's `run()` and appends the results,
with machine and date, to benchmarks/RESULTS.md. Speed targets are checked here, not in tests,
and expressed as ratios against a reference measured in the same process where possible."""
