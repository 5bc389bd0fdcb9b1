"""What changes in a data folder is noticed: byte-identical copies across splits are named at
scan time, a file replaced with the same size and modification time is decoded again, and a
file deleted while a streaming run evaluates is recorded in bad_files.txt, not replaced by
the next image (issue 30, item 6)."""

from __future__ import annotations

import logging
import os
import shutil

import numpy as np
from PIL import Image
from runs import make_color_folder, tiny_recipe

from deepres.data import open_source
from deepres.train import TrainOptions, train
from deepres.train.step import train_step


def test_a_test_image_copied_into_train_is_named_at_scan_time(tmp_path, caplog):
    data = make_color_folder(tmp_path / "data", classes=("red", "green"))
    shutil.copy(data / "test" / "red" / "1.png", data / "train" / "red" / "copy.png")
    with caplog.at_level(logging.WARNING, logger="deepres.data"):
        open_source(data, cache_dir=tmp_path / "cache", num_workers=0)
    (line,) = [r.getMessage() for r in caplog.records if "byte-identical" in r.getMessage()]
    assert "1 image file(s) are byte-identical copies of others, 1 of them across splits" in line
    assert f"{data / 'test' / 'red' / '1.png'} = {data / 'train' / 'red' / 'copy.png'}" in line


def test_a_file_replaced_with_the_same_size_and_mtime_is_decoded_again(tmp_path):
    data = make_color_folder(tmp_path / "data", classes=("red", "green"))
    cache = tmp_path / "cache"
    first = open_source(data, cache_dir=cache, num_workers=0)
    target = data / "train" / "red" / "0.png"
    row = first.train.files.index(str(target))
    st = target.stat()
    other = tmp_path / "blue.png"
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[..., 2] = 255
    Image.fromarray(pixels).save(other)
    data_bytes = other.read_bytes()
    assert len(data_bytes) <= st.st_size
    target.write_bytes(data_bytes + bytes(st.st_size - len(data_bytes)))  # PNG ignores the tail
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # as cp -p leaves it
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    again = open_source(data, cache_dir=cache, num_workers=0)
    assert again.train.images[row][2].min() == 255 and again.train.images[row][0].max() == 0


def test_a_test_file_deleted_mid_run_is_in_bad_files_txt(tmp_path):
    data = make_color_folder(tmp_path / "data", classes=("red", "green"), per_class=4)
    gone = data / "test" / "green" / "2.png"
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            gone.unlink()
        return train_step(*args, **kwargs)

    recipe = tiny_recipe(
        data=str(data), image_size=224, batch_size=4, iterations=3, log_every=1, eval_every=3,
        checkpoint_every=3,
    )  # fmt: skip
    out = tmp_path / "run"
    options = TrainOptions(out=out, quiet=True, cache_dir=tmp_path / "cache")
    summary = train(recipe, options, step=step)
    listed = (out / "bad_files.txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in listed] == [str(gone)]
    assert summary.bad_files == 1
