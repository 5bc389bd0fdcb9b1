"""The records a run writes and others read back, as typed data.

Each record is a dataclass whose field names are the keys of its JSON or checkpoint form:
``to_dict()`` writes them and ``from_dict()`` reads them (keys it does not know are left
aside, so that a newer file still reads). Nothing else spells these keys.

    Sums            running sums over images: summed loss, wrong top-1 answers, images seen
    WindowTotals    the sums since the last log point, with the training time they took
    Best            the lowest validation error so far, and its iteration
    CheckpointState what checkpoints/last.pt holds (best.pt: the network part alone)
    RunStatus       how a run ended: completed, reached its target, diverged or stopped
    RunSummary      summary.json: how a run ended and its final figures
    RunRecord       one finished run as the reproduction's report reads it
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

import torch

from deepres.errors import RunDirError

R = TypeVar("R")


def _to_dict(record) -> dict:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _from_dict(cls: type[R], values: dict) -> R:
    known = {f.name for f in dataclasses.fields(cls)}
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = sorted(required - set(values))
    if missing:
        raise RunDirError(f"not a complete {cls.__name__}: no {', '.join(missing)}")
    return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class Sums:
    """Sums over a number of images; sums (not means) so that processes' shares add up.
    On the device they are a float64 tensor in the order of the fields (``as_tensor``)."""

    loss_sum: float = 0.0
    wrong: int = 0
    seen: int = 0

    @property
    def loss(self) -> float:
        return self.loss_sum / self.seen

    @property
    def error(self) -> float:
        return self.wrong / self.seen

    def as_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.tensor(
            [self.loss_sum, self.wrong, self.seen], dtype=torch.float64, device=device
        )

    @classmethod
    def from_tensor(cls, tensor: torch.Tensor) -> Sums:
        loss_sum, wrong, seen = tensor.tolist()
        return cls(loss_sum, int(wrong), int(seen))

    def to_dict(self) -> dict:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Sums:
        return _from_dict(cls, values)


@dataclass(frozen=True)
class WindowTotals:
    """Everything summed since the last log point, and the seconds spent training."""

    sums: Sums
    seconds: float

    def to_dict(self) -> dict:
        return {**self.sums.to_dict(), "seconds": self.seconds}

    @classmethod
    def from_dict(cls, values: dict) -> WindowTotals:
        return cls(Sums.from_dict(values), values["seconds"])


@dataclass(frozen=True)
class Best:
    """The lowest validation error so far and the iteration it was measured at."""

    val_error: float | None = None
    iteration: int | None = None

    def improved_by(self, val_error: float) -> bool:
        """Lower is better; a tie keeps the earlier iteration."""
        return self.val_error is None or val_error < self.val_error

    def to_dict(self) -> dict:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Best:
        return _from_dict(cls, values)


@dataclass(kw_only=True)
class CheckpointState:
    """A checkpoint's contents. The first fields describe the network (best.pt holds only
    those); the rest are what a resumed run needs to go on exactly where this one stood."""

    iteration: int
    model: dict  # the state_dict
    model_name: str
    recipe: dict  # deepres.train.Recipe.to_dict()
    classes: list[str]
    preprocessing: dict  # deepres.data.Preprocessing.to_dict()
    optimizer: dict | None = None
    schedule: dict | None = None
    data: dict | None = None  # the training loader's position
    window: WindowTotals | None = None
    best: Best | None = None
    rng: dict | None = None  # {"torch": state, "cuda": [state per device]}
    # With a weight average (recipe ema_decay), ``model`` is the average, the network to use,
    # and these are the weights being trained and the average's count of updates.
    trained_weights: dict | None = None
    average_updates: int | None = None

    @property
    def resumable(self) -> bool:
        return self.optimizer is not None

    def to_dict(self) -> dict:
        values = {k: v for k, v in _to_dict(self).items() if v is not None}
        for name in ("window", "best"):
            if name in values:
                values[name] = values[name].to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict) -> CheckpointState:
        state = _from_dict(cls, values)
        if state.window is not None:
            state.window = WindowTotals.from_dict(state.window)
        if state.best is not None:
            state.best = Best.from_dict(state.best)
        return state


class RunStatus(str, Enum):
    """How a run ended. summary.json says it in words, with ``RunSummary.reason`` after the
    value for a stopped run: "stopped by SIGTERM", "stopped: cannot write ...". A ``str``
    enum, so that a status compares equal to its words ("completed")."""

    COMPLETED = "completed"
    REACHED_TARGET = "reached target"  # the recipe's stop_at_val_error was met
    DIVERGED = "diverged"
    STOPPED = "stopped by"  # a signal; the reason is its name, or "a signal" (another rank's)
    # A fault stopped the run: a file of it could not be written, or another process of a
    # torchrun training stopped answering; the reason is the error.
    FAULT = "stopped:"

    def __str__(self) -> str:
        return self.value

    def said(self, reason: str | None) -> str:
        """The status in words, as summary.json holds it."""
        return self.value if reason is None else f"{self.value} {reason}"

    @classmethod
    def read(cls, words: str) -> tuple[RunStatus, str | None]:
        """(status, reason) of a status in words; the inverse of ``said``."""
        for status in cls if isinstance(words, str) else ():
            if words == status.value:
                return status, None
            if words.startswith(f"{status.value} "):
                return status, words[len(status.value) + 1 :]
        raise RunDirError(
            f"not a run status: {words!r} (one of {', '.join(repr(s.value) for s in cls)})"
        )


@dataclass
class RunSummary:
    """summary.json. A process other than rank 0 of a distributed run knows its status and
    rank alone; the figures are rank 0's."""

    status: RunStatus
    iterations: int
    planned_iterations: int | None = None
    model: str | None = None
    data: str | None = None
    params: int | None = None
    test_error: float | None = None  # of the last evaluation
    val_error: float | None = None
    best_val_error: float | None = None
    best_iteration: int | None = None
    train_seconds: float | None = None
    images_per_s: float | None = None
    bad_files: int | None = None
    run_dir: str | None = None
    world_size: int = 1
    rank: int = 0
    # What stopped a STOPPED or FAULT run; summary.json holds it in "status".
    reason: str | None = None

    @property
    def finished(self) -> bool:
        """Ended for good: running it again would do nothing new (or diverge again)."""
        return self.status in (RunStatus.COMPLETED, RunStatus.DIVERGED)

    @property
    def stopped(self) -> bool:
        """Stopped before its end (by a signal, or a fault: a file it could not write, a
        process of its torchrun training gone): resumable."""
        return self.status in (RunStatus.STOPPED, RunStatus.FAULT)

    @property
    def status_said(self) -> str:
        """The status in words: "completed", "stopped by SIGTERM", ..."""
        return self.status.said(self.reason)

    def to_dict(self) -> dict:
        values = _to_dict(self)
        del values["reason"]
        return {**values, "status": self.status_said}

    @classmethod
    def from_dict(cls, values: dict) -> RunSummary:
        summary = _from_dict(cls, {k: v for k, v in values.items() if k != "reason"})
        summary.status, summary.reason = RunStatus.read(summary.status)
        return summary


@dataclass(kw_only=True)
class RunRecord:
    """One finished run of a reproduction, as its report reads it."""

    name: str
    model: str
    depth: int
    residual: bool
    seed: int
    status: str
    iterations: int
    test_error: float | None
    best_val_error: float | None
    best_iteration: int | None
    params: int
    train_seconds: float | None
    images_per_s: float | None
    curves: dict[str, list[list[float]]]  # deepres.analysis.training_curves
    response_std: list[dict] | None  # deepres.analysis.response_stds, or None
    meta: dict = field(default_factory=dict)  # where it ran: git commit, device, threads
    precision: str | None = None  # deepres.runs.environment.trained_in; None: not recorded

    def to_dict(self) -> dict:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> RunRecord:
        return _from_dict(cls, values)
