"""The two network families of He et al. (2015), residual and plain, from one definition.

ImageNet family (paper Table 1): 7x7/64 stride-2 stem and 3x3 stride-2 max-pool, four stages of
64, 128, 256, 512 channels (x4 for bottlenecks), global average pool, fully connected layer.
CIFAR family (paper Sec. 4.2): 3x3/16 stem, three stages of 16, 32, 64 channels on 32, 16 and 8
pixel maps with n blocks (2n layers) each, so 6n+2 weighted layers, global average pool, FC.

Deviations from the paper, stated:
- The paper does not say how the final FC layer is initialised; we keep PyTorch's default.
- Plain nets are these nets with ``residual=False``; the paper adds no projections to them.
"""

from __future__ import annotations

import torch
from torch import nn

from deepres.errors import ModelError

from .blocks import SHORTCUT_OPTIONS, BasicBlock, Bottleneck, ResidualBlock

IMAGENET_LAYOUTS: dict[int, tuple[type[ResidualBlock], tuple[int, ...]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}
IMAGENET_WIDTHS = (64, 128, 256, 512)
CIFAR_WIDTHS = (16, 32, 64)


class ResNet(nn.Module):
    """A residual (or, with ``residual=False``, plain) network.

    Args:
        block: BasicBlock or Bottleneck.
        layers: blocks per stage.
        widths: channels of each stage (before the bottleneck's expansion).
        stem: "imagenet" (7x7/2 conv + 3x3/2 max-pool) or "cifar" (3x3/1 conv).
        num_classes: outputs of the classifier (at least 1).
        in_chans: channels of the input images.
        shortcut: "A", "B" or "C" (paper Sec. 3.3); ignored by plain nets, which must pass None.
        residual: False removes every shortcut (the paper's plain nets).
        stride_in_1x1: bottlenecks only; True strides the first 1x1 (paper), False the 3x3
            (torchvision "v1.5").
        zero_init_residual: start each block's last BN gamma at 0, so every residual block
            begins as the identity (Goyal et al., 2017; not in the paper).
    """

    def __init__(
        self,
        block: type[ResidualBlock],
        layers: tuple[int, ...],
        widths: tuple[int, ...],
        *,
        stem: str,
        num_classes: int,
        in_chans: int = 3,
        shortcut: str | None = "B",
        residual: bool = True,
        stride_in_1x1: bool = True,
        zero_init_residual: bool = False,
    ):
        super().__init__()
        _check_positive_int("num_classes", num_classes)
        _check_positive_int("in_chans", in_chans)
        if residual and shortcut not in SHORTCUT_OPTIONS:
            raise ModelError(f"shortcut must be one of {SHORTCUT_OPTIONS}, got {shortcut!r}")
        if not residual and shortcut is not None:
            raise ModelError(f"a plain net has no shortcuts; drop shortcut={shortcut!r}")
        if not residual and zero_init_residual:
            raise ModelError("zero_init_residual needs shortcuts: a plain net would output zeros")
        if stem not in ("imagenet", "cifar"):
            raise ModelError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")

        self.in_chans = in_chans
        self.num_classes = num_classes
        self.residual = residual
        self.shortcut = shortcut if residual else None

        stem_width = widths[0]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_chans, stem_width, 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_chans, stem_width, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)

        self.stage_names = tuple(f"layer{i + 1}" for i in range(len(layers)))
        channels = stem_width
        # Where a bottleneck strides; a basic block has a single strided convolution.
        block_args = {"stride_in_1x1": stride_in_1x1} if issubclass(block, Bottleneck) else {}
        for i, (name, depth, width) in enumerate(zip(self.stage_names, layers, widths)):
            blocks = []
            for j in range(depth):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(
                    block(channels, width, stride=stride, shortcut=self.shortcut, **block_args)
                )
                channels = width * block.expansion
            self.add_module(name, nn.Sequential(*blocks))
        self.num_features = channels

        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # He et al. (2015b), as the paper says: fan_out, for ReLU.
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, ResidualBlock):
                    nn.init.zeros_(m.last_bn.weight)

    def blocks(self) -> list[ResidualBlock]:
        """Every residual block, in order from input to output."""
        return [m for m in self.modules() if isinstance(m, ResidualBlock)]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's feature map, before pooling: (N, num_features, H', W')."""
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise ModelError(
                f"expected a batch of shape (N, {self.in_chans}, H, W), got {tuple(x.shape)}; "
                f"convert the images to {self.in_chans} channels, or build the model with "
                f"in_chans={x.shape[1] if x.dim() == 4 else 'C'}"
            )
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool and classifier; ``pre_logits=True`` stops after the pool."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Linear:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier with a freshly initialised one of ``num_classes`` outputs."""
        _check_positive_int("num_classes", num_classes)
        device, dtype = self.fc.weight.device, self.fc.weight.dtype
        self.fc = nn.Linear(self.num_features, num_classes, device=device, dtype=dtype)
        self.num_classes = num_classes


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelError(f"{name} must be a whole number of at least 1, got {value!r}")


def imagenet_resnet(
    depth: int,
    *,
    residual: bool = True,
    shortcut: str | None = None,
    stride_in_1x1: bool = True,
    num_classes: int = 1000,
    in_chans: int = 3,
    zero_init_residual: bool = False,
) -> ResNet:
    """ResNet-18/34/50/101/152 of paper Table 1 (plain with ``residual=False``).

    ``shortcut`` defaults to option B, as the paper uses for its ImageNet models.
    """
    if depth not in IMAGENET_LAYOUTS:
        raise ModelError(
            f"no ImageNet ResNet of depth {depth!r}; choose one of {sorted(IMAGENET_LAYOUTS)}"
        )
    block, layers = IMAGENET_LAYOUTS[depth]
    return ResNet(
        block,
        layers,
        IMAGENET_WIDTHS,
        stem="imagenet",
        num_classes=num_classes,
        in_chans=in_chans,
        shortcut=_default_shortcut(shortcut, residual, "B"),
        residual=residual,
        stride_in_1x1=stride_in_1x1,
        zero_init_residual=zero_init_residual,
    )


def cifar_resnet(
    depth: int,
    *,
    residual: bool = True,
    shortcut: str | None = None,
    num_classes: int = 10,
    in_chans: int = 3,
    zero_init_residual: bool = False,
) -> ResNet:
    """The 6n+2-layer CIFAR-10 nets of paper Sec. 4.2 (plain with ``residual=False``).

    ``shortcut`` defaults to option A, as the paper uses for every CIFAR net.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ModelError(
            f"a CIFAR ResNet has 6n+2 layers (n >= 1): 8, 14, 20, 26, 32, ..., got depth={depth!r}"
        )
    n = (depth - 2) // 6
    return ResNet(
        BasicBlock,
        (n, n, n),
        CIFAR_WIDTHS,
        stem="cifar",
        num_classes=num_classes,
        in_chans=in_chans,
        shortcut=_default_shortcut(shortcut, residual, "A"),
        residual=residual,
        zero_init_residual=zero_init_residual,
    )


def _default_shortcut(shortcut: str | None, residual: bool, default: str) -> str | None:
    """The family's option when none is given; plain nets keep None (ResNet rejects others)."""
    if shortcut is None:
        return default if residual else None
    return shortcut.upper() if isinstance(shortcut, str) else shortcut
