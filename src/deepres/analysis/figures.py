"""Paper Fig. 6 (training curves) and Fig. 7 (layer response std) as PNG files.

Drawn on the Agg canvas of ``deepres.runs.plots``, as a run's own curves.png is.
A run here is the report's record of it (``deepres.runs.records.RunRecord``).
"""

from __future__ import annotations

import math
from pathlib import Path

from deepres.runs.plots import new_figure, save_png
from deepres.runs.records import RunRecord

DEEPEST = 110  # Fig. 6's right panel: ResNet-110 and ResNet-1202
FIGURE6_PANELS = (
    ("plain", lambda run: not run.residual),
    ("ResNet", lambda run: run.residual),
    (f"ResNet, {DEEPEST} layers and more", lambda run: run.residual and run.depth >= DEEPEST),
)


def depth_colours(runs: list[RunRecord]) -> dict[int, str]:
    """One colour per depth, shared by both figures and both families."""
    return {depth: f"C{i}" for i, depth in enumerate(sorted({r.depth for r in runs}))}


def plot_training_curves(runs: list[RunRecord], path: Path, subtitle: str) -> None:
    """Fig. 6 in the paper's three panels: plain nets, residual nets, and the residual nets
    of 110 layers or more on their own (there the paper set ResNet-110 beside ResNet-1202);
    training error dashed, test error solid, against iterations."""
    colours = depth_colours(runs)
    figure = new_figure(figsize=(15, 4.2))
    axes = figure.subplots(1, 3, sharex=True, sharey=True)
    for ax, (title, shown) in zip(axes, FIGURE6_PANELS):
        for run in sorted(filter(shown, runs), key=lambda r: r.depth):
            colour = colours[run.depth]
            train, test = run.curves["train_error"], run.curves["test_error"]
            ax.plot(*_percent(train), "--", color=colour, linewidth=0.8)
            ax.plot(
                *_percent(test),
                "-",
                color=colour,
                linewidth=1.8,
                label=net_name(run.residual, run.depth),
            )
        _finish_axes(ax, title, "iterations", "error (%)")
    axes[0].set_ylim(0, _error_axis_top(runs))
    figure.suptitle(f"CIFAR-10 training (dashed) and test (solid) error\n{subtitle}", fontsize=10)
    save_png(figure, path)


def plot_response_stds(runs: list[RunRecord], path: Path, subtitle: str) -> None:
    """Fig. 7: the std of each 3x3 layer's response, in layer order (top) and sorted from
    largest to smallest (bottom); plain nets dashed, residual nets solid."""
    from matplotlib.ticker import MaxNLocator

    colours = depth_colours(runs)
    figure = new_figure(figsize=(8, 7))
    top, bottom = figure.subplots(2, 1)
    for run in sorted(runs, key=lambda r: (r.residual, r.depth)):
        stds = [layer["std"] for layer in run.response_std]
        style = dict(
            color=colours[run.depth],
            linestyle="-" if run.residual else "--",
            linewidth=1.2,
            label=net_name(run.residual, run.depth),
        )
        top.plot(range(1, len(stds) + 1), stds, **style)
        bottom.plot(range(1, len(stds) + 1), sorted(stds, reverse=True), **style)
    for ax, title in ((top, "original order"), (bottom, "sorted by magnitude")):
        _finish_axes(ax, title, "layer index" + " (sorted)" * (ax is bottom), "std")
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(
        f"CIFAR-10: std of the 3x3 layers' responses (after BN, before "
        f"addition and ReLU)\n{subtitle}",
        fontsize=10,
    )
    save_png(figure, path)


def net_name(residual: bool, depth: int) -> str:
    """As the paper names its CIFAR-10 nets: ResNet-20, plain-56."""
    return f"{'ResNet' if residual else 'plain'}-{depth}"


def _percent(points: list[list[float]]) -> tuple[list[float], list[float]]:
    return [p[0] for p in points], [100 * p[1] for p in points]


def _finish_axes(ax, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)


def _error_axis_top(runs: list[RunRecord]) -> float:
    """The paper's axis stops at 20%, hiding the first iterations' near-chance errors so that
    the final differences show; a short schedule ends higher, so the axis grows to 1.5 times
    the worst final test error (to the next 10%) when that is above 20%."""
    finals = [r.curves["test_error"][-1][1] for r in runs if r.curves["test_error"]]
    worst = 100 * max(finals, default=0.0)
    return min(100.0, max(20.0, 10 * math.ceil(1.5 * worst / 10)))
