"""Counting a network's size: parameters and multiply-adds, measured by running it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from deepres.atomic import write_text_atomic
from deepres.catalog import SIZE_TABLE
from deepres.models import build_network, list_models, model_info


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_multiply_adds(model: nn.Module, input_size: int, in_chans: int = 3) -> int:
    """Multiply-adds of one forward pass on one (in_chans, input_size, input_size) image.

    Counts convolutions and fully connected layers, as the paper's "FLOPs (multiply-adds)" in
    Table 1 do; batch norm, ReLU, pooling and the shortcut additions are left out. The model
    runs once, so every layer is counted at the size it really sees; a model built on the meta
    device (``with torch.device("meta"):``) is counted without any arithmetic.
    """
    total = 0

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    hooks = [
        m.register_forward_hook(count)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    param = next(model.parameters())
    x = torch.zeros(1, in_chans, input_size, input_size, device=param.device, dtype=param.dtype)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return total


def model_summary(name: str) -> dict:
    """Depth, block, shortcut, parameters and multiply-adds of a registered network, counted on
    the meta device so that even ResNet-1202 and ResNet-152 take no real arithmetic."""
    info = model_info(name)
    with torch.device("meta"):
        model = build_network(name)
    block = type(model.blocks()[0]).__name__
    return {
        "name": name,
        "family": info.family,
        "depth": info.depth,
        "block": {"BasicBlock": "basic", "Bottleneck": "bottleneck"}[block],
        "shortcut": model.shortcut or "none",
        "params": count_parameters(model),
        "multiply_adds": count_multiply_adds(model, info.input_size, model.in_chans),
        "input_size": info.input_size,
    }


def size_table() -> list[dict]:
    """``model_summary`` of every registered network, in registry order."""
    return [model_summary(name) for name in list_models()]


def write_size_table(path: Path = SIZE_TABLE) -> None:
    """Write the table that `deepres models` prints without building any network (one row a
    line, so that a change shows as a readable diff)."""
    rows = ",\n".join(json.dumps(row) for row in size_table())
    write_text_atomic(path, f"[\n{rows}\n]\n")


if __name__ == "__main__":  # python -m deepres.analysis.complexity: after changing a network
    write_size_table()
    print(f"wrote {SIZE_TABLE}")
