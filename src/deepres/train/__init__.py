"""Training: recipes as data, the schedule, the step, the loop, checkpoints."""

from .loop import TrainingDiverged, TrainOptions, train
from .recipe import Recipe, load_recipe, parse_overrides, preset_names

__all__ = [
    "TrainingDiverged",
    "TrainOptions",
    "train",
    "Recipe",
    "load_recipe",
    "parse_overrides",
    "preset_names",
]
