"""The log window: what training sums between two log points, kept on the device."""

from __future__ import annotations

import time

import torch

from deepres.runs.records import Sums, WindowTotals

from .distributed import World


class Window:
    """Sums over the iterations since the last log point, kept on the device, and the time
    they took.

    ``totals()`` adds up every process's sums, so all processes see the same figures; it is a
    collective call, made by every process at the same iteration.
    """

    def __init__(self, device: torch.device, world: World, start: WindowTotals | None = None):
        start = start or WindowTotals(Sums(), 0.0)
        self.sums = start.sums.as_tensor(device)  # in the order of Sums' fields
        self.world = world
        self.seconds = start.seconds
        self.paused = 0.0  # seconds the process was stopped during this window's steps
        self.started = time.perf_counter()

    def add(self, loss_sum: torch.Tensor, wrong: torch.Tensor, n: int) -> None:
        self.sums[0] += loss_sum
        self.sums[1] += wrong
        self.sums[2] += n

    def exclude(self, seconds: float) -> None:
        """Leave out time that was not spent training (evaluation, checkpoints)."""
        self.seconds -= seconds

    def exclude_pause(self, seconds: float) -> None:
        """Leave out time that the process spent stopped (``PauseClock``), and count it."""
        self.exclude(seconds)
        self.paused += seconds

    def totals(self) -> WindowTotals:
        sums = Sums.from_tensor(self.world.all_reduce_sum(self.sums.clone()))
        return WindowTotals(sums, self.seconds + time.perf_counter() - self.started)
