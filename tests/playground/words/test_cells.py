"""Words about the cells: equations for every cell, and the step-by-step parameter count equal to
PyTorch's own count of the model."""

import pytest

from core import CELLS, Experiment, ExperimentConfig
from playground.words import cells as cell_words


def test_every_cell_of_the_registry_has_its_words():
    assert set(cell_words.EQUATIONS) == set(CELLS) == set(cell_words.EQUATION_NOTES)


@pytest.mark.parametrize("cell", list(CELLS))
def test_parameter_explanation_matches_pytorch(cell):
    exp = Experiment(ExperimentConfig(cell=cell, task="adding", hidden=16, layers=2))
    text = cell_words.parameter_explanation(cell, 2, 16, 2, 1)
    assert f"Total: **{exp.parameter_count():,}** parameters." in text
    assert cell_words.EQUATIONS[cell] and cell_words.EQUATION_NOTES[cell]
