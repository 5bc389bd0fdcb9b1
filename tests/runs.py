"""Small trained networks for the tests that use one: image folders made on the spot and short
training runs on them (seconds on a CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from deepres.cli import main
from deepres.train import Recipe, load_recipe


def settings(**fields) -> list[str]:
    """``--set KEY=VALUE`` for each field: recipe changes as the command line takes them."""
    return [word for key, value in fields.items() for word in ("--set", f"{key}={value}")]


SHORT = [
    "--quiet",
    *settings(batch_size=16, log_every=5, eval_every=10, checkpoint_every=10, milestones="[100]"),
]


def tiny_recipe(**lengths) -> Recipe:
    """ResNet-20 on the built-in digits at batch 32, lr never falling, for runs of a few
    iterations; ``lengths`` (iterations, log_every, ...) and any other field as given."""
    fixed = dict(model="resnet20", data="digits", batch_size=32, milestones=[30])
    return load_recipe("quick").replace(**{**fixed, **lengths})


def make_color_folder(
    root: Path, classes=("red", "green", "blue", "gray"), per_class=12, test_per_class=4, size=16
) -> Path:
    """root/train/<class>/ and root/test/<class>/ PNGs: noise around each class's own colour,
    so that a network can learn them and no two images are alike."""
    base = {
        "red": (200, 40, 40),
        "green": (40, 200, 40),
        "blue": (40, 40, 200),
        "gray": (128, 128, 128),
        "cyan": (40, 200, 200),
        "pink": (230, 120, 180),
    }
    rng = np.random.default_rng(0)
    for split, count in (("train", per_class), ("test", test_per_class)):
        for name in classes:
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(count):
                noise = rng.integers(-40, 41, (size, size, 3))
                pixels = np.clip(np.array(base[name]) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{n}.png")
    return root


def train_run(out: Path, *args: str) -> Path:
    """``deepres train`` with the short settings; fails the test if training fails."""
    code = main(["train", *SHORT, "--out", str(out), *args])
    assert code == 0, f"training {out} failed with exit status {code}"
    return out
