"""Final test error against the training budget: how low a recipe goes with 2,000, 4,000,
8,000 or 16,000 iterations (docs/results.md, issue 25's budget curve).

``budget_points(run_dirs)`` reads completed runs, one point each: the network, how many
images it trained on (iterations times batch), its training time (the steps alone, without
the time its process stood paused: ``deepres.runs.step_time``) and the test error of its
last evaluation, in the view and precision its recipe evaluates with. ``budget_table`` prints
them as Markdown, ``plot_budget`` draws test error against images, a line per network.

Only a completed run is a point: a run stopped early ends far from the end of its schedule,
so its last error says nothing about what its budget buys. Points from runs that trained on
different images (another data folder, or another validation split held out) are no one curve:
``mixed_training_images`` says which runs differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepres.errors import RunDirError
from deepres.runs import RunDir, RunStatus
from deepres.runs.plots import new_figure, save_png
from deepres.runs.rundir import RECIPE
from deepres.runs.step_time import step_time

from .report import duration


@dataclass(frozen=True)
class BudgetPoint:
    run: str  # the run directory's name
    model: str
    iterations: int
    batch_size: int
    test_error: float
    train_seconds: float | None
    trained_on: str  # the data folder and the validation images held out of it

    @property
    def images(self) -> int:
        return self.iterations * self.batch_size


def budget_points(paths: list[Path]) -> tuple[list[BudgetPoint], list[str]]:
    """(points of the completed runs at ``paths``, by network then images; a line for each run
    left out, saying how it stands)."""
    points, left_out = [], []
    for path in paths:
        run = RunDir(path)
        if not run.exists():
            raise RunDirError(f"{path} is not a run directory (no {RECIPE})")
        summary = run.read_summary()
        if summary is None or summary.status is not RunStatus.COMPLETED:
            left_out.append(f"{path.name}: {run.progress_said(run.read_metrics(), summary)}")
            continue
        if summary.test_error is None:
            left_out.append(f"{path.name}: completed without a test evaluation")
            continue
        recipe = run.read_recipe()
        points.append(
            BudgetPoint(
                run=path.name,
                model=recipe["model"],
                iterations=summary.iterations,
                batch_size=recipe["batch_size"],
                test_error=summary.test_error,
                train_seconds=step_time(run.read_metrics()).estimated,
                trained_on=f"{recipe['data']} less {recipe['val_size']:,} validation images",
            )
        )
    return sorted(points, key=lambda p: (p.model, p.images)), left_out


def mixed_training_images(points: list[BudgetPoint]) -> list[str]:
    """A line per set of training images when the points trained on more than one, naming its
    runs; empty when they all trained on the same images."""
    runs_by_images: dict[str, list[str]] = {}
    for p in points:
        runs_by_images.setdefault(p.trained_on, []).append(p.run)
    if len(runs_by_images) < 2:
        return []
    return [f"{images}: {', '.join(runs)}" for images, runs in runs_by_images.items()]


def budget_table(points: list[BudgetPoint]) -> str:
    lines = [
        "| network | iterations | batch | images | training time | test error | run |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for p in points:
        lines.append(
            f"| {p.model} | {p.iterations:,} | {p.batch_size} | {p.images:,} | "
            f"{duration(p.train_seconds)} | {100 * p.test_error:.2f}% | {p.run} |"
        )
    return "\n".join(lines)


def plot_budget(
    points: list[BudgetPoint], path: Path, title: str, references: dict[str, float] | None = None
) -> None:
    """Test error (%) against images trained on, on a log scale, a line per network;
    ``references``: a dashed level per label, in % (e.g. the paper's error)."""
    figure = new_figure(figsize=(6, 4))
    ax = figure.subplots()
    for label, percent in (references or {}).items():
        ax.axhline(
            percent, color="grey", linestyle="--", linewidth=1, label=f"{label}: {percent:g}%"
        )
    for model in sorted({p.model for p in points}):
        mine = [p for p in points if p.model == model]
        ax.plot([p.images for p in mine], [100 * p.test_error for p in mine], "o-", label=model)
        for p in mine:
            ax.annotate(
                f"{100 * p.test_error:.2f}",
                (p.images, 100 * p.test_error),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
    ax.set_xscale("log", base=2)
    budgets = sorted({p.images for p in points})
    ax.set_xticks(budgets, [f"{images / 1e6:.3g}M" for images in budgets])
    ax.minorticks_off()
    ax.set_xlabel("images trained on")
    ax.set_ylabel("test error (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    save_png(figure, path)
