"""Training curves from a run directory's metrics: the data of paper Fig. 6."""

from __future__ import annotations

from deepres.runs.plots import series

CURVES = ("train_error", "val_error", "test_error")


def training_curves(records: list[dict]) -> dict[str, list[list[float]]]:
    """``{"train_error": [[iteration, error], ...], "val_error": ..., "test_error": ...}`` from
    a run's metrics records (``deepres.runs.RunDir.read_metrics``).

    The training error is the mean over the iterations since the previous log point (the
    run's ``log_every``), measured on the augmented batches as the model trained on them; the
    validation and test errors are of the model in eval mode at that iteration.
    """
    return {name: series(records, name) for name in CURVES}
