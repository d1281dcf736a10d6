"""Benchmarks of tsmsnet (`python benchmarks/run.py`), and fixtures the tests share with them.

Not installed with the package: only benchmarks/run.py and tests/ use it (from the repo root).
"""
