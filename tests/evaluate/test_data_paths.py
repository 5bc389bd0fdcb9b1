"""Paths that work from anywhere (issue 29, item 3): a folder given as a relative path is
recorded as its absolute path, so `eval RUN` and `--resume` find the same folder from any
working folder; data that is not on this machine is said so in one line, asking for --data."""

import json
import shutil

import yaml
from runs import make_color_folder, train_run

from deepres.cli import main
from deepres.weights import load_model


def _one_line_error(capsys, args, *words):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def test_a_relative_folder_is_recorded_absolute_and_found_from_elsewhere(
    tmp_path, monkeypatch, capsys
):
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    make_color_folder(here / "colors")
    # Another folder of the same name, with other classes, where the next commands run.
    make_color_folder(elsewhere / "colors", classes=("cyan", "pink"))
    monkeypatch.chdir(here)
    cache = str(tmp_path / "cache")
    run = train_run(tmp_path / "run", "--data", "colors", "--iterations", "4", "--cache-dir", cache)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    assert recipe["data"] == str(here / "colors")
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["eval", str(run), "--json", "--cache-dir", cache]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["data"] == str(here / "colors") and record["modes"]["center"]["images"] == 16

    # Moved away: eval and --resume say that the folder is not here, in one line each.
    shutil.move(here / "colors", tmp_path / "moved")
    _one_line_error(
        capsys,
        ["eval", str(run), "--cache-dir", cache],
        str(here / "colors"),
        "not on this machine",
        "--data",
    )
    _one_line_error(
        capsys,
        ["train", "--resume", str(run), "--cache-dir", cache],
        str(here / "colors"),
        "not on this machine",
    )


def test_shipped_weights_of_a_named_data_set_ask_for_its_folder(capsys):
    """Their recipe names the data set of their card, never the folder of the machine that
    trained them: evaluating them takes --data, on every machine."""
    assert load_model("resnet20-cifar10").recipe["data"] == "cifar10-png"
    err = _one_line_error(capsys, ["eval", "resnet20-cifar10"], "--data FOLDER")
    assert err.endswith(
        "resnet20-cifar10 was trained on cifar10-png (its card: `deepres models`); name a copy "
        "of that data to evaluate on with --data FOLDER"
    )
