"""`deepres export`: ONNX and TorchScript within 1e-4 of PyTorch, safetensors exact, and the
preprocessing written beside."""

import json

import numpy as np
import onnxruntime
import pytest
import torch

import deepres.export.formats as formats
from deepres.cli import main
from deepres.data import Preprocessing
from deepres.export.export import sample_batch
from deepres.weights import load_checkpoint, load_model


@pytest.fixture(scope="module")
def network(color_run):
    trained = load_model(color_run)
    prep = Preprocessing.from_record(trained.preprocessing, str(trained.path), trained.input_size)
    return trained, prep


def _export(capsys, run, output, *args):
    code = main(["export", str(run), "--output", str(output), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _reported_difference(out):
    line = next(line for line in out.splitlines() if "max abs difference" in line)
    return float(line.split("PyTorch ")[1].split()[0])


@pytest.mark.parametrize("batch", [1, 5])
def test_onnx_round_trip_in_onnxruntime(color_run, network, tmp_path, capsys, batch):
    trained, prep = network
    path = tmp_path / "net.onnx"
    out = _export(capsys, color_run, path, "--format", "onnx")
    assert _reported_difference(out) < 1e-4
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == "images" and session.get_inputs()[0].shape[1:] == [
        3,
        16,
        16,
    ]
    images = sample_batch(prep, batch, seed=7)  # not the batch size that export traced
    with torch.no_grad():
        expected = trained.model(images).numpy()
    got = session.run(None, {"images": images.numpy()})[0]
    assert got.shape == (batch, 4) and np.abs(got - expected).max() < 1e-4
    sidecar = json.loads((tmp_path / "net.onnx.json").read_text())
    assert sidecar["classes"] == ["blue", "gray", "green", "red"]
    assert sidecar["input"]["shape"] == ["batch", 3, 16, 16]
    assert (
        sidecar["preprocessing"]["resize"] == 16
        and sidecar["preprocessing"]["normalize"] == "pixel_mean"
    )
    np.testing.assert_array_equal(
        np.asarray(sidecar["preprocessing"]["mean_image"], np.float32), prep.stats.mean_image
    )
    assert (
        "x = pixels / 255 - mean_image (per pixel and channel; mean_image is 3x16x16)"
        in sidecar["preprocessing"]["steps"]
    )


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")  # deprecated in recent torch
def test_torchscript_round_trip(color_run, network, tmp_path, capsys):
    trained, prep = network
    path = tmp_path / "net.ts"
    out = _export(capsys, color_run, path)  # the format from the suffix
    assert "wrote" in out and _reported_difference(out) < 1e-4
    loaded = torch.jit.load(str(path))
    for batch in (1, 6):
        images = sample_batch(prep, batch, seed=batch)
        with torch.no_grad():
            assert (loaded(images) - trained.model(images)).abs().max() < 1e-4
    assert json.loads((tmp_path / "net.ts.json").read_text())["export_format"] == "torchscript"


def test_safetensors_export_is_exact_and_self_describing(color_run, tmp_path, capsys):
    path = tmp_path / "net.safetensors"
    out = _export(capsys, color_run, path)
    assert _reported_difference(out) == 0
    original = load_checkpoint(color_run / "checkpoints" / "last.pt")
    back = load_model(path)
    assert back.classes == original["classes"]
    assert back.preprocessing.to_dict() == original["preprocessing"]
    for key, value in original["model"].items():
        assert torch.equal(back.model.state_dict()[key], value), key


def test_an_export_that_computes_something_else_is_not_kept(
    color_run, tmp_path, capsys, monkeypatch
):
    write, run, name = formats.FORMATS["torchscript"]
    monkeypatch.setitem(
        formats.FORMATS, "torchscript", (write, lambda path, images: run(path, images) + 1e-3, name)
    )
    path = tmp_path / "net.ts"
    assert main(["export", str(color_run), "--output", str(path)]) == 2
    err = capsys.readouterr().err
    assert "the torchscript export's logits differ from PyTorch's by 0.001" in err
    assert f"nothing was written to {path}" in err
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_needs_a_format(color_run, tmp_path, capsys):
    assert main(["export", str(color_run), "--output", str(tmp_path / "net.bin")]) == 2
    assert "say which format with --format" in capsys.readouterr().err
