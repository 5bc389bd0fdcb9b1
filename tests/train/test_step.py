"""Evaluation sums on a network small enough to compute by hand."""

import math

import pytest
import torch
from torch import nn

from deepres.train.step import evaluation_sums


class LeftRight(nn.Module):
    """Logits: the image's left pixel for class 0, its right pixel for class 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x[:, 0, 0, 0], x[:, 0, 0, 1]], dim=1)


def test_flip_averages_an_image_with_its_mirror_image():
    images = torch.tensor([[[[2.0, 0.0]]], [[[0.0, 1.0]]]])  # (2, 1, 1, 2)
    labels = torch.tensor([0, 0])
    loss, wrong, seen = evaluation_sums(LeftRight(), [(images, labels)]).tolist()
    expected = -math.log(1 / (1 + math.exp(-2))) - math.log(1 / (1 + math.exp(1)))
    assert (wrong, seen) == (1, 2) and loss == pytest.approx(expected)
    # Mirrored, each image scores its two classes alike: probability 1/2 each.
    loss, _, _ = evaluation_sums(LeftRight(), [(images, labels)], flip=True).tolist()
    assert loss == pytest.approx(2 * math.log(2))
