"""Sentiment accuracy of every cell and of bag-of-words on seeds 0-4, on the validation
sentences where word order decides the label and on the rest.

    OMP_NUM_THREADS=1 python -m bench.sentiment_cells [steps]
"""

from __future__ import annotations

import sys
import time

from core.bag_of_words import bag_of_words
from core.config import ExperimentConfig
from core.tasks import model_order_accuracies
from core.trainer import Experiment

CELLS = ("feedforward", "rnn", "lstm", "gru")
SETTINGS = dict(task="sentiment", seq_len=16, hidden=32, lr=0.01, val_every=100)


def main(steps: int = 400, seeds=range(5)) -> None:
    for seed in seeds:
        parts = []
        for cell in CELLS:
            experiment = Experiment(ExperimentConfig(cell=cell, seed=seed, **SETTINGS))
            started = time.perf_counter()
            experiment.step(steps)
            order, rest = model_order_accuracies(experiment.model, experiment.val_batch)
            parts.append(f"{cell} {order:.3f}/{rest:.3f} ({time.perf_counter() - started:.1f} s)")
        words = bag_of_words(experiment.config)
        parts.append(f"bag-of-words {words.order_accuracy:.3f}/{words.rest_accuracy:.3f}")
        print(f"seed {seed}, {steps} steps, order decides/rest: " + ", ".join(parts), flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
