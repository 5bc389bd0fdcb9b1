"""Fine-tuning: `deepres train --init-from WEIGHTS --data FOLDER [--freeze PART]`."""

import pytest
import torch
import yaml
from layouts import torchvision_layout
from runs import make_color_folder, train_run

from deepres.cli import main
from deepres.models import build_network
from deepres.train.finetune import freeze
from deepres.weights import load_checkpoint

FROZEN_BY_LAYER1 = ("conv1.", "bn1.", "layer1.")


def _weights(run):
    return load_checkpoint(run / "checkpoints" / "last.pt")["model"]


@pytest.fixture(scope="module")
def three_classes(tmp_path_factory):
    return make_color_folder(
        tmp_path_factory.mktemp("three") / "data",
        classes=("cyan", "pink", "red"),
        per_class=8,
        test_per_class=2,
    )


def test_init_from_a_run_replaces_the_classifier_and_freezes_up_to_a_stage(
    color_run, three_classes, tmp_path, capsys
):
    out = train_run(
        tmp_path / "tuned",
        "--init-from",
        str(color_run),
        "--data",
        str(three_classes),
        "--freeze",
        "layer1",
        "--recipe",
        "quick",  # a step schedule, which a resume may lengthen (a cosine would be refused)
        "--iterations",
        "10",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    err = capsys.readouterr().err
    assert (
        "it has a classifier of 4 classes and the data 3 classes: replacing the classifier (fc)"
    ) in err
    assert "frozen: stem, layer1 (14,480 of 269,267 parameters)" in err
    before, after = _weights(color_run), _weights(out)
    assert after["fc.weight"].shape == (3, 64)
    for key, value in after.items():
        if key.startswith(FROZEN_BY_LAYER1):  # weights and BN statistics untouched
            assert torch.equal(value, before[key]), key
    assert not torch.equal(after["layer2.0.conv1.weight"], before["layer2.0.conv1.weight"])
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    assert (recipe["init_from"], recipe["freeze"], recipe["model"]) == (
        str(color_run),
        "layer1",
        "resnet20",
    )
    # Resumed, the run keeps its stages frozen (and does not load init_from again).
    assert main(["train", "--resume", str(out), "--iterations", "15", "--quiet"]) == 0
    assert "init-from" not in capsys.readouterr().err
    resumed = _weights(out)
    assert all(
        torch.equal(resumed[k], before[k]) for k in resumed if k.startswith(FROZEN_BY_LAYER1)
    )


def test_init_from_a_torchvision_file_takes_its_network(color_folder, tmp_path, capsys):
    path = tmp_path / "resnet18-f37072fd.pth"
    generator = torch.Generator().manual_seed(0)
    state = {
        k: torch.randn(shape, generator=generator) * 0.05
        if len(shape) > 1
        else (torch.ones(shape) if shape else torch.tensor(0))
        for k, shape in torchvision_layout(18).items()
    }
    torch.save(state, path)
    out = train_run(
        tmp_path / "tuned",
        "--init-from",
        str(path),
        "--data",
        str(color_folder),
        "--freeze",
        "features",
        "--iterations",
        "3",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    err = capsys.readouterr().err
    assert "a classifier of 1000 classes and the data 4 classes: replacing the classifier" in err
    assert yaml.safe_load((out / "recipe.yaml").read_text())["model"] == "resnet18"
    after = _weights(out)
    assert all(torch.equal(after[k], state[k]) for k in after if not k.startswith("fc."))


def test_same_number_of_classes_keeps_the_classifier(color_run, color_folder, tmp_path, capsys):
    train_run(
        tmp_path / "again",
        "--init-from",
        str(color_run),
        "--data",
        str(color_folder),
        "--freeze",
        "features",
        "--iterations",
        "1",
        "--set",
        "lr=1e-9",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert "replacing" not in capsys.readouterr().err
    before, after = _weights(color_run), _weights(tmp_path / "again")
    torch.testing.assert_close(after["fc.weight"], before["fc.weight"], atol=1e-6, rtol=0)


def test_a_mismatching_network_and_an_unknown_part_are_clear_errors(color_run, tmp_path, capsys):
    assert (
        main(
            [
                "train",
                "--init-from",
                str(color_run),
                "--model",
                "resnet32",
                "--data",
                "digits",
                "--iterations",
                "1",
                "--out",
                str(tmp_path / "a"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "last.pt: its weights do not fit resnet32: missing keys: layer1.3.conv1.weight" in err
    assert (
        main(["train", "--freeze", "layer4", "--iterations", "1", "--out", str(tmp_path / "b")])
        == 2
    )
    assert (
        "freeze: 'layer4' is not one of stem, layer1, layer2, layer3, features"
        in capsys.readouterr().err
    )


def test_frozen_batch_norm_stays_in_inference_mode():
    model = build_network("resnet20")
    freeze(model, "stem", say=lambda text: None)
    model.train()
    model(torch.randn(4, 3, 8, 8))
    assert not model.bn1.training and model.layer1[0].bn1.training
    assert int(model.bn1.num_batches_tracked) == 0
    assert not model.conv1.weight.requires_grad and model.layer1[0].conv1.weight.requires_grad


def test_gray_weights_on_colour_data_name_the_channels(digits_run, color_folder, tmp_path, capsys):
    assert (
        main(
            [
                "train",
                "--init-from",
                str(digits_run),
                "--data",
                str(color_folder),
                "--iterations",
                "1",
                "--set",
                "batch_size=16",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--out",
                str(tmp_path / "a"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "the network was trained on 1-channel images and the data has 3-channel images "
        "(RGB); start from weights trained on 3-channel images"
    ) in err
    assert "Traceback" not in err and "--model" not in err
