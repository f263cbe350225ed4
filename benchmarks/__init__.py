"""pytest-benchmark suite: ``pytest benchmarks --benchmark-only``."""
