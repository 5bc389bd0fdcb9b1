"""The built-in dataset: the 8x8 handwritten digits that ship inside scikit-learn.

1,797 grayscale images of the digits 0-9 (UCI ML hand-written digits), so that a fresh
machine can train and test a network with no download at all. There is no official test
split: a fixed 20% (the same on every machine and for every seed) is held out as the test set.
"""

from __future__ import annotations

import numpy as np

from .datasets import ArrayDataset

TEST_FRACTION = 0.2
_SPLIT_SEED = 20151210  # fixed, so that test accuracy is comparable between runs


def load_digits():
    """(train, test, classes): uint8 (N, 1, 8, 8) datasets, digits 0-9."""
    from sklearn.datasets import load_digits as sklearn_digits  # slow import; only when used

    bunch = sklearn_digits()
    # The pixels are counts 0..16 (of a 4x4 block on a 32x32 bitmap): scale to 0..255.
    images = np.rint(bunch.images * (255 / 16)).astype(np.uint8)[:, None]
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(labels))
    n_test = round(len(labels) * TEST_FRACTION)
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    classes = [str(d) for d in range(10)]

    def part(rows, name):
        # Mirror images of digits are not digits: crop augmentation only, no flips.
        return ArrayDataset(
            images[rows],
            labels[rows],
            classes=classes,
            default_augment="crop",
            name=f"digits {name}",
        )

    return part(train, "train"), part(test, "test"), classes
