"""Top-k error, confusion matrix and per-class accuracy against counts made by hand."""

import numpy as np
import pytest
import torch

from deepres.evaluate.metrics import (
    confusion_matrix,
    per_class_accuracy,
    summarize_scores,
    topk_error,
)

SCORES = torch.tensor(
    [
        [0.6, 0.3, 0.1, 0.0, 0.0, 0.0],  # true 0: top-1 right
        [0.1, 0.2, 0.7, 0.0, 0.0, 0.0],  # true 1: second best
        [0.5, 0.1, 0.0, 0.1, 0.1, 0.2],  # true 2: last, so wrong in top-5 too
        [0.0, 0.0, 0.1, 0.2, 0.3, 0.4],
    ]
)  # true 3: fourth best
LABELS = torch.tensor([0, 1, 2, 3])


def test_topk_error_counts_the_true_class_among_the_k_best():
    assert topk_error(SCORES, LABELS, 1) == pytest.approx(3 / 4)
    assert topk_error(SCORES, LABELS, 2) == pytest.approx(2 / 4)
    assert topk_error(SCORES, LABELS, 5) == pytest.approx(1 / 4)
    assert topk_error(SCORES[:, :3], torch.tensor([0, 1, 2, 2]), 5) == 0.0  # k capped at 3


def test_confusion_rows_are_true_classes_and_empty_classes_have_no_accuracy():
    confusion = confusion_matrix(SCORES.argmax(1), LABELS, 6)
    expected = np.zeros((6, 6), int)
    expected[0, 0] = expected[1, 2] = expected[2, 0] = expected[3, 5] = 1
    np.testing.assert_array_equal(confusion, expected)
    accuracy = per_class_accuracy(confusion)
    assert accuracy[0] == 1.0 and accuracy[1] == 0.0 and np.isnan(accuracy[4])


def test_summary_reports_each_class():
    summary = summarize_scores(SCORES, LABELS, list("abcdef"))
    assert summary["top1_error"] == pytest.approx(0.75)
    assert summary["top5_error"] == pytest.approx(0.25)
    assert summary["per_class"][0] == {"class": "a", "images": 1, "accuracy": 1.0}
    assert summary["per_class"][5] == {"class": "f", "images": 0, "accuracy": None}
