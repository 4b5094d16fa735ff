"""Sequence tasks: seeded, pure batch generators, each with its loss, metric, baseline and explanation.

`TASKS` maps a name to a Task class; `make_task(config, data)` builds one for an ExperimentConfig.
`SEQ2SEQ_TASKS` holds the translation tasks, which an encoder-decoder trains (core.seq2seq).
`base` holds what every task shares (Batch, Task, DataError, the mask and batch helpers); each task
has its own module. Every public name is re-exported here: import from `core.tasks`.

Helpers for the page: `fill_in` (next_number), `rollout` (sine, csv), `generate_text` (text),
`read_sentence` (sentiment), `load_csv` (csv) and `load_vowels` (vowels). Invalid settings raise ConfigError; unreadable
uploads and damaged data files raise DataError.
"""

from __future__ import annotations

import numpy as np

from core.config import ConfigError, ExperimentConfig, register_tasks
from core.tasks.adding import AddingTask
from core.tasks.base import BASELINE_BATCH, BASELINE_SEED, SPLITS, Batch, DataError, Task, rollout
from core.tasks.copy import CopyTask
from core.tasks.csv import (
    DEMO_SEED,
    MAX_CSV_COLUMNS,
    MIN_ROWS,
    NUMERIC_SHARE,
    CsvTable,
    CsvTask,
    demo_series,
    load_csv,
)
from core.tasks.next_number import (
    FILL_IN_EXAMPLE,
    FILL_IN_MAX,
    MIN_SHRINK,
    FillIn,
    NextNumberTask,
    fill_in,
    parse_numbers,
    sequence_scale,
)
from core.tasks.numbers import NumberWordsTask, Pairs
from core.tasks.sentiment import (
    SentimentTask,
    model_order_accuracies,
    order_accuracies,
    read_sentence,
)
from core.tasks.series import DATA_SETS, SERIES_TASKS, DataSet
from core.tasks.sine import SineTask, sine_waves
from core.tasks.speech import (
    HOP,
    MAX_WORDS,
    N_BINS,
    N_SOUNDS,
    SAMPLE_RATE,
    WINDOW,
    WORD_SEED,
    SpeechTask,
    Word,
    speech_words,
)
from core.tasks.text import CORPUS_PATH, TextTask, generate_text, load_corpus
from core.tasks.vowels import VOWELS_PATH, Vowels, VowelsTask, load_vowels

TASKS: dict[str, type[Task]] = {
    task.name: task
    for task in [
        NextNumberTask,
        SineTask,
        AddingTask,
        CopyTask,
        TextTask,
        SpeechTask,
        SentimentTask,
        VowelsTask,
        CsvTask,
        *SERIES_TASKS,  # the built-in real series: one task each (core/tasks/series.py)
    ]
}
register_tasks(TASKS)
# Sequence-to-sequence tasks: trained by core.seq2seq's encoder-decoder, not by SequenceModel, so
# they stay out of TASKS (the picker, the Race, the Sweep and the `task` setting read that one).
SEQ2SEQ_TASKS = {task.name: task for task in [NumberWordsTask]}


def make_task(config: ExperimentConfig, data: CsvTable | np.ndarray | None = None) -> Task:
    """Build the task named by `config.task`; `data` is the user's CSV table for the csv task."""
    if config.task not in TASKS:
        raise ConfigError(f"unknown task {config.task!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[config.task](config, data)


__all__ = [
    "BASELINE_BATCH",
    "BASELINE_SEED",
    "CORPUS_PATH",
    "DATA_SETS",
    "DEMO_SEED",
    "FILL_IN_EXAMPLE",
    "FILL_IN_MAX",
    "HOP",
    "MAX_CSV_COLUMNS",
    "MAX_WORDS",
    "MIN_ROWS",
    "MIN_SHRINK",
    "NUMERIC_SHARE",
    "N_BINS",
    "N_SOUNDS",
    "SAMPLE_RATE",
    "SEQ2SEQ_TASKS",
    "SERIES_TASKS",
    "SPLITS",
    "VOWELS_PATH",
    "TASKS",
    "WINDOW",
    "WORD_SEED",
    "AddingTask",
    "Batch",
    "CopyTask",
    "CsvTable",
    "CsvTask",
    "DataError",
    "DataSet",
    "FillIn",
    "NextNumberTask",
    "NumberWordsTask",
    "Pairs",
    "SentimentTask",
    "SineTask",
    "SpeechTask",
    "Task",
    "TextTask",
    "Vowels",
    "VowelsTask",
    "Word",
    "demo_series",
    "fill_in",
    "generate_text",
    "load_corpus",
    "load_csv",
    "load_vowels",
    "make_task",
    "model_order_accuracies",
    "order_accuracies",
    "parse_numbers",
    "read_sentence",
    "rollout",
    "sequence_scale",
    "sine_waves",
    "speech_words",
]
