"""Checkpoints of the public CIFAR-10 ResNet reproductions, recognised by their layout and
converted to deepres's state_dict, with the preprocessing their authors published.

- akamaster/pytorch_resnet_cifar10 (``resnet20-12fca82f.th``, ...): ``{"state_dict": ...}``
  with DataParallel's ``module.`` prefix, the classifier named ``linear``, no
  ``num_batches_tracked``. Its option A pads the identity with planes // 4 zero channels on
  *both* sides, where deepres appends them (``blocks.PadShortcut``), so the same function in
  deepres needs each stage's channels reordered (``_akamaster_orders``). Normalised with a
  channel mean/std of (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225) on [0, 1] images.
- chenyaofo/pytorch-cifar-models (``cifar10_resnet20-4118986f.pt``, ...): a bare state_dict
  in torchvision's key names on the CIFAR stem, with 1x1 conv + BN projections where the shape
  changes: deepres's option B. Normalised with mean (0.4914, 0.4822, 0.4465), std (0.2023,
  0.1994, 0.2010), as the configuration in its training logs records.

Both train on CIFAR's 32x32 images with 4-pixel padded crops and flips, so the preprocessing
is deepres's CIFAR one with the author's channel statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from deepres.data import Preprocessing, Stats

from .fit import strip_wrappers

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
# The key names of deepres's networks (torchvision's); anything else is another layout.
_DEEPRES_KEY = re.compile(
    r"((conv1|bn1|fc)|layer\d+\.\d+\.(conv\d|bn\d|downsample\.[01]))"
    r"\.(weight|bias|running_mean|running_var|num_batches_tracked)"
)
_CIFAR_WIDTHS = (16, 32, 64)


@dataclass(frozen=True)
class Layout:
    project: str  # where the checkpoints come from
    classifier: str  # the name of its last layer
    shortcut: str  # deepres's option that computes the same function
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


AKAMASTER = Layout(
    "akamaster/pytorch_resnet_cifar10",
    "linear",
    "A",
    (0.485, 0.456, 0.406),
    (0.229, 0.224, 0.225),
)
CHENYAOFO = Layout(
    "chenyaofo/pytorch-cifar-models",
    "fc",
    "B",
    (0.4914, 0.4822, 0.4465),
    (0.2023, 0.1994, 0.2010),
)
KNOWN_PROJECTS = (AKAMASTER.project, CHENYAOFO.project)


@dataclass
class Converted:
    state_dict: dict[str, torch.Tensor]  # in deepres's layout
    info: dict  # what a deepres file records (files.INFO_KEYS)
    note: str  # one line: which layout was recognised and what was done


def convert(state: dict[str, torch.Tensor]) -> Converted | None:
    """``state`` in deepres's layout, if it is one of the public checkpoints above."""
    state = strip_wrappers(state)
    for layout in (AKAMASTER, CHENYAOFO):
        depth = _cifar_depth(state, layout)
        if depth is not None:
            return _converted(state, layout, depth)
    return None


def foreign_keys(state: dict[str, torch.Tensor]) -> list[str]:
    """The keys of ``state`` that are not named as deepres (and torchvision) name them."""
    return [k for k in strip_wrappers(state) if not _DEEPRES_KEY.fullmatch(k)]


def _cifar_depth(state: dict[str, torch.Tensor], layout: Layout) -> int | None:
    """The depth (6n+2) of a CIFAR ResNet in ``layout``, else None."""
    stem = state.get("conv1.weight")
    head = state.get(f"{layout.classifier}.weight")
    if stem is None or head is None or stem.dim() != 4 or head.dim() != 2:
        return None
    if stem.shape[0] != _CIFAR_WIDTHS[0] or stem.shape[2:] != (3, 3):
        return None
    blocks = [
        len({k.split(".")[1] for k in state if k.startswith(f"layer{stage}.")})
        for stage in (1, 2, 3, 4)
    ]
    n = blocks[0]
    if n == 0 or blocks != [n, n, n, 0] or head.shape[1] != _CIFAR_WIDTHS[-1]:
        return None
    if any(not _DEEPRES_KEY.fullmatch(_renamed(k, layout)) for k in state):
        return None
    projections = {k.split(".downsample")[0] for k in state if ".downsample." in k}
    wanted = {"layer2.0", "layer3.0"} if layout.shortcut == "B" else set()
    return 6 * n + 2 if projections == wanted else None


