"""A run's state in and out of a checkpoint: the network and what describes it (all that
best.pt holds), and for last.pt everything else a resumed run needs to go on exactly where
this one stood (optimiser, schedule, data position, RNG states, the partial log window)."""

from __future__ import annotations

import torch

from deepres.data import Preprocessing
from deepres.runs import CheckpointState
from deepres.runs.records import Best, WindowTotals

from .parts import TrainingParts


def network_state(parts: TrainingParts, iteration: int) -> CheckpointState:
    """The network and what describes it: all that best.pt holds."""
    return CheckpointState(
        iteration=iteration,
        model=parts.network.state_dict(),
        model_name=parts.recipe.model,
        recipe=parts.recipe.to_dict(),
        classes=list(parts.splits.classes),
        preprocessing=Preprocessing.of_loader(parts.train_loader).to_dict(),
    )


def resumable_state(
    parts: TrainingParts, iteration: int, best: Best, window_totals: WindowTotals
) -> CheckpointState:
    """All that last.pt holds."""
    state = network_state(parts, iteration)
    state.optimizer = parts.optimizer.state_dict()
    state.schedule = parts.schedule.state_dict()
    state.data = parts.train_loader.state_dict()
    state.window, state.best = window_totals, best
    state.rng = {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    if parts.average:
        state.trained_weights = parts.model.state_dict()
        state.average_updates = parts.average.updates
    return state


def load_resumable_state(parts: TrainingParts, state: CheckpointState) -> None:
    """Put ``parts`` where ``state`` (a last.pt) stood; the loop's own counters (iteration,
    best, window) are the caller's to take from ``state``."""
    if parts.average:
        parts.average.load_state_dict({"model": state.model, "updates": state.average_updates})
    parts.model.load_state_dict(
        state.model if state.trained_weights is None else state.trained_weights
    )
    parts.optimizer.load_state_dict(state.optimizer)
    parts.schedule.load_state_dict(state.schedule)
    # Every process is where rank 0 was, each in its own share of the data.
    parts.train_loader.load_state_dict({**state.data, "rank": parts.world.rank})
    torch.set_rng_state(state.rng["torch"])
    if state.rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state.rng["cuda"])
