"""An independent oracle for the no-memory model, shaped like torch.nn.RNNCell so the tests'
weight copies and cell loops use it as they use torch's own cells."""

import torch
from torch import nn


class FeedForwardCell(nn.Module):
    """h_t = tanh(nn.Linear(x_t)); h_{t-1} is ignored. weight_hh and bias_hh are zeros, there only
    so a copy of the model's four weights lands somewhere."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_size, hidden_size)
        self.weight_ih, self.bias_ih = self.linear.weight, self.linear.bias
        self.weight_hh = nn.Parameter(torch.zeros(hidden_size, hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(hidden_size))

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(self.linear(x))


class FeedForwardLayers(nn.Module):
    """Stacked FeedForwardCells run over (N, L, I) at once: the oracle for lower layers."""

    def __init__(self, input_size: int, hidden_size: int, layers: int) -> None:
        super().__init__()
        sizes = [input_size] + [hidden_size] * layers
        self.cells = nn.ModuleList(FeedForwardCell(a, hidden_size) for a in sizes[:-1])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        for cell in self.cells:
            x = cell(x)
        return x, None
