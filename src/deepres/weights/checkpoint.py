"""Checkpoints: written atomically, read without ever running code from the file.

A checkpoint is a dict of tensors and plain values (model, optimiser, schedule, data position,
RNG states, recipe), so ``torch.load(weights_only=True)`` reads it: a file that holds a pickled
object that would run code is refused rather than executed.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

FORMAT = "deepres-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write ``state`` to ``path`` so that a crash at any moment leaves the old file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a deepres checkpoint, refusing damaged, foreign and code-carrying files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not zipfile.is_zipfile(path):
        # torch.save always writes a zip archive; anything else is cut short, damaged or some
        # other kind of file, and is not unpickled at all.
        raise CheckpointError(f"{path}: damaged or truncated checkpoint, or not a PyTorch file "
                              "(it is not in torch.save's zip format)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" not in str(err):
            raise CheckpointError(f"{path}: damaged checkpoint ({_last_line(err)})") from None
        raise CheckpointError(
            f"{path}: refused to load: the file holds Python objects that would run code when "
            f"unpickled ({_last_line(err)}); only tensors and plain values are read") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({str(err)[:200]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a deepres checkpoint (no '{FORMAT}' marker)")
    return state


def _last_line(err: Exception) -> str:
    """The line of torch's long weights_only message that says what was found."""
    lines = [line for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if "GLOBAL" in line or "Unsupported" in line]
    return (useful or lines or ["unreadable"])[0][:200]
