"""`deepres runs compare`: training runs side by side, as a Markdown table
(``deepres.runs.compare_runs``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepres.atomic import write_text_atomic
from deepres.data import show_path
from deepres.runs import compare_runs

from .trained_args import note


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "runs",
        help="look at training runs: compare them side by side",
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


def run(args: argparse.Namespace) -> int:
    table = compare_runs(args.runs, args.every)
    print(table)
    if args.out is not None:
        write_text_atomic(args.out, table + "\n")
        note(f"the table is in {show_path(args.out)}")
    return 0


def _iterations(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a whole number of iterations, 1 or more, not {text!r}")
    return n
