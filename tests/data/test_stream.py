"""Streamed large images (the ImageNet layout): the paper's train and test views, worker
determinism, PCA colour, and files that only turn out bad in the middle of training."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from deepres.data import BatchLoader, DataError, open_source
from deepres.data.augment import IMAGENET_PCA_EIGVAL, IMAGENET_PCA_EIGVEC, center_crop, ten_crop
from deepres.data.stream import load_image, multiscale_views, train_view

from .helpers import make_folder, png_bytes, write_image

WNIDS = ("n01440764", "n01443537")


@pytest.fixture
def imagenet(tmp_path):
    return make_folder(
        tmp_path / "ilsvrc",
        classes=WNIDS,
        per_class=3,
        splits=("train", "val"),
        size=(320, 260),
        suffix=".JPEG",
    )


def open_imagenet(root, cache_dir, **kwargs):
    return open_source(f"imagenet:{root}", cache_dir=cache_dir, **kwargs)


def test_imagenet_layout(imagenet, cache_dir):
    splits = open_imagenet(imagenet, cache_dir)
    assert splits.kind == "stream" and splits.image_size == 224 and splits.in_chans == 3
    assert splits.classes == list(WNIDS) and len(splits.train) == 6 and len(splits.test) == 6
    assert splits.mean_image.shape == (3, 1, 1)
    image, label = splits.test[4]  # the evaluation view, for any PyTorch code
    assert image.shape == (3, 224, 224) and image.dtype == torch.uint8 and label == 1


def test_train_batches_are_deterministic_whatever_the_workers(imagenet, cache_dir):
    splits = open_imagenet(imagenet, cache_dir)

    def batches(workers):
        loader = BatchLoader(splits.train, 3, train=True, seed=1, num_workers=workers)
        return [(x, y) for _ in range(2) for x, y in loader]

    inline, parallel = batches(0), batches(2)
    assert len(inline) == 4 and inline[0][0].shape == (3, 3, 224, 224)
    for (a, b), (c, d) in zip(inline, parallel):
        assert a.dtype == torch.float32 and torch.equal(a, c) and torch.equal(b, d)
    assert not torch.equal(inline[0][0], inline[2][0])  # epochs differ


def test_stream_resume(imagenet, cache_dir):
    splits = open_imagenet(imagenet, cache_dir)
    expected = [x for x, _ in BatchLoader(splits.train, 2, train=True, num_workers=0)]
    first = BatchLoader(splits.train, 2, train=True, num_workers=0)
    next(iter(first))
    resumed = BatchLoader(splits.train, 2, train=True, num_workers=0)
    resumed.load_state_dict(first.state_dict())
    rest = [x for x, _ in resumed]
    assert len(rest) == 2 and all(torch.equal(a, b) for a, b in zip(rest, expected[1:]))


def test_evaluation_view_is_the_centre_crop_at_256(imagenet, cache_dir):
    splits = open_imagenet(imagenet, cache_dir)
    loader = BatchLoader(splits.test, 6, train=False, normalize="channel", num_workers=0)
    images, labels = next(iter(loader))
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    mean = torch.tensor(splits.mean).view(3, 1, 1)
    std = torch.tensor(splits.std).view(3, 1, 1)
    expected = center_crop(load_image(splits.test.files[4], 256), 224) / 255.0
    assert torch.allclose(images[4] * std + mean, expected, atol=1e-5)


def test_train_view_scales_crops_and_flips():
    x = np.arange(400)
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, :, 0] = np.where(x // 20 % 2 == 0, 255, 0)  # stripes 20 pixels wide
    image[:, :, 1] = x * 255 // 399  # rises left to right
    sides = np.linspace(256, 480, 40).astype(int)
    views = [
        train_view(image, side, np.random.default_rng(seed)) for seed, side in enumerate(sides)
    ]
    assert all(v.shape == (224, 224, 3) for v in views)
    for view, side in zip(views, sides):
        edges = np.flatnonzero(np.diff(view[100, :, 0] > 127))
        stripe = np.median(np.diff(edges))
        assert abs(stripe - 20 * side / 300) < 2  # shorter side 300 scaled to `side`
    flipped = sum(int(v[100, 200, 1]) < int(v[100, 20, 1]) for v in views)
    assert 10 <= flipped <= 30  # about half mirrored


def test_pca_colour_shift_follows_alexnet(tmp_path, cache_dir):
    root = make_folder(
        tmp_path / "gray",
        classes=WNIDS,
        per_class=32,
        splits=("train", "val"),
        size=(260, 260),
        suffix=".png",
    )
    splits = open_imagenet(root, cache_dir)
    plain = next(
        iter(
            BatchLoader(
                splits.train, 64, train=True, augment="none", normalize="channel", num_workers=0
            )
        )
    )[0]
    shifted = next(
        iter(BatchLoader(splits.train, 64, train=True, normalize="channel", num_workers=0))
    )[0]
    std = torch.tensor(splits.std)
    # Solid-colour images: cropping and flipping change nothing, the colour shift all.
    # Compare each image with itself: same seed, so the same order in both loaders.
    shift = (shifted - plain).mean(dim=(2, 3)) * std
    eigvec = torch.tensor(IMAGENET_PCA_EIGVEC)
    alphas = (shift @ eigvec) / torch.tensor(IMAGENET_PCA_EIGVAL)
    assert 0.06 < alphas[:, 0].std().item() < 0.14  # alpha ~ N(0, 0.1) along each component
    assert (shifted - plain).std(dim=(2, 3)).max() < 1e-4  # one shift per image


def test_test_time_views(tmp_path):
    image = write_image(tmp_path / "a.jpg", (320, 240))
    views = multiscale_views(str(image))
    assert [min(v.shape[1:]) for v in views] == [224, 256, 384, 480, 640]
    assert views[1].shape == (3, 256, 341)
    batch = torch.arange(2 * 3 * 6 * 8).view(2, 3, 6, 8)
    crops = ten_crop(batch, 4)
    assert crops.shape == (2, 10, 3, 4, 4)
    assert torch.equal(crops[:, 0], batch[..., :4, :4])
    assert torch.equal(crops[:, 3], batch[..., 2:, 4:])
    assert torch.equal(crops[:, 4], batch[..., 1:5, 2:6])
    assert torch.equal(crops[:, 9], crops[:, 4].flip(-1))
    with pytest.raises(ValueError, match="larger than the image"):
        ten_crop(batch, 7)


def test_header_problems_are_found_before_training(imagenet, cache_dir):
    (imagenet / "train" / WNIDS[0] / "text.JPEG").write_text("not a photo")
    (imagenet / "train" / WNIDS[0] / "bomb.png").write_bytes(
        png_bytes(100_000, 100_000, 8, 2, b"\0" * 64)
    )
    with pytest.raises(
        DataError, match="2 unusable(.|\n)*bomb.png: decompression(.|\n)*text.JPEG: a text"
    ):
        open_imagenet(imagenet, cache_dir, on_bad_image="error")
    splits = open_imagenet(imagenet, cache_dir)
    assert len(splits.train) == 6 and len(splits.bad_files) == 2


def test_a_file_that_breaks_mid_training_is_replaced_and_reported(imagenet, cache_dir, caplog):
    target = imagenet / "train" / WNIDS[0] / "1.JPEG"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # the header is intact: only decoding fails
    splits = open_imagenet(imagenet, cache_dir)
    assert splits.bad_files == []
    loader = BatchLoader(splits.train, 6, train=True, num_workers=0)
    with caplog.at_level(logging.WARNING, logger="deepres.data"):
        for epoch in range(2):
            images, labels = next(iter(loader))
            assert images.shape[0] == 6  # the batch keeps its size
            assert loader.state_dict()["epoch"] == epoch + 1
    assert [b.path for b in loader.bad_files] == [str(target)]
    assert "truncated" in loader.bad_files[0].reason
    lines = [r.getMessage() for r in caplog.records if "1.JPEG" in r.getMessage()]
    assert len(lines) == 1  # once, not once per epoch


def test_an_evaluation_file_deleted_mid_run_is_left_out_not_replaced(imagenet, cache_dir, caplog):
    splits = open_imagenet(imagenet, cache_dir)
    gone = imagenet / "val" / WNIDS[1] / "0.JPEG"
    gone.unlink()  # after the scan: as if deleted while training ran
    loader = BatchLoader(splits.test, 4, train=False, num_workers=0)
    with caplog.at_level(logging.WARNING, logger="deepres.data"):
        labels = torch.cat([y for _, y in loader])
    assert labels.tolist() == [0, 0, 0, 1, 1]  # five images, none of them twice
    assert [b.path for b in loader.bad_files] == [str(gone)]
