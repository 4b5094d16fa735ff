"""Classical references for "who is speaking?" (the vowels task), on the archive's own split.

- 1-nearest-neighbour with dynamic time warping (`dtw_distances`), the standard method of the
  UEA multivariate archive, on the raw coefficients as the archive does (published: 0.949);
- 1-nearest-neighbour with the Euclidean distance between zero-padded utterances (0.924);
- a model with no memory (`frame_model_accuracy`): each frame classified on its own and the
  frames' log-probabilities averaged over the utterance.

`speaker_references()` computes them once per process (about 2 s on one core; a claim's measure
and the page read the cached numbers).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.tasks.vowels import N_SPEAKERS, Vowels, load_vowels, normalised
from core.trainer import _SEED_LOCK

FRAME_SEED = 0  # the per-frame model's weights: fixed, the reference is the same for every run
FRAME_HIDDEN = 64
FRAME_STEPS = 150


@dataclass(frozen=True)
class SpeakerReferences:
    """Test accuracies of the references, and the seconds it took to compute them."""

    dtw: float
    euclidean: float
    frame_model: float
    seconds: float

    def named(self) -> list[tuple[str, float]]:
        """(name, accuracy) pairs for a chart's reference lines."""
        return [
            ("1-NN DTW", self.dtw),
            ("1-NN Euclidean", self.euclidean),
            ("no memory (per frame)", self.frame_model),
        ]


def dtw_distances(
    a: np.ndarray, a_lengths: np.ndarray, b: np.ndarray, b_lengths: np.ndarray
) -> np.ndarray:
    """(n, m) dynamic-time-warping distances between every a (n, L, I) and every b (m, L', I),
    each read to its own length: the cheapest monotone alignment of their frames, summing the
    squared Euclidean distance of each aligned pair of frames (no warping window).

    The recurrence runs over the frames of a (rows) and of b (columns) with every pair of
    sequences advancing at once, a row of costs at a time. Frames past a length only feed cells
    after that sequence's end, which are never read."""
    (n, n_a, k), (m, n_b, _) = a.shape, b.shape
    b_flat = b.reshape(m * n_b, k)
    b_squared = (b**2).sum(-1).T[:, None, :]  # (L', 1, m)
    ends = np.full((n, m), np.nan)
    previous = np.full((n_b + 1, n, m), np.inf)
    previous[0] = 0.0  # the empty alignment, before the first frame of both
    for i in range(n_a):
        # cost[j, p, q]: squared distance of frame i of a[p] to frame j of b[q]
        products = (a[:, i] @ b_flat.T).reshape(n, m, n_b).transpose(2, 0, 1)
        cost = (a[:, i] ** 2).sum(-1)[None, :, None] + b_squared - 2 * products
        cost = np.maximum(cost, 0.0)
        row = np.empty_like(previous)
        row[0] = np.inf
        for j in range(n_b):
            best = np.minimum(np.minimum(previous[j], previous[j + 1]), row[j])
            np.add(cost[j], best, out=row[j + 1])
        finished = a_lengths == i + 1
        ends[finished] = np.take_along_axis(row[:, finished], b_lengths[None, None, :], 0)[0]
        previous = row
    return ends


def nearest_neighbour_accuracy(
    distances: np.ndarray, train_labels: np.ndarray, test_labels: np.ndarray
) -> float:
    """Share of test rows whose nearest training row (distances (test, train)) has their label."""
    return float(np.mean(train_labels[distances.argmin(axis=1)] == test_labels))


def euclidean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) squared Euclidean distances between zero-padded sequences a (n, L, I), b (m, L, I)."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return np.maximum((a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T, 0.0)


def frame_model_accuracy(vowels: Vowels, steps: int = FRAME_STEPS) -> float:
    """Test accuracy of a model with no memory: a small MLP trained on single frames of the
    training split (normalised as the network's inputs), its log-probabilities averaged over each
    test utterance's frames."""
    frames = torch.from_numpy(normalised(vowels))
    real = torch.from_numpy(np.arange(frames.shape[1])[None, :] < vowels.lengths[:, None])
    labels = torch.from_numpy(vowels.speakers)
    train, test = vowels.split("train"), vowels.split("test")
    inputs, targets = frames[train][real[train]], labels[train, None].expand_as(real[train])
    # Under the trainer's seed lock: the page computes this in a thread while sessions seed theirs.
    with _SEED_LOCK, torch.random.fork_rng():
        torch.manual_seed(FRAME_SEED)
        model = nn.Sequential(
            nn.Linear(frames.shape[2], FRAME_HIDDEN), nn.Tanh(), nn.Linear(FRAME_HIDDEN, N_SPEAKERS)
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):  # full batch: about 4,000 frames
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), targets[real[train]])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        log_p = torch.log_softmax(model(frames[test]), dim=-1) * real[test, :, None]
        guess = log_p.sum(dim=1).argmax(dim=-1)
    return float((guess == labels[test]).float().mean())


@functools.lru_cache(maxsize=1)
def speaker_references() -> SpeakerReferences:
    """The three references on the archive's split, computed once per process."""
    started = time.perf_counter()
    vowels = load_vowels()
    train, test = vowels.split("train"), vowels.split("test")
    frames, lengths, speakers = vowels.frames, vowels.lengths, vowels.speakers
    warped = dtw_distances(frames[test], lengths[test], frames[train], lengths[train])
    straight = euclidean_distances(frames[test], frames[train])
    return SpeakerReferences(
        dtw=nearest_neighbour_accuracy(warped, speakers[train], speakers[test]),
        euclidean=nearest_neighbour_accuracy(straight, speakers[train], speakers[test]),
        frame_model=frame_model_accuracy(vowels),
        seconds=time.perf_counter() - started,
    )
