"""A copy of a checkpoint of a run with a weight average (``ema_decay`` > 0) that holds the
trained weights in the average's place, so that `deepres eval` measures them (for maintainers:
the weight average's cost in docs/results.md).

    .venv/bin/python scripts/trained_weights.py RUN/checkpoints/last.pt OUT.pt
    .venv/bin/deepres eval OUT.pt --split val --mode center
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from deepres.errors import DeepresError
from deepres.weights import load_checkpoint


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, target = map(Path, args)
    try:
        state = load_checkpoint(source)
    except DeepresError as err:
        print(f"trained_weights: {err}", file=sys.stderr)
        return 2
    if state.get("trained_weights") is None:
        print(f"trained_weights: {source} holds no weight average: its model is the trained "
              "weights already", file=sys.stderr)  # fmt: skip
        return 2
    trained = {"model": state["trained_weights"], "trained_weights": None, "average_updates": 0}
    torch.save({**state, **trained}, target)
    print(f"{target}: the trained weights of {source} at iteration {state['iteration']:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
