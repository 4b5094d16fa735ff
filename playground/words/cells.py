"""Words about the cells: their equations in PyTorch's conventions (so they match the weights the
charts show), a note on each, and the parameter count derived step by step."""

from __future__ import annotations

from core.cells import get_cell

# ---- cell equations (PyTorch's conventions, so they match the weights the charts show) ------

EQUATIONS: dict[str, list[str]] = {
    "rnn": [
        r"h_t = \tanh\left(W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh}\right)",
        r"\hat y_t = W_{out}\,h_t + b_{out}",
    ],
    "rnn_relu": [
        r"h_t = \max\left(0,\; W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh}\right)",
        r"\hat y_t = W_{out}\,h_t + b_{out}",
    ],
    "lstm": [
        r"i_t = \sigma\left(W_{ii}\,x_t + b_{ii} + W_{hi}\,h_{t-1} + b_{hi}\right)"
        r"\quad\text{input gate}",
        r"f_t = \sigma\left(W_{if}\,x_t + b_{if} + W_{hf}\,h_{t-1} + b_{hf}\right)"
        r"\quad\text{forget gate}",
        r"g_t = \tanh\left(W_{ig}\,x_t + b_{ig} + W_{hg}\,h_{t-1} + b_{hg}\right)"
        r"\quad\text{candidate}",
        r"o_t = \sigma\left(W_{io}\,x_t + b_{io} + W_{ho}\,h_{t-1} + b_{ho}\right)"
        r"\quad\text{output gate}",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t \quad\text{cell state}",
        r"h_t = o_t \odot \tanh(c_t), \qquad \hat y_t = W_{out}\,h_t + b_{out}",
    ],
    "gru": [
        r"r_t = \sigma\left(W_{ir}\,x_t + b_{ir} + W_{hr}\,h_{t-1} + b_{hr}\right)"
        r"\quad\text{reset gate}",
        r"z_t = \sigma\left(W_{iz}\,x_t + b_{iz} + W_{hz}\,h_{t-1} + b_{hz}\right)"
        r"\quad\text{update gate}",
        r"n_t = \tanh\left(W_{in}\,x_t + b_{in} + r_t \odot (W_{hn}\,h_{t-1} + b_{hn})\right)"
        r"\quad\text{candidate}",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}, \qquad \hat y_t = W_{out}\,h_t + b_{out}",
    ],
    "feedforward": [
        r"h_t = \tanh\left(W_{ih}\,x_t + b_{ih}\right)\quad\text{no } h_{t-1}\text{: no memory}",
        r"\hat y_t = W_{out}\,h_t + b_{out}",
    ],
}

EQUATION_NOTES: dict[str, str] = {
    "rnn": "One weight matrix carries the past forward. Backpropagation multiplies by it (and by "
    "tanh's slope) once per step, which is why gradients shrink or grow with distance.",
    "rnn_relu": "The same loop with ReLU. It pairs with the identity initialisation (IRNN): "
    "W_hh = I copies the state forward unchanged at first.",
    "lstm": "The cell state c is updated by adding, not by multiplying through a squashing "
    "function; while the forget gate stays near 1, gradient flows back through c almost "
    "undamped.",
    "gru": "Two gates instead of three and no separate cell state: the update gate z both keeps "
    "the old state and lets the new one in, so a GRU has three weight blocks where an LSTM has "
    "four.",
    "feedforward": "A traditional network: each step's input is treated on its own, with nothing "
    "carried from the step before. Whatever a task needs from earlier steps, it cannot know, so "
    "its gradient never reaches back in time (the Gradients tab shows exactly zero there).",
}


def parameter_explanation(
    cell: str, input_size: int, hidden: int, layers: int, output_size: int
) -> str:
    """Markdown that derives the parameter count step by step (the cell registry's count)."""
    if not get_cell(cell).recurrent:
        return _feedforward_parameters(input_size, hidden, layers, output_size)
    blocks = get_cell(cell).gate_count
    lines = [
        f"Each recurrent layer holds **{blocks}** weight block{'s' if blocks > 1 else ''} "
        "(one per gate or candidate). A block has an input matrix (H x inputs), a recurrent "
        "matrix (H x H) and two bias vectors (H each):"
    ]
    for layer in range(layers):
        layer_input = input_size if layer == 0 else hidden
        per_block = hidden * layer_input + hidden * hidden + 2 * hidden
        lines.append(
            f"- layer {layer + 1}: {blocks} x ({hidden}x{layer_input} + {hidden}x{hidden} "
            f"+ 2x{hidden}) = **{blocks * per_block:,}**"
        )
    readout = hidden * output_size + output_size
    lines.append(f"- readout: {hidden}x{output_size} + {output_size} = **{readout:,}**")
    total = get_cell(cell).parameter_count(input_size, hidden, layers, output_size)
    lines.append(f"\nTotal: **{total:,}** parameters.")
    if cell in ("lstm", "gru"):
        other = "gru" if cell == "lstm" else "lstm"
        other_total = get_cell(other).parameter_count(input_size, hidden, layers, output_size)
        lines.append(
            f"The same size as {other.upper()} would have {other_total:,}: a GRU's recurrent "
            "part is 3/4 of an LSTM's."
        )
    return "\n".join(lines)


def _feedforward_parameters(input_size: int, hidden: int, layers: int, output_size: int) -> str:
    lines = [
        "Each layer holds an input matrix (H x inputs) and one bias vector (H), no recurrent "
        "matrix:"
    ]
    for layer in range(layers):
        layer_input = input_size if layer == 0 else hidden
        lines.append(
            f"- layer {layer + 1}: {hidden}x{layer_input} + {hidden} "
            f"= **{hidden * layer_input + hidden:,}**"
        )
    lines.append(
        f"- readout: {hidden}x{output_size} + {output_size} = **{hidden * output_size + output_size:,}**"
    )
    total = get_cell("feedforward").parameter_count(input_size, hidden, layers, output_size)
    lines.append(f"\nTotal: **{total:,}** parameters.")
    return "\n".join(lines)
