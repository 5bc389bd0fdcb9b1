"""Training: recipes as data, the schedule, the step, the loop, checkpoints.

The guide: docs/training.md (recipes, run directories, resuming) and docs/distributed.md.
"""

from .loop import TrainingDiverged, train
from .plan import RunPlan, RunRequest, TrainOptions, plan_run
from .recipe import Recipe, load_recipe, parse_overrides, preset_names

__all__ = [
    "TrainingDiverged",
    "TrainOptions",
    "train",
    "plan_run",
    "RunRequest",
    "RunPlan",
    "Recipe",
    "load_recipe",
    "parse_overrides",
    "preset_names",
]
