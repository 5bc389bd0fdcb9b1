"""Large images (the ImageNet layout) read from their files in worker processes.

Each sample is decoded at the smallest size its view needs (a JPEG shrinks by 1/2, 1/4 or 1/8
while it decodes), then cut to the paper's views:

- training (Sec. 3.4): shorter side random in [256, 480], a random 224 crop, a random flip;
  the AlexNet PCA colour shift is drawn here but added on the device (see ``augment``);
- evaluation: shorter side 256, the centre 224 crop; and, for the evaluation code,
  ``ten_crop`` and ``multiscale_views`` (fully convolutional, shorter side in
  {224, 256, 384, 480, 640}).

Randomness comes from one seed per sample and epoch, so a batch is the same whichever worker
decodes it and however many workers there are.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .datasets import Stats, array_stats
from .decode import BadImage, crop, decode_rgb, fit_square, resize_shorter
from .errors import DataError

TRAIN_SIDES = (256, 480)  # shorter side, inclusive range
CROP = 224
EVAL_SIDE = 256
MULTISCALE_SIDES = (224, 256, 384, 480, 640)
PCA_ALPHA_STD = 0.1  # AlexNet's
# How many following files to try when one turns out unusable in the middle of training.
_SUBSTITUTES = 16


LEFT_OUT = -1  # the label of an evaluation sample whose file turned out unusable
_NO_ALPHA = torch.zeros(3)


def train_view(image: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """Shorter side to ``side`` (drawn from TRAIN_SIDES), random crop and flip of one image."""
    image = resize_shorter(image, side)
    h, w = image.shape[:2]
    image = crop(
        image, int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1)), CROP
    )
    return image[:, ::-1] if rng.random() < 0.5 else image


def eval_view(image: np.ndarray) -> np.ndarray:
    """Shorter side 256, centre 224 crop: the standard single view."""
    image = resize_shorter(image, EVAL_SIDE)
    h, w = image.shape[:2]
    return crop(image, (h - CROP) // 2, (w - CROP) // 2, CROP)


def load_image(path: str, shorter_side: int | None = None) -> torch.Tensor:
    """One image file as a (3, H, W) uint8 tensor, optionally scaled to ``shorter_side``.

    Raises ``BadImage`` (its message is the reason) for a file that is not a usable image.
    """
    image = decode_rgb(path, min_side=shorter_side)
    if shorter_side is not None:
        image = resize_shorter(image, shorter_side)
    return _to_chw(image)


def multiscale_views(path: str, sides=MULTISCALE_SIDES) -> list[torch.Tensor]:
    """The whole image at each shorter side in ``sides`` (uint8, 3 x H x W), decoded once."""
    image = decode_rgb(path, min_side=max(sides))
    return [_to_chw(resize_shorter(image, side)) for side in sides]


def _to_chw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


class StreamDataset(Dataset):
    """Image files with labels, decoded when read. ``dataset[i]`` is the evaluation view."""

    kind = "stream"

    def __init__(
        self,
        files: list[str],
        labels,
        *,
        classes: list[str],
        default_augment: str = "imagenet",
        name: str = "",
    ):
        self.files = list(files)
        self.labels = np.asarray(labels, np.int64)
        self.classes = list(classes)
        self.default_augment = default_augment
        self.name = name
        self.stats: Stats | None = None  # set by open_source from the training split

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Raises ``BadImage`` for a file that does not decode."""
        return _to_chw(self._eval_image(index)), int(self.labels[index])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (3, CROP, CROP)

    def subset(self, indices: np.ndarray, name: str) -> "StreamDataset":
        keep = np.sort(indices)
        return StreamDataset(
            [self.files[i] for i in keep],
            self.labels[keep],
            classes=self.classes,
            default_augment=self.default_augment,
            name=name,
        )

    def compute_stats(self, count: int = 256, side: int = 64) -> Stats:
        """Channel statistics from an evenly spread sample of images, decoded small.

        With random scales and crops every position sees every part of an image, so the
        per-pixel mean of the paper is, to sampling error, the channel mean at each pixel.
        """
        picks = np.linspace(0, len(self) - 1, min(count, len(self))).round().astype(int)
        images = []
        for i in np.unique(picks):
            try:
                images.append(fit_square(decode_rgb(self.files[i], min_side=side), side))
            except BadImage:
                continue  # reported when training reaches it
        if not images:
            raise DataError(f"none of {len(picks)} sampled images of {self.name} decodes")
        stats = array_stats(np.stack(images).transpose(0, 3, 1, 2))
        return Stats(stats.mean, stats.std, np.asarray(stats.mean, np.float32)[:, None, None])

    def sample(self, index: int, seed: int, train: bool):
        """What a worker sends for one sample: (image, label, PCA alpha, bad files met).

        A file that turns out unusable is replaced by the next usable one, so that a batch
        keeps its size; the bad file travels back so the loader reports it.
        """
        bad = []
        rng = np.random.default_rng(seed)
        if not train:  # evaluation: never another image in its place (it would count twice)
            try:
                return _to_chw(self._eval_image(index)), int(self.labels[index]), _NO_ALPHA, bad
            except BadImage as err:
                blank = np.zeros((CROP, CROP, 3), np.uint8)
                return _to_chw(blank), LEFT_OUT, _NO_ALPHA, [(self.files[index], str(err))]
        for step in range(_SUBSTITUTES):
            i = (index + step) % len(self)
            try:
                if train:
                    side = int(rng.integers(TRAIN_SIDES[0], TRAIN_SIDES[1] + 1))
                    image = train_view(decode_rgb(self.files[i], min_side=side), side, rng)
                else:
                    image = self._eval_image(i)
            except BadImage as err:
                bad.append((self.files[i], str(err)))
                continue
            alpha = rng.normal(0.0, PCA_ALPHA_STD, 3).astype(np.float32)
            return _to_chw(image), int(self.labels[i]), torch.from_numpy(alpha), bad
        raise BadImage(f"{_SUBSTITUTES} files in a row from {self.files[index]} are unusable")

    def _eval_image(self, index: int) -> np.ndarray:
        return eval_view(decode_rgb(self.files[index], min_side=EVAL_SIDE))
