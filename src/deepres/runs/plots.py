"""Figures of runs drawn from their metrics: here, below train and analysis, so that both draw
with the same pieces.

matplotlib's object interface on its Agg canvas: no display, no pyplot state, safe in any
process. matplotlib is imported only when a figure is drawn, since it takes about half a
second to load, which every `deepres` command would otherwise pay.
"""

from __future__ import annotations

from pathlib import Path

from deepres.atomic import write_atomic

SPLITS = (("train", "training", "--"), ("val", "validation", "-"), ("test", "test", "-"))


def new_figure(figsize: tuple[float, float], layout: str | None = "constrained"):
    """An empty figure on the Agg canvas. ``layout=None``: fixed margins, for figures drawn
    often (the constrained layout fits the labels exactly but doubles the drawing time)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def series(records: list[dict], key: str) -> list[list[float]]:
    """``[[iteration, value], ...]`` of the records (metrics.jsonl) that hold ``key``."""
    return [[r["iteration"], r[key]] for r in records if r.get(key) is not None]


def save_png(figure, path: Path) -> None:
    """Write the figure whole or not at all: a reader never sees half a PNG."""
    write_atomic(path, lambda f: figure.savefig(f, format="png", dpi=100))


def plot_run_curves(records: list[dict], path: Path, title: str) -> None:
    """One run's curves, as a run directory's curves.png: the loss and the error of every
    split the run measured, and the learning rate, against iterations."""
    figure = new_figure(figsize=(12, 3.6), layout=None)
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.14, top=0.88, wspace=0.3)
    loss_ax, error_ax, lr_ax = figure.subplots(1, 3)
    for split, words, style in SPLITS:
        for ax, key, scale in ((loss_ax, "loss", 1), (error_ax, "error", 100)):
            points = series(records, f"{split}_{key}")
            if points:
                ax.plot(
                    [p[0] for p in points],
                    [scale * p[1] for p in points],
                    style,
                    label=words,
                    linewidth=1.2,
                )
    lr = series(records, "lr")
    lr_ax.plot([p[0] for p in lr], [p[1] for p in lr], color="C3", linewidth=1.2)
    for ax, name in ((loss_ax, "loss"), (error_ax, "error (%)"), (lr_ax, "learning rate")):
        ax.set_xlabel("iterations")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    error_ax.set_ylim(bottom=0)
    figure.suptitle(title, fontsize=10)
    save_png(figure, path)
