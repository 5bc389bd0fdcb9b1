"""A run's two checkpoints: last.pt, to resume from, and best.pt, the network with the lowest
validation error. Only the main process writes them; every process reads last.pt."""

from __future__ import annotations

import torch

from deepres.errors import CheckpointError, RunDirError
from deepres.runs import CheckpointState, RunDir
from deepres.weights import load_checkpoint
from deepres.weights.checkpoint import save_checkpoint


class Checkpoints:
    def __init__(self, run: RunDir, writer: bool):
        self.run = run
        self.writer = writer  # rank 0 writes; the other processes only read

    def load_last(self, device: torch.device) -> CheckpointState | None:
        if not self.run.last.exists():
            return None
        try:
            return CheckpointState.from_dict(load_checkpoint(self.run.last, map_location=device))
        except RunDirError as err:  # a deepres checkpoint, but not one to resume from
            raise CheckpointError(f"{self.run.last}: {err}") from None

    def save_last(self, state: CheckpointState) -> None:
        if self.writer:
            save_checkpoint(state.to_dict(), self.run.last)

    def save_best(self, state: CheckpointState) -> None:
        if self.writer:
            save_checkpoint(state.to_dict(), self.run.best)

    def kept(self) -> str:
        """What a run that has gone wrong leaves to resume from, in words."""
        state = self.load_last("cpu")
        if state is None:
            return "no checkpoint had been written yet"
        return (
            f"the last good checkpoint, of iteration {state.iteration:,}, stays in {self.run.last}"
        )
