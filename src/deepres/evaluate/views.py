"""Test-time views: what the network sees of one image in each evaluation mode.

- ``center``: the single view the network was validated on during training: the whole image
  for CIFAR-size data (the paper's "single view of the original 32x32 image"), the centre 224
  of the 256 square for ImageNet-size data.
- ``center-flip``: that view and its mirror image, as recipes with ``eval_flip`` (cifar-fast)
  validate during training; only for networks trained on mirror images.
- ``ten-crop`` (paper Sec. 3.4, after AlexNet): the four corners and the centre of the square,
  and their mirror images. ImageNet-size: 224 crops of the 256 square. CIFAR-size: 32 crops of
  the image zero-padded by 4 (after normalisation, so the border is the mean), the range of the
  training crops; without the mirror images (five views) when training did not flip (digits).
- ``multi-scale`` (paper Sec. 3.4): the whole image, fully convolutionally, with its shorter
  side at each of {224, 256, 384, 480, 640}; for data of another native size the same ratios
  to the network's crop ({32, 37, 55, 69, 91} for 32 pixels). A CIFAR-size square is
  normalised at its native size and then rescaled, which is the same as rescaling the image
  and its per-pixel mean alike (resizing is linear).

The network's outputs are averaged over an image's views (softmax scores for classification).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from deepres.data import Preprocessing
from deepres.data.augment import center_crop, ten_crop
from deepres.data.decode import MAX_PIXELS, BadImage
from deepres.data.preprocess import to_channels
from deepres.data.stream import CROP, MULTISCALE_SIDES, multiscale_views
from deepres.errors import UsageError

MODES = ("center", "center-flip", "ten-crop", "multi-scale")


def default_scales(prep: Preprocessing) -> tuple[int, ...]:
    """The paper's shorter sides, in proportion to the network's crop."""
    return tuple(round(side * prep.crop / CROP) for side in MULTISCALE_SIDES)


class ImageViews(Dataset):
    """Item ``i``: ``(i, views, None)``, ``views`` a list of normalised float (V, C, H, W)
    tensors, or ``(i, None, reason)`` for a file that is not a usable image.

    The images are ``files`` (paths, or the files' bytes; read with the network's
    preprocessing; more than ``max_pixels`` pixels is a bad image), or ``images``, uint8
    (N, C, resize, resize) already in it.
    """

    def __init__(
        self,
        prep: Preprocessing,
        mode: str,
        *,
        files: Sequence[str | bytes] | None = None,
        images: np.ndarray | torch.Tensor | None = None,
        scales: Sequence[int] | None = None,
        max_pixels: int = MAX_PIXELS,
    ):
        if mode not in MODES:
            raise UsageError(f"unknown evaluation mode {mode!r}; choose from {', '.join(MODES)}")
        if mode == "center-flip" and not prep.flip:
            raise UsageError(
                "mode center-flip scores mirror images, but this network was trained without "
                "them; use --mode center"
            )
        if (files is None) == (images is None):
            raise ValueError("ImageViews takes files or images, not both")
        if (
            mode == "multi-scale"
            and prep.kind == "stream"
            and files is not None
            and any(isinstance(f, bytes) for f in files)
        ):
            raise ValueError("multi-scale views of large images are read from files, not bytes")
        self.prep, self.mode, self.files, self.images = prep, mode, files, images
        self.max_pixels = max_pixels
        self.scales = tuple(scales or default_scales(prep))
        self.normalize = prep.normalizer("cpu")

    def __len__(self) -> int:
        return len(self.files if self.files is not None else self.images)

    def __getitem__(self, i: int):
        try:
            return i, self.views(i), None
        except BadImage as err:
            return i, None, str(err)

    def views(self, i: int) -> list[torch.Tensor]:
        prep = self.prep
        if self.mode == "multi-scale" and prep.kind == "stream" and self.files is not None:
            # Large images are decoded afresh at each scale, never enlarged from a small copy.
            return [
                self.normalize(to_channels(view, prep.in_chans))[None]
                for view in multiscale_views(self.files[i], self.scales)
            ]
        square = self.normalize(self._square(i))
        if self.mode in ("center", "center-flip"):
            view = center_crop(square, prep.crop)[None]
            return [torch.cat([view, view.flip(3)]) if self.mode == "center-flip" else view]
        if self.mode == "ten-crop":
            views = ten_crop(F.pad(square, [prep.padding] * 4), prep.crop)
            return [views if prep.flip else views[:5]]
        return [
            F.interpolate(square[None], size=(side, side), mode="bilinear", align_corners=False)
            for side in self.scales
        ]

    def _square(self, i: int) -> torch.Tensor:
        if self.files is not None:
            return self.prep.read(self.files[i], self.max_pixels)
        return to_channels(torch.as_tensor(np.asarray(self.images[i])), self.prep.in_chans)
