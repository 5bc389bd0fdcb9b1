"""Classification metrics from averaged scores: top-k error, per-class accuracy, confusion."""

from __future__ import annotations

import numpy as np
import torch


def topk_error(scores: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """Fraction of images whose true class is not among the ``k`` highest scores."""
    top = scores.topk(min(k, scores.shape[1]), dim=1).indices
    return float((top != labels[:, None]).all(dim=1).float().mean())


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int) -> np.ndarray:
    """(true class, predicted class) -> number of images, int64."""
    flat = labels.long() * num_classes + predicted.long()
    counts = torch.bincount(flat, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes).numpy()


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Correct / images of each true class; NaN for a class without images."""
    images = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(images > 0, np.diag(confusion) / images, np.nan)


# Up to this many classes the confusion matrix is dense (ImageNet's 1,000: 8 MB); beyond it,
# only its non-zero cells are kept, as n^2 cells of a large class list would take gigabytes.
DENSE_UP_TO = 1000


def confusion_cells(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int) -> np.ndarray:
    """The non-zero cells of the confusion matrix as rows (true, predicted, images), int64."""
    flat = labels.long() * num_classes + predicted.long()
    cells, counts = flat.unique(return_counts=True)
    return torch.stack([cells // num_classes, cells % num_classes, counts], dim=1).numpy()


def summarize_scores(scores: torch.Tensor, labels: torch.Tensor, classes: list[str]) -> dict:
    """Top-1 and top-5 error (top-5 only with more than five classes), per-class accuracy and
    the confusion matrix of one evaluation, JSON-ready apart from the matrix (a numpy array:
    "confusion", dense, or beyond DENSE_UP_TO classes "confusion_cells", its non-zero cells)."""
    n, predicted = len(classes), scores.argmax(dim=1)
    if n <= DENSE_UP_TO:
        confusion = confusion_matrix(predicted, labels, n)
        kept = {"confusion": confusion}
        images, accuracy = confusion.sum(axis=1), per_class_accuracy(confusion)
    else:
        kept = {"confusion_cells": confusion_cells(predicted, labels, n)}
        images = torch.bincount(labels, minlength=n).numpy()
        correct = torch.bincount(labels[predicted == labels], minlength=n).numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = np.where(images > 0, correct / images, np.nan)
    return {
        "images": int(len(labels)),
        "top1_error": topk_error(scores, labels, 1),
        "top5_error": topk_error(scores, labels, 5) if len(classes) > 5 else None,
        "per_class": [
            {
                "class": name,
                "images": int(images[c]),
                "accuracy": None if np.isnan(accuracy[c]) else float(accuracy[c]),
            }
            for c, name in enumerate(classes)
        ],
        **kept,
    }
