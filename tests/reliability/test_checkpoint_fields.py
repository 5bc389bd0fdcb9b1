"""Fields read from a weight file are checked before anything is built or sized from them
(issue 14, item 6): a forged or inconsistent file is one line naming it, never a traceback or
an allocation of tens of GB."""

from __future__ import annotations

import pytest
import torch

from deepres.cli import main
from deepres.data import DataError, Preprocessing
from deepres.weights import CheckpointError, load_checkpoint, load_model, save_weights


@pytest.fixture(scope="module")
def recorded(color_run):
    """What the colour run's checkpoint records: weights, and the fields besides them."""
    state = load_checkpoint(color_run / "checkpoints" / "last.pt")
    info = {k: state[k] for k in ("model_name", "classes", "preprocessing") if k in state}
    return state["model"], {**info, "model_args": {}}


def _forge(tmp_path, weights, info, name="forged.pt"):
    path = tmp_path / name
    save_weights(path, weights, info)
    return path


def test_preprocessing_sizes_of_100000_are_refused_before_allocation(
    recorded, tmp_path, color_folder, capsys
):
    weights, info = recorded
    huge = {**info["preprocessing"], "resize": 100_000, "crop": 100_000}
    with pytest.raises(
        DataError, match="resize=100000, crop=100000: expected 1 <= crop <= resize <= 4096"
    ):
        Preprocessing.from_dict(huge, "forged.pt")
    path = _forge(tmp_path, weights, {**info, "preprocessing": huge})
    image = color_folder / "test" / "red" / "0.png"
    assert main(["predict", str(path), str(image), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"deepres predict: error: {path}: unreadable preprocessing record")


@pytest.mark.parametrize(
    "change, words",
    [
        ({"mean_image": [[[0.5]]]}, "mean_image of shape (1, 1, 1) for 3-channel"),
        ({"std": [0.2, 0.0, 0.2]}, "std positive"),
        ({"in_chans": 7}, "in_chans=7"),
        ({"kind": "video"}, "kind 'video'"),
    ],
)
def test_other_preprocessing_fields_are_bounded(recorded, change, words):
    _, info = recorded
    with pytest.raises(DataError, match=r"unreadable preprocessing record") as caught:
        Preprocessing.from_dict({**info["preprocessing"], **change}, "forged.pt")
    assert words in str(caught.value)


def test_model_args_that_clash_with_the_weights_are_one_line(recorded, tmp_path, capsys):
    weights, info = recorded
    path = _forge(tmp_path, weights, {**info, "model_args": {"num_classes": 7}})
    with pytest.raises(
        CheckpointError,
        match=r"model_args say num_classes=7, but its weights "
        r"have 4",
    ):
        load_model(path)
    other = _forge(tmp_path, weights, {**info, "model_args": {"depth": 110}}, "other.pt")
    with pytest.raises(
        CheckpointError,
        match=r"other.pt: the network it records cannot be "
        r"built \(resnet20 does not take depth",
    ):
        load_model(other)
    assert main(["export", str(path), "--output", str(tmp_path / "x.onnx")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_tensor_larger_than_its_bytes_is_refused(recorded, tmp_path):
    weights, info = recorded
    forged = dict(weights)
    forged["fc.weight"] = torch.zeros(1).expand(1_000_000, 64)  # 4 bytes posing as 256 MB
    forged["fc.bias"] = torch.zeros(1).expand(1_000_000)
    path = _forge(tmp_path, forged, {"model_name": "resnet20"})
    with pytest.raises(CheckpointError, match="claims shape"):
        load_model(path)
