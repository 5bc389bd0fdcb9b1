"""Folders of test images are evaluated honestly (issue 29, item 2): a folder holding only
test/ (or val/) is that split, not one class named "test"; a flat <class>/ folder that the
network was not trained on is evaluated whole, and said so."""

import json
import shutil

import pytest

from deepres.cli import main


def _eval(capsys, *args):
    code = main(["eval", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


@pytest.mark.parametrize("split", ["test", "val"])
def test_a_folder_of_only_test_or_val_is_that_split(
    color_run, color_folder, tmp_path, capsys, split
):
    lone = tmp_path / "unpacked"
    shutil.copytree(color_folder / "test", lone / split)
    record, _ = _eval(capsys, str(color_run), "--data", str(lone), "--cache-dir", str(tmp_path))
    assert record["split"] == split
    center = record["modes"]["center"]
    assert center["images"] == 16 and center["top1_error"] < 0.5  # four classes, not "test"
    # Training on it is refused in one line: these are not training images.
    assert main(["train", "--data", str(lone), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"only {split}/ images" in err, err
    assert not (tmp_path / "r").exists()


def test_a_flat_folder_of_other_images_is_evaluated_whole(
    color_run, color_folder, tmp_path, capsys
):
    flat = tmp_path / "photos"
    shutil.copytree(color_folder / "test", flat)  # <class>/<image>, not the training data
    record, err = _eval(capsys, str(color_run), "--data", str(flat), "--cache-dir", str(tmp_path))
    assert record["split"] == "all" and record["modes"]["center"]["images"] == 16
    assert f"evaluating on all 16 images of {flat}" in err
    assert "only training images" not in err and "images the network was trained on" not in err
    # --split train of another folder's train/: no claim that the network was trained on it.
    other = tmp_path / "other"
    shutil.copytree(color_folder, other)
    record, err = _eval(
        capsys,
        str(color_run),
        "--data",
        str(other),
        "--split",
        "train",
        "--cache-dir",
        str(tmp_path),
    )
    assert record["split"] == "train"
    assert "the images the network was trained on" not in err
