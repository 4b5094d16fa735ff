"""Chart builders: pure functions from core objects (History, Probe, ProbeRecord, Task) to Plotly
figures, one module per tab of the page (`style` holds the shared look). No Streamlit here; the
one module that talks to the browser is `playground.charts.component`.

Each public builder is named `<name>_figure` (or `<name>_heatmap`, `<name>_histogram`) and has a
caption under the same name without that suffix in `playground.words.captions.CAPTIONS`.
"""

from playground.charts.compare import (
    grad_norm_history_figure,
    race_grad_figure,
    race_loss_figure,
    sweep_figure,
)
from playground.charts.gates import gates_figure
from playground.charts.gradients import grad_history_heatmap, grad_norm_figure
from playground.charts.memory import hidden_heatmap, length_histogram, trajectory_figure
from playground.charts.predictions import prediction_figure, rollout_figure, verdict_figure
from playground.charts.training import loss_figure, metric_figure
from playground.charts.translation import (
    attention_heatmap,
    encoder_grad_figure,
    exact_by_length_figure,
    translate_loss_figure,
)
from playground.charts.weights import spectral_radius_figure, spectrum_figure

__all__ = [
    "attention_heatmap",
    "encoder_grad_figure",
    "exact_by_length_figure",
    "translate_loss_figure",
    "gates_figure",
    "grad_history_heatmap",
    "grad_norm_history_figure",
    "grad_norm_figure",
    "hidden_heatmap",
    "length_histogram",
    "loss_figure",
    "metric_figure",
    "prediction_figure",
    "race_grad_figure",
    "race_loss_figure",
    "rollout_figure",
    "spectral_radius_figure",
    "spectrum_figure",
    "sweep_figure",
    "trajectory_figure",
    "verdict_figure",
]
