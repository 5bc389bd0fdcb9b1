"""Image folders: layouts, the array cache, and every kind of bad input."""

from __future__ import annotations

import json
import logging
import os
import time

import numpy as np
import pytest

import deepres.data.folder as folder_module
from deepres.data import DataError, open_source

from .helpers import make_folder, png_bytes, write_image


def open_quietly(root, cache_dir, **kwargs):
    return open_source(str(root), cache_dir=cache_dir, **kwargs)


def test_folder_with_train_and_test(tmp_path, cache_dir):
    root = make_folder(tmp_path / "d", classes=("zebra", "ant", "moth"), per_class=4)
    splits = open_quietly(root, cache_dir)
    assert splits.classes == ["ant", "moth", "zebra"]  # sorted, whatever the disk order
    assert splits.kind == "array" and splits.image_size == 32 and splits.in_chans == 3
    assert len(splits.train) == 12 and len(splits.test) == 12 and splits.val is None
    assert splits.bad_files == []
    # Each image is one colour that says which class folder it came from.
    for image, label in (splits.train[i] for i in range(len(splits.train))):
        folder_index = ("zebra", "ant", "moth").index(splits.classes[label])
        assert int(image[0, 5, 5]) == 40 * folder_index + 10


def test_bare_class_folders_and_val_beside_test(tmp_path, cache_dir):
    bare = make_folder(tmp_path / "bare", splits=("",), per_class=2)
    splits = open_quietly(bare, cache_dir)
    assert len(splits.train) == 4 and splits.test is None
    both = make_folder(tmp_path / "both", splits=("train", "val", "test"), per_class=2)
    splits = open_quietly(both, cache_dir)
    assert len(splits.val) == 4 and len(splits.test) == 4
    with pytest.raises(DataError, match="own val/"):
        open_quietly(both, cache_dir, val_size=1)
    only_val = make_folder(tmp_path / "v", splits=("train", "val"), per_class=2)
    assert len(open_quietly(only_val, cache_dir).test) == 4  # ImageNet's convention


def test_mixed_sizes_become_one_square_size(tmp_path, cache_dir):
    for n, size in enumerate([(32, 32), (32, 32), (48, 32), (1, 1), (64, 40)]):
        write_image(tmp_path / "d" / "train" / "a" / f"{n}.png", size, color=(n * 50, 0, 0))
    splits = open_quietly(tmp_path / "d", cache_dir)
    assert splits.train.images.shape == (5, 3, 32, 32)
    assert splits.train.images[:, 0, 16, 16].tolist() == [0, 50, 100, 150, 200]


def test_uppercase_extensions_and_hidden_files(tmp_path, cache_dir, caplog):
    root = tmp_path / "d"
    write_image(root / "train" / "a" / "x.JPG")
    write_image(root / "train" / "a" / "y.PnG")
    write_image(root / "train" / "a" / ".hidden.png")
    (root / "train" / "a" / ".DS_Store").write_bytes(b"\0\1")
    write_image(root / "train" / ".ipynb_checkpoints" / "z.png")
    splits = open_quietly(root, cache_dir)
    assert len(splits.train) == 2 and splits.classes == ["a"] and splits.bad_files == []


def test_second_start_reads_the_cache(tmp_path, cache_dir, monkeypatch):
    root = make_folder(tmp_path / "d", per_class=3)
    first = open_quietly(root, cache_dir)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again although nothing changed")

    monkeypatch.setattr(folder_module, "map_files", no_decoding)
    second = open_quietly(root, cache_dir)
    assert isinstance(second.train.images, np.memmap)
    assert np.array_equal(np.asarray(second.train.images), first.train.images)
    assert np.array_equal(second.train.labels, first.train.labels)
    # Any change to the files is a new cache key: this start must decode.
    path = root / "train" / "cat" / "0.png"
    write_image(path, color=(1, 2, 3))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    with pytest.raises(AssertionError, match="decoded again"):
        open_quietly(root, cache_dir)


