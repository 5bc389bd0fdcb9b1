"""Own images at any size (issue 13, item 3): small ones train CIFAR-style at their own size,
``image_size`` chooses it, a start-up line says which pipeline and why, and evaluation,
prediction and export use the recorded size."""

import json

import pytest
import yaml
from runs import make_color_folder, train_run

from deepres.cli import main
from deepres.data import BatchLoader, DataError, open_source
from deepres.evaluate.views import default_scales
from deepres.weights import load_checkpoint, load_model

from .helpers import make_folder


def test_96_pixel_images_are_held_whole_at_their_size(tmp_path, cache_dir):
    root = make_folder(tmp_path / "d", per_class=2, size=(96, 96), suffix=".jpg")
    splits = open_source(root, cache_dir=cache_dir, num_workers=0)
    assert (splits.kind, splits.image_size) == ("array", 96)
    assert splits.pipeline == (
        "held whole at 96x96 (images of at most 128 pixels; the median "
        "of 4 sampled images is 96x96)"
    )
    loader = BatchLoader(splits.train, 2, train=True, augment="cifar")
    assert loader.describe_augment() == "pad-crop-flip (CIFAR-style), padding 12"


def test_image_size_chooses_the_size_and_large_images_say_how(tmp_path, cache_dir):
    root = make_folder(tmp_path / "d", per_class=2, size=(300, 200), suffix=".jpg")
    auto = open_source(root, cache_dir=cache_dir, num_workers=0)
    assert auto.kind == "stream" and "image_size N (at most 128) would hold" in auto.pipeline
    with pytest.raises(DataError, match="image_size N, at most 128, holds them whole"):
        BatchLoader(auto.train, 2, train=True, augment="cifar", num_workers=0)
    small = open_source(root, cache_dir=cache_dir, num_workers=0, image_size=48)
    assert (small.kind, small.image_size) == ("array", 48)
    assert small.pipeline.startswith(
        "held whole at 48x48 (as image_size asks; the median of 4 sampled images is 300x200)"
    )
    with pytest.raises(DataError, match="image_size 150: .* choose at most 128, or 224"):
        open_source(root, cache_dir=cache_dir, image_size=150)
    with pytest.raises(DataError, match="digits images are 8x8; image_size applies to folders"):
        open_source("digits", image_size=16)


def test_a_run_at_its_own_size_is_evaluated_predicted_and_exported_at_it(tmp_path, capsys):
    data = make_color_folder(tmp_path / "photos", per_class=4, test_per_class=2, size=96)
    cache = str(tmp_path / "cache")
    run = train_run(
        tmp_path / "run",
        "--data",
        str(data),
        "--iterations",
        "2",
        "--set",
        "augment=cifar",
        "--set",
        "batch_size=8",
        "--cache-dir",
        cache,
    )
    err = capsys.readouterr().err
    assert "data: held whole at 96x96 (images of at most 128 pixels" in err
    assert "training augmentation: pad-crop-flip (CIFAR-style), padding 12" in err
    assert yaml.safe_load((run / "recipe.yaml").read_text())["image_size"] == 96
    prep = load_checkpoint(run / "checkpoints" / "last.pt")["preprocessing"]
    assert (prep["kind"], prep["resize"], prep["crop"], prep["padding"]) == ("array", 96, 96, 12)

    assert main(["eval", str(run), "--cache-dir", cache, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["modes"]["center"]["images"] == 8
    trained = load_model(run)
    assert default_scales(trained.preprocessing) == (96, 110, 165, 206, 274)  # multi-scale

    big = make_color_folder(
        tmp_path / "big", classes=("red",), per_class=1, test_per_class=1, size=300
    )
    image = big / "train" / "red" / "0.png"
    assert trained.preprocessing.center_views(image).shape == (1, 3, 96, 96)
    assert len(trained.predict(image)) == 4
    assert main(["predict", str(run), str(big), "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2

    assert main(["export", str(run), "--output", str(tmp_path / "net.safetensors")]) == 0
    sidecar = json.loads((tmp_path / "net.safetensors.json").read_text())
    assert sidecar["input"]["shape"] == ["batch", 3, 96, 96]
