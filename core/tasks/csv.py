"""csv: forecast a column of the user's table (or a built-in demo series), and `load_csv`, which
reads an upload into a CsvTable or raises DataError saying why it can't."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.config import ExperimentConfig
from core.tasks.base import (
    Batch,
    DataError,
    Task,
    _check_min_len,
    _check_split,
    _length_mask,
    _make_batch,
    _ragged_lengths,
    _require,
)

MIN_ROWS = 10
NUMERIC_SHARE = 0.5  # a column is numeric when at least half its cells are numbers
DEMO_SEED = 1931


@dataclass
class CsvTable:
    """The numeric part of an uploaded CSV file.

    columns: names of the numeric columns. values: (rows, columns) float64, finite.
    notes: what was ignored or dropped while reading, in plain words.
    """

    columns: list[str]
    values: np.ndarray
    notes: list[str] = field(default_factory=list)


MAX_CSV_COLUMNS = 1000  # matches csv_column's bound; wider files cost minutes in pandas


def load_csv(raw: bytes, max_bytes: int = 2_000_000, max_rows: int = 200_000) -> CsvTable:
    """Read an uploaded CSV (comma, semicolon or tab separated; UTF-8 or Latin-1) into a CsvTable.

    Keeps the numeric columns, drops rows with a missing or non-numeric value in them (with a note),
    and raises DataError with a readable message when nothing usable is left.
    """
    if len(raw) == 0:
        raise DataError("the file is empty")
    if len(raw) > max_bytes:
        raise DataError(f"the file is {_size(len(raw))}; the limit is {_size(max_bytes)}")
    text = _decode(raw)
    if not text.strip():
        raise DataError("the file is empty")
    _check_width(text)
    table = _read_table(text, max_rows)
    return _numeric_part(table)


def _check_width(text: str) -> None:
    """Refuse very wide files before parsing: a separator count on the first line bounds the columns."""
    first_line = text.lstrip().split("\n", 1)[0]
    width = 1 + max(first_line.count(separator) for separator in ",;\t")
    if width > MAX_CSV_COLUMNS:
        raise DataError(
            f"the file has about {width:,} columns; the limit is {MAX_CSV_COLUMNS:,}. "
            "Keep the time-series columns and save again"
        )


def _size(n_bytes: int) -> str:
    if n_bytes >= 1_000_000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e3:.0f} KB" if n_bytes >= 10_000 else f"{n_bytes} bytes"


def _decode(raw: bytes) -> str:
    head = raw[:8192]
    controls = sum(byte < 9 or 13 < byte < 32 for byte in head)
    if b"\x00" in head or controls > 0.01 * len(head):
        raise DataError("this is not a text CSV file (it contains binary data); save it as CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_table(text: str, max_rows: int) -> pd.DataFrame:
    try:
        separator = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t").delimiter
    except csv.Error:
        separator = ","  # one column, or nothing the sniffer can tell apart
    try:
        table = _read_with(text, separator, max_rows, header=0)
        if all(_is_number(name) for name in table.columns):  # the first row is data, not names
            table = _read_with(text, separator, max_rows, header=None)
            table.columns = [f"column {i + 1}" for i in range(table.shape[1])]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as error:
        reason = str(error).strip().splitlines()[-1][:200] if str(error).strip() else "no columns"
        raise DataError(f"could not read the file as CSV: {reason}") from None
    if len(table) > max_rows:
        raise DataError(f"the file has more than {max_rows:,} rows; the limit is {max_rows:,}")
    if len(table) == 0:
        raise DataError("the file has a header but no data rows")
    return table


def _read_with(text: str, separator: str, max_rows: int, header: int | None) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(text),
        sep=separator,
        header=header,
        dtype=str,
        nrows=max_rows + 1,
        skipinitialspace=True,
        skip_blank_lines=True,
    )


def _is_number(text: Any) -> bool:
    try:
        float(str(text).replace(",", "."))
    except ValueError:
        return False
    return True


def _to_numbers(column: pd.Series) -> np.ndarray:
    """float64 values; decimal commas (1,5) are accepted; anything else becomes NaN."""
    text = column.astype(str).str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def _numeric_part(table: pd.DataFrame) -> CsvTable:
    columns, arrays, ignored = [], [], []
    for name in table.columns:
        values = _to_numbers(table[name])
        if np.isfinite(values).mean() >= NUMERIC_SHARE:
            columns.append(str(name))
            arrays.append(values)
        elif table[name].notna().any():  # an empty column (a trailing separator) goes unmentioned
            ignored.append(str(name))
    if not columns:
        raise DataError(
            f"no numeric column found (a column needs numbers in at least {NUMERIC_SHARE:.0%} of "
            "its rows, and columns must be separated by commas, semicolons or tabs); "
            f"the columns are: {', '.join(ignored)[:300]}"
        )
    values = np.stack(arrays, axis=1)
    complete = np.isfinite(values).all(axis=1)
    notes = [f"ignored columns that are not numeric: {', '.join(ignored)[:300]}"] if ignored else []
    if not complete.all():
        notes.append(f"dropped {int((~complete).sum())} rows with a missing or non-numeric value")
    values = values[complete]
    if len(values) < MIN_ROWS:
        raise DataError(f"the file has {len(values)} usable rows; at least {MIN_ROWS} are needed")
    return CsvTable(columns, values, notes)


def demo_series() -> CsvTable:
    """A year of made-up hourly weather: temperature (degrees C) with a seasonal and a daily cycle,
    weather that drifts over days, and sensor noise; humidity (%) falls as it warms. Fixed seed,
    so it is the same everywhere. 8760 rows leave room for seq_len 400 at any val_fraction, and the
    daily cycle gives a network something to beat 'repeat the last value' on."""
    rng = np.random.default_rng(DEMO_SEED)
    hours = np.arange(365 * 24)
    season = 10.0 - 8.0 * np.cos(2 * np.pi * (hours / 24 - 20) / 365.25)  # coldest on 20 January
    daily = 4.0 * np.sin(2 * np.pi * (hours - 9) / 24)  # warmest at 15:00, coldest at 03:00
    drift = np.cumsum(rng.normal(0.0, 0.25, len(hours)))
    drift -= np.convolve(drift, np.ones(168) / 168, mode="same")  # wander for days, not months
    temperature = season + daily + drift + rng.normal(0.0, 0.2, len(hours))
    humidity = 70.0 - 2.0 * (temperature - season) + rng.normal(0.0, 2.0, len(hours))
    values = np.round(np.stack([temperature, np.clip(humidity, 5, 100)], axis=1), 1)
    return CsvTable(
        ["temperature", "humidity"], values, ["built-in demo: a year of hourly weather"]
    )


class CsvTask(Task):
    """A column of the user's table (or a demo series); predict the next value at every step."""

    name = "csv"
    title = "Your own time series (CSV)"
    explanation = (
        "Upload a table of numbers in time order, one row per time step, and pick a column. The "
        "network reads a window of the series and after each value predicts the next one. It is "
        "trained on the earlier part of the series and checked on the last part (val_fraction), "
        "which it never sees while training, the honest way to judge a forecast. Values are "
        "rescaled with statistics of the training part only. Repeating the last value is the "
        "trivial forecast to beat. Without an upload, a made-up year of hourly weather is used. "
        "With a shortest length set, each window has its own length between that and seq_len."
    )
    kind = "regression"
    ask = "forecast"
    prediction_chart = "next_value"
    raceable = False  # needs an uploaded table
    params = ("csv_column", "normalise", "seq_len", "min_len", "val_fraction", "horizon")
    shortest = 2  # one value to read, one to predict
    metric_name = "MSE"
    higher_is_better = False
    input_size = 1
    output_size = 1
    baseline_name = "repeat the last value"

    def __init__(self, config: ExperimentConfig, data: CsvTable | np.ndarray | None = None) -> None:
        super().__init__(config)
        table = demo_series() if data is None else _as_table(data)
        self.columns, self.notes = table.columns, table.notes
        _require(
            config.csv_column < len(table.columns),
            f"csv_column {config.csv_column} is out of range: the table has "
            f"{len(table.columns)} numeric column{'s' if len(table.columns) > 1 else ''} "
            f"(0 to {len(table.columns) - 1}: {', '.join(table.columns)[:200]})",
        )
        self.column_name = table.columns[config.csv_column]
        raw = table.values[:, config.csv_column]
        self.split_at = len(raw) - int(round(len(raw) * config.val_fraction))
        _check_min_len(config, self.shortest)
        self._check_room(len(raw))
        self.shift, self.scale = _normaliser(raw[: self.split_at], config.normalise)
        self.series = (raw - self.shift) / self.scale
        self.baseline = self._window_baseline()
        self.solved_at = 0.5 * self.baseline  # half the error of repeating the last value

    def _check_room(self, rows: int) -> None:
        """Both parts need at least one window of seq_len + 1 values."""
        need = self.config.seq_len + 1
        smaller = min(self.split_at, rows - self.split_at)
        _require(
            smaller >= need,
            f"the series has {rows} values; with val_fraction={self.config.val_fraction:g} the "
            f"{'validation' if smaller < self.split_at else 'training'} part has {smaller}, "
            f"fewer than seq_len + 1 = {need}; lower seq_len to at most {max(smaller - 1, 1)}"
            + (" or raise val_fraction" if smaller < self.split_at else ""),
        )

    def _window_baseline(self) -> float:
        """Repeat-the-last-value MSE averaged exactly over every validation window."""
        length = self.config.seq_len
        squared = np.diff(self.series[self.split_at :]) ** 2
        sums = np.concatenate([[0.0], np.cumsum(squared)])
        return float(np.mean(sums[length:] - sums[:-length]) / length)

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, 1) normalised values; targets (N, L, 1) the next value; every real step
        counts. With min_len > 0 each window has its own length in [min_len, L] (batch.lengths;
        zero padding after it). Windows lie wholly in the training part or (split="val") the
        validation part. meta: starts (N,) row offsets, shift and scale (real = value * scale +
        shift)."""
        _check_split(split)
        length = self.config.seq_len
        lengths = _ragged_lengths(rng, batch_size, self.config, self.shortest)
        spans = np.full(batch_size, length) if lengths is None else lengths
        low, high = (0, self.split_at) if split == "train" else (self.split_at, len(self.series))
        starts = rng.integers(low, high - spans)
        # A short window near the end would index past the series: clip, the padding is zeroed.
        rows = np.minimum(starts[:, None] + np.arange(length + 1), len(self.series) - 1)
        windows = self.series[rows]
        mask = _length_mask(lengths, batch_size, length)
        meta = {"starts": starts, "shift": self.shift, "scale": self.scale}
        return _make_batch(windows[:, :length, None], windows[:, 1:, None], mask, lengths, meta)

    def future(self, batch: Batch, horizon: int) -> np.ndarray:
        """(N, horizon) the true normalised values that `rollout` forecasts; NaN past the end."""
        ends = batch.inputs.shape[1] if batch.lengths is None else batch.lengths.cpu().numpy()
        index = batch.meta["starts"][:, None] + np.reshape(ends, (-1, 1)) + np.arange(horizon)
        padded = np.concatenate([self.series, np.full(horizon, np.nan)])
        return padded[index]


def _as_table(data: CsvTable | np.ndarray) -> CsvTable:
    if isinstance(data, CsvTable):
        return data
    values = np.asarray(data, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.size == 0:
        raise DataError(f"expected a 1-D or 2-D array of numbers, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise DataError("the series contains missing or infinite values")
    return CsvTable([f"column {i + 1}" for i in range(values.shape[1])], values)


def _normaliser(train: np.ndarray, method: str) -> tuple[float, float]:
    """(shift, scale) from the training part; a flat series keeps scale 1 to avoid dividing by 0."""
    if method == "zscore":
        shift, scale = float(train.mean()), float(train.std())
    elif method == "minmax":
        shift, scale = float(train.min()), float(train.max() - train.min())
    else:
        shift, scale = 0.0, 1.0
    return shift, scale if scale > 0 else 1.0
