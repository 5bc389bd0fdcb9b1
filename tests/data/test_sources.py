"""open_source as a whole: the built-in digits, the seeded train/val split, the real
CIFAR-10 JPEGs (a slice of them)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from deepres.data import BatchLoader, DataError, open_source
from deepres.train import load_recipe

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def test_digits_are_built_in():
    splits = open_source("digits")
    assert splits.kind == "array" and splits.image_size == 8 and splits.in_chans == 1
    assert splits.classes == [str(d) for d in range(10)]
    assert len(splits.train) + len(splits.test) == 1797 and len(splits.test) == 359
    assert splits.train.images.dtype == np.uint8 and splits.train.images.max() == 255
    assert sorted(np.unique(splits.test.labels)) == list(range(10))
    # The test split is fixed: the same images whatever the seed.
    again = open_source("digits", seed=9, val_size=100)
    assert np.array_equal(again.test.images, splits.test.images)
    images, labels = next(iter(BatchLoader(splits.train, 32, train=True)))
    assert images.shape == (32, 1, 8, 8) and labels.dtype == torch.int64


def test_val_split_is_seeded_disjoint_and_out_of_the_statistics():
    whole = open_source("digits")
    a = open_source("digits", val_size=300, seed=1)
    b = open_source("digits", val_size=300, seed=1)
    c = open_source("digits", val_size=300, seed=2)
    assert len(a.val) == 300 and len(a.train) == len(whole.train) - 300
    assert np.array_equal(a.val.images, b.val.images)
    assert not np.array_equal(a.val.images, c.val.images)
    rows = {img.tobytes() for img in a.train.images}
    assert sum(img.tobytes() in rows for img in a.val.images) < 10  # only true duplicates
    expected = a.train.images.mean(axis=0) / 255
    assert np.allclose(a.mean_image, expected, atol=1e-6)  # train part only
    assert a.val.stats is a.train.stats and a.test.stats is a.train.stats
    with pytest.raises(DataError, match="val_size must be between 1 and"):
        open_source("digits", val_size=len(whole.train))


def test_real_cifar10_jpeg_slice(cifar_jpeg_slice, tmp_path):
    splits = open_source(str(cifar_jpeg_slice), cache_dir=tmp_path, val_size=100, seed=0)
    assert splits.kind == "array" and splits.image_size == 32 and splits.in_chans == 3
    assert splits.classes == CIFAR10_CLASSES
    assert len(splits.train) == 900 and len(splits.val) == 100 and len(splits.test) == 200
    assert splits.bad_files == []
    # The labels follow the folders the files came from.
    for dataset in (splits.train, splits.test):
        folders = [os.path.basename(os.path.dirname(f)) for f in dataset.files]
        assert [CIFAR10_CLASSES[label] for label in dataset.labels] == folders
    # The pixels are the real photographs: the shared data's README gives the test set's
    # channel means as 0.494, 0.485, 0.450; 200 of its images come close.
    test_means = splits.test.images.mean(axis=(0, 2, 3)) / 255
    assert np.allclose(test_means, [0.494, 0.485, 0.450], atol=0.03)
    images, labels = next(iter(BatchLoader(splits.train, 128, train=True)))
    assert images.shape == (128, 3, 32, 32) and abs(images.mean().item()) < 0.1


def test_bare_imagenet_asks_for_its_folder():
    # The imagenet-paper preset names the kind of data; where it lives comes from --data.
    assert load_recipe("imagenet-paper").data == "imagenet"
    with pytest.raises(
        DataError, match=r"imagenet: say where its folder is, as --data imagenet:PATH"
    ):
        open_source("imagenet")
