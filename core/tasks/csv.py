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
WARMUP_SHARE = 4  # the first seq_len // 4 steps of a window are read but not scored
NUMERIC_SHARE = 0.5  # a column is numeric when at least half its cells are numbers
DEMO_SEED = 1931
# Magnitudes the float arithmetic of scaling and references handles: squares of values and of
# their changes must neither overflow nor vanish.
LARGEST_VALUE = 1e100
SMALLEST_SPREAD = 1e-100
# The defaults that fit a short series (ExperimentConfig's; a test checks they agree). Not read
# from core.config: this module is copied into the standalone script, which has no core.
DEFAULT_SEQ_LEN = 20
DEFAULT_VAL_FRACTION = 0.2
UNSCALED_LARGEST = 1e30  # normalise="none": float32 inputs, squared in the loss, stay finite


@dataclass
class CsvTable:
    """The numeric part of an uploaded CSV file.

    columns: names of the numeric columns. values: (rows, columns) float64, finite.
    notes: what was ignored or dropped while reading, in plain words.
    """

    columns: list[str]
    values: np.ndarray
    notes: list[str] = field(default_factory=list)

    def series_column(self) -> int:
        """The first column that is a series, not a time axis: a column that steps by the same
        amount every row (1, 2, 3, ... or 1990, 1991, ...) counts rows, and a forecast of it
        teaches nothing. 0 when every column does."""
        for index in range(len(self.columns)):
            if not _evenly_spaced(self.values[:, index]):
                return index
        return 0


def _evenly_spaced(values: np.ndarray) -> bool:
    steps = np.diff(values)
    return len(steps) > 0 and float(np.ptp(steps)) <= 1e-9 * max(1.0, float(np.abs(steps).max()))


MAX_CSV_COLUMNS = 1000  # matches csv_column's bound; wider files cost minutes in pandas
# rows x columns pandas may be asked to parse: a full 2 MB file of one-character cells, parsed in
# about half a second (bench/forecast.py, worst CSV); larger `max_bytes` stay bounded by it.
MAX_CSV_CELLS = 1_000_000
SNIFF_CHARS = 20_000
# One cell may be long (its row is dropped later); the csv module's default limit is 128 KB.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))


def load_csv(raw: bytes, max_bytes: int = 2_000_000, max_rows: int = 200_000) -> CsvTable:
    """Read an uploaded CSV (comma, semicolon or tab separated; UTF-8 or Latin-1; LF, CRLF or CR
    line ends) into a CsvTable.

    Keeps the numeric columns, drops rows with a missing or non-numeric value in them (with a note),
    and raises DataError with a readable message when nothing usable is left. The parse cost is
    bounded before pandas runs: the first record's width (read by the csv module, so a quoted line
    break can't hide columns) and rows x columns are checked against MAX_CSV_COLUMNS and
    MAX_CSV_CELLS.
    """
    if len(raw) == 0:
        raise DataError("the file is empty")
    if len(raw) > max_bytes:
        raise DataError(f"the file is {_size(len(raw))}; the limit is {_size(max_bytes)}")
    text = _decode(raw)
    if not text.strip():
        raise DataError("the file is empty")
    if "\r" in text:  # CRLF (Windows) and CR-only (old Mac) line ends read as LF
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    separator = _separator(text)
    _check_size(text, separator, max_rows)
    table = _read_table(text, separator, max_rows)
    return _numeric_part(table)


def _separator(text: str) -> str:
    """The separator (comma, semicolon or tab) that splits the first records of the file into the
    same number of fields, more than one; else the one giving the most fields most often; else a
    comma. Reads at most SNIFF_CHARS characters (csv.Sniffer's regular expressions take seconds on
    some 20 KB heads, such as a run of quote-comma pairs)."""
    head = text[:SNIFF_CHARS]
    cut = len(text) > len(head)
    best, best_key = ",", (False, 1)
    for separator in ",;\t":
        counts = _field_counts(head, separator, drop_last=cut)
        if not counts:
            continue
        typical = max(set(counts), key=counts.count)
        key = (len(set(counts)) == 1, typical)
        if typical > 1 and key > best_key:
            best, best_key = separator, key
    return best


