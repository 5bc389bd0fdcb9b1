"""Training curves from a run directory's metrics: the data of paper Fig. 6."""

from __future__ import annotations

import statistics

from deepres.runs.compare import markdown_row
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


def points_table(runs: list[tuple[str, list[dict]]], at: list[int], window: int) -> str:
    """A Markdown table of points along each run's curves, two rows per run: its held-out
    error (the test error where the run recorded it along the way, else the validation error)
    at the iterations ``at``, at its last point (its end, once it has completed), and its
    lowest; then its training error as the mean of the log points of the ``window``
    iterations up to each, and at the last point as the report gives the end's
    (``final_training_error``). A point the run did not record is "-"."""
    pct = lambda x: "-" if x is None else f"{100 * x:.2f}"  # noqa: E731
    header = ["run", "error (%)", *[f"{i:,}" for i in at], "last", "lowest"]
    lines = [markdown_row(header), "|---|---|" + "---:|" * (len(at) + 2)]
    for name, records in runs:
        curves = training_curves(records)
        on_test = len(curves["test_error"]) > 1 or not curves["val_error"]
        held = dict(map(tuple, curves["test_error" if on_test else "val_error"]))
        low = min(held, key=held.get) if held else None
        lowest = "-" if low is None else f"{pct(held[low])} at {low:,}"
        last = held[max(held)] if held else None
        cells = [pct(held.get(i)) for i in at]
        kind = "test" if on_test else "validation"
        lines.append(markdown_row([name, kind, *cells, pct(last), lowest]))
        train = curves["train_error"]
        means = [_mean_before(train, i, window) for i in at]
        cells = [pct(m) for m in means] + [pct(final_training_error(train)), "-"]
        lines.append(markdown_row([name, f"training, mean of {window:,} iterations", *cells]))
    return "\n".join(lines)


def _mean_before(curve: list[list[float]], iteration: int, window: int) -> float | None:
    """The mean of the log points in the ``window`` iterations up to ``iteration``."""
    points = [error for i, error in curve if iteration - window < i <= iteration]
    return statistics.fmean(points) if points else None
