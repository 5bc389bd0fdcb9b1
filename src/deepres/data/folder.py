"""Folder sources: ``root/train/<class>/...`` beside ``root/val/`` and/or ``root/test/``, a
bare ``root/<class>/...`` (training images only), a folder holding only ``test/`` and/or
``val/`` (an unpacked test archive: images to evaluate on, none to train on), or the ImageNet
layout.

A folder of small images (the typical one at most ``ARRAY_MAX_SIDE`` pixels, e.g. the
CIFAR-10 JPEGs or 96x96 photos) becomes an ``ArrayDataset``: decoded once, in parallel, to one
square size (their own, or ``image_size``) and cached, so a second run memory-maps the result;
it trains with the CIFAR-style pipeline at that size. A folder of large images becomes a
``StreamDataset`` with the ImageNet views (224 pixels); its files' headers are checked once (and
cached) so that non-images and decompression bombs are reported before training, not in the
middle of it. ``FolderSplits.pipeline`` says which was chosen, at what size, and why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from deepres.errors import show_path

from .cache import Cache, files_key
from .datasets import ArrayDataset
from .decode import BadImage, decode_square, probe_size
from .duplicates import warn_of_duplicates
from .errors import BadFile, DataError
from .pool import map_files
from .scan import SplitFiles, Visited, scan_split
from .stream import CROP, StreamDataset

# Up to this side images are held whole and trained at their own size: 96x96 photos train at
# 96, not enlarged to ImageNet's 224 crops (5x the pixels, to no benefit).
ARRAY_MAX_SIDE = 128
KINDS = ("auto", "array", "stream")
_PROBES = 64  # images whose headers decide array or stream, and the array's side


@dataclass(kw_only=True)
class FolderSplits:
    train: ArrayDataset | StreamDataset | None  # None: a folder of test/ or val/ images only
    val: ArrayDataset | StreamDataset | None
    test: ArrayDataset | StreamDataset | None
    classes: list[str]
    bad: list[BadFile]
    pipeline: str  # which kind, at what size, and why, for a person to read
    flat: bool = False  # root/<class>/...: one set of images, in no named split


def open_folder(
    root: str,
    *,
    kind: str,
    cache: Cache,
    workers: int | None,
    imagenet: bool = False,
    image_size: int | None = None,
) -> FolderSplits:
    """The splits of an image folder (see the module docstring for the layouts).
    ``image_size``: the side of the square the network sees (None: from the images)."""
    if kind not in KINDS:
        raise DataError(f"kind must be one of {KINDS}, not {kind!r}")
    if image_size is not None:
        kind = _kind_of_size(image_size, kind, imagenet)
    dirs = _split_dirs(root, imagenet)
    # One record for the whole folder: no file is taken twice, in any split or class.
    visited = Visited(os.path.expanduser(root), *dirs.values())
    # The split whose classes and sizes decide: train, else (test images only) the first.
    lead = next(iter(dirs))
    train_files = scan_split(dirs[lead], visited=visited)
    scanned = {lead: train_files}
    scanned.update(
        (name, scan_split(d, train_files.classes, visited))
        for name, d in dirs.items()
        if name != lead
    )
    if not train_files.files:
        listing = "".join(f"\n  {b}" for b in train_files.bad)
        raise DataError(f"no image files in {show_path(dirs[lead])}/<class>/{listing}")
    warn_of_duplicates(scanned, cache)
    sizes = _probe_sizes(train_files.files)
    chosen = kind
    if kind == "auto":
        kind = "stream" if imagenet else _choose_kind(sizes)
    # The array's square side: image_size, else the median shorter side of the sampled images.
    side = None
    if kind == "array":
        side = image_size or (int(np.median([min(s) for s in sizes])) if sizes else None)
    pipeline = _describe(
        kind, side, sizes, why=("image_size" if image_size else "imagenet" if imagenet else chosen)
    )
    datasets, bad = {}, []
    for name, split in scanned.items():
        title = show_path(split.root)
        if side is not None:
            datasets[name], split_bad = _array_split(split, side, cache, workers, title)
        else:
            datasets[name], split_bad = _stream_split(split, cache, workers, title)
        bad += split_bad
    return FolderSplits(
        train=datasets.get("train"),
        val=datasets.get("val"),
        test=datasets.get("test"),
        classes=train_files.classes,
        bad=bad,
        pipeline=pipeline,
        flat=dirs.get("train") == os.path.abspath(os.path.expanduser(root)),
    )


def _kind_of_size(image_size: int, kind: str, imagenet: bool) -> str:
    """The dataset kind that serves ``image_size``: arrays up to ARRAY_MAX_SIDE, streams at
    the ImageNet views' 224."""
    if imagenet and image_size != CROP:
        raise DataError(
            f"image_size {image_size}: the ImageNet layout streams through the "
            f"ImageNet views at {CROP}; choose {CROP} or leave image_size out"
        )
    if ARRAY_MAX_SIDE < image_size != CROP:
        raise DataError(
            f"image_size {image_size}: images up to {ARRAY_MAX_SIDE} pixels are "
            "held whole and trained at that size, larger ones stream through the "
            f"ImageNet views at {CROP}; choose at most {ARRAY_MAX_SIDE}, or {CROP}"
        )
    wanted = "array" if image_size <= ARRAY_MAX_SIDE else "stream"
    if kind not in ("auto", wanted):
        raise DataError(f"image_size {image_size} needs kind {wanted!r}, not {kind!r}")
    return wanted


