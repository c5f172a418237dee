"""Benchmarks: figures and ratios measured in one run, printed as one table (`make bench`)."""
