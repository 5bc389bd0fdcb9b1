"""The ImageNet family's state_dict matches torchvision's ResNet layout key for key.

The expected layout is built here from torchvision's naming rule, so torchvision weight files
load with strict=True without torchvision being installed.
"""

import pytest

from deepres.models import create_model

BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _bn(prefix, channels):
    return {f"{prefix}.weight": (channels,), f"{prefix}.bias": (channels,),
            f"{prefix}.running_mean": (channels,), f"{prefix}.running_var": (channels,),
            f"{prefix}.num_batches_tracked": ()}


def torchvision_layout(depth, num_classes=1000):
    """Key -> shape of torchvision's resnet{depth}, written from its naming rule."""
    bottleneck = depth >= 50
    expansion = 4 if bottleneck else 1
    keys = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64)}
    in_ch = 64
    for stage, (n, width) in enumerate(zip(BLOCKS[depth], (64, 128, 256, 512)), start=1):
        for i in range(n):
            p = f"layer{stage}.{i}"
            if bottleneck:
                convs = [(in_ch, width, 1), (width, width, 3), (width, width * 4, 1)]
            else:
                convs = [(in_ch, width, 3), (width, width, 3)]
            for k, (cin, cout, ksize) in enumerate(convs, start=1):
                keys[f"{p}.conv{k}.weight"] = (cout, cin, ksize, ksize)
                keys.update(_bn(f"{p}.bn{k}", cout))
            out_ch = width * expansion
            if i == 0 and (stage > 1 or in_ch != out_ch):
                keys[f"{p}.downsample.0.weight"] = (out_ch, in_ch, 1, 1)
                keys.update(_bn(f"{p}.downsample.1", out_ch))
            in_ch = out_ch
    keys["fc.weight"] = (num_classes, in_ch)
    keys["fc.bias"] = (num_classes,)
    return keys


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                                  "resnet50_v1_5", "resnet101_v1_5", "resnet152_v1_5"])
def test_state_dict_equals_torchvision_layout(name):
    depth = int(name.removeprefix("resnet").split("_")[0])
    ours = {k: tuple(v.shape) for k, v in create_model(name).state_dict().items()}
    expected = torchvision_layout(depth)
    assert sorted(ours) == sorted(expected)
    assert ours == expected


def test_torchvision_layout_state_dict_loads_strictly():
    import torch

    weights = {k: torch.randn(shape) if shape else torch.tensor(7)
               for k, shape in torchvision_layout(18, num_classes=5).items()}
    model = create_model("resnet18", num_classes=5)
    model.load_state_dict(weights, strict=True)
    assert torch.equal(model.layer3[0].downsample[0].weight, weights["layer3.0.downsample.0.weight"])
