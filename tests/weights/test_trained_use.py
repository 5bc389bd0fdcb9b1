"""A trained network from Python (issue 13, items 4 and 6): saved with what `deepres predict`
needs, and applied to images in any common form with its own preprocessing."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from deepres.cli import main
from deepres.data import DataError
from deepres.models import create_model
from deepres.weights import UnnamedClasses, load_model, save_weights


def test_save_weights_of_a_trained_model_is_a_file_predict_takes(
    color_run, color_folder, tmp_path, capsys
):
    trained = load_model(color_run)
    path = tmp_path / "net.safetensors"
    save_weights(path, trained)  # as docs/using.md shows it
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnnamedClasses)
        back = load_model(path)
    assert back.classes == trained.classes and back.classes_named
    assert back.preprocessing.to_dict() == trained.preprocessing.to_dict()
    image = color_folder / "test" / "red" / "0.png"
    assert main(["predict", str(path), str(image), "--top-k", "1"]) == 0
    assert main(["predict", str(color_run), str(image), "--top-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == out[3]  # the same prediction from the saved file as from the run


def test_a_file_without_classes_says_so(tmp_path):
    path = tmp_path / "bare.pt"
    save_weights(
        path, create_model("resnet20", num_classes=3).state_dict(), {"model_name": "resnet20"}
    )
    with pytest.warns(
        UnnamedClasses, match="bare.pt names no classes: they are the indices 0 to 2"
    ):
        trained = load_model(path)
    assert not trained.classes_named


def test_predict_and_embed_take_paths_pil_numpy_and_tensors(color_run, color_folder):
    trained = load_model(color_run)
    path = color_folder / "test" / "blue" / "1.png"
    pil = Image.open(path)
    pixels = np.array(pil.convert("RGB"))
    forms = [
        str(path),
        path,
        pil,
        pixels,
        torch.from_numpy(pixels).permute(2, 0, 1),
        torch.from_numpy(pixels).permute(2, 0, 1) / 255.0,
    ]
    expected = trained.predict(str(path), top_k=2)
    assert [c for c, _ in expected] == [c for c, _ in trained.predict(forms[2], top_k=2)]
    for form in forms:
        top = trained.predict(form, top_k=2)
        assert [c for c, _ in top] == [c for c, _ in expected]
        assert np.allclose([p for _, p in top], [p for _, p in expected], atol=1e-5)
    many = trained.predict(forms)
    assert len(many) == len(forms) and len(many[0]) == 4  # four classes, top_k 5
    features = trained.embed(forms)
    assert features.shape == (len(forms), 64) and features.dtype == np.float32
    assert np.allclose(features, features[0], atol=1e-5)
    batch = torch.stack([forms[4]] * 3)
    assert trained.embed(batch).shape == (3, 64) and trained.embed(path).shape == (64,)


def test_predict_applies_the_network_preprocessing(color_run, color_folder):
    """The same probabilities as the network on the training pipeline's own view."""
    trained = load_model(color_run)
    prep = trained.preprocessing
    path = color_folder / "test" / "green" / "2.png"
    x = prep.normalizer()(prep.read(str(path)))[None]
    with torch.no_grad():
        direct = trained.model(x).softmax(1)[0]
    ((top_class, p),) = trained.predict(path, top_k=1)
    assert p == pytest.approx(float(direct.max()), abs=1e-6)
    assert top_class == trained.classes[int(direct.argmax())]


def test_bad_images_are_named(color_run, tmp_path):
    trained = load_model(color_run)
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(DataError, match="notes.jpg: a text file"):
        trained.predict(text)
    with pytest.raises(DataError, match="values in \\[0, 1\\]"):
        trained.predict(torch.full((3, 16, 16), 7.0))


def test_reprs_are_short(color_run):
    trained = load_model(color_run)
    text = repr(trained.preprocessing)
    assert len(text) < 200, text
    assert text == (
        "Preprocessing(array, 16x16, 3 channels, pixel_mean (mean image 3x16x16), "
        "flip=True, padding=2)"
    )
    assert len(repr(trained)) < 400 and "blue, gray, green, red" in repr(trained)
