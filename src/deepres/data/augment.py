"""Batched image operations on the training device: normalisation, the CIFAR crop and flip,
AlexNet's PCA colour shift, and the test-time crops. Whole batches at a time, no Python loop
over images: on a GPU these are a handful of kernels per batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .datasets import Stats
from .errors import DataError

NORMALIZATIONS = ("pixel_mean", "channel")

# Principal components of ImageNet's RGB pixels ([0, 1] units), as used for AlexNet's "PCA
# colour augmentation" (Krizhevsky et al. 2012) that the paper adopts: eigenvalues and the
# matching eigenvectors (columns).
IMAGENET_PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_PCA_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


class Normalize:
    """uint8 images to float32: ``x / 255 - mean_image`` ("pixel_mean", the paper's) or
    ``(x / 255 - mean) / std`` per channel ("channel"). Constants live on ``device``."""

    def __init__(self, stats: Stats, mode: str, device: torch.device | str):
        if mode not in NORMALIZATIONS:
            raise DataError(f"normalize must be one of {NORMALIZATIONS}, not {mode!r}")
        c = len(stats.mean)
        self.mode = mode
        if mode == "pixel_mean":
            mean = torch.as_tensor(stats.mean_image, dtype=torch.float32)
            std = torch.ones(c, 1, 1)
        else:
            mean = torch.tensor(stats.mean, dtype=torch.float32).view(c, 1, 1)
            std = torch.tensor(stats.std, dtype=torch.float32).view(c, 1, 1).clamp_min(1e-6)
        # One fused multiply-add per pixel: x * scale + shift.
        self.scale = (1 / (255 * std)).to(device)
        self.shift = (-mean / std).to(device)
        self.inv_std = (1 / std).view(c).to(device)

    def __call__(self, images: torch.Tensor, rgb_shift: torch.Tensor | None = None):
        """``images``: (..., C, H, W) uint8; ``rgb_shift``: (B, C) in [0, 1] units, added to
        each image before normalising (the PCA colour augmentation)."""
        out = torch.addcmul(self.shift, images.float(), self.scale)
        if rgb_shift is not None:
            out += (rgb_shift * self.inv_std)[:, :, None, None]
        return out


def default_padding(side: int) -> int:
    """The training crop's padding for ``side``-pixel images: 4 for CIFAR's 32 (side / 8)."""
    return max(1, side // 8)


def random_crop_flip(
    images: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor, padding: int
) -> torch.Tensor:
    """Zero-pad by ``padding``, then cut each image's own window, mirrored where ``flips``.

    ``images``: (B, C, H, W) normalised float; ``offsets``: (B, 2) top/left in [0, 2*padding];
    ``flips``: (B,) bool. Zero is the mean after normalisation, so the border is the mean
    colour, as when the paper pads its mean-subtracted images. One gather for the batch.
    """
    b, c, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    width = w + 2 * padding
    dev = images.device
    cols = torch.arange(w, device=dev).expand(b, w)
    cols = torch.where(flips[:, None], w - 1 - cols, cols) + offsets[:, 1:2]
    rows = torch.arange(h, device=dev)[None, :] + offsets[:, 0:1]
    flat = (rows[:, :, None] * width + cols[:, None, :]).view(b, 1, h * w).expand(b, c, h * w)
    return padded.view(b, c, -1).gather(2, flat).view(b, c, h, w)


def pca_rgb_shift(alphas: torch.Tensor) -> torch.Tensor:
    """AlexNet's colour shift for (B, 3) draws ``alphas`` ~ N(0, 0.1): (B, 3) in [0, 1] units."""
    eigval = torch.tensor(IMAGENET_PCA_EIGVAL, device=alphas.device)
    eigvec = torch.tensor(IMAGENET_PCA_EIGVEC, device=alphas.device)
    return (alphas * eigval) @ eigvec.T


def center_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The centred ``size`` x ``size`` window of (..., C, H, W) images."""
    h, w = images.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top : top + size, left : left + size]


def ten_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The 10-crop test views (four corners, centre, and their mirror images).

    (..., C, H, W) -> (..., 10, C, size, size); average the network's outputs over dim -4.
    """
    h, w = images.shape[-2:]
    if size > min(h, w):
        raise DataError(f"crop {size} is larger than the image ({h}x{w})")
    corners = [
        images[..., :size, :size],
        images[..., :size, w - size :],
        images[..., h - size :, :size],
        images[..., h - size :, w - size :],
        center_crop(images, size),
    ]
    views = corners + [v.flip(-1) for v in corners]
    return torch.stack(views, dim=-4)
