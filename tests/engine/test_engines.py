"""The engines compute what eager PyTorch computes; auto measures both and says so."""

import pytest
import torch

from deepres.cli import main
from deepres.engine import open_engine
from deepres.models import build_network

SHAPE = (3, 16, 16)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_network("resnet20", num_classes=5).eval()


@pytest.fixture(scope="module")
def images():
    return torch.randn(5, *SHAPE, generator=torch.Generator().manual_seed(1))


def _eager(model, images, output):
    with torch.no_grad():
        if output == "features":
            return model.forward_head(model.forward_features(images), pre_logits=True)
        return model(images).softmax(1)


def test_onnxruntime_gives_pytorchs_scores(model, images):
    engine = open_engine(model, "scores", "onnxruntime", image_shape=SHAPE)
    assert engine.name == "onnxruntime"
    got = engine(images)  # batch 5: the graph was traced at 2, its batch is free
    torch.testing.assert_close(got, _eager(model, images, "scores"), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="takes \\(3, 16, 16\\) images"):
        engine(torch.zeros(1, 3, 20, 20))


def test_auto_times_both_and_keeps_one_that_gives_pytorchs_features(model, images):
    engine = open_engine(model, "features", "auto", image_shape=SHAPE, batch=8)
    assert engine.name in ("torch", "onnxruntime")
    assert "auto:" in engine.choice and "ms per batch of 8" in engine.choice
    assert {"torch", "onnxruntime"} <= set(engine.choice.replace("'s", " ").split())
    torch.testing.assert_close(engine(images), _eager(model, images, "features"), rtol=0, atol=1e-4)


def test_auto_takes_torch_where_onnxruntime_cannot_run(model):
    assert open_engine(model, "scores", "auto", image_shape=SHAPE, one_size=False).name == "torch"
    with pytest.raises(ValueError, match="multi-scale"):
        open_engine(model, "scores", "onnxruntime", image_shape=SHAPE, one_size=False)
    with pytest.raises(ValueError, match="CPU only"):
        open_engine(model, "scores", "onnxruntime", image_shape=SHAPE, device="cuda")
    with pytest.raises(ValueError, match="unknown engine"):
        open_engine(model, "scores", "tensorrt", image_shape=SHAPE)


def test_commands_take_the_engine_option(color_run, color_folder, capsys):
    image = str(color_folder / "test" / "red" / "0.png")
    assert (
        main(
            [
                "predict",
                color_run.as_posix(),
                image,
                "--engine",
                "onnxruntime",
                "--mode",
                "multi-scale",
            ]
        )
        == 2
    )
    assert "use --engine torch for multi-scale views" in capsys.readouterr().err
    for command in ("predict", "eval", "embed"):
        with pytest.raises(SystemExit):
            main([command, str(color_run), "--engine", "tensorrt"])
        assert "invalid choice: 'tensorrt'" in capsys.readouterr().err


def test_embed_in_onnxruntime_matches_torch(color_run, color_folder, tmp_path, capsys):
    import numpy as np

    folder = str(color_folder / "test" / "green")
    for engine in ("torch", "onnxruntime"):
        assert (
            main(
                [
                    "embed",
                    str(color_run),
                    folder,
                    "--engine",
                    engine,
                    "--workers",
                    "0",
                    "--output",
                    str(tmp_path / f"{engine}.npy"),
                ]
            )
            == 0
        )
    assert "note: engine: onnxruntime (as asked)" in capsys.readouterr().err
    eager, ort = np.load(tmp_path / "torch.npy"), np.load(tmp_path / "onnxruntime.npy")
    assert eager.shape == ort.shape == (4, 64)
    np.testing.assert_allclose(ort, eager, rtol=0, atol=1e-4)
