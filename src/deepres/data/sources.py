"""``open_source``: one call from a source name to the splits a training run needs."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from deepres.catalog import DATA_SETS
from deepres.errors import show_path

from .builtin import load_digits
from .cache import Cache, default_cache_dir
from .cifar import RELEASES, load_cifar
from .datasets import ArrayDataset
from .errors import BadFile, DataError, apply_bad_file_policy, check_policy
from .folder import open_folder
from .stream import StreamDataset

Dataset = ArrayDataset | StreamDataset


@dataclass(kw_only=True)
class DataSplits:
    """What ``open_source`` returns. ``mean``/``std``/``mean_image`` are the training split's,
    in [0, 1] units; every split carries them too (``dataset.stats``)."""

    train: Dataset | None  # None only for a folder of test images (open_source(need_train=False))
    val: Dataset | None  # held out of train (val_size), or the folder's own val/ beside test/
    test: Dataset | None
    classes: list[str]
    image_size: int  # side of the square the network sees: 32 for CIFAR, 224 for ImageNet
    in_chans: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    bad_files: list[BadFile]
    kind: str  # "array" or "stream"
    source: str
    pipeline: str = ""  # how the images reach the network, at what size, and why
    flat: bool = False  # a folder of <class>/ folders, in no named split

    @property
    def mean_image(self) -> np.ndarray:
        lead = next(d for d in (self.train, self.test, self.val) if d is not None)
        return lead.stats.mean_image

    def summary(self) -> dict:
        """A JSON-ready description for a run's records, the class mapping included (names
        that are not UTF-8 show their bytes as \\xNN, so any JSON writer accepts them)."""
        sizes = {
            name: len(d)
            for name, d in (("train", self.train), ("val", self.val), ("test", self.test))
            if d is not None
        }
        held_out = {"val_sha256": split_fingerprint(self.val)} if self.val is not None else {}
        return {
            "source": self.source,
            "kind": self.kind,
            "sizes": sizes,
            **held_out,
            "classes": [show_path(c) for c in self.classes],
            "image_size": self.image_size,
            "in_chans": self.in_chans,
            "pipeline": self.pipeline,
            "mean": list(self.mean),
            "std": list(self.std),
            "bad_files": [[show_path(b.path), b.reason] for b in self.bad_files],
        }


def open_source(
    spec: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike | None = None,
    val_size: int = 0,
    seed: int = 0,
    on_bad_image: str = "skip",
    download: bool = False,
    kind: str = "auto",
    num_workers: int | None = None,
    image_size: int | None = None,
    need_train: bool = True,
) -> DataSplits:
    """Open a data source by name.

    ``spec``: "digits" (built in, offline), "cifar10" or "cifar100" (official Python
    format in ``cache_dir``, downloaded there if ``download``), "imagenet:PATH"
    (PATH/train/<wnid>/*.JPEG and PATH/val/<wnid>/*.JPEG), or the path of an image folder
    (PATH/train/<class>/... with PATH/val/ and/or PATH/test/, or PATH/<class>/...).
    ``val_size``: images held out of train, seeded by ``seed`` (the paper's 45k/5k split is
    ``val_size=5000``). ``on_bad_image``: "skip" (log one line per unusable file) or "error"
    (raise one ``DataError`` listing them all). ``kind``: for folders, "array" (decode all
    once, cache), "stream" (decode per batch) or "auto" (array when images are small).
    ``num_workers``: decoding processes for the first decode (default: one per core).
    ``image_size``: for folders, the side of the square the network sees: up to 128 the
    images are held whole at that size (CIFAR-style training), 224 streams them through the
    ImageNet views; None chooses from the images' own size (``DataSplits.pipeline`` says how).
    ``need_train``: False accepts a folder holding only test/ and/or val/ (``train`` None), for
    evaluation; the statistics are then that split's.
    """
    check_policy(on_bad_image)
    cache_root = default_cache_dir(cache_dir)
    spec = os.fspath(spec)
    if image_size is not None and image_size < 1:
        raise DataError(f"image_size must be at least 1 pixel, not {image_size}")
    flat = False
    if spec == "digits" or spec in RELEASES:
        train, test, classes = (
            load_digits() if spec == "digits" else load_cifar(spec, cache_root, download)
        )
        val, bad = None, []
        side = train.image_shape[-1]
        if image_size not in (None, side):
            raise DataError(
                f"{spec} images are {side}x{side}; image_size applies to folders of your own images"
            )
        pipeline = f"{spec}, held whole at {side}x{side}"
    elif spec.startswith("imagenet:") or os.path.isdir(os.path.expanduser(spec)):
        imagenet = spec.startswith("imagenet:")
        folder = open_folder(
            spec.removeprefix("imagenet:"),
            kind=kind,
            imagenet=imagenet,
            cache=Cache(cache_root / "decoded"),
            workers=num_workers,
            image_size=image_size,
        )
        train, val, test, classes, bad = (
            folder.train,
            folder.val,
            folder.test,
            folder.classes,
            folder.bad,
        )
        pipeline, flat = folder.pipeline, folder.flat
    elif spec == "imagenet":
        raise DataError(
            "imagenet: say where its folder is, as --data imagenet:PATH (with "
            "PATH/train/<wnid>/*.JPEG and PATH/val/<wnid>/*.JPEG)"
        )
    elif spec in DATA_SETS:
        raise DataError(
            f"{spec} names a data set on deepres's model cards, not a place: give --data the "
            f"folder that holds its train/ and test/ (e.g. ~/data/{spec}, unpacked from its "
            "archives)"
        )
    else:
        raise DataError(
            f"unknown data source {spec!r}: expected digits, cifar10, cifar100, "
            "imagenet:PATH or the path of an existing image folder"
        )
    apply_bad_file_policy(bad, on_bad_image, spec)
    if train is None and need_train:
        only = " and ".join(f"{name}/" for name, d in (("val", val), ("test", test)) if d)
        raise DataError(
            f"{show_path(spec)} holds only {only} images, no train/ folder: nothing to "
            f"train on; put training images in {show_path(spec)}/train/<class>/ (to "
            f"evaluate a network on these: deepres eval WEIGHTS --data {show_path(spec)})"
        )
    lead = next(d for d in (train, test, val) if d is not None)  # what the statistics describe
    if not len(lead):
        raise DataError(f"{spec}: no usable training image (every file was unusable)")
    if val_size and train is not None:
        if val is not None:
            raise DataError(f"{spec} has its own val/ split; val_size must be 0")
        train, val = hold_out(train, val_size, seed)
        lead = train
    stats = lead.compute_stats()
    for dataset in (train, val, test):
        if dataset is not None:
            dataset.stats = stats
    c, h, _ = lead.image_shape
    return DataSplits(
        train=train,
        val=val,
        test=test,
        classes=classes,
        image_size=h,
        in_chans=c,
        mean=stats.mean,
        std=stats.std,
        bad_files=bad,
        kind=lead.kind,
        source=spec,
        pipeline=pipeline,
        flat=flat,
    )


def absolute_source(spec: str) -> str:
    """``spec`` with the folder it names as an absolute path ("photos" -> "/home/me/photos",
    "imagenet:in1k" -> "imagenet:/data/in1k"), so that it names the same folder from any
    working folder; the names of built-in sources, and anything not a folder, as they are."""
    folder = folder_of(spec)
    if folder is None or not os.path.isdir(os.path.expanduser(folder)):
        return spec
    absolute = os.path.abspath(os.path.expanduser(folder))
    return f"imagenet:{absolute}" if spec.startswith("imagenet:") else absolute


def missing_folder(spec: str) -> str | None:
    """The folder that ``spec`` names, if it looks like a path and is not on this machine
    (a run's data moved away, or weights trained elsewhere); None otherwise."""
    folder = folder_of(spec)
    looks_like_path = folder is not None and (
        spec.startswith("imagenet:") or os.sep in folder or folder.startswith(("~", "."))
    )
    if looks_like_path and not os.path.isdir(os.path.expanduser(folder)):
        return folder
    return None


def folder_of(spec: str) -> str | None:
    """The folder a source names ("imagenet:PATH": PATH); None for the built-in sources."""
    if spec == "digits" or spec in RELEASES:
        return None
    return spec.removeprefix("imagenet:")


def hold_out(train: Dataset, val_size: int, seed: int) -> tuple[Dataset, Dataset]:
    """(rest, held out): ``val_size`` random training images, the same for the same seed."""
    if not 0 < val_size < len(train):
        raise DataError(
            f"val_size must be between 1 and {len(train) - 1} (the training split "
            f"has {len(train)} images), not {val_size}"
        )
    order = np.random.default_rng(seed).permutation(len(train))
    return (
        train.subset(order[val_size:], f"{train.name} (train part)"),
        train.subset(order[:val_size], f"{train.name} (val part)"),
    )


def split_fingerprint(dataset: Dataset) -> str:
    """A SHA-256 of which images a split holds: their class folder and file name with their
    labels (so a run's held-out split can be told again wherever its folder is), or, for data
    without files (the built-in sets), the images themselves."""
    digest = hashlib.sha256()
    if dataset.files is not None:
        for name, label in zip(dataset.files, dataset.labels):
            digest.update(f"{'/'.join(PurePath(name).parts[-2:])}\t{int(label)}\n".encode())
    else:
        digest.update(np.ascontiguousarray(dataset.images).tobytes())
        digest.update(np.asarray(dataset.labels, np.int64).tobytes())
    return digest.hexdigest()
