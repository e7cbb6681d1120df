"""The drop-storm benchmark's phases; benchmarks/drop_storm.py runs them in order.

benchmarks/README.md (Layout) says what each module holds.
"""
