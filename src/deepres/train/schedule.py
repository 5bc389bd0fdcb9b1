"""The learning rate at each iteration, as the paper sets it.

- step: lr, divided by 10 (``lr_factor``) at each milestone (CIFAR: 32k and 48k iterations);
- plateau: divided by 10 when the validation error has not improved for ``patience``
  evaluations (ImageNet, Sec. 3.4: "divided by 10 when the error plateaus");
- warm-up (ResNet-110, Sec. 4.2): ``warmup_lr`` until the training error first falls below
  ``warmup_until_error``, then the schedule proper.
And two that are not the paper's, for short runs (the ``cifar-fast`` recipe):
- cosine: a linear rise from 0 over ``rise`` iterations, then half a cosine down to 0 at
  ``total`` (Loshchilov & Hutter, 2016, without restarts);
- onecycle: the same rise, then a straight line down to 0 at ``total`` (Smith & Topin, 2017,
  without their momentum cycle).
All state is plain numbers, saved in every checkpoint so that a resumed run continues exactly.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass


@dataclass
class LRSchedule:
    base_lr: float
    milestones: list[int]
    factor: float = 0.1
    plateau: bool = False
    patience: int = 3
    warmup_lr: float | None = None  # None: no warm-up
    warmup_until_error: float = 0.8
    anneal: str | None = None  # "cosine" or "onecycle"; None: step or plateau
    rise: int = 0  # iterations of linear rise before the anneal
    total: int = 0  # the anneal reaches 0 here (the run's length)
    # state
    warming_up: bool = True
    warmup_ended_at: int | None = None
    plateau_divisions: int = 0
    best_val_error: float = float("inf")
    evals_since_best: int = 0

    def __post_init__(self) -> None:
        self.milestones = sorted(self.milestones)
        if self.warmup_lr is None:
            self.warming_up = False
        if self.anneal not in (None, "cosine", "onecycle"):
            raise ValueError(f"unknown anneal {self.anneal!r}: cosine or onecycle")
        if self.anneal and not 0 <= self.rise < self.total:
            raise ValueError(
                f"the lr rise ({self.rise}) must be shorter than the run ({self.total})"
            )

    def lr(self, iteration: int) -> float:
        if self.warming_up:
            return self.warmup_lr
        if self.anneal:
            return self.base_lr * self._anneal_factor(iteration)
        divisions = (
            self.plateau_divisions
            if self.plateau
            else bisect.bisect_right(self.milestones, iteration)
        )
        return self.base_lr * self.factor**divisions

    def _anneal_factor(self, iteration: int) -> float:
        if iteration < self.rise:  # counted from 1, so that the first step moves the weights
            return (iteration + 1) / self.rise
        done = min(1.0, (iteration - self.rise) / (self.total - self.rise))
        return 0.5 * (1 + math.cos(math.pi * done)) if self.anneal == "cosine" else 1 - done

    def observe_train_error(self, iteration: int, train_error: float) -> None:
        """End the warm-up once the training error is below the threshold."""
        if self.warming_up and train_error < self.warmup_until_error:
            self.warming_up = False
            self.warmup_ended_at = iteration

    def observe_val_error(self, val_error: float) -> None:
        """Count evaluations without improvement; on a plateau, divide the rate."""
        if val_error < self.best_val_error:
            self.best_val_error, self.evals_since_best = val_error, 0
            return
        self.evals_since_best += 1
        if self.plateau and self.evals_since_best >= self.patience:
            self.plateau_divisions += 1
            self.evals_since_best = 0

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        """The state that a run has reached; the shape of the schedule (base lr, milestones,
        length) stays the recipe's, so that a resumed run with a new length follows it."""
        for key in STATE:
            setattr(self, key, state[key])


# What a schedule has learnt from the run so far, as opposed to how the recipe shaped it.
STATE = ("warming_up", "warmup_ended_at", "plateau_divisions", "best_val_error", "evals_since_best")