def test_parallel_first_decode_matches_inline(tmp_path, cache_dir):
    root = make_folder(tmp_path / "d", per_class=600, splits=("train",), suffix=".jpg")
    parallel = open_quietly(root, cache_dir / "p", num_workers=2)
    inline = open_quietly(root, cache_dir / "i", num_workers=1)
    assert len(parallel.train) == 1200
    assert np.array_equal(np.asarray(parallel.train.images), np.asarray(inline.train.images))


def _folder_with_every_bad_input(root):
    """A train/ folder with two good images per class and one of each kind of bad input."""
    make_folder(root, classes=("cat", "dog"), per_class=2, splits=("train", "val"))
    cat = root / "train" / "cat"
    (cat / "zero.jpg").write_bytes(b"")
    good = (cat / "0.png").read_bytes()
    (cat / "truncated.png").write_bytes(good[: len(good) // 2])
    (cat / "corrupt.jpg").write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 3)
    (cat / "text.jpg").write_text("this is not a picture\n")
    (cat / "notes.txt").write_text("a README inside a class folder\n")
    (cat / "bomb.png").write_bytes(png_bytes(100_000, 100_000, 8, 2, b"\0" * 64))
    (cat / "loop.jpg").symlink_to(cat / "loop.jpg")
    (cat / "dangling.png").symlink_to(cat / "nowhere.png")
    (cat / "sub").mkdir()
    (cat / "sub" / "up").symlink_to(cat, target_is_directory=True)
    write_image(root / "train" / "cat" / "cmyk.jpg", mode="CMYK")  # usable
    write_image(root / "train" / "cat" / "tiny.png", (1, 1))  # usable
    write_image(root / "train" / "loose.png")
    (root / "train" / "empty").mkdir()
    write_image(root / "val" / "bird" / "0.png")  # a class that train does not have
    name = os.fsdecode(b"caf\xe9-latin1.png")  # not valid UTF-8
    write_image(root / "train" / "dog" / name)  # usable
    return root


EXPECTED_REASONS = {
    "train/cat/zero.jpg": "empty file",
    "train/cat/truncated.png": "corrupt or truncated",
    "train/cat/corrupt.jpg": "corrupt",
    "train/cat/text.jpg": "text file",
    "train/cat/notes.txt": "not an image file",
    "train/cat/bomb.png": "decompression bomb",
    "train/cat/loop.jpg": "symlink loop",
    "train/cat/dangling.png": "broken symlink",
    "train/cat/sub/up": "symlink loop",
    "train/loose.png": "not inside a class",
    "train/empty": "empty class folder",
    "val/bird": "not among the training classes",
    "val/empty": "has no folder here",
}


def test_bad_inputs_are_skipped_with_one_line_each(tmp_path, cache_dir, caplog):
    root = _folder_with_every_bad_input(tmp_path / "d")
    with caplog.at_level(logging.WARNING, logger="deepres.data"):
        splits = open_quietly(root, cache_dir)
    reasons = {os.path.relpath(b.path, root): b.reason for b in splits.bad_files}
    assert set(reasons) == set(EXPECTED_REASONS)
    for name, words in EXPECTED_REASONS.items():
        assert words in reasons[name], (name, reasons[name])
    assert splits.classes == ["cat", "dog", "empty"]  # an empty class keeps its label
    # usable: 2 + cmyk + tiny for cat, 2 + the one whose name is not UTF-8 for dog
    assert np.bincount(splits.train.labels).tolist() == [4, 3]
    assert os.fsencode(root / "train" / "dog" / "caf\udce9-latin1.png") in {
        os.fsencode(f) for f in splits.train.files
    }
    assert len(splits.test) == 4  # val/ is the evaluation split; bird is not used
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped ")]
    assert len(skipped) == len(EXPECTED_REASONS)
    for line in skipped:  # one line, naming the file
        assert "\n" not in line and str(root) in line
    assert any(f"{len(EXPECTED_REASONS)} unusable" in r.getMessage() for r in caplog.records)


def test_bad_inputs_are_reported_again_from_the_cache(tmp_path, cache_dir):
    root = _folder_with_every_bad_input(tmp_path / "d")
    first = open_quietly(root, cache_dir)
    second = open_quietly(root, cache_dir)
    assert sorted(second.bad_files) == sorted(first.bad_files)


def test_on_bad_image_error_lists_everything_before_training(tmp_path, cache_dir):
    root = _folder_with_every_bad_input(tmp_path / "d")
    with pytest.raises(DataError) as info:
        open_quietly(root, cache_dir, on_bad_image="error")
    message = str(info.value)
    assert f"{len(EXPECTED_REASONS)} unusable" in message
    for name in EXPECTED_REASONS:
        assert name in message
    assert isinstance(info.value, ValueError)
    with pytest.raises(DataError, match="on_bad_image"):
        open_quietly(root, cache_dir, on_bad_image="ignore")


def test_non_utf8_names_are_used_and_printable(tmp_path, cache_dir):
    root = tmp_path / "d"
    write_image(root / "train" / os.fsdecode(b"cl\xe4ss") / "a.png")
    write_image(root / "train" / "b" / "ok.png")
    (root / "train" / "b" / os.fsdecode(b"\xff\xfe.png")).write_bytes(b"")  # bad: reported
    splits = open_quietly(root, cache_dir)
    assert len(splits.train) == 2
    assert [str(b) for b in splits.bad_files] == [
        f"{root}/train/b/\\xff\\xfe.png: empty file (0 bytes)"
    ]
    summary = json.dumps(splits.summary(), ensure_ascii=False)
    summary.encode("utf-8")  # no lone surrogate left to fail on a terminal or in a file
    assert "\\\\xff\\\\xfe.png" in summary and "cl\\\\xe4ss" in summary


def test_a_data_set_named_on_the_cards_asks_for_its_folder_unless_one_has_that_name(
    tmp_path, cache_dir, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="cifar10-png names a data set .* not a place: give --data"):
        open_source("cifar10-png", cache_dir=cache_dir)
    make_folder(tmp_path / "cifar10-png", per_class=2)
    assert len(open_quietly("cifar10-png", cache_dir).train) == 4


def test_missing_or_empty_folders_say_what_was_expected(tmp_path, cache_dir):
    root = tmp_path / "d"
    with pytest.raises(DataError, match="unknown data source"):
        open_source(str(root), cache_dir=cache_dir)
    with pytest.raises(DataError, match="not in the ImageNet layout.*train/<wnid>"):
        open_source(f"imagenet:{root}", cache_dir=cache_dir)
    (root / "train").mkdir(parents=True)
    with pytest.raises(DataError, match="no class folders in .*<class>/<image>"):
        open_quietly(root, cache_dir)
    (root / "train" / "a").mkdir()
    (root / "train" / "a" / "x.txt").write_text("x")
    with pytest.raises(DataError, match="no image files in(.|\n)*x.txt: not an image"):
        open_quietly(root, cache_dir)


def test_all_files_bad_is_an_error_not_an_empty_run(tmp_path, cache_dir):
    (tmp_path / "d" / "train" / "a").mkdir(parents=True)
    (tmp_path / "d" / "train" / "a" / "x.png").write_text("not a png")
    with pytest.raises(DataError, match="no usable training image"):
        open_quietly(tmp_path / "d", cache_dir)


def test_large_images_stream_and_small_ones_make_an_array(tmp_path, cache_dir):
    root = make_folder(tmp_path / "big", per_class=2, size=(300, 200), suffix=".jpg")
    splits = open_quietly(root, cache_dir)
    assert splits.kind == "stream" and splits.image_size == 224
    forced = open_quietly(root, cache_dir, kind="array")
    assert forced.kind == "array" and forced.image_size == 200


def test_unreadable_folders_are_reported(tmp_path, cache_dir, monkeypatch):
    root = make_folder(tmp_path / "d", classes=("a", "b"), per_class=2, splits=("train",))
    locked = str(root / "train" / "b")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root may read anything; pretend it may not
    splits = open_quietly(root, cache_dir)
    assert len(splits.train) == 2
    assert [(b.path, b.reason) for b in splits.bad_files[:1]] == [
        (locked, "cannot read: Permission denied")
    ]
    locked = str(root / "train")
    with pytest.raises(DataError, match="cannot list .*Permission denied"):
        open_quietly(root, cache_dir)
