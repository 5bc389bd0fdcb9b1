"""`deepres models`: every registered network with its depth, shortcut, size and cost, and the
trained weights shipped for it.

Reads only deepres.catalog's tables (no torch), so that it answers at once.
"""

from __future__ import annotations

import argparse
import json

from deepres.catalog import model_cards, model_sizes
from deepres.errors import UsageError

COLUMNS = (
    "name",
    "family",
    "depth",
    "block",
    "shortcut",
    "params",
    "mult-adds",
    "input",
    "weights",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the registered networks with their sizes and trained weights",
        description="List every registered network; parameter counts and "
        "multiply-adds are counted from the built network, not typed in. "
        "'weights' names the trained weights shipped with deepres (use them "
        "as NETWORK-DATA, e.g. resnet20-cifar10) with their measured test error.",
    )
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'plain*'")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    rows = model_sizes(args.pattern)
    if not rows:
        raise UsageError(f"no model matches {args.pattern!r}; `deepres models` lists them all")
    trained = _shipped_weights()
    for row in rows:
        row["weights"] = trained.get(row["name"], [])
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    cells = [
        [
            row["name"],
            row["family"],
            str(row["depth"]),
            row["block"],
            row["shortcut"],
            f"{row['params']:,}",
            _giga_or_mega(row["multiply_adds"]),
            f"{row['input_size']}x{row['input_size']}",
            _weights_cell(row["weights"]),
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(COLUMNS)]
    right = {"depth", "params", "mult-adds"}
    for line in [list(COLUMNS), *cells]:
        print(
            "  ".join(
                c.rjust(w) if h in right else c.ljust(w) for c, w, h in zip(line, widths, COLUMNS)
            ).rstrip()
        )
    return 0


def _shipped_weights() -> dict[str, list[dict]]:
    """network name -> [{"name", "weights", "test_error", "test_error_center_flip",
    "data_set"}] of the weights shipped for it ("test_error_center_flip" None unless the
    recipe validated with flips; "data_set" the named data set they learned from and were
    tested on, such as cifar10-png, or None); "weights" is what ``create_model(network,
    weights=...)`` takes (cifar10, cifar10-fast)."""
    by_model: dict[str, list[dict]] = {}
    for card in model_cards():
        by_model.setdefault(card.model, []).append(
            {
                "name": card.name,
                "weights": card.weights,
                "test_error": card.test_error,
                "test_error_center_flip": card.test_error_center_flip,
                "data_set": card.data.set,
            }
        )
    return by_model


def _weights_cell(weights: list[dict]) -> str:
    """e.g. "cifar10 8.15% test error on cifar10-png", with the flip-averaged figure of
    weights whose recipe validated so (cifar-fast), or "-" when none are shipped. The data
    set is named because the same name, cifar10, has covered the original images and their
    JPEG copy, whose errors are not comparable."""
    return ", ".join(map(_weights_text, weights)) or "-"


def _weights_text(shipped: dict) -> str:
    """One entry of ``_shipped_weights``, as the table shows it."""
    text = f"{shipped['weights']} {100 * shipped['test_error']:.2f}% test error"
    if shipped["data_set"]:
        text += f" on {shipped['data_set']}"
    flip = shipped["test_error_center_flip"]
    return text if flip is None else f"{text} ({100 * flip:.2f}% with flip)"


def _giga_or_mega(n: int) -> str:
    return f"{n / 1e9:.2f}G" if n >= 1e9 else f"{n / 1e6:.1f}M"
