"""The runs fixture: one small trained experiment per cell, shared by the chart tests."""

import pytest

from tests.playground.charts.helpers import CELLS, run


@pytest.fixture(scope="module")
def runs():
    return {cell: run(cell) for cell in CELLS}