def _field_counts(head: str, separator: str, drop_last: bool) -> list[int]:
    """Fields per non-blank record in `head` (the last one dropped when the head was cut)."""
    reader = csv.reader(io.StringIO(head), delimiter=separator)
    counts = []
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                counts.append(len(record))
            if len(counts) > 50:
                break
    except csv.Error:  # an unclosed quote or an over-long field inside the head
        pass
    return counts[:-1] if drop_last and len(counts) > 1 else counts


def _check_size(text: str, separator: str, max_rows: int) -> None:
    """Refuse files that would cost pandas too long, before it runs. The csv module reads the
    records pandas will read (a quoted field may hold line breaks and separators, so physical lines
    can't be trusted): too many fields in the header or in any row, or too many cells."""
    width, widest, row, rows = _record_shape(text, separator, max_rows + 1)
    limit = f"the limit is {MAX_CSV_COLUMNS:,}. Keep the time-series columns and save again"
    if width > MAX_CSV_COLUMNS:
        raise DataError(f"the file has {width:,} columns; {limit}")
    if widest > MAX_CSV_COLUMNS:
        raise DataError(f"row {row:,} of the file has {widest:,} fields; {limit}")
    if rows * widest > MAX_CSV_CELLS:
        raise DataError(
            f"the file has {rows:,} rows of up to {widest:,} columns; the limit is "
            f"{MAX_CSV_CELLS:,} cells. Keep the time-series columns and save again"
        )


def _record_shape(text: str, separator: str, max_records: int) -> tuple[int, int, int, int]:
    """(fields in the first record, fields in the widest record, its row number, records) over
    the first `max_records` non-blank records, as the csv module reads them."""
    reader = csv.reader(io.StringIO(text), delimiter=separator, skipinitialspace=True)
    width = widest = row = rows = 0
    try:
        for record in reader:
            if len(record) <= 1 and not (record and record[0].strip()):
                continue  # blank lines are skipped, by pandas too
            rows += 1
            if rows == 1:
                width = len(record)
            if len(record) > widest:
                widest, row = len(record), rows
            if rows >= max_records or widest > MAX_CSV_COLUMNS:
                break
    except csv.Error as error:
        raise DataError(f"could not read the file as CSV: {str(error)[:200]}") from None
    return width, widest, row, rows


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


