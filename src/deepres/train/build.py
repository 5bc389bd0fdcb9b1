"""The pieces of a run that a recipe decides: the loaders, the network, the optimiser, the
schedule."""

from __future__ import annotations

import torch
from torch import nn

from deepres.data import BatchLoader, DataSplits
from deepres.errors import RecipeError
from deepres.models import build_network, model_info

from .distributed import World
from .recipe import Recipe
from .schedule import LRSchedule


def make_loaders(
    splits: DataSplits, recipe: Recipe, world: World, device: torch.device
) -> tuple[BatchLoader, dict[str, BatchLoader]]:
    """This process's training loader and its "val"/"test" loaders (those the data has), each
    taking its share of every global batch."""
    if recipe.batch_size % world.world_size:
        raise RecipeError(
            f"batch_size {recipe.batch_size} (the global batch) does not split "
            f"evenly across {world.world_size} processes"
        )
    share = dict(
        rank=world.rank, world_size=world.world_size, device=device, normalize=recipe.normalize
    )
    per_process = recipe.batch_size // world.world_size
    # augment "auto": the data set's own (pad-crop-flip for CIFAR-size images, crop only
    # for digits, scale and colour for streamed ImageNet-size images).
    augment = None if recipe.augment == "auto" else recipe.augment
    train = BatchLoader(
        splits.train, per_process, train=True, seed=recipe.seed, augment=augment, **share
    )
    evaluation = {
        name: BatchLoader(split, per_process * 2, train=False, **share)
        for name, split in (("val", splits.val), ("test", splits.test))
        if split is not None
    }
    return train, evaluation


def build_model(recipe: Recipe, num_classes: int, in_chans: int) -> nn.Module:
    for key in ("num_classes", "in_chans"):
        if key in recipe.model_args:
            raise RecipeError(f"model_args: {key} comes from the data; remove it from the recipe")
    return build_network(
        recipe.model, num_classes=num_classes, in_chans=in_chans, **recipe.model_args
    )


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.SGD:
    """SGD with momentum; BN weights and biases (the 1-d parameters, chosen by shape) are
    decayed too unless the recipe says otherwise, since the paper decays everything."""
    if recipe.decay_norm_and_bias:
        groups = [{"params": list(model.parameters()), "weight_decay": recipe.weight_decay}]
    else:
        params = list(model.parameters())
        groups = [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": recipe.weight_decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ]
    return torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov)


def make_schedule(recipe: Recipe) -> LRSchedule:
    warm = recipe.warmup == "on" or (
        recipe.warmup == "auto" and model_info(recipe.model).depth >= 110
    )
    # --scale-lr: the linear scaling rule (Goyal et al., 2017) from the batch the lr was set for.
    scale = recipe.batch_size / recipe.lr_batch if recipe.scale_lr else 1.0
    return LRSchedule(
        recipe.lr * scale,
        list(recipe.milestones),
        recipe.lr_factor,
        plateau=recipe.schedule == "plateau",
        patience=recipe.plateau_patience,
        warmup_lr=recipe.warmup_lr * scale if warm else None,
        warmup_until_error=recipe.warmup_until_error,
        anneal=recipe.schedule if recipe.schedule in ("cosine", "onecycle") else None,
        rise=recipe.lr_rise,
        total=recipe.iterations,
    )
