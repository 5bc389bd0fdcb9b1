"""The pieces of a run that a recipe decides: the network, the optimiser, the schedule."""

from __future__ import annotations

import torch
from torch import nn

from deepres.models import create_model, model_info

from .recipe import Recipe
from .schedule import LRSchedule


def build_model(recipe: Recipe, num_classes: int, in_chans: int) -> nn.Module:
    for key in ("num_classes", "in_chans"):
        if key in recipe.model_args:
            raise ValueError(f"model_args: {key} comes from the data; remove it from the recipe")
    return create_model(recipe.model, num_classes=num_classes, in_chans=in_chans, **recipe.model_args)


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.SGD:
    """SGD with momentum; BN weights and biases (the 1-d parameters, chosen by shape) are
    decayed too unless the recipe says otherwise, since the paper decays everything."""
    if recipe.decay_norm_and_bias:
        groups = [{"params": list(model.parameters()), "weight_decay": recipe.weight_decay}]
    else:
        params = list(model.parameters())
        groups = [{"params": [p for p in params if p.ndim > 1], "weight_decay": recipe.weight_decay},
                  {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov)


def make_schedule(recipe: Recipe) -> LRSchedule:
    warm = recipe.warmup == "on" or (recipe.warmup == "auto" and model_info(recipe.model).depth >= 110)
    # --scale-lr: the linear scaling rule (Goyal et al., 2017) from the batch the lr was set for.
    scale = recipe.batch_size / recipe.lr_batch if recipe.scale_lr else 1.0
    return LRSchedule(recipe.lr * scale, list(recipe.milestones), recipe.lr_factor,
                      plateau=recipe.schedule == "plateau", patience=recipe.plateau_patience,
                      warmup_lr=recipe.warmup_lr * scale if warm else None,
                      warmup_until_error=recipe.warmup_until_error,
                      anneal=recipe.schedule if recipe.schedule in ("cosine", "onecycle") else None,
                      rise=recipe.lr_rise, total=recipe.iterations)
