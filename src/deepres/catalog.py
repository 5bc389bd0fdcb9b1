"""What deepres ships as data, read with the standard library alone: the table of every
network's size, and the model cards of the trained weights shipped by name.

Nothing here imports torch, so `deepres models` answers in a fraction of a second. The weights
themselves are read (and their sha256 checked) by ``deepres.weights.zoo``; the table is written
by ``python -m deepres.analysis.complexity`` from the built networks, and a test checks it
against them.

Files (package data):
    models/sizes.json             one row per registered network, in registry order
    weights/shipped/NAME.json     the model card of trained weights NAME (e.g. resnet20-cifar10)
    weights/shipped/NAME.md       the same card, for people
    weights/shipped/NAME.safetensors  the weights (scripts/ship_weights.py writes all three)
"""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path

from deepres.errors import CheckpointError

PACKAGE = Path(__file__).resolve().parent
SIZE_TABLE = PACKAGE / "models" / "sizes.json"
SHIPPED_WEIGHTS = PACKAGE / "weights" / "shipped"
# Replaces the folder of shipped weights: for trying out weights before shipping them, and
# for tests, which ship weights of their own.
WEIGHTS_DIR_VARIABLE = "DEEPRES_WEIGHTS_DIR"


def model_sizes(pattern: str = "*") -> list[dict]:
    """Rows of the size table (name, family, depth, block, shortcut, params, multiply_adds,
    input_size) whose names match a shell-style pattern, in registry order."""
    rows = json.loads(SIZE_TABLE.read_text())
    return [row for row in rows if fnmatch.fnmatchcase(row["name"], pattern)]


def weights_folder() -> Path:
    return Path(os.environ.get(WEIGHTS_DIR_VARIABLE) or SHIPPED_WEIGHTS)


def list_weights() -> list[str]:
    """Names of the shipped weights, sorted (e.g. ``["resnet20-cifar10"]``)."""
    folder = weights_folder()
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


class UnknownWeights(CheckpointError):
    """No shipped weights of that name; the message lists the shipped ones."""


def model_card(name: str) -> dict:
    """The model card of shipped weights ``name``; ``UnknownWeights`` when there are none of
    that name."""
    path = weights_folder() / f"{name}.json"
    if "/" in name or os.sep in name or not path.is_file():
        raise UnknownWeights(unknown_weights(name))
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable model card ({err}); reinstall deepres") from None


def model_cards() -> list[dict]:
    return [model_card(name) for name in list_weights()]


def unknown_weights(name: str) -> str:
    shipped = list_weights()
    listed = ", ".join(shipped) if shipped else "none are shipped yet"
    return f"no trained weights named {name!r} are shipped with deepres (shipped: {listed})"
