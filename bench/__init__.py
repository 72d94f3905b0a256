"""Benchmarks on generated data at production scale (1M customers, 5M interactions).

Run with `make bench` (or `python -m bench`); `BENCH_SCALE=0.01` runs at a hundredth of the
size. Figures go to stdout and `bench/results.json`; generated databases are cached under
`bench/data/`. Nothing here is part of the test suite.
"""
