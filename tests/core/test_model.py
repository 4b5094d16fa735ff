import pytest
import torch

from core.cells import FeedForward
from core.config import ExperimentConfig
from core.model import CELLS, SequenceModel, build_model, get_cell


def test_unknown_cell_lists_the_options():
    with pytest.raises(
        ValueError,
        match="unknown cell 'lstn'; choose one of: rnn, rnn_relu, lstm, gru, feedforward",
    ):
        get_cell("lstn")
    with pytest.raises(ValueError, match="choose one of"):
        SequenceModel("transformer", 1, 4, 1)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_weights_live_in_standard_torch_modules(cell, layers):
    model = SequenceModel(cell, 3, 8, 2, num_layers=layers, dropout=0.2)
    assert isinstance(model.rnn, (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU, FeedForward))
    assert model.rnn.batch_first and model.rnn.num_layers == layers
    out = model(torch.randn(5, 7, 3))
    assert out.shape == (5, 7, 2)


def test_gru_has_three_quarters_of_lstm_recurrent_parameters():
    lstm = SequenceModel("lstm", 10, 64, 1, num_layers=2)
    gru = SequenceModel("gru", 10, 64, 1, num_layers=2)
    assert (
        gru.parameter_count(recurrent_only=True) * 4
        == lstm.parameter_count(recurrent_only=True) * 3
    )
    # the counts are PyTorch's own: 4 * (H*I + H*H + 2H) per LSTM layer
    assert lstm.parameter_count(recurrent_only=True) == 4 * (64 * 10 + 64 * 64 + 128) + 4 * (
        64 * 64 * 2 + 128
    )
    assert lstm.parameter_count() == lstm.parameter_count(recurrent_only=True) + 64 + 1


def test_lengths_use_packing_and_zero_padding_never_enters_the_state():
    torch.manual_seed(0)
    model = SequenceModel("lstm", 2, 6, 1)
    x = torch.randn(3, 9, 2)
    lengths = torch.tensor([9, 4, 6])
    garbage = x.clone()
    garbage[1, 4:] = 100.0  # padding content must not matter
    a = model(x, lengths)
    b = model(garbage, lengths)
    torch.testing.assert_close(a, b)
    alone = model(x[1:2, :4])
    torch.testing.assert_close(a[1:2, :4], alone, atol=1e-6, rtol=0)


def weight_hh(config):
    torch.manual_seed(0)
    return build_model(config, 2, 1).rnn.weight_hh_l0.detach()


def test_identity_init_for_irnn():
    w = weight_hh(ExperimentConfig(cell="rnn_relu", init="identity", init_gain=1.0, hidden=7))
    torch.testing.assert_close(w, torch.eye(7))


def test_orthogonal_init_blocks_are_orthogonal():
    w = weight_hh(ExperimentConfig(cell="gru", init="orthogonal", hidden=8))
    for block in w.split(8):
        torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)


def test_scaled_init_sets_the_spectral_radius_near_the_gain():
    w = weight_hh(ExperimentConfig(cell="rnn", init="scaled", init_gain=3.0, hidden=256))
    radius = torch.linalg.eigvals(w).abs().max().item()
    assert 2.5 < radius < 3.5


@pytest.mark.parametrize("bias", [0.0, 1.0])
def test_lstm_forget_bias(bias):
    torch.manual_seed(0)
    model = build_model(ExperimentConfig(cell="lstm", forget_bias=bias, hidden=5), 2, 1)
    total = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
    torch.testing.assert_close(total[5:10], torch.full((5,), bias))


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("ragged", [False, True])
def test_last_step_is_the_readout_at_each_last_valid_step(cell, ragged):
    torch.manual_seed(0)
    model = SequenceModel(cell, 3, 6, 2, num_layers=2, dropout=0.5)  # training mode: dropout on
    x = torch.randn(4, 9, 3)
    lengths = torch.tensor([9, 2, 5, 7]) if ragged else None
    ends = lengths - 1 if ragged else torch.full((4,), 8)
    torch.manual_seed(1)  # the same dropout masks for both calls
    full = model(x, lengths)[torch.arange(4), ends]
    torch.manual_seed(1)
    torch.testing.assert_close(model.last_step(x, lengths), full, atol=1e-6, rtol=0)
