"""The built-in digits file is scikit-learn's digits, image for image (scripts/make_digits.py
wrote it); deepres reads it without scikit-learn."""

import numpy as np
import pytest

from deepres.data.builtin import _SPLIT_SEED, TEST_FRACTION, load_digits


def test_the_shipped_digits_are_sklearns():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    expected = np.rint(bunch.images * (255 / 16)).astype(np.uint8)[:, None]
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(expected))
    n_test = round(len(expected) * TEST_FRACTION)
    test_rows, train_rows = np.sort(order[:n_test]), np.sort(order[n_test:])
    train, test, classes = load_digits()
    for split, rows in ((train, train_rows), (test, test_rows)):
        assert np.array_equal(split.images, expected[rows])
        assert np.array_equal(split.labels, bunch.target[rows])
    assert classes == [str(d) for d in range(10)] and len(test) == 359
