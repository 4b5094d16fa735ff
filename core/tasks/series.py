"""Real time series built in: each is one `DataSet` in `DATA_SETS`, and becomes a task of its own
(a CsvTask on the shipped file, so it has the csv task's scaling, references and forecast chart).

Adding a data set: its CSV file in core/data/series/, one `DataSet(...)` below, and a row in
core/data/README.md (tests/core/test_series.py fails until the row, the source and the licence are
there). Nothing else changes: `core/tasks/__init__.py` registers every entry as a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.tasks.csv import CsvTable, CsvTask

SERIES_DIR = Path(__file__).resolve().parent.parent / "data" / "series"


@dataclass(frozen=True)
class DataSet:
    """A built-in series. name: the task's name; file: in core/data/series/; column: the one
    forecast (rows with it empty are dropped); season: steps in one season (0: none), for the
    seasonal naive reference; about: what the series is, one or two sentences; source, licence
    and citation: shown on the page and in core/data/README.md."""

    name: str
    title: str
    file: str
    column: str
    season: int
    about: str
    source: str
    licence: str
    citation: str

    @property
    def credit(self) -> str:
        return f"Source: {self.source}. Licence: {self.licence}. Cite: {self.citation}"

    def table(self) -> CsvTable:
        values = pd.read_csv(SERIES_DIR / self.file, usecols=[self.column])[self.column].dropna()
        array = values.to_numpy(dtype=np.float64)[:, None]
        return CsvTable([self.column], array, [f"built-in data: {self.title}"])


DATA_SETS: tuple[DataSet, ...] = (
    DataSet(
        name="weather",
        title="Real data: Seattle's daily high temperature, 2012-2015",
        file="seattle-weather.csv",
        column="temp_max",
        season=365,
        about="The highest temperature of each day in Seattle (degrees C), 1461 days.",
        source="NOAA daily weather records for Seattle, as shipped in vega-datasets 0.9.0",
        licence="public domain (NOAA); the vega-datasets package is MIT-licensed",
        citation="NOAA National Centers for Environmental Information; vega-datasets, "
        "seattle-weather.csv",
    ),
    DataSet(
        name="stocks",
        title="Real data: Microsoft's monthly stock price, 2000-2010",
        file="stocks.csv",
        column="MSFT",
        season=0,
        about=(
            "Microsoft's share price (US dollars) on the first trading day of each month, 123 "
            "months; the file also holds AAPL, AMZN, GOOG and IBM. Prices move close to a random "
            "walk, where repeating the last value is hard to beat: that is the lesson here."
        ),
        source="vega-datasets 0.9.0, stocks.csv (reshaped to one column per ticker)",
        licence="MIT (the vega-datasets package); prices are historical facts",
        citation="vega-datasets, stocks.csv",
    ),
    DataSet(
        name="co2",
        title="Real data: atmospheric CO2 at Mauna Loa, monthly, 1958-2001",
        file="co2-monthly.csv",
        column="co2",
        season=12,
        about=(
            "Carbon dioxide in the air at Mauna Loa Observatory, Hawaii (ppm), the monthly mean "
            "of weekly flask samples, 526 months: a rising trend with a yearly cycle."
        ),
        source="Scripps/NOAA, as shipped in statsmodels 0.14.4 (datasets.co2, weekly; "
        "averaged by month, 5 months without samples interpolated)",
        licence="public domain",
        citation="Keeling, C.D. and T.P. Whorf (2004). Atmospheric CO2 concentrations derived "
        "from flask air samples at sites in the SIO network. In Trends: A Compendium of Data on "
        "Global Change. CDIAC, Oak Ridge National Laboratory",
    ),
    DataSet(
        name="airline",
        title="Real data: monthly airline passengers, 1949-1960",
        file="airline.csv",
        column="Passengers",
        season=12,
        about=(
            "Monthly totals of international airline passengers (thousands), 144 months: a trend, "
            "a yearly cycle that grows with it, and few values to learn from."
        ),
        source="Box & Jenkins, Series G, as shipped in sktime 0.36.0 (datasets/data/Airline)",
        licence="published data (historical facts); the sktime package is BSD-3-Clause",
        citation="Box, G.E.P., Jenkins, G.M. and Reinsel, G.C. (1976). Time Series Analysis, "
        "Forecasting and Control, 3rd ed. Holden-Day. Series G",
    ),
    DataSet(
        name="sunspots",
        title="Real data: yearly sunspot numbers, 1700-2008",
        file="sunspots.csv",
        column="SUNACTIVITY",
        season=11,
        about=(
            "The yearly number of sunspots, 309 years: a cycle of about 11 years whose height "
            "changes from cycle to cycle."
        ),
        source="NOAA National Geophysical Data Center, as shipped in statsmodels 0.14.4 "
        "(datasets.sunspots)",
        licence="public domain",
        citation="NOAA National Geophysical Data Center, yearly sunspot numbers 1700-2008",
    ),
)

COMMON = (
    " As with your own CSV, the network reads a window of the series and after each value "
    "predicts the next one; it trains on the earlier part and is checked on the last part "
    "(val_fraction), which it never sees while training. The forecasts to beat, on the same "
    "part: repeating the last value, a straight-line (linear autoregressive) forecast, "
    "exponential smoothing (Holt-Winters)"
)


def series_task(data_set: DataSet) -> type[CsvTask]:
    """The task for `data_set`: the csv task on its file, without the upload and Column."""
    season = (
        f", and repeating the value one season ({data_set.season} steps) before."
        if data_set.season
        else "."
    )
    attributes = {
        "name": data_set.name,
        "title": data_set.title,
        "explanation": f"{data_set.about}{COMMON}{season} {data_set.credit}.",
        "params": tuple(p for p in CsvTask.params if p != "csv_column"),
        "season": data_set.season,
        "data_set": data_set,
        "table": lambda self: data_set.table(),
        "__doc__": f"{data_set.title} (built-in data set {data_set.name!r}).",
        "__module__": __name__,
    }
    return type(f"{data_set.name.capitalize()}Task", (CsvTask,), attributes)


SERIES_TASKS: tuple[type[CsvTask], ...] = tuple(series_task(d) for d in DATA_SETS)
