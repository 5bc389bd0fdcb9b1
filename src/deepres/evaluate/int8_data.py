"""The images an INT8 export is calibrated and tested on: a data set's images prepared as the
network's training images were (its size, its training set's mean), and the top-1 error of a
network in an engine on them."""

from __future__ import annotations

import numpy as np
import torch

from deepres.data import DataError, Preprocessing
from deepres.weights import TrainedModel

from .evaluation import _views, labels_for_network
from .infer import Network, run_views


def calibration_images(
    dataset, prep: Preprocessing, trained: TrainedModel, count: int, seed: int = 0
) -> torch.Tensor:
    """``count`` images drawn at random (seeded) from ``dataset``, in the network's centre
    view: the images it sees at inference, normalised with its training set's statistics
    (training's random crops and mirror images would only widen the ranges measured)."""
    check_fits(dataset, prep, trained)
    if count < 1:
        raise DataError(f"the number of calibration images must be at least 1, not {count}")
    chosen = np.random.default_rng(seed).permutation(len(dataset))[:count]
    views = _views(dataset, prep, "center", None)
    return torch.cat([views.views(int(i))[0] for i in sorted(chosen)])


def top1_error(
    network: Network,
    dataset,
    prep: Preprocessing,
    trained: TrainedModel,
    *,
    batch_size: int = 128,
    workers: int = 0,
) -> float:
    """The fraction of ``dataset``'s images whose most probable class (centre view) is wrong."""
    check_fits(dataset, prep, trained)
    labels, _ = labels_for_network(dataset, trained)
    views = _views(dataset, prep, "center", None)
    wrong = read = 0
    workers = workers if views.files is not None else 0
    for batch in run_views(network, views, batch_size=batch_size, workers=workers):
        if batch.outputs is not None:
            wrong += int((batch.outputs.argmax(1) != labels[batch.indices]).sum())
            read += len(batch.indices)
    if not read:
        raise DataError(f"{dataset.name}: no image could be read")
    return wrong / read


def check_fits(dataset, prep: Preprocessing, trained: TrainedModel) -> None:
    """Refuse, in one line, data whose classes are not the network's, or that is held at
    another size than the network's training images were (small images are held whole, so
    other-sized ones would be resized and seen as they never were in training)."""
    labels_for_network(dataset, trained)  # a class the network does not know: DataError
    if prep.kind != "array":
        return  # large images: resizing them is the network's own preprocessing
    images = getattr(dataset, "images", None)
    if images is None:
        size = "large images (streamed)"
    elif tuple(images.shape[2:]) != (prep.resize, prep.resize):
        size = f"{images.shape[2]}x{images.shape[3]} images"
    else:
        return
    raise DataError(
        f"{dataset.name}: {size}, but {trained.model_name} was trained on "
        f"{prep.resize}x{prep.resize} images; calibrate and test it on images of that size"
    )
