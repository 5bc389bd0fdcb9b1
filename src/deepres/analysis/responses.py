"""Layer responses of paper Fig. 7: the standard deviation of each 3x3 layer's output.

The paper's response of a 3x3 layer is its output "after BN and before other nonlinearity
(ReLU/addition)": the output of the batch norm that follows the convolution. We include every
3x3 convolution, the stem's too (a CIFAR net of depth d has d - 1 of them); the ImageNet stem is
7x7 and a bottleneck's 1x1 layers are not 3x3, so they are left out.

The standard deviation is taken over every element of the response (images, channels and
pixels together), with the model in eval mode, as one population standard deviation per layer.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from deepres.errors import DataError
from deepres.models import ResNet


def response_layers(model: ResNet) -> list[tuple[str, nn.BatchNorm2d]]:
    """(name, batch norm) after every 3x3 convolution, from input to output."""
    names = {module: name for name, module in model.named_modules()}
    pairs = [(model.conv1, model.bn1)]
    for block in model.blocks():
        pairs += [
            (getattr(block, f"conv{i}"), getattr(block, f"bn{i}"))
            for i in (1, 2, 3)
            if hasattr(block, f"conv{i}")
        ]
    return [(names[bn], bn) for conv, bn in pairs if conv.kernel_size == (3, 3)]


class _RunningMoments:
    """Count, mean and sum of squared deviations: each batch's from torch.var_mean (in the
    response's dtype, which is fast), merged across batches in float64 (Chan et al.), so that
    millions of elements lose no precision to cancellation."""

    def __init__(self) -> None:
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: torch.Tensor) -> None:
        n = values.numel()
        var, mean = torch.var_mean(values.detach().float(), correction=0)
        mean, m2 = mean.item(), var.item() * n
        total = self.count + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.count * n / total
        self.mean += delta * n / total
        self.count = total

    def std(self) -> float:
        return (self.m2 / self.count) ** 0.5


@torch.no_grad()
def response_stds(
    model: ResNet, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> list[dict]:
    """``[{"layer": name, "std": float}, ...]`` for every 3x3 layer of ``model`` over the
    images of ``batches`` (labels are ignored), in the order of ``response_layers``."""
    layers = response_layers(model)
    moments = [_RunningMoments() for _ in layers]

    def recorder(acc: _RunningMoments):
        # Measured inside the hook: the block's in-place ReLU overwrites this very tensor
        # as soon as the hook returns.
        return lambda module, inputs, output: acc.add(output)

    hooks = [bn.register_forward_hook(recorder(acc)) for (_, bn), acc in zip(layers, moments)]
    was_training = model.training
    model.eval()
    try:
        for images, _ in batches:
            model(images)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    if not moments or moments[0].count == 0:
        raise DataError("response_stds got no images")
    return [{"layer": name, "std": acc.std()} for (name, _), acc in zip(layers, moments)]
