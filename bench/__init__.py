"""Benchmarks for rnn-playground: `python -m bench.run` (see bench/run.py and bench/RESULTS.md).

Each benchmark module exposes `run(smoke: bool = False) -> dict`, a *section*: a title, the target,
table columns, rows (dicts keyed by column), a verdict per target and free-form notes. `bench.run`
collects the sections, merges them into `bench/results.json` and renders `bench/RESULTS.md`.
"""
