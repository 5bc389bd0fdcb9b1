"""Weights holding NaN, infinity or a negative running variance are refused on load, on every
path; a recipe's numbers must be finite and in range; `predict --json` never prints NaN
(issue 30, item 5, and its one-line cases)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from deepres.cli import main
from deepres.errors import CheckpointError
from deepres.weights import load_model, read_weights, save_weights


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
@pytest.mark.parametrize(
    "key, value, said",
    [
        ("fc.weight", math.nan, "holds 1 NaN or infinite value"),
        ("conv1.weight", math.inf, "holds 1 NaN or infinite value"),
        ("bn1.running_var", -1.0, "holds a negative running variance"),
    ],
)
def test_weights_that_are_not_numbers_are_refused_on_load(
    color_run, tmp_path, suffix, key, value, said
):
    trained = load_model(color_run)
    trained.model.state_dict()[key].view(-1)[0] = value
    path = tmp_path / f"broken{suffix}"
    save_weights(path, trained)
    with pytest.raises(CheckpointError, match=f"{path}: tensor {key} {said}"):
        read_weights(path)


def test_predict_eval_and_export_of_nan_weights_are_one_line(
    color_run, color_folder, tmp_path, capsys
):
    trained = load_model(color_run)
    trained.model.fc.weight.data[0, 0] = math.nan
    path = tmp_path / "nan.pt"
    save_weights(path, trained)
    image = str(color_folder / "test" / "red" / "0.png")
    for argv in (
        ["predict", str(path), image, "--json"],
        ["eval", str(path), "--data", str(color_folder), "--workers", "0"],
        ["export", str(path), "--output", str(tmp_path / "x.onnx")],
    ):
        capsys.readouterr()
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and "Traceback" not in err
        assert "tensor fc.weight holds 1 NaN or infinite value" in err.splitlines()[-1]


def test_predict_json_never_prints_nan(color_run, color_folder, capsys, monkeypatch):
    trained = load_model(color_run)
    # Finite weights whose scores overflow float32: softmax gives NaN.
    monkeypatch.setattr(torch.nn.Linear, "forward", lambda self, x: x.sum(1, True) * math.inf)
    del trained
    image = str(color_folder / "test" / "red" / "0.png")
    capsys.readouterr()
    assert main(["predict", str(color_run), image, "--json"]) == 1
    record = json.loads(capsys.readouterr().out)  # strict JSON: NaN would not parse as it is
    assert "not finite numbers (they overflowed)" in record["error"]


@pytest.mark.parametrize(
    "setting, said",
    [
        ("lr=inf", "recipe: lr must be a finite number, got inf"),
        ("lr=nan", "recipe: lr must be a finite number, got nan"),
        ("lr=-0.1", "recipe: lr must be positive, got -0.1"),
        ("label_smoothing=1.5", "recipe: label_smoothing must be in [0, 1) (0: none), got 1.5"),
        ("seed=-1", "recipe: seed must be in [0, 2**32), got -1"),
        ("seed=1267650600228229401496703205376", "recipe: seed must be in [0, 2**32)"),
        ("iterations=0ep", "recipe: iterations must be more than 0 epochs, got '0ep'"),
    ],
)
def test_recipe_numbers_out_of_range_are_one_line_and_leave_no_run(tmp_path, capsys, setting, said):
    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--out", str(out), "--set", setting]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"deepres train: error: {said}" or said in err, err
    assert "Traceback" not in err and not out.exists()
