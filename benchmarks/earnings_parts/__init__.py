"""The earnings benchmark's parts; benchmarks/earnings.py runs them in order.

benchmarks/README.md (Layout) says what each module holds.
"""
