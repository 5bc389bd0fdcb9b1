"""``BatchLoader``: normalised, augmented batches on the training device, resumable exactly.

Everything random in an epoch (the order, each image's crop and flip, each stream sample's
seed) is drawn up front from a generator seeded by (seed, epoch), on the CPU, whatever the
device. So an epoch's batches are a pure function of (seed, epoch): the same on CPU and CUDA,
and a run resumed from ``state_dict()`` sees exactly the batches it would have seen.

Array datasets are copied to the device once and cut into batches there (airbench's way);
stream datasets are decoded by worker processes and only normalised on the device.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .augment import Normalize, default_padding, pca_rgb_shift, random_crop_flip
from .decode import BadImage
from .errors import BadFile, DataError, log
from .stream import LEFT_OUT

AUGMENTS = {"array": ("cifar", "crop", "none"), "stream": ("imagenet", "none")}
_AUGMENT_WORDS = {
    "cifar": "pad-crop-flip (CIFAR-style)",
    "crop": "pad-crop, no flip",
    "imagenet": "scale 256-480, 224 crop, flip, PCA colour (ImageNet-style)",
    "none": "none",
}


class BatchLoader:
    """Batches of ``(images, labels)``: float32 (B, C, H, W) normalised and int64 (B,), on
    ``device``.

    ``train``: shuffle, augment, and by default drop the last partial batch. ``augment``:
    "cifar" (pad, random crop, flip), "crop" (no flip), "imagenet" (scale, crop, flip, PCA
    colour) or "none"; by default the dataset's own ("cifar" for CIFAR and small folders,
    "crop" for digits, "imagenet" for streams). ``normalize``: "pixel_mean" (subtract the
    training set's mean image, the paper's) or "channel" (mean/std per channel).
    ``padding``: for the crop, default 4 on 32-pixel images (image side / 8).
    ``rank``/``world_size``: this process's share of every batch for distributed training
    (each rank gets ``batch_size`` images of a global batch of ``batch_size * world_size``).
    ``num_workers``: decoding processes for stream datasets (default: one per core, up to 8).
    """

    def __init__(
        self,
        dataset,
        batch_size: int,
        *,
        train: bool,
        device="cpu",
        seed: int = 0,
        augment: str | None = None,
        normalize: str = "pixel_mean",
        drop_last: bool | None = None,
        padding: int | None = None,
        num_workers: int | None = None,
        rank: int = 0,
        world_size: int = 1,
    ):
        if batch_size < 1 or seed < 0 or not 0 <= rank < world_size:
            raise ValueError(
                f"need batch_size >= 1, seed >= 0 and 0 <= rank < world_size; got "
                f"{batch_size}, {seed}, {rank}, {world_size}"
            )
        if dataset.stats is None:
            raise DataError(
                "the dataset has no training statistics to normalise with; open it "
                "with deepres.data.open_source"
            )
        self.dataset, self.batch_size, self.train, self.seed = dataset, batch_size, train, seed
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.augment = (augment or dataset.default_augment) if train else "none"
        if self.augment not in AUGMENTS[dataset.kind]:
            hint = (
                " (large images stream through the ImageNet views; image_size N, at most "
                "128, holds them whole at N pixels, where 'cifar' and 'crop' apply)"
                if dataset.kind == "stream"
                else ""
            )
            raise DataError(
                f"augment={self.augment!r} does not apply to {dataset.kind} datasets "
                f"(choose from {AUGMENTS[dataset.kind]}){hint}"
            )
        self.drop_last = train if drop_last is None else drop_last
        self.normalize = Normalize(dataset.stats, normalize, self.device)
        self.epoch, self.position = 0, 0
        self.bad_files: list[BadFile] = []  # found while streaming (arrays are checked up front)
        if len(dataset) == 0:
            raise DataError(
                f"{dataset.name or 'the data set'}: no usable image in this split; add "
                "images to it (or remove its folder)"
            )
        if len(self) == 0:
            raise DataError(
                f"no batch of {batch_size} in {len(dataset)} images (per rank, with "
                f"drop_last={self.drop_last}); use a smaller batch size"
            )
        self._batches = (
            _ArrayBatches(self, padding)
            if dataset.kind == "array"
            else _StreamBatches(self, num_workers)
        )

    def describe_augment(self) -> str:
        """The training augmentation in words, e.g. "pad-crop-flip (CIFAR-style), padding 4"."""
        words = _AUGMENT_WORDS[self.augment]
        if self.dataset.kind == "array" and self.augment != "none":
            words += f", padding {self._batches.padding}"
        return words

    def __len__(self) -> int:
        n = self._shard_size()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        """The rest of the current epoch: each iteration goes on where the last one stopped,
        and a loader that has handed out an epoch's last batch stands at the next epoch."""
        epoch, start = self.epoch, self.position
        for i, batch in enumerate(self._batches.epoch(epoch, start), start):
            self.epoch, self.position = (epoch + 1, 0) if i + 1 == len(self) else (epoch, i + 1)
            yield batch

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.position = epoch, 0

    def state_dict(self) -> dict:
        """Where the loader stands: ``position`` batches of ``epoch`` have been handed out."""
        return {"epoch": self.epoch, "position": self.position, **self._identity()}

    def load_state_dict(self, state: dict) -> None:
        mismatch = {k: (v, state.get(k)) for k, v in self._identity().items() if state.get(k) != v}
        if mismatch:
            raise DataError(
                "the loader state comes from a different set-up (this loader's "
                f"value, the state's): {mismatch}"
            )
        if not 0 <= state["position"] <= len(self):
            raise DataError(f"position {state['position']} is outside an epoch of {len(self)}")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])

    def _identity(self) -> dict:
        return {
            "seed": self.seed,
            "batch_size": self.batch_size,
            "size": len(self.dataset),
            "world_size": self.world_size,
            "rank": self.rank,
            "augment": self.augment,
        }

    def _shard_size(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.world_size  # every rank the same number of full batches
        return len(range(self.rank, n, self.world_size))

    # -- what the batchers (_ArrayBatches, _StreamBatches) build an epoch from ----------------
    def plan(self, epoch: int) -> tuple[torch.Generator, torch.Tensor]:
        """This epoch's generator and this rank's share of the epoch's order."""
        generator = epoch_generator(self.seed, epoch)
        n = len(self.dataset)
        order = torch.randperm(n, generator=generator) if self.train else torch.arange(n)
        return generator, order[self.rank :: self.world_size][: self._shard_size()]

    def batch_rows(self, order: torch.Tensor, i: int) -> torch.Tensor:
        """The dataset rows of batch ``i`` of an epoch whose order is ``order``."""
        return order[i * self.batch_size : (i + 1) * self.batch_size]

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            # From pinned memory the copy runs asynchronously, overlapping the GPU's work.
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.to(self.device)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU generator for (seed, epoch): independent streams, each made without the others."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


class _ArrayBatches:
    """Batches cut from the whole dataset held on the device."""

    def __init__(self, loader: BatchLoader, padding: int | None):
        self.loader = loader
        self.images, self.labels = loader.dataset.on_device(loader.device)
        self.padding = default_padding(self.images.shape[-1]) if padding is None else padding

    def epoch(self, epoch: int, start: int):
        loader = self.loader
        generator, order = loader.plan(epoch)
        n = len(loader.dataset)
        if loader.augment != "none":
            offsets = torch.randint(0, 2 * self.padding + 1, (n, 2), generator=generator)
            flips = torch.rand(n, generator=generator) < 0.5
            if loader.augment == "crop":
                flips.zero_()
            offsets, flips = loader.to_device(offsets), loader.to_device(flips)
        order = loader.to_device(order)
        for i in range(start, len(loader)):
            rows = loader.batch_rows(order, i)
            images = loader.normalize(self.images[rows])
            if loader.augment != "none":
                images = random_crop_flip(images, offsets[rows], flips[rows], self.padding)
            yield images, self.labels[rows]


class _StreamBatches:
    """Batches decoded by a DataLoader's workers; each sample's randomness is its own seed."""

    def __init__(self, loader: BatchLoader, num_workers: int | None):
        self.loader = loader
        self.sampler = _EpochSampler(loader)
        workers = min(8, os.cpu_count() or 1) if num_workers is None else num_workers
        self.dataloader = DataLoader(
            _Samples(loader.dataset, loader.augment == "imagenet"),
            batch_sampler=self.sampler,
            num_workers=workers,
            collate_fn=_collate,
            persistent_workers=workers > 0,
            pin_memory=loader.device.type == "cuda",
        )

    def epoch(self, epoch: int, start: int):
        self.sampler.epoch, self.sampler.start = epoch, start
        loader = self.loader
        try:
            for images, labels, alphas, bad in self.dataloader:
                self._note(bad)
                kept = labels != LEFT_OUT  # files unusable in an evaluation: left out, not replaced
                if not kept.all():
                    images, labels, alphas = images[kept], labels[kept], alphas[kept]
                    if not len(labels):
                        continue
                images = images.to(loader.device, non_blocking=True)
                shift = (
                    pca_rgb_shift(alphas.to(loader.device, non_blocking=True))
                    if loader.augment == "imagenet"
                    else None
                )
                yield loader.normalize(images, shift), labels.to(loader.device, non_blocking=True)
        except BadImage as err:
            raise DataError(f"stopped: {err}") from None

    def _note(self, bad: list[tuple[str, str]]) -> None:
        known = {b.path for b in self.loader.bad_files}
        for path, reason in bad:
            if path not in known:
                known.add(path)
                self.loader.bad_files.append(BadFile(path, reason))
                log.warning("skipped %s", BadFile(path, reason))


class _EpochSampler:
    """Batches of (index, seed) keys for the epoch and start position the loader sets."""

    def __init__(self, loader: BatchLoader):
        self.loader, self.epoch, self.start = loader, 0, 0

    def __len__(self) -> int:
        return len(self.loader) - self.start

    def __iter__(self):
        loader = self.loader
        generator, order = loader.plan(self.epoch)
        seeds = torch.randint(0, 2**62, (len(loader.dataset),), generator=generator)
        for i in range(self.start, len(loader)):
            rows = loader.batch_rows(order, i).tolist()
            yield [(row, int(seeds[row])) for row in rows]


class _Samples(Dataset):
    def __init__(self, dataset, train: bool):
        self.dataset, self.train = dataset, train

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        index, seed = key
        return self.dataset.sample(index, seed, self.train)


def _collate(samples):
    images, labels, alphas, bad = zip(*samples)
    return (
        torch.stack(images),
        torch.tensor(labels),
        torch.stack(alphas),
        [b for found in bad for b in found],
    )
