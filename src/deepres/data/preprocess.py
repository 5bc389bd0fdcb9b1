"""What a trained network expects of an image, as data that travels with its weights.

The Trainer records its training loader's preprocessing in every checkpoint; eval, predict and
export read it back, so that a new image reaches the network as the training images did:
decoded to RGB, scaled so that its shorter side is ``resize`` pixels, cut to the centre square,
converted to ``in_chans`` channels and normalised with the *training set's* statistics. The
network's single view is the centre ``crop`` x ``crop`` of that square (the whole square for
CIFAR-size data; the centre 224 of 256 for ImageNet-size data).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from deepres.errors import show_path

from .augment import NORMALIZATIONS, Normalize, center_crop, default_padding
from .datasets import Stats
from .decode import (
    MAX_PIXELS,
    REDUCING_GAP,
    BadImage,
    decode_square,
    fit_square,
    rgb_of_pil,
)
from .errors import DataError
from .stream import CROP, EVAL_SIDE

FORMAT = "deepres-preprocessing-1"
# torchvision's ImageNet statistics, which its published weights were trained with.
TORCHVISION_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_STD = (0.229, 0.224, 0.225)
FLIPPING_AUGMENTS = ("cifar", "imagenet")
_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as PIL converts RGB to grayscale
MAX_SIDE = 4096  # pixels; a weight file that asks more is refused, not allocated


@dataclass(frozen=True, kw_only=True)
class Preprocessing:
    kind: str  # "array" (small images held whole: resize == crop) or "stream" (large images)
    resize: int  # shorter side, before the centre square is cut
    crop: int  # side of the network's view
    in_chans: int
    normalize: str  # "pixel_mean" or "channel", as Normalize applies it
    stats: Stats  # the training set's
    flip: bool  # training mirrored images, so test-time views may
    padding: int  # the training crop's zero padding (array data); 0 for streams

    def __repr__(self) -> str:
        """One line: the mean image's numbers stay in ``stats`` (``to_dict`` has them all)."""
        view = (
            f"{self.crop}x{self.crop}"
            if self.resize == self.crop
            else f"centre {self.crop}x{self.crop} of {self.resize}"
        )
        mean = (
            "mean image " + "x".join(map(str, np.shape(self.stats.mean_image)))
            if self.normalize == "pixel_mean"
            else "channel mean/std"
        )
        return (
            f"Preprocessing({self.kind}, {view}, {self.in_chans} channel"
            f"{'s' * (self.in_chans > 1)}, {self.normalize} ({mean}), "
            f"flip={self.flip}, padding={self.padding})"
        )

    @classmethod
    def of_loader(cls, loader) -> Preprocessing:
        """The preprocessing of a training ``BatchLoader``: what its network learnt from."""
        dataset = loader.dataset
        c, side, _ = dataset.image_shape
        stream = dataset.kind == "stream"
        crops = loader.augment != "none" and not stream
        return cls(
            kind=dataset.kind,
            resize=EVAL_SIDE if stream else side,
            crop=side,
            in_chans=c,
            normalize=loader.normalize.mode,
            stats=dataset.stats,
            flip=loader.augment in FLIPPING_AUGMENTS,
            padding=default_padding(side) if crops else 0,
        )

    @classmethod
    def torchvision_imagenet(cls) -> Preprocessing:
        """torchvision's: shorter side 256, centre 224, per-channel mean and std."""
        mean_image = np.asarray(TORCHVISION_MEAN, np.float32)[:, None, None]
        return cls(
            kind="stream",
            resize=EVAL_SIDE,
            crop=CROP,
            in_chans=3,
            normalize="channel",
            stats=Stats(TORCHVISION_MEAN, TORCHVISION_STD, mean_image),
            flip=True,
            padding=0,
        )

    @classmethod
    def from_record(
        cls, record: Preprocessing | dict | None, source: str, input_size: int
    ) -> Preprocessing:
        """From a weight file's record; a bare file (None) of a 224-pixel network is taken to
        be torchvision's, since that is where bare ResNet weight files come from."""
        if isinstance(record, Preprocessing):
            return record
        if record is not None:
            return cls.from_dict(record, source)
        if input_size == CROP:
            return cls.torchvision_imagenet()
        raise DataError(
            f"{show_path(source)} records no preprocessing (image size, training "
            "mean): a bare state_dict, or a checkpoint from before deepres recorded "
            "it; use a checkpoint that a current `deepres train` wrote"
        )

    @classmethod
    def from_dict(cls, record: dict, source: str = "preprocessing") -> Preprocessing:
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise DataError(
                f"{show_path(source)}: not a deepres preprocessing record (no '{FORMAT}' marker)"
            )
        try:
            if record["normalize"] not in NORMALIZATIONS:
                raise ValueError(f"normalize {record['normalize']!r}")
            stats = Stats(
                tuple(map(float, record["mean"])),
                tuple(map(float, record["std"])),
                np.asarray(record["mean_image"], np.float32),
            )
            prep = cls(
                kind=record["kind"],
                resize=int(record["resize"]),
                crop=int(record["crop"]),
                in_chans=int(record["in_chans"]),
                normalize=record["normalize"],
                stats=stats,
                flip=bool(record["flip"]),
                padding=int(record["padding"]),
            )
            prep._check_bounds()
            return prep
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(
                f"{show_path(source)}: unreadable preprocessing record "
                f"({type(err).__name__}: {err})"
            ) from None

    def _check_bounds(self) -> None:
        """Refuse values that no training run writes, before anything is sized by them (a
        resize of 100,000 pixels would allocate tens of GB for one image)."""
        if self.kind not in ("array", "stream"):
            raise ValueError(f"kind {self.kind!r}")
        if not 1 <= self.crop <= self.resize <= MAX_SIDE:
            raise ValueError(
                f"sizes resize={self.resize}, crop={self.crop}: expected "
                f"1 <= crop <= resize <= {MAX_SIDE}"
            )
        if self.in_chans not in (1, 3) or not 0 <= self.padding <= self.crop:
            raise ValueError(f"in_chans={self.in_chans}, padding={self.padding}")
        shape = np.shape(self.stats.mean_image)
        planes = ((1, 1), (self.crop, self.crop))  # per channel, or per pixel and channel
        if len(shape) != 3 or shape[0] != self.in_chans or shape[1:] not in planes:
            raise ValueError(
                f"mean_image of shape {shape} for {self.in_chans}-channel "
                f"{self.crop}x{self.crop} images"
            )
        mean, std = np.asarray(self.stats.mean), np.asarray(self.stats.std)
        if (
            mean.shape != (self.in_chans,)
            or std.shape != (self.in_chans,)
            or not (
                np.isfinite(mean).all()
                and np.isfinite(self.stats.mean_image).all()
                and (std > 0).all()
                and np.isfinite(std).all()
            )
        ):
            raise ValueError(
                f"mean {self.stats.mean}, std {self.stats.std}: expected "
                f"{self.in_chans} finite values, std positive"
            )

    def to_dict(self) -> dict:
        """JSON-ready (and readable by ``torch.load(weights_only=True)``)."""
        return {
            "format": FORMAT,
            "kind": self.kind,
            "resize": self.resize,
            "crop": self.crop,
            "in_chans": self.in_chans,
            "normalize": self.normalize,
            "mean": list(self.stats.mean),
            "std": list(self.stats.std),
            "mean_image": np.asarray(self.stats.mean_image, np.float32).tolist(),
            "flip": self.flip,
            "padding": self.padding,
        }

    def steps(self) -> list[str]:
        """The single view in words, for programs that feed an exported network."""
        c, h, w = np.shape(self.stats.mean_image)
        r = self.resize
        steps = [
            f"a JPEG is decoded at a reduced DCT scale 1/s, s the largest of 8, 4, 2 with "
            f"s x {r} at most its shorter side (else s = 1), to ceil(width / s) x "
            f"ceil(height / s) pixels: PIL's Image.draft('RGB', ({r}, {r})) does exactly this",
            "decode the image to 8-bit RGB, turned upright by its EXIF orientation "
            "(transparent pixels onto white)",
            f"unless its shorter side is {r} already, resize it to (max({r}, round(w * k)), "
            f"max({r}, round(h * k))) with k = {r} / shorter side, by PIL's "
            f"Image.resize(size, Image.BILINEAR, reducing_gap={REDUCING_GAP})",
            f"cut the centre {r}x{r} square: top = (h - {r}) // 2, left = (w - {r}) // 2",
        ]
        if self.crop != r:
            c, at = self.crop, (r - self.crop) // 2
            steps.append(f"cut its centre {c}x{c}: rows and columns {at} to {at + c - 1}")
        if self.in_chans == 1:
            steps.append("convert to gray: round(0.299 R + 0.587 G + 0.114 B)")
        if self.normalize == "pixel_mean":
            where = "per channel" if h == w == 1 else "per pixel and channel"
            steps.append(f"x = pixels / 255 - mean_image ({where}; mean_image is {c}x{h}x{w})")
        else:
            steps.append("x = (pixels / 255 - mean[channel]) / std[channel]")
        steps.append(f"float32, N x {self.in_chans} x {self.crop} x {self.crop}")
        return steps

    def decode(self) -> dict:
        """The decode and resize rules of ``steps``, as values a program can use."""
        return {
            "jpeg_draft": [self.resize, self.resize],
            "exif_orientation": True,
            "alpha": "onto white",
            "resample": "bilinear",
            "reducing_gap": REDUCING_GAP,
        }

    def normalizer(self, device: torch.device | str = "cpu") -> Normalize:
        return Normalize(self.stats, self.normalize, device)

    def read(self, source: str | bytes, max_pixels: int = MAX_PIXELS) -> torch.Tensor:
        """The image file (a path, or its bytes) as the centre ``resize`` square, (in_chans,
        resize, resize) uint8; raises ``BadImage`` (its message is the reason) for a file that
        is not a usable image, or one of more than ``max_pixels`` pixels."""
        square = decode_square(source, self.resize, max_pixels)
        return to_channels(torch.from_numpy(square), self.in_chans)

    def center_views(self, images) -> torch.Tensor:
        """The network's single view of each image, normalised: float32 (N, in_chans, crop,
        crop). ``images``: one image or a list of them, each a file path, a PIL image, a numpy
        array (H x W, or H x W x 3 or 4, uint8) or a tensor (C x H x W, uint8 or floats in
        [0, 1] as torchvision's ToTensor gives); or a batch (N x C x H x W tensor)."""
        if isinstance(images, torch.Tensor) and images.dim() == 4:
            images = list(images)
        elif not isinstance(images, (list, tuple)):
            images = [images]
        squares = torch.stack([self._square_of(image) for image in images])
        return center_crop(self.normalizer()(squares), self.crop)

    def _square_of(self, image) -> torch.Tensor:
        if isinstance(image, (str, os.PathLike)):
            try:
                return self.read(os.fspath(image))
            except BadImage as err:
                raise DataError(f"{show_path(image)}: {err}") from None
        square = fit_square(_rgb_pixels(image), self.resize)
        return to_channels(
            torch.from_numpy(np.ascontiguousarray(square.transpose(2, 0, 1))), self.in_chans
        )


