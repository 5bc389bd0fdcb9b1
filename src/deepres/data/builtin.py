"""The built-in dataset: 8x8 handwritten digits, shipped inside deepres (digits.npz, 46 kB).

1,797 grayscale images of the digits 0-9: the UCI ML hand-written digits as scikit-learn ships
them (``sklearn.datasets.load_digits``; scripts/make_digits.py wrote the file from its copy),
so that a fresh machine can train and test a network with no download at all. There is no official test
split: a fixed 20% (the same on every machine and for every seed) is held out as the test set.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .datasets import ArrayDataset

TEST_FRACTION = 0.2
_SPLIT_SEED = 20151210  # fixed, so that test accuracy is comparable between runs


def load_digits():
    """(train, test, classes): uint8 (N, 1, 8, 8) datasets, digits 0-9."""
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f, np.load(f) as npz:
        counts, labels = npz["images"], npz["labels"].astype(np.int64)
    # The pixels are counts 0..16 (of a 4x4 block on a 32x32 bitmap): scale to 0..255.
    images = np.rint(counts * (255 / 16)).astype(np.uint8)[:, None]
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
