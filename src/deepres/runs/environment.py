"""What produced a run: versions and hardware (a run directory's meta.json)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import torch

import deepres
from deepres.device import cpu_description


def describe_environment(device: torch.device) -> dict:
    """Versions and hardware, so that a figure can be traced to what produced it."""
    return {
        "deepres_version": deepres.__version__,
        "git_commit": _git_commit(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else cpu_description(),
        "cpu_threads": torch.get_num_threads(),
        "command": sys.argv,
    }


# What a session of training ran on, recorded for the run's first session (meta.json) and for
# each that resumed it (meta.json's "resumes", with the iteration it went on from).
SESSION_KEYS = ("git_commit", "torch_version", "device", "device_name", "cpu_threads", "world_size")
_SAID = {
    "git_commit": lambda v: f"code {v}",
    "torch_version": lambda v: f"torch {v}",
    "device": lambda v: f"device {v}",
    "device_name": lambda v: f"on {v}",
    "cpu_threads": lambda n: f"{n} CPU thread{'' if n == 1 else 's'}",
    "world_size": lambda n: f"{n} process{'' if n == 1 else 'es'}",
}


def trained_in(amp: str, device: str) -> str:
    """What a run computed in, by its recipe's ``amp`` and the device in its meta.json: "bf16
    autocast" or "float32" ("auto" is bf16 on CUDA only); deepres.train.precision decides
    by it."""
    bf16 = amp == "bf16" or (amp == "auto" and device.startswith("cuda"))
    return "bf16 autocast" if bf16 else "float32"


def sessions(meta: dict) -> list[dict]:
    """The run's sessions of training in order: the first (meta.json), then each resume."""
    return [meta, *(meta.get("resumes") or [])]


def changes_during_run(meta: dict) -> list[str]:
    """What each session that resumed the run changed from the session before, in words
    ("2 CPU threads from iteration 45,400"); empty when every session ran alike."""
    words, each = [], sessions(meta)
    for before, resumed in zip(each, each[1:]):
        changed = [
            say(resumed.get(k)) for k, say in _SAID.items() if resumed.get(k) != before.get(k)
        ]
        if changed:
            words.append(f"{', '.join(changed)} from iteration {resumed['iteration']:,}")
    return words


def _git_commit() -> str | None:
    """HEAD of the checkout deepres runs from, with '-dirty' for uncommitted changes."""
    source = Path(deepres.__file__).resolve().parent

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", *args], cwd=source, capture_output=True, text=True, timeout=10
        )

    try:
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = run("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None
