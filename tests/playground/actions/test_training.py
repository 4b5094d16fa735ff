"""The playground run's actions: the classical references drawn beside the network."""

from __future__ import annotations

import time

from core import Experiment, ExperimentConfig
from core.speakers import speaker_references
from playground.actions import training


def test_speaker_references_arrive_in_the_background_without_slowing_the_page():
    vowels = Experiment(ExperimentConfig(task="vowels", seq_len=29, hidden=8))
    started = time.perf_counter()
    training.metric_references(vowels)
    first = time.perf_counter() - started
    future = training._SPEAKER_REFERENCES[0]
    future.result(timeout=120)
    started = time.perf_counter()
    lines = training.metric_references(vowels)
    later = time.perf_counter() - started
    print(f"\nfirst page draw {first * 1e3:.1f} ms, once computed {later * 1e3:.2f} ms")
    assert first < 0.5 and later < 0.05
    assert dict(lines) == dict(speaker_references().named())
    assert [name for name, _ in lines] == ["1-NN DTW", "1-NN Euclidean", "no memory (per frame)"]
    adding = Experiment(ExperimentConfig(task="adding", hidden=8))
    assert training.metric_references(adding) == []
