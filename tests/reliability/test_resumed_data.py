"""A resumed run trains on what it started with or refuses in one line: the same classes, the
same held-out images (val_size), the same network; `eval --split val` uses exactly the images
the run held out, or refuses (issue 30, items 3 and 4)."""

from __future__ import annotations

import json
import shutil

import pytest
from runs import make_color_folder, tiny_recipe

from deepres.cli import main
from deepres.train import TrainOptions, train
from deepres.train.step import train_step


class Crash(Exception):
    """Stands for a kill after the first checkpoint."""


def _crash_at_6():
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise Crash
        return train_step(*args, **kwargs)

    return step


@pytest.fixture
def stopped_run(tmp_path):
    """(run, data): a run on a fresh colour folder, killed at iteration 6 (checkpoint at 4)."""

    def start(**fields):
        data = make_color_folder(tmp_path / "data", classes=("red", "green", "blue"))
        recipe = tiny_recipe(
            data=str(data), batch_size=8, iterations=8, log_every=2, eval_every=4,
            checkpoint_every=4, **fields,
        )  # fmt: skip
        out = tmp_path / "run"
        options = TrainOptions(out=out, quiet=True, cache_dir=tmp_path / "cache")
        with pytest.raises(Crash):
            train(recipe, options, step=_crash_at_6())
        return out, data

    return start


def _refused(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"deepres {argv[0]}: error: "), err
    return line


def _resume(run, tmp_path):
    return ["train", "--resume", str(run), "--quiet", "--cache-dir", str(tmp_path / "cache")]


def test_a_renamed_class_folder_is_refused_not_permuted(stopped_run, tmp_path, capsys):
    run, data = stopped_run()
    for split in ("train", "test"):
        (data / split / "blue").rename(data / split / "zblue")
    line = _refused(capsys, _resume(run, tmp_path))
    assert f"--resume {run}: the classes of {data} have changed since the run started" in line
    assert "missing now: blue; new: zblue" in line
    assert json.loads((run / "classes.json").read_text()) == ["blue", "green", "red"]


def test_an_added_class_folder_is_refused_in_one_line(stopped_run, tmp_path, capsys):
    run, data = stopped_run()
    make_color_folder(data, classes=("cyan",))
    line = _refused(capsys, _resume(run, tmp_path))
    assert "(new: cyan); resuming would mislabel images" in line


def test_a_changed_held_out_split_is_refused_by_resume_and_by_eval(stopped_run, tmp_path, capsys):
    run, data = stopped_run(val_size=6)
    assert main(["eval", str(run), "--split", "val", "--workers", "0"]) == 0  # unchanged: fine
    for n in range(3):
        shutil.copy(data / "train" / "red" / "0.png", data / "train" / "red" / f"new{n}.png")
    line = _refused(capsys, _resume(run, tmp_path))
    assert "the images held out for validation are not those the run started with" in line
    line = _refused(capsys, ["eval", str(run), "--split", "val", "--workers", "0"])
    assert "not those the run held out" in line and "some of them were trained on" in line


def test_another_networks_checkpoint_or_an_edited_model_is_one_line(stopped_run, tmp_path, capsys):
    run, _ = stopped_run()
    recipe = run / "recipe.yaml"
    recipe.write_text(recipe.read_text().replace("model: resnet20", "model: resnet32"))
    line = _refused(capsys, _resume(run, tmp_path))
    assert "is not a checkpoint of this run's network (it holds a resnet20, the recipe" in line


def test_a_meta_json_that_is_a_list_is_one_line(stopped_run, tmp_path, capsys):
    run, _ = stopped_run()
    (run / "meta.json").write_text("[1, 2]")
    line = _refused(capsys, _resume(run, tmp_path))
    assert f"{run / 'meta.json'}: not a JSON object" in line
