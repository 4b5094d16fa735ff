"""The caption under each chart, keyed by the builder's name without its suffix (`loss_figure` ->
"loss"): what the chart shows and what to look for. Plain words; no Streamlit here."""

CAPTIONS = {
    "loss": (
        "Training loss (thin: every step; bold: smoothed) and validation loss (dots) on a log "
        "scale. Watch it fall below the grey dashed line, the score of a trivial guess; the green "
        "dashed line, where shown, is where the task counts as solved."
    ),
    "metric": (
        "The task's own score on the validation set, with the trivial baseline and the solved "
        "threshold. A flat curve at the baseline means the network has not found the pattern yet."
    ),
    "prediction": (
        "What the network answers for one example of the probe batch, next to the right answer. "
        "Early in training the guesses hug the baseline; they sharpen as the loss falls."
    ),
    "verdict": (
        "The network's verdict after each word, as if the sentence stopped there: above the "
        "dashed line it leans positive, below it negative. Watch it swing at 'but' and 'not'; "
        "only the last point is what it was trained to answer."
    ),
    "rollout": (
        "The network forecasts beyond what it has seen by feeding its own guesses back in. "
        "Errors compound with every step, so the forecast drifts from the truth further out."
    ),
    "trajectory": (
        "Each line is one sequence's hidden state moving through time, flattened onto its main "
        "directions (PCA); colour is the time step. Sequences that need different answers should "
        "end in different places."
    ),
    "hidden": (
        "Every hidden unit (rows) at every time step (columns) for one sequence. Units that stay "
        "the same colour for many steps are holding a memory."
    ),
    "grad_norm": (
        "How strongly the loss depends on the hidden state at each time step (log scale): "
        "backpropagation through time carries the error back from where it is scored. The orange "
        "line (right axis) is the gain per step back, the gradient at step t over the one at "
        "t+1, averaged over five steps: below the dashed line at 1 the gradient shrinks going "
        "back (vanishing), above it it grows (exploding). Crosses at the bottom: exactly 0 "
        "(underflow, or with no memory a step the loss never sees). The dotted line is an upper "
        "bound: the most one step can multiply the gradient carried back through the state (the "
        "state Jacobian's spectral norm); steps the loss reads add their own."
    ),
    "grad_history": (
        "The gradient-per-time-step curve, one row per probe over training, on a fixed colour "
        "scale from 10^-20 (and below, or underflow) to 10^2, the same for every cell, so runs can "
        "be compared. Dark bands on the left mean early steps get almost no learning signal "
        "(vanishing); bright bands that grow mean exploding gradients."
    ),
    "gates": (
        "The gates for one sequence, units by time: 0 means closed, 1 means open. An LSTM that "
        "remembers keeps its forget gate near 1 and its input gate shut between the important steps."
    ),
    "spectrum": (
        "Eigenvalues of the recurrent weight matrix with the unit circle. Outside the circle, "
        "repeated multiplication tends to blow signals up; well inside it, they fade away."
    ),
    "spectral_radius": (
        "The largest eigenvalue magnitude of the recurrent weights over training. Far above 1 "
        "risks exploding gradients; far below 1 makes memories (and gradients) vanish quickly."
    ),
    "length": (
        "How long the sequences in the probe batch are. Shorter sequences are padded, and the "
        "padding is ignored by the loss and left out of every chart."
    ),
    "race_loss": (
        "Validation loss of each cell type trained on the same task and data (log scale). The "
        "cell that drops below the baseline first has the memory this task needs."
    ),
    "race_grad": (
        "Gradient per time step for each cell type. Gated cells (LSTM, GRU) usually keep the "
        "curve flatter, so early steps still receive a learning signal."
    ),
    "grad_norm_history": (
        "The gradient's total norm at every training step (log scale). Without clipping it "
        "spikes until training blows up; with clipping every update stays bounded."
    ),
    "sweep": (
        "Final score of each cell as the memory demand grows. Where a curve crosses the dashed "
        "threshold is how far back that cell can remember."
    ),
    "attention": (
        "For the phrase above: each row is a digit the decoder wrote, each column a word it read; "
        "bright cells are where it looked while writing that digit. A trained network looks at "
        "the word that decides each digit, such as 'twelve' for the last two digits of 312."
    ),
    "encoder_grad": (
        "How strongly the loss reaches back to each word of a sentence (mean over the probe "
        "batch). Without attention, the gradient enters only through the last word's state and "
        "is weaker at the first words; with attention it enters at every word. The heights follow "
        "each network's loss, so compare the shapes."
    ),
    "exact_by_length": (
        "The share of validation numbers whose every digit is right, for short, medium and long "
        "sentences. Without attention the long ones fall behind; with attention they hold up."
    ),
    "translate_loss": (
        "Training loss (cross-entropy per digit, smoothed) of the two networks. Both learn the "
        "short numbers quickly; the gap that stays is the long sentences."
    ),
}
