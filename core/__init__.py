"""rnn-playground engine: models, tasks, trainer, probes and exports. No UI imports here."""

from core.config import FIELDS, ConfigError, ExperimentConfig
from core.model import CELLS, SequenceModel, build_model
from core.probes import Probe, probe
from core.tasks import TASKS, Batch, Task, make_task
from core.trainer import Experiment, History

__all__ = [
    "CELLS",
    "FIELDS",
    "TASKS",
    "Batch",
    "ConfigError",
    "Experiment",
    "ExperimentConfig",
    "History",
    "Probe",
    "SequenceModel",
    "Task",
    "build_model",
    "make_task",
    "probe",
]
