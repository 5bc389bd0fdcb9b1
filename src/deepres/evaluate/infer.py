"""Running a trained network over test-time views, in batches, averaging over each image's views."""

from __future__ import annotations

from typing import Callable, Iterator, NamedTuple

import torch
from torch.utils.data import DataLoader

from deepres.data import Preprocessing
from deepres.engine import Engine, open_engine
from deepres.errors import UsageError
from deepres.weights import TrainedModel

from .views import ImageViews

# A deepres.engine.Engine: float32 images on the CPU in, float32 outputs on the CPU out.
Network = Callable[[torch.Tensor], torch.Tensor]


class Batch(NamedTuple):
    indices: list[int]  # items of the ImageViews that were read, in order
    outputs: torch.Tensor | None  # (len(indices), D) float32 on the CPU; None if none was read
    errors: list[tuple[int, str]]  # (item, reason) for files that are not usable images


def network_for(
    trained: TrainedModel,
    prep: Preprocessing,
    output: str,
    *,
    engine: str,
    modes: list[str],
    batch_size: int,
    device: torch.device | str,
) -> Engine:
    """``trained``'s ``output`` ("scores" or "features") in ``engine``, for the views of
    ``modes`` in batches of ``batch_size``: every view is a crop of the network's size except
    the multi-scale ones, which only the torch engine takes. An exported ONNX file runs as it
    was written."""
    return open_engine(
        trained.model,
        output,
        engine,
        device=device,
        batch=batch_size,
        image_shape=(prep.in_chans, prep.crop, prep.crop),
        one_size="multi-scale" not in modes,
        exported=(trained.onnx, trained.onnx_engine) if trained.onnx is not None else None,
    )


@torch.inference_mode()
def run_views(
    network: Network, views: ImageViews, *, batch_size: int, workers: int = 0
) -> Iterator[Batch]:
    """``network``'s output for every image of ``views``, ``batch_size`` images at a time,
    averaged over each image's views. ``workers`` processes decode files in the background."""
    if batch_size < 1:
        raise UsageError(f"batch size must be at least 1, not {batch_size}")
    loader = DataLoader(views, batch_size=batch_size, num_workers=workers, collate_fn=_as_list)
    for items in loader:
        good = [(i, v) for i, v, reason in items if reason is None]
        errors = [(i, reason) for i, _, reason in items if reason is not None]
        outputs = average_over_views(network, [v for _, v in good], batch_size) if good else None
        yield Batch([i for i, _ in good], outputs, errors)


def average_over_views(
    network: Network, view_lists: list[list[torch.Tensor]], chunk: int
) -> torch.Tensor:
    """Mean output over each image's views. Views of one shape, of all images, go through the
    network together, ``chunk`` at a time, so that 10 crops or 5 scales still run in batches."""
    by_shape: dict[tuple, list[tuple[int, torch.Tensor]]] = {}
    for owner, views in enumerate(view_lists):
        for v in views:
            by_shape.setdefault(tuple(v.shape[1:]), []).append((owner, v))
    total = None
    count = torch.zeros(len(view_lists))
    for members in by_shape.values():
        stacked = torch.cat([v for _, v in members])
        owners = torch.cat([torch.full((len(v),), owner) for owner, v in members])
        outputs = torch.cat([network(part) for part in stacked.split(chunk)])
        if total is None:
            total = torch.zeros(len(view_lists), outputs.shape[1])
        total.index_add_(0, owners, outputs)
        count.index_add_(0, owners, torch.ones(len(owners)))
    return total / count[:, None]


def _as_list(items: list) -> list:
    return items