def _renamed(key: str, layout: Layout) -> str:
    prefix = f"{layout.classifier}."
    return "fc." + key[len(prefix) :] if key.startswith(prefix) else key


def _converted(state: dict[str, torch.Tensor], layout: Layout, depth: int) -> Converted:
    state = {_renamed(k, layout): v for k, v in state.items()}
    if layout is AKAMASTER:
        state = _reordered(state, _akamaster_orders())
    for key in [k for k in state if k.endswith(".running_var")]:
        # BatchNorm's counter, absent from files saved before PyTorch 0.4.1; unused in eval.
        state.setdefault(key.replace("running_var", "num_batches_tracked"), torch.tensor(0))
    num_classes = state["fc.weight"].shape[0]
    prep = _preprocessing(layout)
    info = {
        "model_name": f"resnet{depth}",
        "model_args": {"shortcut": layout.shortcut},
        "preprocessing": prep.to_dict(),
    }
    if num_classes == len(CIFAR10_CLASSES):
        info["classes"] = list(CIFAR10_CLASSES)
    shortcut = {
        "A": "shortcut option A, its zero channels on both sides of the identity, so each "
        "stage's channels were reordered",
        "B": "shortcut option B, 1x1 projections where the shape changes",
    }[layout.shortcut]
    note = (
        f"{layout.project}'s layout: resnet{depth} ({shortcut}), {num_classes} classes; "
        f"images normalised as its author trained them: channel mean {layout.mean}, "
        f"std {layout.std} on [0, 1]"
    )
    return Converted(state, info, note)


def _akamaster_orders() -> list[torch.Tensor]:
    """For each stage, the akamaster channel that each deepres channel holds.

    Where a stage widens from c to 2c channels, akamaster puts the identity in channels
    c/2 .. 3c/2 - 1 and zeros around it; deepres puts it in channels 0 .. c - 1 and zeros
    after. So deepres's channel i < c is akamaster's c/2 + (the previous stage's order)[i],
    and its channels from c on are akamaster's zero-padded ones, in order."""
    orders = [torch.arange(_CIFAR_WIDTHS[0])]
    for width in _CIFAR_WIDTHS[1:]:
        previous = orders[-1]
        pad = (width - len(previous)) // 2  # planes // 4, with planes = width = 2c
        padded = [i for i in range(width) if not pad <= i < pad + len(previous)]
        orders.append(torch.cat([previous + pad, torch.tensor(padded)]))
    return orders


def _reordered(state: dict[str, torch.Tensor], orders: list[torch.Tensor]) -> dict:
    """Each tensor with its channels in deepres's order (see ``_akamaster_orders``)."""
    out = {}
    for key, t in state.items():
        parts = key.split(".")
        if parts[0].startswith("layer"):
            stage, block = int(parts[0][5:]) - 1, int(parts[1])
            order = orders[stage]
            inputs = orders[stage - 1] if parts[2] == "conv1" and block == 0 and stage else order
        elif parts[0] == "fc":
            order, inputs = None, orders[-1]
        else:  # the stem
            order, inputs = orders[0], None
        if t.dim() == 0:
            out[key] = t
            continue
        if order is not None:
            t = t[order]
        if inputs is not None and t.dim() >= 2:
            t = t[:, inputs]
        out[key] = t.contiguous()
    return out


def _preprocessing(layout: Layout) -> Preprocessing:
    """CIFAR's 32x32 images, 4-pixel padded crops and flips, the author's channel mean/std."""
    mean_image = np.asarray(layout.mean, np.float32)[:, None, None]
    return Preprocessing(
        kind="array",
        resize=32,
        crop=32,
        in_chans=3,
        normalize="channel",
        stats=Stats(layout.mean, layout.std, mean_image),
        flip=True,
        padding=4,
    )
