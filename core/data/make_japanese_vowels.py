"""Rebuild japanese_vowels.npz from the archive's .ts files (run once, by hand; never at run time).

    pip download sktime==0.36.0 --no-deps -d /tmp/sk
    unzip /tmp/sk/sktime-0.36.0-py3-none-any.whl 'sktime/datasets/data/JapaneseVowels/*' -d /tmp/sk
    python core/data/make_japanese_vowels.py /tmp/sk/sktime/datasets/data/JapaneseVowels

The .ts format: after `@data`, one utterance per line, its 12 coefficients' series separated by
`:` (frames separated by `,`), then the speaker (1-9). The values have six decimals, so they are
stored exactly as integer millionths, which also compresses better than floats.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("japanese_vowels.npz")


def read_ts(path: Path) -> tuple[list[np.ndarray], list[int]]:
    """Utterances (frames, 12) and speakers from one .ts file."""
    series, speakers, in_data = [], [], False
    for line in path.read_text().splitlines():
        line = line.strip()
        if in_data and line:
            *dimensions, speaker = line.split(":")
            series.append(np.array([[float(v) for v in d.split(",")] for d in dimensions]).T)
            speakers.append(int(speaker))
        in_data = in_data or line.lower() == "@data"
    return series, speakers


def main(folder: str) -> None:
    train, train_speakers = read_ts(Path(folder) / "JapaneseVowels_TRAIN.ts")
    test, test_speakers = read_ts(Path(folder) / "JapaneseVowels_TEST.ts")
    frames = np.concatenate(train + test)
    millionths = np.round(frames * 1e6)
    assert np.allclose(millionths / 1e6, frames, rtol=0, atol=1e-9), "more than six decimals"
    np.savez_compressed(
        OUT,
        frames=millionths.astype(np.int32),
        lengths=np.array([len(s) for s in train + test], np.int16),
        speakers=np.array(train_speakers + test_speakers, np.int8),
        n_train=np.array(len(train)),
    )


if __name__ == "__main__":
    main(sys.argv[1])
