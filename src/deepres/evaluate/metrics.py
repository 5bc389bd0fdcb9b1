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


def summarize(scores: torch.Tensor, labels: torch.Tensor, classes: list[str]) -> dict:
    """Top-1 and top-5 error (top-5 only with more than five classes), per-class accuracy and
    the confusion matrix of one evaluation, JSON-ready apart from the matrix (a numpy array)."""
    confusion = confusion_matrix(scores.argmax(dim=1), labels, len(classes))
    accuracy = per_class_accuracy(confusion)
    return {
        "images": int(len(labels)),
        "top1_error": topk_error(scores, labels, 1),
        "top5_error": topk_error(scores, labels, 5) if len(classes) > 5 else None,
        "per_class": [
            {
                "class": name,
                "images": int(confusion[c].sum()),
                "accuracy": None if np.isnan(accuracy[c]) else float(accuracy[c]),
            }
            for c, name in enumerate(classes)
        ],
        "confusion": confusion,
    }
