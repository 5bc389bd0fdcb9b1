"""A new length for a resumed run (``--resume RUN --iterations N``): applied whole, or refused
with the reason.

A run can take a new schedule only if it already trained by it: every lr it has used so far
must be the lr the new schedule gives at that iteration. A run whose lr fell at an old
milestone that the new schedule puts later (or an annealed lr whose curve depends on the
length) cannot become the new schedule's run, so it is refused rather than half changed.
"""

from __future__ import annotations

from pathlib import Path

from deepres.errors import RecipeError

from .build import make_schedule
from .recipe import Recipe
from .schedule import STATE

# The fields that --iterations moves (Recipe.scaled_to), the only ones a resume may change.
LENGTHS = ("iterations", "milestones", "lr_rise", "eval_every", "checkpoint_every", "log_every")


def length_changes(
    recorded: Recipe, recipe: Recipe, schedule_state: dict, reached: int, run: Path
) -> dict:
    """The fields in which ``recipe`` differs from the run's ``recorded`` one, as
    {field: [old, new]} ({} when none), once checked that a run at iteration ``reached``
    with this ``schedule_state`` can go on by ``recipe``; else a ``RecipeError``."""
    old, new = recorded.to_dict(), recipe.to_dict()
    changes = {key: [old[key], new[key]] for key in LENGTHS if old[key] != new[key]}
    if not changes:
        return {}
    if recipe.iterations <= reached:
        raise RecipeError(
            f"{run} is at iteration {reached:,}: a length of {recipe.iterations:,} would "
            f"end it where it already is or before; give --iterations above {reached:,}, "
            "or resume without --iterations"
        )
    differs = _first_different_lr(recorded, recipe, schedule_state, reached)
    if differs is not None:
        iteration, was, would = differs
        raise RecipeError(
            f"{run} cannot follow the schedule of {recipe.iterations:,} iterations: it "
            f"trained at lr {was:g} from iteration {iteration:,}, where that schedule has "
            f"{would:g} (the run is at iteration {reached:,}); resume without --iterations, "
            f"or start a new run with --iterations {recipe.iterations}"
        )
    return changes


def _first_different_lr(
    recorded: Recipe, recipe: Recipe, schedule_state: dict, reached: int
) -> tuple[int, float, float] | None:
    """(iteration, old lr, new lr) at the first of the iterations before ``reached`` whose lr
    the two recipes set differently; None when they agree on all of them. A warm-up is
    compared as past (both schedules share it: it ends on a training error)."""
    old, new = make_schedule(recorded), make_schedule(recipe)
    state = {key: schedule_state[key] for key in STATE}
    for schedule in (old, new):
        schedule.load_state_dict({**state, "warming_up": False})
    for iteration in range(reached):
        was, would = old.lr(iteration), new.lr(iteration)
        if abs(was - would) > 1e-12 * max(abs(was), 1.0):
            return iteration, was, would
    return None
