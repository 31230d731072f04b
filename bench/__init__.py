"""Benchmarks: `make bench` runs every bench/bench_*.py and prints each figure beside its target.

A bench module defines `run(report)` and calls `report(...)` once per figure. Figures that are
ratios compare against a baseline measured in the same run (e.g. hello-world on the same
gunicorn configuration), so they mean the same on any machine.
"""
