"""The images a trained network is evaluated on (``deepres.evaluate.split``): its test split
by default, the validation split its run held out (refused once other images have moved into
it), and where the results go."""

import json
import shutil
from pathlib import Path

import pytest

from deepres.errors import UsageError
from deepres.evaluate.split import evaluation_data, evaluation_folder
from deepres.weights import load_model


def test_the_test_split_by_default_and_the_held_out_val_split_by_name(digits_run):
    trained = load_model(digits_run)
    data = evaluation_data(trained)
    assert (data.source, data.split, data.note) == ("digits", "test", None)
    assert len(data.dataset) == 359
    val = evaluation_data(trained, "val")
    assert val.split == "val" and len(val.dataset) == 300
    assert (
        val.note
        == "evaluating on the val split of digits: the 300 training images the run held out"
    )


def test_a_val_split_other_than_the_runs_is_refused(digits_run, tmp_path):
    run = Path(shutil.copytree(digits_run, tmp_path / "run"))
    meta = json.loads((run / "meta.json").read_text())
    meta["data"]["val_sha256"] = "0" * 64  # as if images had been added to the data since
    (run / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UsageError, match="the images its data holds out for validation are not"):
        evaluation_data(load_model(run), "val")
    assert evaluation_data(load_model(run), "test").split == "test"


def test_results_go_into_the_run_or_beside_the_file(digits_run, tmp_path):
    assert evaluation_folder(digits_run, "digits", "test") == digits_run / "eval-digits-test"
    last = digits_run / "checkpoints" / "last.pt"
    assert evaluation_folder(last, "imagenet:/d/in1k", "val") == digits_run / "eval-last-in1k-val"
    loose = tmp_path / "net.safetensors"
    assert evaluation_folder(loose, "digits", "all") == tmp_path / "eval-net-digits-all"
    # Shipped weights by name: in the working directory, never in the installed package.
    shipped = evaluation_folder(Path("resnet56-cifar10-fast"), "/d/cifar10-png", "test")
    assert shipped == Path("eval-resnet56-cifar10-fast-cifar10_png-test")