def _rgb_pixels(image) -> np.ndarray:
    """An in-memory image as (H, W, 3) uint8, converted as image files are."""
    if isinstance(image, Image.Image):
        return rgb_of_pil(image)
    if isinstance(image, torch.Tensor):
        if image.dim() != 3:
            raise DataError(f"an image tensor is C x H x W, not {tuple(image.shape)}")
        if image.is_floating_point():
            if image.numel() and not 0 <= float(image.min()) <= float(image.max()) <= 1:
                raise DataError(
                    "a float image tensor holds values in [0, 1] (as torchvision's "
                    "ToTensor gives); this one is outside, normalised already?"
                )
            image = (image * 255).round()
        image = image.to(torch.uint8).permute(1, 2, 0).numpy()
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise DataError(
            f"expected an image: a path, a PIL image, a uint8 array H x W (x 3) or "
            f"a tensor C x H x W; got {type(image).__name__} {array.dtype} "
            f"{array.shape}"
        )
    if 0 in array.shape[:2]:
        raise DataError(f"an image of {array.shape[1]}x{array.shape[0]} pixels has none to see")
    if array.ndim == 2 or array.shape[2] == 1:
        return np.repeat(array.reshape(*array.shape[:2], 1), 3, axis=2)
    if array.shape[2] not in (3, 4):
        raise DataError(f"an image array has 1, 3 or 4 channels, not {array.shape[2]}")
    return rgb_of_pil(Image.fromarray(array)) if array.shape[2] == 4 else array


def to_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """(..., C, H, W) uint8 images with ``channels`` channels: RGB to gray by luma, gray to RGB
    by repetition."""
    have = images.shape[-3]
    if have == channels:
        return images
    if (have, channels) == (3, 1):
        luma = torch.tensor(_LUMA).view(3, 1, 1)
        return (images.float() * luma).sum(-3, keepdim=True).round().to(torch.uint8)
    if (have, channels) == (1, 3):
        return images.expand(*images.shape[:-3], 3, *images.shape[-2:]).contiguous()
    raise DataError(
        f"cannot turn {have}-channel images into the {channels} channels the network takes"
    )
