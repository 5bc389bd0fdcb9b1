"""Batch norm whose statistics span the global batch of every process.

PyTorch's nn.SyncBatchNorm runs on GPUs only; this one runs wherever torch.distributed does
(gloo on CPUs included), so that multi-process CPU runs and their tests can use it too. Its
parameters and buffers are those of nn.BatchNorm2d, so checkpoints keep their keys.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


class _SumOverProcesses(torch.autograd.Function):
    """all_reduce(SUM) with its gradient: every process's output depends on every input, so
    the gradient is the sum of every process's incoming gradient."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.clone()
        dist.all_reduce(tensor)
        return tensor

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class SyncBatchNorm2d(nn.BatchNorm2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        x32 = x if x.dtype in (torch.float32, torch.float64) else x.float()  # bf16 autocast
        count = torch.tensor(x.numel() // x.shape[1], device=x.device, dtype=x32.dtype)
        # Two passes, as single-process batch norm does, for the same accuracy. The reductions
        # are differentiable: each process's gradient then includes the others' losses.
        sums = _SumOverProcesses.apply(torch.cat([x32.sum(dim=(0, 2, 3)), count.view(1)]))
        total = sums[-1]
        mean = sums[:-1] / total
        centred = x32 - mean.view(1, -1, 1, 1)
        var = _SumOverProcesses.apply(centred.square().sum(dim=(0, 2, 3))) / total
        self._update_running_stats(mean.detach(), var.detach(), total.detach())
        y = centred * torch.rsqrt(var + self.eps).view(1, -1, 1, 1)
        if self.affine:
            y = y * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        return y.to(x.dtype)

    @torch.no_grad()
    def _update_running_stats(
        self, mean: torch.Tensor, var: torch.Tensor, total: torch.Tensor
    ) -> None:
        if not self.track_running_stats:
            return
        self.num_batches_tracked += 1
        momentum = (
            self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.item()
        )
        unbiased = var * total / (total - 1).clamp(min=1)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm2d in ``module`` with a SyncBatchNorm2d holding the same state."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            sync = SyncBatchNorm2d(
                child.num_features,
                child.eps,
                child.momentum,
                child.affine,
                child.track_running_stats,
                device=child.weight.device,
                dtype=child.weight.dtype,
            )
            sync.load_state_dict(child.state_dict())
            setattr(module, name, sync)
        else:
            convert_sync_batchnorm(child)
    return module
