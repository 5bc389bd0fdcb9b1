"""akamaster/pytorch_resnet_cifar10's published checkpoints (../shared/data) evaluated by
`deepres eval` on the original CIFAR-10 test images: the test errors its author published.

ResNet-20 runs on all 10,000 test images (8.27%, as published; about a minute on one core).
The deeper three run on the first 100 images of each class (1,000), against the errors that
this command measured there (72, 67 and 74 wrong) when their full-test-set errors were found
to be the published 7.37%, 6.90% and 6.61% (737, 690 and 661 of 10,000 wrong): a full pass
over the four networks takes about eight minutes here, too long for the suite."""

import json

import pytest
from conftest import SHARED_DATA

from deepres.cli import main

CHECKPOINTS = SHARED_DATA / "akamaster-cifar10-resnets"


def _test_error(weights: str, data, tmp_path, capsys) -> tuple[float, int]:
    path = CHECKPOINTS / weights
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    # The folder holds test/ alone, which deepres reads as a folder of one split.
    argv = ["eval", str(path), "--data", str(data / "test"), "--split", "train", "--json"]
    assert main([*argv, "--out", str(tmp_path / "eval"), "--cache-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "akamaster/pytorch_resnet_cifar10's layout" in err
    center = json.loads(out)["modes"]["center"]
    return center["top1_error"], center["images"]


def test_resnet20_reproduces_its_published_test_error(cifar_png_test, tmp_path, capsys):
    error, images = _test_error("resnet20-12fca82f.th", cifar_png_test, tmp_path, capsys)
    assert images == 10_000 and round(error * 100, 2) == 8.27


@pytest.mark.parametrize(
    "weights, wrong",
    [("resnet32-d509ac18.th", 72), ("resnet44-014dd654.th", 67), ("resnet56-4bfd9763.th", 74)],
)
def test_deeper_nets_score_as_measured_on_1000_test_images(
    weights, wrong, cifar_png_test_1000, tmp_path, capsys
):
    error, images = _test_error(weights, cifar_png_test_1000, tmp_path, capsys)
    assert images == 1000 and round(error * 1000) == wrong
