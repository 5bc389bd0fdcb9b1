"""Putting a state_dict into a network, key for key, or saying exactly where they differ."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from deepres.models.blocks import Bottleneck
from deepres.models.resnet import IMAGENET_LAYOUTS

from .checkpoint import CheckpointError

# Added by DataParallel/DistributedDataParallel and by torch.compile; never part of a name.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
_SHOWN = 3  # mismatching keys named in a message


def strip_wrappers(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state_dict without the prefixes that wrappers add to every key."""
    for prefix in WRAPPER_PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def mismatches(model: nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """How ``state`` differs from ``model.state_dict()``, one phrase per kind of difference,
    naming the first few keys of each; empty when every key and shape matches."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} ({_shape(state[k])} in the file, {_shape(expected[k])} in the network)"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    return [
        f"{what}: {_first(keys)}"
        for what, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("other shapes", shapes),
        )
        if keys
    ]


def load_strictly(
    model: nn.Module, state: dict[str, torch.Tensor], source: Path, model_name: str
) -> None:
    """``model.load_state_dict(state, strict=True)``, with a ``CheckpointError`` that names the
    file and the first mismatching keys when the weights belong to another network."""
    state = strip_wrappers(state)
    problems = mismatches(model, state)
    if problems:
        raise CheckpointError(
            f"{source}: its weights do not fit {model_name}: "
            f"{'; '.join(problems)} (weights of another network? "
            "`deepres models` lists them; choose one with --model)"
        )
    model.load_state_dict(state, strict=True)


def guess_model_name(state: dict[str, torch.Tensor]) -> str | None:
    """The registered network of a bare state_dict in torchvision's ImageNet layout (7x7 stem),
    from its blocks per stage; bottleneck nets are torchvision's v1.5. None when unsure."""
    state = strip_wrappers(state)
    conv1 = state.get("conv1.weight")
    if conv1 is None or conv1.dim() != 4 or conv1.shape[-1] != 7:
        return None
    blocks = tuple(
        len({k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}) for i in range(1, 5)
    )
    bottleneck = "layer1.0.conv3.weight" in state
    residual = "layer2.0.downsample.0.weight" in state  # plain nets have no projections
    for depth, (block, layers) in IMAGENET_LAYOUTS.items():
        if layers == blocks and (block is Bottleneck) == bottleneck:
            if not residual:
                return f"plain{depth}"
            return f"resnet{depth}_v1_5" if bottleneck else f"resnet{depth}"
    return None


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def _first(keys: list[str]) -> str:
    more = f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more
