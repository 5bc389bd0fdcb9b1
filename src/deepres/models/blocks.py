"""The residual blocks of He et al. (2015) and the shortcuts they add.

A block computes ReLU(F(x) + shortcut(x)) (paper Eq. 1-2), with batch norm after every
convolution and before the ReLU. With ``residual=False`` the same block computes ReLU(F(x)):
that is the paper's plain network, the same stack with its shortcuts removed.

The shortcut options of Sec. 3.3 / Table 3:
  A  identity; where the shape changes, stride-s subsampling and zero-padded extra channels
     (no parameters);
  B  identity, and a 1x1 projection (conv + BN) only where the shape changes;
  C  a 1x1 projection on every block.

Attribute names follow torchvision (conv1, bn1, ..., downsample.0 conv, downsample.1 BN) so
that its weight files load key for key.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deepres.errors import ModelError

SHORTCUT_OPTIONS = ("A", "B", "C")


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class PadShortcut(nn.Module):
    """Option A where the shape changes: keep every stride-th pixel, append zero channels.

    Sampling x[..., ::s, ::s] picks the pixels that a 1x1 stride-s convolution would see, so the
    shortcut lines up with the block's strided 3x3 convolution. The input's channels come first
    and the new ones are zeros.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        if out_channels < in_channels:
            raise ModelError(
                f"option A can only widen ({in_channels} -> {out_channels} channels); "
                "use shortcut='B' or 'C' to project to fewer channels"
            )
        self.extra_channels = out_channels - in_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.extra_channels:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))
        return x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


def make_shortcut(
    option: str | None, in_channels: int, out_channels: int, stride: int
) -> nn.Module | None:
    """The shortcut module of one block; None means the plain identity (or no shortcut at all)."""
    if option is None:
        return None
    shape_changes = stride != 1 or in_channels != out_channels
    if option == "A":
        return PadShortcut(in_channels, out_channels, stride) if shape_changes else None
    if option == "C" or (option == "B" and shape_changes):
        return nn.Sequential(
            conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels)
        )
    if option == "B":
        return None
    raise ModelError(f"unknown shortcut option {option!r}; choose one of {SHORTCUT_OPTIONS}")


class ResidualBlock(nn.Module):
    """What every block shares: the shortcut, the addition and the final ReLU.

    ``shortcut=None`` makes the block plain: no shortcut path at all.
    Subclasses define ``branch`` (the residual function F, ending in batch norm) and ``last_bn``.
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int, shortcut: str | None):
        super().__init__()
        self.residual = shortcut is not None
        self.downsample = make_shortcut(shortcut, in_channels, channels * self.expansion, stride)
        self.relu = nn.ReLU(inplace=True)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3x3 convolutions (ResNet-18/34 and every CIFAR net). The stride sits in the first."""

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        shortcut: str | None = "B",
    ):
        super().__init__(in_channels, channels, stride, shortcut)
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(x))

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(ResidualBlock):
    """1x1 (reduce), 3x3, 1x1 (expand by 4): ResNet-50/101/152.

    The paper strides the first 1x1 (``stride_in_1x1=True``, "v1"); torchvision strides the 3x3
    instead ("v1.5", ``stride_in_1x1=False``), which costs more multiply-adds and is slightly
    more accurate. Both have the same parameters.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        shortcut: str | None = "B",
        stride_in_1x1: bool = True,
    ):
        super().__init__(in_channels, channels, stride, shortcut)
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(in_channels, channels, stride_1x1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride_3x3)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, channels * self.expansion)
        self.bn3 = nn.BatchNorm2d(channels * self.expansion)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.bn3(self.conv3(x))

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3
