"""Every task's data stream stays the same: the same rng gives the same batches as when the
trained-outcome tests and the page's teaching claims were checked.

A fingerprint per batch: exact digests of the integer and boolean arrays (mask, lengths, class
targets, integer meta), and for float arrays a sum, an absolute sum and three values, compared
with a tolerance of a few float32 ulps: a change to what is drawn or computed moves them by far
more, while a CPU that rounds sin or log differently in the last bit does not fail the test.
The stored values were recorded from the code at 4379a90, before the sampling was made faster.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from core.config import ExperimentConfig
from core.tasks import make_task

CASES = {
    "next_number": dict(task="next_number"),
    "next_number_geometric_ragged": dict(
        task="next_number", sequence_kind="geometric", seq_len=30, min_len=5
    ),
    "next_number_fibonacci": dict(task="next_number", sequence_kind="fibonacci"),
    "sine": dict(task="sine", seq_len=60, noise=0.5),
    "adding": dict(task="adding", seq_len=50),
    "copy": dict(task="copy", n_symbols=6, lag=3, alphabet=5),
    "text_ragged": dict(task="text", seq_len=40, min_len=10),
    "speech": dict(task="speech", n_classes=10, seq_len=80, noise=0.3),
    "speech_quiet": dict(task="speech", seq_len=9, noise=0.0),
    "csv_ragged": dict(task="csv", seq_len=30, min_len=8),
}
DRAWS = ((0, 32, "train"), (7, 5, "val"))  # (seed, batch size, split); the second batch of each


def _arrays(batch) -> dict[str, np.ndarray]:
    arrays = {"inputs": batch.inputs, "targets": batch.targets, "mask": batch.mask}
    if batch.lengths is not None:
        arrays["lengths"] = batch.lengths
    arrays.update({f"meta.{k}": v for k, v in batch.meta.items() if isinstance(v, np.ndarray)})
    return {
        k: v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for k, v in arrays.items()
    }


def _print(array: np.ndarray) -> str | list[float]:
    if array.dtype.kind in "biu":
        digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]
        return f"{array.dtype}{list(array.shape)}:{digest}"
    flat = np.nan_to_num(array.astype(np.float64).ravel())
    picks = flat[[0, len(flat) // 2, -1]] if len(flat) else []
    return [float(f"{x:.9g}") for x in (flat.sum(), np.abs(flat).sum(), *picks)]


def fingerprint_case(name: str) -> list[dict]:
    task = make_task(ExperimentConfig(**CASES[name]))
    prints = []
    for seed, size, split in DRAWS:
        rng = np.random.default_rng([seed, 1])
        task.sample(size, rng, split=split)
        batch = task.sample(size, rng, split=split)
        prints.append({key: _print(value) for key, value in _arrays(batch).items()})
    return prints


@pytest.mark.parametrize("name", list(CASES))
def test_task_streams_are_unchanged(name):
    got, want = fingerprint_case(name), STREAMS[name]
    assert len(got) == len(want)
    for batch_got, batch_want in zip(got, want, strict=True):
        assert list(batch_got) == list(batch_want)
        for key, value in batch_want.items():
            if isinstance(value, str):
                assert batch_got[key] == value, key
            else:  # sums within a few float32 ulps of the absolute sum; values within a few ulps
                tolerance = 1e-6 * max(value[1], 1.0)
                np.testing.assert_allclose(batch_got[key][:2], value[:2], rtol=0, atol=tolerance)
                np.testing.assert_allclose(batch_got[key][2:], value[2:], rtol=1e-5, atol=1e-6)


STREAMS: dict[str, list[dict]] = {
    "next_number": [
        {
            "inputs": [328.47728, 747.877857, 0.0, 0.193891376, 1.51383412],
            "targets": [352.680689, 816.522651, 0.0981421843, 0.310226202, 1.61046183],
            "mask": "bool[32, 20]:88c5a2d813879803",
            "meta.values": [5082.0, 20944.0, 0.0, 5.0, 50.0],
            "meta.scale": [968.424299, 968.424299, 50.946493, 25.7876346, 31.0469958],
        },
        {
            "inputs": [45.4880423, 131.337855, 0.400559217, 1.84878623, 3.34650469],
            "targets": [50.0190121, 144.772764, 0.267039478, 2.04339528, 3.52263641],
            "mask": "bool[5, 20]:f59403c3061be6f3",
            "meta.values": [1092.0, 3404.0, 9.0, 19.0, 80.0],
            "meta.scale": [128.011355, 128.011355, 22.4685881, 10.2770129, 22.7102627],
        },
    ],
    "next_number_geometric_ragged": [
        {
            "inputs": [-32.0179733, 339.381415, 1.77346087, 1.3124429, 0.0],
            "targets": [-22.3792489, 346.499477, 1.47526968, 0.675445855, 0.0],
            "mask": "bool[32, 30]:c31b5ddc6abdab13",
            "lengths": "int64[32]:b2a7897a4a31bee3",
            "meta.values": [1902985.03, 2238421.89, 8.0, 2.0, 0.0],
            "meta.scale": [399029.283, 399029.283, 4.51095387, 1.52387579, 10695.6436],
        },
        {
            "inputs": [-6.31202247, 28.6124034, 1.28585589, -0.0, 0.0],
            "targets": [-4.36456061, 20.2607438, 1.09745789, -0.0, 0.0],
            "mask": "bool[5, 30]:6f0bd6ce54ff77bc",
            "lengths": "int64[5]:5b84d180ab59527a",
            "meta.values": [-2.5295081, 86.7025904, 4.0, 0.0, 0.0],
            "meta.scale": [16.3935418, 16.3935418, 3.11076857, 2.02986918, 3.50030357],
        },
    ],
    "next_number_fibonacci": [
        {
            "inputs": [26.6820469, 192.534089, 0.0, 0.00597435981, 1.51383412],
            "targets": [43.1654768, 311.48815, 0.000445994141, -0.00426739966, 2.449435],
            "mask": "bool[32, 20]:88c5a2d813879803",
            "meta.values": [591448.0, 3047074.0, 0.0, 7.0, 6765.0],
            "meta.scale": [363832.72, 363832.72, 8968.72789, 1171.67366, 2761.86147],
        },
        {
            "inputs": [12.5156635, 35.0470272, 0.00210241438, 0.0473606177, 3.34650469],
            "targets": [20.2471863, 56.7018576, -0.000788405363, 0.0766380876, 5.41475821],
            "mask": "bool[5, 20]:f59403c3061be6f3",
            "meta.values": [-10328.0, 199012.0, 8.0, 55.0, 16114.0],
            "meta.scale": [19751.2966, 19751.2966, 3805.14902, 1161.30246, 2975.94087],
        },
    ],
    "sine": [
        {
            "inputs": [0.629795394, 1206.23906, 0.703461349, 0.445018977, 0.653883159],
            "targets": [-5.36896216, 941.299492, 0.686214209, 0.860200047, 0.395874858],
            "mask": "bool[32, 60]:f8571cd81558b8e4",
            "meta.amplitude": [39.2810201, 39.2810201, 0.702662044, 0.480590201, 0.695388638],
            "meta.frequency": [11.8362984, 11.8362984, 0.117308893, 0.16022014, 0.058618181],
            "meta.phase": [287.422378, 287.422378, 1.34559616, 0.632123215, 5.50379905],
            "meta.clean": [-2.8237549, 958.790609, 0.862909758, 0.500423226, 0.395874848],
        },
        {
            "inputs": [-8.52781869, 215.053228, -0.715067565, 1.38204694, -1.08800888],
            "targets": [-1.02725313, 178.48658, -0.125778973, 0.193507865, -0.0034664874],
            "mask": "bool[5, 60]:893c172baa019a7b",
            "meta.amplitude": [7.60780918, 7.60780918, 0.776482089, 0.370833407, 0.692288483],
            "meta.frequency": [2.08050717, 2.08050717, 0.143232531, 0.0895872994, 0.102638274],
            "meta.phase": [49.6184074, 49.6184074, 6.20723796, 4.63684681, 4.19317087],
            "meta.clean": [-2.50141219, 181.571551, -0.440448957, 0.958942257, -0.00346648737],
        },
    ],
    "adding": [
        {
            "inputs": [851.305318, 851.305318, 0.675948024, 0.96447593, 0.0],
            "targets": [30.8592821, 30.8592821, 0.0, 0.0, 0.639314115],
            "mask": "bool[32, 50]:fbc85653abf79597",
            "meta.marks": "int64[32, 2]:0222ad7889b0d8a1",
        },
        {
            "inputs": [135.281598, 135.281598, 0.719044268, 0.107614875, 0.0],
            "targets": [6.02098966, 6.02098966, 0.0, 0.0, 1.77975988],
            "mask": "bool[5, 50]:27223cfc396cc8fc",
            "meta.marks": "int64[5, 2]:4db37347952c6e74",
        },
    ],
    "copy": [
        {
            "inputs": [512.0, 512.0, 0.0, 0.0, 0.0],
            "targets": "int64[32, 16]:80d09fab0b0bddad",
            "mask": "bool[32, 16]:92bb4c0ef35a8a1a",
            "meta.symbols": "int64[32, 6]:28f1389e7a58729e",
        },
        {
            "inputs": [80.0, 80.0, 0.0, 0.0, 0.0],
            "targets": "int64[5, 16]:8c4cf6d7d4fd9345",
            "mask": "bool[5, 16]:65005263ecdee163",
            "meta.symbols": "int64[5, 6]:6581434397f55d51",
        },
    ],
    "text_ragged": [
        {
            "inputs": [826.0, 826.0, 0.0, 0.0, 0.0],
            "targets": "int64[32, 40]:f8e55202d23d6ebd",
            "mask": "bool[32, 40]:20543e1d38ed338e",
            "lengths": "int64[32]:abeea78965b69fbc",
            "meta.starts": "int64[32]:b0f5dd8634b115df",
        },
        {
            "inputs": [103.0, 103.0, 0.0, 0.0, 0.0],
            "targets": "int64[5, 40]:20c327a962d615c9",
            "mask": "bool[5, 40]:c8a5536fe60ed088",
            "lengths": "int64[5]:97197554a8664e17",
            "meta.starts": "int64[5]:9f194a6745dab0a1",
        },
    ],
    "speech": [
        {
            "inputs": [-1.68076622e-06, 37927.029, -1.62024546, -0.473142296, -0.0],
            "targets": "int64[32, 80]:803191b5ef188539",
            "mask": "bool[32, 80]:af5388e4901c1966",
            "lengths": "int64[32]:4251592f4499d03d",
            "meta.labels": "int64[32]:20e987b3ba02773a",
        },
        {
            "inputs": [-3.56088276e-06, 6305.12474, -1.10796428, 0.356272489, -0.0],
            "targets": "int64[5, 80]:de14955a916491c6",
            "mask": "bool[5, 80]:5816b29d10f99b50",
            "lengths": "int64[5]:835b2246a101c596",
            "meta.labels": "int64[5]:fb1e363da00bfe57",
        },
    ],
    "speech_quiet": [
        {
            "inputs": [1.96762267e-06, 5613.22083, -0.690304935, -0.725304127, -0.59453249],
            "targets": "int64[32, 9]:33050ebb28b0031f",
            "mask": "bool[32, 9]:a9fcc81f0bf0b909",
            "lengths": "int64[32]:29ef8474113455f4",
            "meta.labels": "int64[32]:0560bab2e7075ac7",
        },
        {
            "inputs": [-7.41914846e-07, 897.443076, -0.542290807, 1.92891943, -0.698820114],
            "targets": "int64[5, 9]:ea49f09e87366d26",
            "mask": "bool[5, 9]:25681a3c31bc2a8f",
            "lengths": "int64[5]:09005589f276185a",
            "meta.labels": "int64[5]:ea3a94ac46f0f139",
        },
    ],
    # Recorded again for issue 14: training windows are blended in pairs (mixup, which draws from
    # the rng) and meta carries each window's real levels. The validation batch is unchanged.
    "csv_ragged": [
        {
            "inputs": [160.10068, 418.074836, 1.12453067, 0.572263479, -0.0],
            "targets": [162.672589, 417.720497, 1.11651909, 0.397436172, -0.0],
            "mask": "bool[32, 30]:08342dfb8fd27381",
            "lengths": "int64[32]:ffb2da803629ab0a",
            "meta.starts": "int64[32]:04bf4579f96ab6d6",
            "meta.levels": [12694.7, 12782.1, 18.8, 10.6, 6.5],
        },
        {
            "inputs": [-69.1333813, 69.4952022, -1.13858438, -1.23132908, -0.0],
            "targets": [-67.6340083, 67.9958291, -1.26224399, -1.23132908, -0.0],
            "mask": "bool[5, 30]:f2bc7e0ebab20334",
            "lengths": "int64[5]:48356233b6ba7da3",
            "meta.starts": "int64[5]:b08559e51536661c",
            "meta.levels": [1043.3, 1043.3, 3.7, 3.1, 1.1],
        },
    ],
}
