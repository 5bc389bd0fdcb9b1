"""``predict`` and ``embed``: a trained network applied to image files, one result per file.

A file that is not a usable image gets a result of its own with the reason, and every other
file is still processed.
"""

from __future__ import annotations

import os
from typing import Iterator, NamedTuple

import numpy as np
import torch

from deepres.atomic import special_file_kind
from deepres.data import Preprocessing
from deepres.data.errors import BadFile
from deepres.data.scan import list_images
from deepres.weights import TrainedModel
from deepres.weights.trained import check_top_k

from .infer import network_for, run_views
from .views import ImageViews


class Prediction(NamedTuple):
    file: str
    top: list[tuple[str, float]]  # (class, probability), most probable first; [] on error
    error: str | None = None


def collect_files(paths: list[str]) -> tuple[list[str], list[BadFile]]:
    """The image files named by ``paths``: files as given, folders searched (sorted, hidden
    files passed over). What cannot be used is returned with the reason."""
    files, bad = [], []
    for path in paths:
        if os.path.isdir(path):
            found, skipped = list_images(path)
            files += found
            bad += skipped
        elif os.path.isfile(path):
            files.append(path)
        else:
            bad.append(BadFile(path, _not_a_file(path)))
    return files, bad


def _not_a_file(path: str) -> str:
    """Why ``path``, neither a folder nor a regular file, is not read: reading a device or a
    FIFO would never end (/dev/zero) or wait for a writer."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file or folder"
    except OSError as err:
        return err.strerror or str(err)
    return f"{special_file_kind(mode)}, not an image file: not read"


_NOT_FINITE = "the network's scores for it are not finite numbers (they overflowed)"


def predict(
    trained: TrainedModel,
    prep: Preprocessing,
    files: list[str],
    *,
    top_k: int = 5,
    mode: str = "center",
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    workers: int = 0,
    engine: str = "torch",
) -> Iterator[Prediction]:
    """The ``top_k`` classes of each file with their probabilities, in the order of ``files``."""
    check_top_k(top_k)
    network = network_for(
        trained, prep, "scores", engine=engine, modes=[mode], batch_size=batch_size, device=device
    )
    views = ImageViews(prep, mode, files=files)
    for batch in run_views(network, views, batch_size=batch_size, workers=workers):
        results = {i: Prediction(files[i], [], reason) for i, reason in batch.errors}
        if batch.outputs is not None:
            tops = trained.top_classes(batch.outputs, top_k)
            finite = torch.isfinite(batch.outputs).all(dim=1).tolist()
            for i, top, ok in zip(batch.indices, tops, finite):
                results[i] = (
                    Prediction(files[i], top) if ok else Prediction(files[i], [], _NOT_FINITE)
                )
        yield from (results[i] for i in sorted(results))


def embed(
    trained: TrainedModel,
    prep: Preprocessing,
    files: list[str],
    *,
    mode: str = "center",
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    workers: int = 0,
    engine: str = "torch",
) -> tuple[np.ndarray, list[str], list[BadFile]]:
    """Penultimate-layer features (N, num_features) float32 of the readable files, those files
    in row order, and the unreadable ones with the reason."""
    network = network_for(
        trained, prep, "features", engine=engine, modes=[mode], batch_size=batch_size, device=device
    )
    views = ImageViews(prep, mode, files=files)
    rows, kept, bad = [], [], []
    for batch in run_views(network, views, batch_size=batch_size, workers=workers):
        if batch.outputs is not None:
            rows.append(batch.outputs.numpy())
        kept += [files[i] for i in batch.indices]
        bad += [BadFile(files[i], reason) for i, reason in batch.errors]
    if not rows:  # nothing readable: an empty table, as wide as the network's features
        width = trained.model.num_features if trained.model is not None else 0
        return np.zeros((0, width), np.float32), kept, bad
    features = np.concatenate(rows)
    return features.astype(np.float32), kept, bad
