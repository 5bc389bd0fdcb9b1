"""The two kinds of dataset: small images held whole as one uint8 array, and large images read
from their files as they are needed. Both carry the training set's statistics (``stats``) so
that a loader over the test set normalises with the training set's mean, as it must.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass(frozen=True)
class Stats:
    """Pixel statistics of a training set, in [0, 1] units."""

    mean: tuple[float, ...]  # per channel
    std: tuple[float, ...]  # per channel
    mean_image: np.ndarray  # (C, H, W) per-pixel mean (the paper's); (C, 1, 1) for streams


def array_stats(images: np.ndarray, chunk: int = 4096) -> Stats:
    """Statistics of (N, C, H, W) uint8 images, summed in chunks to bound memory."""
    n, c = images.shape[:2]
    pixel_sum = np.zeros(images.shape[1:], np.float64)
    square_sum = np.zeros(c, np.float64)
    for start in range(0, n, chunk):
        block = np.asarray(images[start : start + chunk], np.float64)
        pixel_sum += block.sum(axis=0)
        square_sum += np.einsum("nchw,nchw->c", block, block)
    count = n * images.shape[2] * images.shape[3]
    mean = pixel_sum.sum(axis=(1, 2)) / count
    std = np.sqrt(np.maximum(square_sum / count - mean**2, 0.0))
    return Stats(
        tuple(float(m) for m in mean / 255),
        tuple(float(s) for s in std / 255),
        (pixel_sum / n / 255).astype(np.float32),
    )


class ArrayDataset(Dataset):
    """Images as one (N, C, H, W) uint8 array (possibly memory-mapped) with int64 labels.

    Indexing gives ``(image, label)`` as (C, H, W) uint8 tensor and int, for use with any
    PyTorch code; ``BatchLoader`` reads the array whole and augments batches on the device.
    """

    kind = "array"

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        classes: list[str],
        default_augment: str = "cifar",
        name: str = "",
        files: list[str] | None = None,
    ):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = np.asarray(labels, np.int64)
        self.classes = list(classes)
        self.default_augment = default_augment
        self.name = name
        self.files = files  # the image files, for sources that have them
        self.stats: Stats | None = None  # set by open_source from the training split
        self._on_device: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(np.array(self.images[index])), int(self.labels[index])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def subset(self, indices: np.ndarray, name: str) -> "ArrayDataset":
        """A new dataset of the given rows (copied into memory)."""
        rows = np.sort(indices)
        files = None if self.files is None else [self.files[i] for i in rows]
        return ArrayDataset(
            self.images[rows],
            self.labels[rows],
            classes=self.classes,
            default_augment=self.default_augment,
            name=name,
            files=files,
        )

    def compute_stats(self) -> Stats:
        return array_stats(self.images)

    def on_device(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, labels) as tensors on ``device``, copied there once and kept."""
        key = str(device)
        if key not in self._on_device:
            images = torch.from_numpy(np.ascontiguousarray(self.images))
            labels = torch.from_numpy(self.labels)
            self._on_device[key] = (images.to(device), labels.to(device))
        return self._on_device[key]
