"""`deepres models`: every registered network with its depth, shortcut, size and cost."""

from __future__ import annotations

import argparse
import json

from deepres.analysis.complexity import model_summary
from deepres.errors import UsageError
from deepres.models import list_models

COLUMNS = ("name", "family", "depth", "block", "shortcut", "params", "mult-adds", "input")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the registered networks with their sizes",
                       description="List every registered network; parameter counts and "
                       "multiply-adds are counted from the built network, not typed in.")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'plain*'")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    names = list_models(args.pattern)
    if not names:
        raise UsageError(f"no model matches {args.pattern!r}; `deepres models` lists them all")
    rows = [model_summary(name) for name in names]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    cells = [[row["name"], row["family"], str(row["depth"]), row["block"], row["shortcut"],
              f"{row['params']:,}", _giga_or_mega(row["multiply_adds"]),
              f"{row['input_size']}x{row['input_size']}"] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(COLUMNS)]
    right = {"depth", "params", "mult-adds"}
    for line in [list(COLUMNS), *cells]:
        print("  ".join(c.rjust(w) if h in right else c.ljust(w)
                        for c, w, h in zip(line, widths, COLUMNS)).rstrip())
    return 0


def _giga_or_mega(n: int) -> str:
    return f"{n / 1e9:.2f}G" if n >= 1e9 else f"{n / 1e6:.1f}M"
