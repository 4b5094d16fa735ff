"""The memory estimate counts a fixed test set's validation pass at its real size."""

from core.config import ExperimentConfig
from core.memory import raw_terms
from core.trainer import PROBE_BATCH, VAL_BATCH, Experiment


def test_evaluation_term_counts_the_sequences_validation_really_uses():
    for task in ("speech", "vowels"):
        config = ExperimentConfig(task=task, seq_len=29, batch_size=32)
        experiment = Experiment(config)
        terms = raw_terms(config, experiment.task.input_size, experiment.task.output_size)
        validated = experiment.val_batch.size
        assert validated == (370 if task == "vowels" else VAL_BATCH)
        assert terms["evaluation"] * 32 == terms["training"] * (validated + PROBE_BATCH)
