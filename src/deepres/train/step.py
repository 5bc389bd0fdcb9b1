"""One training step and the top-1 error of a model on a loader: the whole of the arithmetic."""

from __future__ import annotations

import contextlib
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from deepres.errors import DataError


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """bf16 autocast where asked; bf16 has float32's range, so no loss scaling is needed."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    amp_dtype: torch.dtype | None = None,
    label_smoothing: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward, backward, update. Returns the batch's summed loss and its count of wrong top-1
    answers, as tensors left on the device so that the caller chooses when to synchronise."""
    with autocast(images.device, amp_dtype):
        logits = model(images)
        loss = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        wrong = (logits.argmax(dim=1) != labels).sum()
    return loss.detach() * labels.numel(), wrong


@torch.no_grad()
def evaluation_sums(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    amp_dtype: torch.dtype | None = None,
    flip: bool = False,
) -> torch.Tensor:
    """The ``deepres.runs.records.Sums`` of ``model`` in eval mode over ``batches`` (summed
    loss, wrong top-1 answers, images), as a float64 tensor on the device in that order, so
    that processes' shares add up before anything waits for the device. ``flip`` averages the
    softmax scores of each image and its mirror image (not the paper's view)."""
    was_training = model.training
    model.eval()
    sums = None
    try:
        for images, labels in batches:
            with autocast(images.device, amp_dtype):
                log_probs = model(images).float().log_softmax(dim=1)
                if flip:
                    mirrored = model(images.flip(3)).float().softmax(dim=1)
                    log_probs = ((log_probs.exp() + mirrored) / 2).log()
            batch = torch.stack(
                [
                    F.nll_loss(log_probs, labels, reduction="sum").double(),
                    (log_probs.argmax(dim=1) != labels).sum().double(),
                    torch.tensor(labels.numel(), dtype=torch.float64, device=labels.device),
                ]
            )
            sums = batch if sums is None else sums + batch
    finally:
        model.train(was_training)
    if sums is None:
        raise DataError("evaluation got no images")
    return sums
