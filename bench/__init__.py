"""Benchmarks: run one with `python -m bench.<name>`; their figures are in bench/README.md."""
