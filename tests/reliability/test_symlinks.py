"""Symlinked and hard-linked folders never mislabel an image (issue 14, item 1).

One record of the files taken serves a whole data folder: a link that resolves inside it is
not followed and is named with the reason; one that resolves outside is followed once; the
same real file never gets two labels, in any class or split.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from data.helpers import make_folder, write_image

from deepres.data import open_source
from deepres.data.decode import BadImage, decode_rgb
from deepres.evaluate import collect_files


def _open(root, tmp_path):
    return open_source(str(root), cache_dir=tmp_path / "cache")


def _reasons(splits, root):
    return {os.path.relpath(b.path, root): b.reason for b in splits.bad_files}


def test_a_class_folder_linking_to_another_class_is_not_trained_twice(tmp_path):
    root = make_folder(tmp_path / "d", classes=("A", "B"), per_class=5)
    (root / "train" / "B" / "more").symlink_to("../A", target_is_directory=True)
    splits = _open(root, tmp_path)
    assert np.bincount(splits.train.labels).tolist() == [5, 5]  # before: [5, 10]
    reason = _reasons(splits, root)["train/B/more"]
    assert "inside the data folder" in reason and "not followed" in reason


def test_a_link_to_the_data_root_inside_a_class_is_not_followed(tmp_path):
    root = make_folder(tmp_path / "d", classes=("cat", "dog"), per_class=4, splits=("",))
    (root / "dog" / "everything").symlink_to(root, target_is_directory=True)
    splits = _open(root, tmp_path)
    assert np.bincount(splits.train.labels).tolist() == [4, 4]  # before: every cat also a dog
    assert "symlink loop" in _reasons(splits, root)["dog/everything"]


def test_a_file_linked_from_another_class_keeps_its_own_label(tmp_path):
    root = make_folder(tmp_path / "d", classes=("cat", "dog"), per_class=3)
    (root / "train" / "dog" / "cat0.png").symlink_to(root / "train" / "cat" / "0.png")
    splits = _open(root, tmp_path)
    assert Counter(splits.train.labels.tolist()) == {0: 3, 1: 3}
    assert "not followed" in _reasons(splits, root)["train/dog/cat0.png"]


def test_outside_folders_are_followed_once_and_hard_links_are_one_file(tmp_path):
    outside = tmp_path / "elsewhere"
    for n in range(4):
        write_image(outside / f"{n}.png", seed=n)
    root = make_folder(tmp_path / "d", classes=("cat", "dog"), per_class=2)
    (root / "train" / "cat" / "more").symlink_to(outside, target_is_directory=True)
    (root / "train" / "dog" / "same").symlink_to(outside, target_is_directory=True)
    os.link(root / "train" / "cat" / "0.png", root / "train" / "dog" / "hard.png")
    os.link(root / "train" / "cat" / "1.png", root / "test" / "cat" / "hard.png")
    splits = _open(root, tmp_path)
    # cat: its 2 + the 4 outside (followed once); dog: its 2 only.
    assert np.bincount(splits.train.labels).tolist() == [6, 2]
    assert len(splits.test) == 4  # the hard link into test/ is train's image: not used again
    reasons = _reasons(splits, root)
    assert set(reasons) == {"train/dog/same", "train/dog/hard.png", "test/cat/hard.png"}
    assert all("the same" in r and "not used twice" in r for r in reasons.values())
    files = [os.path.realpath(f) for f in splits.train.files + splits.test.files]
    assert len(files) == len(set(files))


def test_predict_folders_follow_the_same_rules(tmp_path):
    folder = tmp_path / "photos"
    write_image(folder / "a.png")
    (folder / "again").symlink_to(folder, target_is_directory=True)
    (folder / "a-link.png").symlink_to(folder / "a.png")
    files, bad = collect_files([str(folder)])
    assert files == [str(folder / "a.png")]
    assert {os.path.basename(b.path) for b in bad} == {"again", "a-link.png"}


def test_a_deleted_file_is_not_called_a_broken_symlink(tmp_path):
    with pytest.raises(BadImage) as gone:
        decode_rgb(str(tmp_path / "gone.png"))
    assert "no such file" in str(gone.value) and "symlink" not in str(gone.value)
    (tmp_path / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(BadImage, match="broken symlink"):
        decode_rgb(str(tmp_path / "dangling.png"))