def _read_table(text: str, separator: str, max_rows: int) -> pd.DataFrame:
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
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64)
        return np.where(np.isfinite(values), values, np.nan)
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
    """A column of the user's table (or a demo series); predict the next value at every step.

    How values reach the network depends on `normalise` (see `Scaling`); whatever the method, each
    target is the window's next value (or, with "diff", its change, whose error is the next value's
    error), and `real_next`, `real_ahead` and `real_inputs` map model units back to the series' own
    units.
    """

    name = "csv"
    title = "Your own time series (CSV)"
    explanation = (
        "Upload a table of numbers in time order, one row per time step, and pick a column. The "
        "network reads a window of the series and after each value predicts the next one; the "
        "first quarter of a window is context only and is not scored. It is trained on the earlier part of the series and checked on the last part (val_fraction), "
        "which it never sees while training, the honest way to judge a forecast. Values are "
        "rescaled with statistics of the training part only; for a series that trends out of the "
        "range seen in training, each window is measured from its own first value instead, or the "
        "network predicts the change. Repeating the last value, and a straight-line (linear "
        "autoregressive) forecast, are the references to beat. Without an upload, a made-up year "
        "of hourly weather is used. With a shortest length set, each window has its own length "
        "between that and seq_len."
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

    season = 0  # steps in one season, for the seasonal naive reference (0: none declared)

    def __init__(self, config: ExperimentConfig, data: CsvTable | np.ndarray | None = None) -> None:
        table = self.table() if data is None else _as_table(data)
        self.columns, self.notes = table.columns, table.notes
        column = table.series_column() if config.csv_column < 0 else config.csv_column
        _require(
            column < len(table.columns),
            f"csv_column {config.csv_column} is out of range: the table has "
            f"{len(table.columns)} numeric column{'s' if len(table.columns) > 1 else ''} "
            f"(0 to {len(table.columns) - 1}: {', '.join(table.columns)[:200]})",
        )
        self.column, self.column_name = column, table.columns[column]
        self.raw = np.ascontiguousarray(table.values[:, column], dtype=np.float64)
        _check_magnitude(self.raw, self.column_name)
        # The defaults fit a short series (and say so); settings the user chose are kept.
        config, self.fit_notes = fit_to_series(config, len(self.raw))
        super().__init__(config)
        self.split_at = len(self.raw) - int(round(len(self.raw) * config.val_fraction))
        _check_min_len(config, self.shortest)
        self._check_room(len(self.raw))
        self.scaling = choose_scaling(self.raw, self.split_at, config.seq_len, config.normalise)
        self.method = self.scaling.method
        self.normalisation_note = self.scaling.note
        self.shift, self.scale = self.scaling.shift, self.scaling.scale
        self.first_start = 1 if self.method == "diff" else 0  # a change needs the value before
        # The first steps of a window are context only: a forecaster that has read one or two
        # values can't know the season or the slope yet, and scoring those steps measured the
        # window's start, not the forecaster (a classic AR always has seq_len values of history).
        self.warmup = config.seq_len // WARMUP_SHARE
        self.baseline = self._window_baseline()
        self.solved_at = 0.5 * self.baseline  # half the error of repeating the last value

    def table(self) -> CsvTable:
        """The table used without an upload (a data set's task overrides this)."""
        return demo_series()

    def _check_room(self, rows: int) -> None:
        """Both parts need at least one window of seq_len + 1 values (one more for "diff")."""
        need = self.config.seq_len + 1 + (self.config.normalise == "diff")
        smaller = min(self.split_at, rows - self.split_at)
        _require(
            smaller >= need,
            f"the series has {rows} values; with val_fraction={self.config.val_fraction:g} the "
            f"{'validation' if smaller < self.split_at else 'training'} part has {smaller}, "
            f"fewer than seq_len + {need - self.config.seq_len} = {need}; "
            + (
                f"lower seq_len to at most {smaller - need + self.config.seq_len}"
                + (" or raise val_fraction" if smaller < self.split_at else "")
                if smaller - need + self.config.seq_len >= self.shortest
                else f"even the shortest window needs {self.shortest + need - self.config.seq_len}"
                + (": raise val_fraction" if smaller < self.split_at else ": lower val_fraction")
            ),
        )

    def _window_baseline(self) -> float:
        """Repeat-the-last-value MSE, in model units, averaged exactly over every validation
        window: a window's error is its mean squared change over its own squared scale."""
        length, warmup = self.config.seq_len, self.warmup
        part = self.raw[self.split_at :]
        sums = np.concatenate([[0.0], np.cumsum(np.diff(part) ** 2)])
        count = len(sums) - length  # windows: start s scores changes s + warmup .. s + length - 1
        per_window = (sums[length:] - sums[warmup : warmup + count]) / (length - warmup)
        anchors = part[: len(per_window)]
        return float(np.mean(per_window / self.scaling.window_scale(anchors) ** 2))

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, 1) scaled values; targets (N, L, 1) the next value; the mask scores every
        real step after the first `warmup` (context only; each window keeps one). With min_len > 0 each window has its own length in [min_len, L] (batch.lengths;
        zero padding after it). Windows lie wholly in the training part or (split="val") the
        validation part; a training window is blended with another one (`_blend`), so its values
        and meta no longer match: meta describes the first of the two. meta: starts (N,) row offsets; levels (N, L + 1) the window's real values
        (rows start .. start + L, the last one repeated past the series' end); shift and scale,
        numbers or (N,) arrays, with real = value * scale + shift for every method but "diff"."""
        _check_split(split)
        length = self.config.seq_len
        lengths = _ragged_lengths(rng, batch_size, self.config, self.shortest)
        spans = np.full(batch_size, length) if lengths is None else lengths
        low, high = (0, self.split_at) if split == "train" else (self.split_at, len(self.raw))
        starts = rng.integers(max(low, self.first_start), high - spans)
        # A short window near the end would index past the series: clip, the padding is zeroed.
        rows = np.minimum(starts[:, None] + np.arange(length + 1), len(self.raw) - 1)
        levels = self.raw[rows]
        values = self._to_model(levels, self.raw[np.maximum(starts - 1, 0)])
        if split == "train":  # validation windows are the series itself
            values = _blend(values, spans, rng)
        mask = _length_mask(lengths, batch_size, length)
        context = np.minimum(self.warmup, spans - 1)  # every window keeps a scored step
        mask &= np.arange(length)[None, :] >= context[:, None]
        shift, scale = self._affine(levels[:, 0])
        meta = {"starts": starts, "levels": levels, "shift": shift, "scale": scale}
        return _make_batch(values[:, :length, None], values[:, 1:, None], mask, lengths, meta)

    def _to_model(self, levels: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """(N, K) real values of windows -> model units; `previous` (N,) the value before each
        window (used by "diff" only)."""
        if self.method == "diff":
            return np.diff(np.concatenate([previous[:, None], levels], axis=1), axis=1) / self.scale
        shift, scale = self._affine(levels[:, 0])
        return (levels - np.reshape(shift, (-1, 1))) / np.reshape(scale, (-1, 1))

    def _affine(self, anchors: np.ndarray) -> tuple[Any, Any]:
        """Per-window (shift, scale) for the affine methods: numbers for the global ones."""
        if self.method in ("window", "relative"):
            return anchors.copy(), self.scaling.window_scale(anchors)
        return self.shift, self.scale

    # ---- model units <-> real units -------------------------------------------------------

    def real_inputs(self, batch: Batch) -> np.ndarray:
        """(N, L) the real values the network read."""
        return batch.meta["levels"][:, :-1].copy()

    def real_next(self, batch: Batch, values: np.ndarray) -> np.ndarray:
        """values (N, L) per-step outputs (predictions or targets) in model units -> (N, L) the
        real next values they stand for."""
        values = np.asarray(values, dtype=np.float64)
        if self.method == "diff":
            return batch.meta["levels"][:, :-1] + values * self.scale
        return values * _column(batch.meta["scale"]) + _column(batch.meta["shift"])

    def model_next(self, batch: Batch, real: np.ndarray) -> np.ndarray:
        """The inverse of `real_next`: (N, L) real next values -> model units."""
        real = np.asarray(real, dtype=np.float64)
        if self.method == "diff":
            return (real - batch.meta["levels"][:, :-1]) / self.scale
        return (real - _column(batch.meta["shift"])) / _column(batch.meta["scale"])

    def real_ahead(self, batch: Batch, values: np.ndarray) -> np.ndarray:
        """values (N, H) a rollout or `future` in model units -> (N, H) real values of the H
        steps after each window's last input."""
        values = np.asarray(values, dtype=np.float64)
        if self.method == "diff":
            last = self.real_inputs(batch)[np.arange(batch.size), _ends(batch) - 1]
            return last[:, None] + np.cumsum(values, axis=1) * self.scale
        return values * _column(batch.meta["scale"]) + _column(batch.meta["shift"])

    def real_future(self, batch: Batch, horizon: int) -> np.ndarray:
        """(N, horizon) the series' real values after each window's last input; NaN past the end."""
        index = batch.meta["starts"][:, None] + _ends(batch)[:, None] + np.arange(horizon)
        return np.concatenate([self.raw, np.full(horizon, np.nan)])[index]

    def future(self, batch: Batch, horizon: int) -> np.ndarray:
        """(N, horizon) the true values, in model units, that `rollout` forecasts; NaN past the
        end."""
        real = self.real_future(batch, horizon)
        if self.method == "diff":
            last = self.real_inputs(batch)[np.arange(batch.size), _ends(batch) - 1]
            return np.diff(np.concatenate([last[:, None], real], axis=1), axis=1) / self.scale
        return (real - _column(batch.meta["shift"])) / _column(batch.meta["scale"])


def fit_to_series(config: ExperimentConfig, rows: int) -> tuple[ExperimentConfig, list[str]]:
    """`config` with seq_len (and then val_fraction) shrunk or grown to fit a series of `rows`
    values, where they are at their defaults and the series is too short for them, with a note
    saying so; settings that differ from the defaults are left for `_check_room` to judge."""
    extra = 1 + (config.normalise == "diff")  # a window reads seq_len values and predicts one more
    notes: list[str] = []
    if config.seq_len == DEFAULT_SEQ_LEN:
        room = _smaller_part(rows, config.val_fraction) - extra
        if 2 <= room < config.seq_len:
            notes.append(
                f"seq_len {room} instead of {config.seq_len}: the series has {rows} values, and "
                f"each part of it (val_fraction {config.val_fraction:g}) must hold a window of "
                f"seq_len + {extra}."
            )
            config = _replace(config, seq_len=room)
        elif room < 2:
            config = _fit_validation(config, rows, extra, notes)
    return config, notes


def _fit_validation(
    config: ExperimentConfig, rows: int, extra: int, notes: list[str]
) -> ExperimentConfig:
    """A handful of rows: the shortest window (2) and a validation part just large enough."""
    if config.val_fraction != DEFAULT_VAL_FRACTION:
        return config
    for percent in range(int(config.val_fraction * 100), 51, 5):
        fraction = percent / 100
        if _smaller_part(rows, fraction) >= 2 + extra:
            notes.append(
                f"seq_len 2 and val_fraction {fraction:g} instead of {config.seq_len} and "
                f"{config.val_fraction:g}: the series has only {rows} values."
            )
            return _replace(config, seq_len=2, val_fraction=fraction)
    return config


def _replace(config: Any, **changes: Any) -> Any:
    """A copy with `changes`: an ExperimentConfig (checked again), or the script's namespace."""
    return type(config)(**{**vars(config), **changes})


def _smaller_part(rows: int, val_fraction: float) -> int:
    validation = int(round(rows * val_fraction))
    return min(rows - validation, validation)


def _check_magnitude(raw: np.ndarray, name: str) -> None:
    largest, spread = float(np.max(np.abs(raw))), float(np.ptp(raw))
    if largest > LARGEST_VALUE:
        raise DataError(
            f"{name} has values as large as {largest:.3g}; values up to {LARGEST_VALUE:.0e} can "
            "be used: divide the column by a power of ten and save again"
        )
    if 0 < spread < SMALLEST_SPREAD:
        raise DataError(
            f"{name}'s values differ by only {spread:.3g}, too little to compute with: multiply "
            "the column by a power of ten (or subtract its first value) and save again"
        )


def _blend(values: np.ndarray, spans: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mix each training window with another one of the batch (mixup): weight ~ U(0, 1), inputs
    and targets alike, over the steps both windows cover. A weighted sum of two stretches of a
    series is a plausible stretch of it (exactly so for linear dynamics), so the network sees new
    windows every step instead of memorising the few hundred a short series has.
    values: (N, L + 1) model units; spans: (N,) real lengths."""
    partner = rng.permutation(len(values))
    weight = rng.uniform(0.0, 1.0, (len(values), 1))
    blended = weight * values + (1.0 - weight) * values[partner]
    covered = np.arange(values.shape[1])[None, :] <= spans[partner][:, None]
    return np.where(covered, blended, values)


def _ends(batch: Batch) -> np.ndarray:
    """(N,) each window's length: its last input is at ends - 1."""
    if batch.lengths is None:
        return np.full(batch.size, batch.inputs.shape[1])
    return batch.lengths.cpu().numpy().astype(np.int64)


def _column(value: Any) -> Any:
    """A per-window (N,) array as (N, 1), so it broadcasts over steps; numbers stay numbers."""
    return np.reshape(value, (-1, 1)) if np.ndim(value) else value


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


# ---- scaling ------------------------------------------------------------------------------------

METHOD_NAMES = {
    "zscore": "z-score with the training part's mean and spread",
    "minmax": "min-max with the training part's range",
    "none": "no scaling",
    "diff": "predict the change from one value to the next",
    "window": "each window measured from its own first value",
    "relative": "each window as a ratio to its own first value",
}
OUTSIDE_SHARE = 0.1  # auto: more validation values than this outside the training range
RANGE_SLACK = 0.05  # ... widened by this share of the range on each side
TREND_R2 = 0.9  # auto: a straight line explains this much of the training part's variance
GROWTH_RATIO = 3.0  # auto: a positive series whose training part grows this many times


@dataclass(frozen=True)
class Scaling:
    """How a csv task scales its values for the network, and why.

    method: the method in use ("auto" already resolved). Global methods (zscore, minmax, none) use
    real = value * scale + shift; "window" uses real = value * scale + the window's first value;
    "relative" uses real = first value * (1 + value * scale); "diff" gives changes, real change =
    value * scale. note: one plain sentence for the page saying what was used and why.
    """

    method: str
    shift: float
    scale: float
    note: str

    def window_scale(self, anchors: np.ndarray) -> np.ndarray:
        """(N,) the scale of windows whose first real values are `anchors` (N,)."""
        if self.method == "relative":
            return self.scale * anchors
        return np.full(len(anchors), self.scale)


def choose_scaling(raw: np.ndarray, split_at: int, seq_len: int, method: str) -> Scaling:
    """Fit the scaling `method` on the training part raw[:split_at]; "auto" picks one from the
    series' shape: z-score unless the validation part leaves the training range or a straight line
    explains most of the training part; then each window relative to its first value (as a ratio
    for a positive series that grows several times over, else as a difference)."""
    train = raw[:split_at]
    _require(
        method != "none" or float(np.max(np.abs(raw))) <= UNSCALED_LARGEST,
        f"normalise='none' gives the network the values as they are, and these reach "
        f"{float(np.max(np.abs(raw))):.3g}, past {UNSCALED_LARGEST:.0e}: choose another scaling",
    )
    if method != "auto":
        shift, scale = _fit(raw, split_at, seq_len, method)
        return Scaling(method, shift, scale, f"Scaling: {METHOD_NAMES[method]} (your choice).")
    outside = _outside_share(train, raw[split_at:])
    trend = _trend_r2(train)
    growth = _growth(train)
    if outside <= OUTSIDE_SHARE and trend < TREND_R2:
        chosen, why = (
            "zscore",
            (
                f"the validation part stays inside the training range ({outside:.0%} of its values "
                f"outside) and a straight line explains only {trend:.0%} of the training part"
            ),
        )
    else:
        chosen = "relative" if growth >= GROWTH_RATIO else "window"
        reasons = []
        if outside > OUTSIDE_SHARE:
            reasons.append(f"{outside:.0%} of the validation values lie outside the training range")
        if trend >= TREND_R2:
            reasons.append(f"a straight line explains {trend:.0%} of the training part")
        why = " and ".join(reasons) + (
            ", so values scaled by the training part would leave the range the network learned"
        )
        if chosen == "relative":
            why += f"; the series grows {growth:.0f}-fold, so changes are taken as ratios"
    shift, scale = _fit(raw, split_at, seq_len, chosen)
    return Scaling(chosen, shift, scale, f"Scaling: {METHOD_NAMES[chosen]} (auto): {why}.")


def _fit(raw: np.ndarray, split_at: int, seq_len: int, method: str) -> tuple[float, float]:
    """(shift, scale) from the training part; a flat part keeps scale 1 to avoid dividing by 0."""
    train = raw[:split_at]
    shift, scale = 0.0, 1.0
    if method == "zscore":
        shift, scale = float(train.mean()), float(train.std())
    elif method == "minmax":
        shift, scale = float(train.min()), float(train.max() - train.min())
    elif method == "diff":
        scale = float(np.sqrt(np.mean(np.diff(train) ** 2)))
    elif method == "window":
        scale = _window_rms(train, seq_len, lambda later, first: later - first)
    elif method == "relative":
        _require(
            bool(np.all(raw > 0) or np.all(raw < 0)),
            "normalise='relative' needs a series that stays above zero (or below it): "
            "choose 'window' or 'diff' instead",
        )
        scale = _window_rms(train, seq_len, lambda later, first: later / first - 1.0)
    return shift, scale if np.isfinite(scale) and scale > 0 else 1.0


def _window_rms(train: np.ndarray, seq_len: int, offset: Any) -> float:
    """Root mean square of offset(value k steps in, first value) over every training window and
    every k in 1..seq_len: the typical size of what a window shows the network."""
    starts = len(train) - seq_len  # windows start at 0 .. len - seq_len - 1
    squares = [
        np.mean(offset(train[k : k + starts], train[:starts]) ** 2) for k in range(1, seq_len + 1)
    ]
    return float(np.sqrt(np.mean(squares)))


def _outside_share(train: np.ndarray, val: np.ndarray) -> float:
    low, high = float(train.min()), float(train.max())
    slack = RANGE_SLACK * (high - low)
    return float(np.mean((val < low - slack) | (val > high + slack)))


def _trend_r2(train: np.ndarray) -> float:
    """Share of the training part's variance a least-squares straight line explains."""
    if np.ptp(train) == 0:
        return 0.0
    time = np.arange(len(train), dtype=np.float64)
    slope, intercept = np.polyfit(time, train, 1)
    residual = train - (slope * time + intercept)
    return float(1.0 - residual.var() / train.var())


def _growth(train: np.ndarray) -> float:
    """How many times the training part's level grows (1 unless it stays above zero)."""
    if not np.all(train > 0):
        return 1.0
    edge = max(len(train) // 10, 1)
    first, last = float(np.mean(train[:edge])), float(np.mean(train[-edge:]))
    return max(last / first, first / last)
