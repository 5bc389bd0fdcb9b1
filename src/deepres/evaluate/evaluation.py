"""``evaluate``: a trained network on a labelled data set, in one or more test-time modes."""

from __future__ import annotations

import torch

from deepres.data import DataError, Preprocessing
from deepres.data.errors import first_names
from deepres.errors import show_path
from deepres.weights import TrainedModel

from .infer import network_for, run_views
from .metrics import summarize_scores
from .views import ImageViews


def evaluate(
    trained: TrainedModel,
    prep: Preprocessing,
    dataset,
    modes: list[str],
    *,
    batch_size: int = 128,
    device: torch.device | str = "cpu",
    workers: int = 0,
    scales: list[int] | None = None,
    engine: str = "torch",
    list_wrong: bool = False,
) -> dict:
    """Top-1/top-5 error, per-class accuracy and confusion matrix of each mode (see ``views``):
    ``{"classes": names, "modes": {mode: figures}}``.

    ``dataset``: an ArrayDataset or StreamDataset of ``deepres.data.open_source``; its labels
    are matched to the network's classes by name. Files that turn out unreadable are left out
    of the figures and listed under "unreadable". ``list_wrong``: each mode's figures also
    list, under "wrong", the dataset indices of the images whose top-1 class is wrong.
    """
    labels, classes = labels_for_network(dataset, trained)
    network = network_for(
        trained, prep, "scores", engine=engine, modes=modes, batch_size=batch_size, device=device
    )
    results = {}
    for mode in modes:
        views = _views(dataset, prep, mode, scales)
        read, scores, unreadable = [], [], []
        for batch in run_views(
            network, views, batch_size=batch_size, workers=workers if views.files is not None else 0
        ):
            read += batch.indices
            if batch.outputs is not None:
                scores.append(batch.outputs)
            unreadable += [[show_path(views.files[i]), reason] for i, reason in batch.errors]
        if not read:
            raise DataError(f"{dataset.name}: no image could be read")
        scores = torch.cat(scores)
        summary = summarize_scores(scores, labels[read], classes)
        if list_wrong:
            missed = (scores.argmax(dim=1) != labels[read]).nonzero().flatten().tolist()
            summary["wrong"] = [read[i] for i in missed]
        summary["unreadable"] = unreadable
        if mode == "multi-scale":
            summary["scales"] = list(views.scales)
        results[mode] = summary
    return {"classes": classes, "modes": results}


def labels_for_network(dataset, trained: TrainedModel) -> tuple[torch.Tensor, list[str]]:
    """The data set's labels as the network's class indices, and the class names to report.

    Classes are matched by name, so a data set may hold a subset of the network's classes in
    any order. A network whose file names no classes (torchvision's) is taken to use the data
    set's order, as torchvision's ImageNet classes are the sorted folder names."""
    labels = torch.as_tensor(dataset.labels, dtype=torch.int64)
    ours = list(dataset.classes)
    if not trained.classes_named:
        if len(ours) != len(trained.classes):
            raise DataError(
                f"{dataset.name} has {len(ours)} classes, the network "
                f"{len(trained.classes)} (and {trained.path} names none to match)"
            )
        return labels, ours
    index = {name: i for i, name in enumerate(trained.classes)}
    unknown = [name for name in ours if name not in index]
    if unknown:
        raise DataError(
            f"{dataset.name}: class(es) {first_names(unknown)} "
            f"are not among the network's {len(index)} classes "
            f"({first_names(trained.classes)})"
        )
    return torch.tensor([index[name] for name in ours], dtype=torch.int64)[labels], trained.classes


def _views(dataset, prep: Preprocessing, mode: str, scales) -> ImageViews:
    """Views of the data set's images: straight from its array when that already holds them
    at the network's size, otherwise read from its files with the network's preprocessing."""
    images = getattr(dataset, "images", None)
    if images is not None and tuple(images.shape[2:]) == (prep.resize, prep.resize):
        return ImageViews(prep, mode, images=images, scales=scales)
    if getattr(dataset, "files", None):
        return ImageViews(prep, mode, files=dataset.files, scales=scales)
    height, width = images.shape[2:]
    raise DataError(
        f"{dataset.name} holds {height}x{width} images without their files, and the "
        f"network takes {prep.resize}x{prep.resize}: evaluate it on data of that size"
    )
