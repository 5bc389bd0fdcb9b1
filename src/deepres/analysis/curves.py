"""Training curves from a run directory's metrics: the data of paper Fig. 6."""

from __future__ import annotations

import statistics

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


END_OF_RUN = 0.05  # the share of a run over which its final training error is averaged


def final_training_error(curve: list[list[float]]) -> float | None:
    """The training error at the end of a run: the mean of its log points in the last 5% of
    the iterations (3,200 of the paper's 64,000), where the learning rate no longer changes
    in the paper's schedule. One log point alone is the mean of a few batches, too noisy to
    rank networks by."""
    if not curve:
        return None
    start = curve[-1][0] * (1 - END_OF_RUN)
    return statistics.fmean(error for iteration, error in curve if iteration >= start)
