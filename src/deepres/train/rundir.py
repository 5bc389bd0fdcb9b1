"""A run directory: everything one training run leaves behind, as data.

    recipe.yaml       the resolved recipe (every length in iterations)
    meta.json         code version, torch version, device, command line, data source
    classes.json      class index -> name
    bad_files.txt     images that were skipped, one per line with the reason
    metrics.jsonl     one JSON object per log or evaluation point
    tensorboard/      the same metrics as TensorBoard event files
    checkpoints/      last.pt (resume from here) and best.pt (lowest validation error)
    summary.json      how the run ended and its final figures
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import torch
import yaml

import deepres
from deepres.atomic import write_text_atomic


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.last = self.path / "checkpoints" / "last.pt"
        self.best = self.path / "checkpoints" / "best.pt"
        self.metrics = self.path / "metrics.jsonl"

    def create(self) -> None:
        """Start a new run; never overwrite one that is already there."""
        if self.path.exists() and any(self.path.iterdir()):
            raise ValueError(f"{self.path} already holds files: continue that run with "
                             f"--resume {self.path}, or choose another --out")
        (self.path / "checkpoints").mkdir(parents=True, exist_ok=True)

    def exists(self) -> bool:
        """A run has been started here (its recipe is written)."""
        return (self.path / "recipe.yaml").is_file()

    def check_resumable(self) -> None:
        if not self.exists():
            raise ValueError(f"{self.path} is not a deepres run directory (no recipe.yaml); "
                             "--resume takes the --out folder of an earlier run")

    def write_json(self, name: str, obj: object) -> None:
        write_text_atomic(self.path / name, json.dumps(obj, indent=2) + "\n")

    def read_json(self, name: str) -> object:
        return json.loads((self.path / name).read_text())

    def write_recipe(self, recipe_dict: dict) -> None:
        write_text_atomic(self.path / "recipe.yaml", yaml.safe_dump(recipe_dict, sort_keys=False))

    def read_recipe(self) -> dict:
        return yaml.safe_load((self.path / "recipe.yaml").read_text())

    def log_metrics(self, record: dict) -> None:
        with open(self.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read_metrics(self) -> list[dict]:
        if not self.metrics.exists():
            return []
        return [json.loads(line) for line in self.metrics.read_text().splitlines() if line.strip()]

    def forget_metrics_after(self, iteration: int) -> None:
        """On resume: drop the records of iterations that the checkpoint does not hold, since
        the resumed run computes them again."""
        kept = [r for r in self.read_metrics() if r["iteration"] <= iteration]
        write_text_atomic(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))


def describe_environment(device: torch.device) -> dict:
    """Versions and hardware, so that a figure can be traced to what produced it."""
    return {
        "deepres_version": deepres.__version__,
        "git_commit": _git_commit(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "command": sys.argv,
    }


def _git_commit() -> str | None:
    """HEAD of the checkout deepres runs from, with '-dirty' for uncommitted changes."""
    source = Path(deepres.__file__).resolve().parent
    try:
        run = lambda *args: subprocess.run(["git", *args], cwd=source, capture_output=True,
                                           text=True, timeout=10)
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = run("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None
