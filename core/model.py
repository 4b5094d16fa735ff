"""The recurrent model: a standard torch.nn.RNN/LSTM/GRU plus a linear readout.

Shapes (batch first): N = batch, L = sequence length, I = input size, H = hidden size, O = output
size. What differs between cells lives in `core.cells` (re-exported here: CELLS, Cell, get_cell).
Only this module, `cells.py` and `probes.py` know that LSTM's state is a pair (h, c).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from core.cells import CELLS, Cell, get_cell

__all__ = ["CELLS", "Cell", "SequenceModel", "build_model", "get_cell", "initialise"]


class SequenceModel(nn.Module):
    """Recurrent layers followed by a linear readout.

    forward(x (N, L, I), lengths (N,) or None) -> predictions (N, L, O), the readout at every step.
    last_step(x, lengths) -> predictions (N, O), the readout at each sequence's last valid step only
    (what a sequence-to-one loss reads; training uses it for those tasks). With `lengths`, the fused
    path runs on a packed sequence, so padding costs no recurrent compute and never enters the state;
    outputs past a sequence's end are zero.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.cell = get_cell(cell)
        kwargs = dict(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.rnn = self.cell.module(**kwargs, **self.cell.module_kwargs)
        self.readout = nn.Linear(hidden_size, output_size)

    @property
    def hidden_size(self) -> int:
        return self.rnn.hidden_size

    @property
    def num_layers(self) -> int:
        return self.rnn.num_layers

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            out, _ = self.rnn(x)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self.readout(out)

    def last_step(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(N, O): the readout of the last layer's h at step lengths - 1 (L - 1 without lengths).

        That h is the final state the module returns (for a packed batch, each sequence's own), so
        the readout runs on N vectors instead of N x L, and no padded output is assembled."""
        if lengths is not None:
            x = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.rnn(x)
        final = state[0] if self.cell.has_cell_state else state  # LSTM: (h_n, c_n)
        return self.readout(final[-1])

    def parameter_count(self, recurrent_only: bool = False) -> int:
        params = self.rnn.parameters() if recurrent_only else self.parameters()
        return sum(p.numel() for p in params)


def build_model(config, input_size: int, output_size: int) -> SequenceModel:
    """Make the model for `config` (an ExperimentConfig) with its initialisation applied.

    Uses the global torch RNG; the trainer seeds it under a lock so runs are reproducible.
    """
    model = SequenceModel(
        config.cell, input_size, config.hidden, output_size, config.layers, config.dropout
    )
    initialise(model, config.init, config.init_gain, config.forget_bias)
    return model


@torch.no_grad()
def initialise(
    model: SequenceModel, init: str, gain: float = 1.0, forget_bias: float = 1.0
) -> None:
    """Apply a recurrent-weight initialisation to every layer.

    default: PyTorch's uniform(-1/sqrt(H), 1/sqrt(H)).
    orthogonal: each gate block of weight_hh orthogonal, times `gain`.
    identity: weight_hh = gain * I, biases zero (IRNN, Le et al. 2015; meant for rnn_relu).
    A module whose weight_hh is not a parameter (no memory) keeps its PyTorch-style init.
    scaled: weight_hh ~ N(0, gain^2 / H), spectral radius about `gain`; gain > 1 provokes
    exploding gradients, gain < 1 vanishing ones.
    LSTM's forget-gate bias (b_ih + b_hh) is set to `forget_bias` for every init.
    """
    rnn = model.rnn
    hidden = rnn.hidden_size
    blocks = model.cell.gate_count
    for layer in range(rnn.num_layers):
        weight_hh = getattr(rnn, f"weight_hh_l{layer}")
        if not isinstance(weight_hh, nn.Parameter):
            continue  # no recurrent weights (a model without memory): nothing to initialise
        for block in range(blocks):
            part = weight_hh[block * hidden : (block + 1) * hidden]
            if init == "orthogonal":
                nn.init.orthogonal_(part, gain=gain)
            elif init == "identity":
                part.copy_(gain * torch.eye(hidden))
            elif init == "scaled":
                part.normal_(0.0, gain / hidden**0.5)
            elif init != "default":
                raise ValueError(
                    f"unknown init {init!r}; choose one of: default, orthogonal, identity, scaled"
                )
        if init == "identity":
            getattr(rnn, f"bias_ih_l{layer}").zero_()
            getattr(rnn, f"bias_hh_l{layer}").zero_()
        if "forget" in model.cell.gate_names:
            # The forget gate's total bias is b_ih + b_hh of its block (LSTM: the second).
            block = model.cell.gate_names.index("forget")
            part = slice(block * hidden, (block + 1) * hidden)
            getattr(rnn, f"bias_ih_l{layer}")[part].fill_(forget_bias)
            getattr(rnn, f"bias_hh_l{layer}")[part].zero_()
