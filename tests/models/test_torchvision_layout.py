"""The ImageNet family's state_dict matches torchvision's ResNet layout key for key.

The expected layout is built from torchvision's naming rule (tests/layouts.py), so torchvision
weight files load with strict=True without torchvision being installed.
"""

import pytest
from layouts import torchvision_layout

from deepres.models import build_network


@pytest.mark.parametrize(
    "name",
    [
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50_v1_5",
        "resnet101_v1_5",
        "resnet152_v1_5",
    ],
)
def test_state_dict_equals_torchvision_layout(name):
    depth = int(name.removeprefix("resnet").split("_")[0])
    ours = {k: tuple(v.shape) for k, v in build_network(name).state_dict().items()}
    expected = torchvision_layout(depth)
    assert sorted(ours) == sorted(expected)
    assert ours == expected


def test_torchvision_layout_state_dict_loads_strictly():
    import torch

    weights = {
        k: torch.randn(shape) if shape else torch.tensor(7)
        for k, shape in torchvision_layout(18, num_classes=5).items()
    }
    model = build_network("resnet18", num_classes=5)
    model.load_state_dict(weights, strict=True)
    assert torch.equal(
        model.layer3[0].downsample[0].weight, weights["layer3.0.downsample.0.weight"]
    )
