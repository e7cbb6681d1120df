"""The settlement benchmark's parts; benchmarks/settlement.py runs them in order.

benchmarks/README.md (Settlement, Layout) says what each module holds.
"""
