"""vowels: who is speaking? Real recordings (JapaneseVowels, UCI), one speaker label per utterance,
and `load_vowels`, which reads and checks the shipped file (core/data/japanese_vowels.npz)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import ExperimentConfig
from core.tasks.base import Batch, DataError, Task, _check_split, _make_batch

VOWELS_PATH = Path(__file__).parents[1] / "data" / "japanese_vowels.npz"
N_COEFFICIENTS = 12  # LPC cepstrum coefficients per frame
N_SPEAKERS = 9
N_TRAIN = 270  # the archive's own split
N_TEST = 370
FRAMES = (7, 29)  # shortest and longest utterance
SCALE = 1e6  # the file stores each coefficient as an integer number of millionths, exactly


@dataclass(frozen=True)
class Vowels:
    """The data set, train utterances first. frames (640, 29, 12) float64 raw coefficients, zero
    past each length; lengths (640,) int64; speakers (640,) int64 in 0..8."""

    frames: np.ndarray
    lengths: np.ndarray
    speakers: np.ndarray

    def split(self, name: str) -> slice:
        """The rows of the archive's train (270) or test (370) split."""
        return slice(0, N_TRAIN) if name == "train" else slice(N_TRAIN, N_TRAIN + N_TEST)


@functools.lru_cache(maxsize=1)
def load_vowels(path: Path = VOWELS_PATH) -> Vowels:
    """Read the shipped file once and check it is the data set it claims to be."""
    try:
        with np.load(path) as file:
            stored = {key: file[key] for key in ("frames", "lengths", "speakers", "n_train")}
    except (OSError, KeyError, ValueError) as error:
        raise DataError(f"can't read the JapaneseVowels file {path}: {error}") from error
    lengths = stored["lengths"].astype(np.int64)
    speakers = stored["speakers"].astype(np.int64) - 1  # the file counts speakers from 1
    flat = stored["frames"].astype(np.float64) / SCALE
    _check_vowels(flat, lengths, speakers, int(stored["n_train"]))
    frames = np.zeros((len(lengths), FRAMES[1], N_COEFFICIENTS))
    real = np.arange(FRAMES[1])[None, :] < lengths[:, None]
    frames[real] = flat  # row-major order of `real` is utterance by utterance, frame by frame
    return Vowels(frames, lengths, speakers)


def _check_vowels(flat: np.ndarray, lengths: np.ndarray, speakers: np.ndarray, n_train: int):
    problems = []
    if (n_train, len(lengths)) != (N_TRAIN, N_TRAIN + N_TEST) or len(speakers) != len(lengths):
        problems.append(f"{len(lengths)} utterances with {n_train} for training, not 640 and 270")
    elif lengths.min() < FRAMES[0] or lengths.max() > FRAMES[1]:
        problems.append(f"utterances of {lengths.min()}-{lengths.max()} frames, not 7-29")
    elif flat.shape != (lengths.sum(), N_COEFFICIENTS):
        problems.append(f"frames of shape {flat.shape}, not ({lengths.sum()}, 12)")
    elif not np.isfinite(flat).all():
        problems.append("coefficients that are not finite numbers")
    elif speakers.min() < 0 or speakers.max() >= N_SPEAKERS:
        problems.append("speaker labels outside 1-9")
    elif set(np.bincount(speakers[:N_TRAIN], minlength=N_SPEAKERS)) != {30}:
        problems.append("a training split without 30 utterances by each of 9 speakers")
    if problems:
        raise DataError(f"the JapaneseVowels file is damaged: it has {problems[0]}")


def normalised(vowels: Vowels) -> np.ndarray:
    """(640, 29, 12) float32 frames scaled per coefficient by the mean and spread of the training
    split's frames only, so nothing of the test split leaks in; zero past each length."""
    train = vowels.split("train")
    real = np.arange(FRAMES[1])[None, :] < vowels.lengths[:, None]
    seen = vowels.frames[train][real[train]]
    scaled = (vowels.frames - seen.mean(axis=0)) / seen.std(axis=0)
    return (scaled * real[..., None]).astype(np.float32)


class VowelsTask(Task):
    """Name the speaker of a real utterance from its frames; one label per utterance."""

    name = "vowels"
    title = "Who is speaking? (JapaneseVowels)"
    explanation = (
        "Real recordings: nine Japanese men each said the vowels 'a' and 'e' many times, and "
        "every recording was turned into 7 to 29 frames of 12 numbers describing the shape of "
        "the voice (LPC cepstrum coefficients). The network hears a recording frame by frame and "
        "names the speaker on the last frame. Recordings have different lengths, so each is read "
        "only to its own end. The data set's own split is kept: 270 recordings (30 per speaker) "
        "to learn from, and 370 recorded on other days that the page scores it on. seq_len caps "
        "how many frames it hears (29 hears them all). Data: Kudo, Toyama and Shimbo (1999), "
        "from the UCI Machine Learning Repository, licence CC BY 4.0."
    )
    kind = "classification"
    prediction_chart = "speech"  # the class probabilities on the last frame
    class_noun = "speaker"  # what the prediction chart calls a class
    params = ("seq_len",)
    metric_name = "accuracy"
    higher_is_better = True
    reads = "last"  # the speaker, on each utterance's last frame heard
    input_size = N_COEFFICIENTS
    output_size = N_SPEAKERS
    val_size = N_TEST  # the trainer scores every test utterance, not a sample of them
    solved_at = 0.95  # 1-NN with dynamic time warping, the archive's standard method: 0.949

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        vowels = load_vowels()
        self.frames, self.lengths, self.speakers = (
            normalised(vowels),
            vowels.lengths,
            vowels.speakers,
        )
        self.heard = min(config.seq_len, FRAMES[1])
        train_counts = np.bincount(self.speakers[vowels.split("train")], minlength=N_SPEAKERS)
        self.most_common = int(train_counts.argmax())  # all tie at 30: speaker 1
        self.baseline = float(np.mean(self.speakers[vowels.split("test")] == self.most_common))
        self.baseline_name = f"always guess speaker {self.most_common + 1}"
        self.class_names = [f"speaker {i + 1}" for i in range(N_SPEAKERS)]

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """Train: utterances of the training split drawn with replacement. Val: the test split,
        each utterance once in a seeded order (all 370 when batch_size is 370; drawn with
        replacement beyond that). inputs (N, L, 12), L = min(seq_len, 29); targets (N, L) the
        speaker at every real frame; mask (N, L) True on the last frame heard; lengths (N,).
        meta: labels (N,), class_names."""
        _check_split(split)
        if split == "train":
            rows = rng.integers(0, N_TRAIN, batch_size)
        elif batch_size <= N_TEST:
            rows = N_TRAIN + rng.permutation(N_TEST)[:batch_size]
        else:
            rows = N_TRAIN + rng.integers(0, N_TEST, batch_size)
        lengths = np.minimum(self.lengths[rows], self.heard)
        labels = self.speakers[rows]
        targets = np.repeat(labels[:, None], self.heard, axis=1)
        mask = np.arange(self.heard)[None, :] == lengths[:, None] - 1
        meta = {"labels": labels, "class_names": self.class_names}
        return _make_batch(self.frames[rows, : self.heard], targets, mask, lengths, meta)
