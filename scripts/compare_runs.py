"""Runs side by side, as a Markdown table: how each differs from the first in its recipe, its
validation error along the way, its state (for maintainers: the ablation tables of
docs/results.md come from here).

    .venv/bin/python scripts/compare_runs.py RUN_DIR... [--every 1000]

Columns: the run (its folder's name), what its recipe changes from the first run's (data
included), the validation error at every --every iterations (default: every evaluation of the
first run), the last validation error, the test error of a completed run only, and its
state ("completed", "training" while a process holds its lock, else how it last stopped, with
its iteration). The test error is shown, never used: choose on the validation error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deepres.runs import RunDir


def recipe_changes(recipe: dict, first: dict) -> str:
    """``key value`` for every field of ``recipe`` that differs from ``first``; "-" if none."""
    changed = [f"{key} {value}" for key, value in recipe.items() if first.get(key) != value]
    return ", ".join(changed) or "-"


def val_errors(metrics: list[dict]) -> dict[int, float]:
    return {r["iteration"]: r["val_error"] for r in metrics if "val_error" in r}


def table(runs: list[Path], every: int | None) -> str:
    dirs = [RunDir(path) for path in runs]
    first_recipe = dirs[0].read_recipe()
    first_evals = sorted(val_errors(dirs[0].read_metrics()))
    columns = [i for i in first_evals if every is None or i % every == 0]
    pct = lambda x: "-" if x is None else f"{100 * x:.2f}"  # noqa: E731
    lines = [
        "| run | changes from " + runs[0].name + " | "
        + " | ".join(f"val @ {i:,}" for i in columns) + " | last val | test | state |",
        "|---|---|" + "---:|" * (len(columns) + 2) + "---|",
    ]  # fmt: skip
    for path, run in zip(runs, dirs):
        metrics = run.read_metrics()
        errors = val_errors(metrics)
        last = errors[max(errors)] if errors else None
        summary = run.read_summary()
        done = run.progress_said(metrics, summary)
        test = summary.test_error if done == "completed" else None
        cells = [pct(errors.get(i)) for i in columns]
        lines.append(
            f"| {path.name} | {recipe_changes(run.read_recipe(), first_recipe)} | "
            + " | ".join(cells) + f" | {pct(last)} | {pct(test)} | {done} |"
        )  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR")
    p.add_argument("--every", type=int, help="columns at multiples of this many iterations")
    args = p.parse_args(argv)
    missing = [str(r) for r in args.runs if not RunDir(r).exists()]
    if missing:
        print(f"compare_runs: not run directories (no recipe.yaml): {', '.join(missing)}",
              file=sys.stderr)  # fmt: skip
        return 2
    print(table(args.runs, args.every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
