"""The preprocessing record that travels with a trained network."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from deepres.data import BatchLoader, DataError, Preprocessing, open_source
from deepres.data.decode import decode_square
from deepres.data.preprocess import to_channels

from .helpers import write_image


def test_digits_loader_records_what_the_network_learnt_from():
    splits = open_source("digits")
    prep = Preprocessing.of_loader(BatchLoader(splits.train, 64, train=True))
    assert (prep.kind, prep.resize, prep.crop, prep.in_chans) == ("array", 8, 8, 1)
    assert (prep.normalize, prep.flip, prep.padding) == ("pixel_mean", False, 1)  # crop, no flip
    np.testing.assert_array_equal(prep.stats.mean_image, splits.mean_image)
    record = json.loads(json.dumps(prep.to_dict()))  # JSON and back, as an export's sidecar
    again = Preprocessing.from_dict(record)
    assert again.to_dict() == prep.to_dict()
    np.testing.assert_array_equal(again.stats.mean_image, prep.stats.mean_image)
    images = torch.from_numpy(splits.test.images[:4])
    assert torch.equal(again.normalizer()(images), prep.normalizer()(images))


def test_large_image_folder_records_the_imagenet_views(tmp_path, cache_dir):
    for c in ("a", "b"):
        for n in range(3):
            write_image(tmp_path / "data" / c / f"{n}.jpg", size=(300, 200), seed=n)
    splits = open_source(tmp_path / "data", cache_dir=cache_dir, num_workers=0)
    prep = Preprocessing.of_loader(
        BatchLoader(splits.train, 2, train=True, num_workers=0, normalize="channel")
    )
    assert (prep.kind, prep.resize, prep.crop, prep.in_chans) == ("stream", 256, 224, 3)
    assert (prep.normalize, prep.flip, prep.padding) == ("channel", True, 0)
    assert prep.stats.mean_image.shape == (3, 1, 1)


def test_read_is_the_centre_square_at_the_recorded_side(tmp_path):
    path = write_image(tmp_path / "x.png", size=(50, 30), seed=3)
    prep = Preprocessing.torchvision_imagenet()
    assert torch.equal(prep.read(str(path)), torch.from_numpy(decode_square(str(path), 256)))


def test_gray_conversion_matches_pil_and_gray_becomes_rgb(tmp_path):
    path = write_image(tmp_path / "x.png", size=(16, 16), seed=1)
    rgb = np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1)
    pil_gray = np.asarray(Image.open(path).convert("L")).astype(int)
    ours = to_channels(torch.from_numpy(rgb.copy()), 1)
    assert ours.shape == (1, 16, 16) and ours.dtype == torch.uint8
    assert np.abs(ours[0].numpy().astype(int) - pil_gray).max() <= 1  # PIL rounds in integers
    assert torch.equal(to_channels(ours, 3), ours.expand(3, 16, 16))
    with pytest.raises(DataError, match="cannot turn 2-channel images into the 3 channels"):
        to_channels(torch.zeros(2, 4, 4, dtype=torch.uint8), 3)


def test_records_missing_or_broken_are_named():
    assert Preprocessing.from_record(None, "tv.pth", 224).normalize == "channel"
    with pytest.raises(DataError, match="w.pth records no preprocessing"):
        Preprocessing.from_record(None, "w.pth", 32)
    with pytest.raises(DataError, match="ckpt.pt: not a deepres preprocessing record"):
        Preprocessing.from_dict({"kind": "array"}, "ckpt.pt")
    record = Preprocessing.torchvision_imagenet().to_dict()
    del record["crop"]
    with pytest.raises(DataError, match="ckpt.pt: unreadable preprocessing record .KeyError"):
        Preprocessing.from_dict(record, "ckpt.pt")
