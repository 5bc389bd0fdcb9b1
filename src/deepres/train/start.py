"""A run's start: a fresh run writes what describes it; a resumed run loads its last checkpoint,
checked against the recipe and the data first, and notes the resume in its records."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from deepres.errors import DeepresError, RunDirError
from deepres.extras import available
from deepres.runs import CheckpointState
from deepres.runs.records import Best, WindowTotals
from deepres.runs.rundir import RECIPE

from .banner import Setup, banner
from .parts import TrainingParts
from .recipe import load_run_recipe
from .relength import length_changes
from .run_records import RunRecords
from .run_state import load_resumable_state
from .same_data import check_same_data


@dataclass(frozen=True)
class StartPoint:
    """Where the loop starts: iteration 0, or where the last checkpoint stood."""

    iteration: int = 0
    best: Best = field(default_factory=Best)
    window_start: WindowTotals | None = None  # the log window a resume goes on with


def start_run(parts: TrainingParts, records: RunRecords) -> StartPoint:
    """Fresh run: write what describes it. Resumed run: load the last checkpoint (every
    process reads it, so the run directory must be on a file system they all see)."""
    run = parts.run
    last = parts.checkpoints.load_last(parts.device) if parts.options.resume else None
    at, changes = StartPoint(), {}
    if last is not None:
        # Checked before anything is written: a refused length or changed data leaves the
        # run as it was.
        check_same_data(run, list(last.classes or []), parts.splits)
        changes = length_changes(
            load_run_recipe(run.path / RECIPE),
            parts.recipe,
            last.schedule,
            last.iteration,
            run.path,
        )
        at = _load_last(parts, last)
        records.forget_metrics_after(at.iteration)
    elif parts.options.resume:
        # Killed before its first checkpoint: nothing to go on from, so the run starts
        # again, its metrics emptied so that none is written twice.
        records.forget_metrics_after(0)
        parts.say(
            f"note: {run.path} has no checkpoint yet ({run.last}): "
            "starting the run again from iteration 0"
        )
    if parts.world.is_main:
        parts.say("\n".join(banner(_setup(parts, resumed_at=at.iteration if last else None))))
        for extra, what in (("plots", "curves.png"), ("tensorboard", "TensorBoard events")):
            if not available(extra):
                parts.say(f"note: no {what} for this run: pip install 'deepres[{extra}]'")
    if last is None:
        records.describe(parts.splits, parts.device, parts.options.recipe_name)
    else:
        records.record_resume(at.iteration, changes, parts.device)
    parts.world.barrier()
    return at


def _load_last(parts: TrainingParts, last: CheckpointState) -> StartPoint:
    """``load_resumable_state``, with a checkpoint of another network (a foreign last.pt, an
    edited ``model:``) said in one line."""
    mismatch, run, model = None, parts.run, parts.recipe.model
    if last.model_name != model:
        mismatch = f"it holds a {last.model_name}, the recipe says {model}"
    else:
        try:
            load_resumable_state(parts, last)
        except DeepresError:
            raise
        except (RuntimeError, KeyError, ValueError) as err:
            mismatch = " ".join(str(err).split())[:200]
    if mismatch is not None:
        raise RunDirError(
            f"--resume {run.path}: {run.last} is not a checkpoint of this run's "
            f"network ({mismatch}); put back its own last.pt and recipe.yaml, or start a "
            "new run (another --out)"
        )
    # The saved window holds every process's sums: one process restores them, or the next
    # totals() would count them once per process.
    window = last.window if parts.world.is_main else None
    return StartPoint(last.iteration, last.best, window)


def _setup(parts: TrainingParts, resumed_at: int | None) -> Setup:
    name = parts.options.recipe_name
    if resumed_at is not None and name is None:
        name = parts.run.read_meta().get("recipe_name")
    return Setup(
        recipe=parts.recipe,
        recipe_name=name,
        parameters=sum(p.numel() for p in parts.model.parameters()),
        splits=parts.splits,
        device=parts.device,
        world_size=parts.world.world_size,
        amp_dtype=parts.amp_dtype,
        channels_last=parts.memory_format == torch.channels_last,
        run_dir=str(parts.run.path),
        resumed_at=resumed_at,
    )