def _describe(kind: str, side: int | None, sizes: list[tuple[int, int]], why: str) -> str:
    """E.g. "held whole at 96x96 (images of at most 128 pixels; the median of 64 sampled
    images is 96x96)": what was chosen, why, and what the images are."""
    if sizes:
        w, h = (int(np.median([s[i] for s in sizes])) for i in (0, 1))
        seen = f"the median of {len(sizes)} sampled images is {w}x{h}"
    else:
        seen = "no image could be sampled"
    if kind == "array":
        held = f"held whole at {side}x{side}"
    else:
        held = f"streamed through the ImageNet views at {CROP}x{CROP}"
    reason = {
        "image_size": "as image_size asks",
        "imagenet": "the ImageNet layout",
        "array": "as kind='array' asks",
        "stream": "as kind='stream' asks",
        "auto": (
            f"images of at most {ARRAY_MAX_SIDE} pixels"
            if kind == "array"
            else f"images larger than {ARRAY_MAX_SIDE} pixels; image_size N (at most "
            f"{ARRAY_MAX_SIDE}) would hold them whole at N"
        ),
    }[why]
    return f"{held} ({reason}; {seen})"


def _split_dirs(root: str, imagenet: bool) -> dict[str, str]:
    """{"train": dir, "val": dir?, "test": dir?}. A lone val/ is the evaluation split (as in
    ImageNet, whose "val" is the paper's test set); with both, val/ validates, test/ tests."""
    root = os.path.abspath(os.path.expanduser(root))
    path = {name: os.path.join(root, name) for name in ("train", "val", "test")}
    exists = {name: os.path.isdir(p) for name, p in path.items()}
    if imagenet and not (exists["train"] and exists["val"]):
        raise DataError(
            f"{show_path(root)} is not in the ImageNet layout: expected "
            f"{show_path(path['train'])}/<wnid>/*.JPEG and "
            f"{show_path(path['val'])}/<wnid>/*.JPEG"
        )
    if not exists["train"]:
        lone = [name for name in ("val", "test") if exists[name]]
        if lone and set(_subfolders(root)) == set(lone):  # an unpacked test archive
            return {name: path[name] for name in lone}
        return {"train": root}  # root/<class>/<image>: training images only
    dirs = {"train": path["train"]}
    if exists["val"] and exists["test"]:
        dirs.update(val=path["val"], test=path["test"])
    elif exists["val"] or exists["test"]:
        dirs["test"] = path["val"] if exists["val"] else path["test"]
    return dirs


def _subfolders(root: str) -> list[str]:
    """The names of the folders in ``root``, hidden ones passed over (as the scan does)."""
    return [e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]


def _probe_sizes(files: list[str]) -> list[tuple[int, int]]:
    """(width, height) of up to _PROBES images spread over ``files``, from their headers."""
    picks = np.unique(np.linspace(0, len(files) - 1, min(_PROBES, len(files))).round())
    sizes = []
    for i in picks.astype(int):
        try:
            sizes.append(probe_size(files[i]))
        except BadImage:
            pass  # reported by the decode step
    return sizes


def _choose_kind(sizes: list[tuple[int, int]]) -> str:
    if not sizes:
        return "stream"  # nothing readable in the sample; the header check will say why
    return "array" if np.median([max(s) for s in sizes]) <= ARRAY_MAX_SIDE else "stream"


def _array_split(split: SplitFiles, side: int, cache: Cache, workers: int | None, title: str):
    key = files_key(split.entries, kind="array", side=side)
    hit = cache.load(key)
    if hit is not None and hit[0] is not None:
        images, meta = hit
    else:
        results = map_files(
            decode_square, split.files, desc=f"decoding {title}", workers=workers, side=side
        )
        good = [image for image, _ in results if image is not None]
        images = np.stack(good) if good else np.zeros((0, 3, side, side), np.uint8)
        meta = {
            "kept": [i for i, (image, _) in enumerate(results) if image is not None],
            "bad": [
                (path, reason)
                for path, (_, reason) in zip(split.files, results)
                if reason is not None
            ],
        }
        cache.save(key, meta, images)
    kept = meta["kept"]
    dataset = ArrayDataset(
        images,
        np.asarray(split.labels, np.int64)[kept],
        classes=split.classes,
        name=title,
        files=[split.files[i] for i in kept],
    )
    return dataset, split.bad + [BadFile(*b) for b in meta["bad"]]


def _stream_split(split: SplitFiles, cache: Cache, workers: int | None, title: str):
    key = files_key(split.entries, kind="headers")
    hit = cache.load(key)
    if hit is not None:
        meta = hit[1]
    else:
        results = map_files(probe_size, split.files, desc=f"checking {title}", workers=workers)
        meta = {
            "bad": [
                (path, reason)
                for path, (_, reason) in zip(split.files, results)
                if reason is not None
            ]
        }
        cache.save(key, meta)
    unusable = {path for path, _ in meta["bad"]}
    kept = [i for i, path in enumerate(split.files) if path not in unusable]
    dataset = StreamDataset(
        [split.files[i] for i in kept],
        [split.labels[i] for i in kept],
        classes=split.classes,
        name=title,
    )
    return dataset, split.bad + [BadFile(*b) for b in meta["bad"]]
