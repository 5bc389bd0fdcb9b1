"""Runs side by side, as a Markdown table: how each differs from the first in its recipe, its
validation error along the way, and how it stands (the ablation tables of docs/results.md).

Columns: the run (its folder's name), what its recipe changes from the first run's (data
included), the validation error at every ``every`` iterations (default: every evaluation of
the first run), the last validation error, the test error of a completed run only, and its
state ("completed", "training" while a process holds its lock, else how it last stopped, with
its iteration). The test error is shown, never used: choose on the validation error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .rundir import RunDir


def compare_runs(
    paths: list[Path],
    every: int | None = None,
    unused: Callable[[dict], set[str]] = lambda recipe: set(),
) -> str:
    """The table of the runs at ``paths``, the first the one the others are compared with.
    ``unused(recipe)``: the fields that a run's recipe leaves without effect (the recipe
    knows, in a layer above this one); a field unused by both runs is no change."""
    dirs = RunDir.existing(paths)
    first_recipe = dirs[0].read_recipe()
    first_unused = unused(first_recipe)
    first_evals = sorted(_val_errors(dirs[0].read_metrics()))
    columns = [i for i in first_evals if every is None or i % every == 0]
    pct = lambda x: "-" if x is None else f"{100 * x:.2f}"  # noqa: E731
    header = ["run", f"changes from {dirs[0].path.name}"]
    header += [f"val @ {i:,}" for i in columns] + ["last val", "test", "state"]
    lines = [markdown_row(header), "|---|---|" + "---:|" * (len(columns) + 2) + "---|"]
    for run in dirs:
        metrics = run.read_metrics()
        errors = _val_errors(metrics)
        last = errors[max(errors)] if errors else None
        summary = run.read_summary()
        done = run.progress_said(metrics, summary)
        test = summary.test_error if done == "completed" else None
        recipe = run.read_recipe()
        changes = recipe_changes(recipe, first_recipe, unused(recipe) & first_unused)
        cells = [pct(errors.get(i)) for i in columns]
        lines.append(markdown_row([run.path.name, changes, *cells, pct(last), pct(test), done]))
    return "\n".join(lines)


def markdown_row(cells: list[str]) -> str:
    """A row of a Markdown table."""
    return "| " + " | ".join(cells) + " |"


def recipe_changes(recipe: dict, first: dict, unused: set[str] = frozenset()) -> str:
    """``key value`` for every field of ``recipe`` that differs from ``first``, but for the
    ``unused`` ones; "-" if none."""
    changed = [
        f"{key} {value}"
        for key, value in recipe.items()
        if first.get(key) != value and key not in unused
    ]
    return ", ".join(changed) or "-"


def _val_errors(metrics: list[dict]) -> dict[int, float]:
    return {r["iteration"]: r["val_error"] for r in metrics if "val_error" in r}
