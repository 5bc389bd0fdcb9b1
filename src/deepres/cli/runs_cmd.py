"""`deepres runs compare`: training runs side by side, as a Markdown table
(``deepres.runs.compare_runs``); `deepres runs curve`: points along their error curves
(``deepres.analysis.curves.points_table``); `deepres runs budget`: final test error against
the images trained on (``deepres.experiments.budget``); `deepres runs time`: how long their
steps took, without the time a stopped process stood still (``deepres.runs.step_time``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepres.analysis.curves import points_table
from deepres.atomic import write_text_atomic
from deepres.errors import RunDirError, show_path
from deepres.experiments.budget import (
    budget_points,
    budget_table,
    mixed_training_images,
    plot_budget,
)
from deepres.runs import RunDir, compare_runs
from deepres.runs.step_time import step_time, step_time_table
from deepres.train.recipe import Recipe

from .trained_args import note


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "runs",
        help="look at training runs: side by side, along their curves, budgets, time",
        description="Look at the run directories that `deepres train` writes.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    compare = actions.add_parser(
        "compare",
        help="runs side by side: recipe changes, validation error along the way, state",
        description="Print a Markdown table of the runs, one row each: what its recipe changes "
        "from the first run's (data included), its validation error at the first run's "
        "evaluations (or every --every iterations), its last validation error, the test "
        "error of a completed run (shown, never to choose by: choose on the validation "
        "error), and its state: completed, training (a process holds the run), or how it "
        "last stopped, at which iteration.",
    )
    compare.add_argument(
        "runs",
        type=Path,
        nargs="+",
        metavar="RUN_DIR",
        help="run directories, the first the one the others are compared with",
    )
    compare.add_argument(
        "--every",
        type=_iterations,
        metavar="N",
        help="validation-error columns at multiples of N iterations only",
    )
    compare.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE as well")
    _add_curve_parser(actions)
    _add_budget_parser(actions)
    _add_time_parser(actions)


def _add_curve_parser(actions: argparse._SubParsersAction) -> None:
    curve = actions.add_parser(
        "curve",
        help="points along the runs' error curves: at chosen iterations, the last, the lowest",
        description="Print a Markdown table, two rows per run: its test error (the "
        "validation error for a run that recorded the test error only at its end) at "
        "each --at iteration, at its last evaluation (its end, once completed), and its "
        "lowest, with the iteration; then its training error, the mean of the log points of "
        "the --window iterations up to each, and at the last point the mean of the last 5% "
        "of the iterations, as the report of `deepres reproduce` gives the end's.",
    )
    _add_runs_and_out(curve)
    curve.add_argument(
        "--at",
        type=_iteration_list,
        metavar="N,N,...",
        help="iterations, e.g. 16000,32000,48000 (default: the first run's learning-rate "
        "milestones)",
    )
    curve.add_argument(
        "--window",
        type=_iterations,
        default=1000,
        metavar="N",
        help="iterations of training error averaged up to each point (default 1,000)",
    )


def _add_budget_parser(actions: argparse._SubParsersAction) -> None:
    budget = actions.add_parser(
        "budget",
        help="final test error against the images trained on, a row per completed run",
        description="Print a Markdown table of the completed runs, by network and budget: "
        "iterations, batch, images, training time (steps alone) and the test error of the "
        "run's last evaluation, in its recipe's view and precision. Runs not completed are "
        "left out, with a line each on stderr: a run stopped early is no point of the curve. "
        "Runs that trained on different images (another data folder or validation split) are "
        "said to be, on stderr as well.",
    )
    _add_runs_and_out(budget)
    budget.add_argument(
        "--plot", type=Path, metavar="PNG", help="draw test error against images into PNG"
    )
    budget.add_argument("--title", default="test error against budget", help="the plot's title")
    budget.add_argument(
        "--reference",
        action="append",
        type=_reference,
        default=[],
        metavar="LABEL=PERCENT",
        help='a dashed level in the plot, e.g. "the paper\'s ResNet-20=8.75" (repeatable)',
    )


def _add_time_parser(actions: argparse._SubParsersAction) -> None:
    time = actions.add_parser(
        "time",
        help="how long the runs' training steps took, without the time they stood paused",
        description="Print a Markdown table of the runs' training-step time: as their log "
        "windows record it; the paused time they left out themselves (runs by deepres "
        "since commit 88a9ff8); and the log windows under a fifth of the run's median rate "
        "(a process stopped by SIGSTOP, which older runs counted as training), with the time "
        "the run took were those windows at its median rate. Evaluations and checkpoints are "
        "not steps.",
    )
    _add_runs_and_out(time)


def _add_runs_and_out(action: argparse.ArgumentParser) -> None:
    action.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR", help="run directories")
    action.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE as well")


def run(args: argparse.Namespace) -> int:
    if args.action == "budget":
        return _budget(args)
    if args.action == "time":
        return _time(args)
    if args.action == "curve":
        return _curve(args)
    _print_table(compare_runs(args.runs, args.every, unused=_unused_fields), args.out)
    return 0


def _unused_fields(recipe: dict) -> set[str]:
    """The fields that a run's recipe (as its recipe.yaml holds it) leaves without effect;
    none for a recipe this version cannot take (the table then lists every difference)."""
    try:
        return Recipe(**recipe).unused_fields()
    except (TypeError, ValueError):  # RecipeError, or a field this version does not know
        return set()


def _print_table(table: str, out: Path | None) -> None:
    """Print ``table``, and write it to ``out`` as well if given."""
    print(table)
    if out is not None:
        write_text_atomic(out, table + "\n")
        note(f"the table is in {show_path(out)}")


def _budget(args: argparse.Namespace) -> int:
    points, left_out = budget_points(args.runs)
    for line in left_out:
        note(f"left out, not completed: {line}")
    if not points:
        raise RunDirError("none of the runs has completed: a budget curve needs finished runs")
    for line in mixed_training_images(points):
        note(f"not one curve, the runs trained on different images: {line}")
    _print_table(budget_table(points), args.out)
    if args.plot is not None:
        plot_budget(points, args.plot, args.title, dict(args.reference))
        note(f"the plot is in {show_path(args.plot)}")
    return 0


def _time(args: argparse.Namespace) -> int:
    dirs = RunDir.existing(args.runs)
    rows = [(run.path.name, step_time(run.read_metrics())) for run in dirs]
    _print_table(step_time_table(rows), args.out)
    return 0


def _curve(args: argparse.Namespace) -> int:
    dirs = RunDir.existing(args.runs)
    at = args.at or dirs[0].read_recipe().get("milestones") or []
    runs = [(run.path.name, run.read_metrics()) for run in dirs]
    _print_table(points_table(runs, sorted(set(at)), args.window), args.out)
    return 0


def _reference(text: str) -> tuple[str, float]:
    label, _, percent = text.rpartition("=")
    try:
        value = float(percent)
    except ValueError:
        value = -1.0
    if not label or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(
            f"LABEL=PERCENT, a test error in % after the last '=', not {text!r}"
        )
    return label, value


def _iteration_list(text: str) -> list[int]:
    return [_iterations(part.strip()) for part in text.split(",")]


def _iterations(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a whole number of iterations, 1 or more, not {text!r}")
    return n
