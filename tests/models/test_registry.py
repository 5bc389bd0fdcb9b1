"""Every registered network builds, runs and learns; bad calls say what to do."""

import pytest
import torch

from deepres.models import build_network, list_models, model_info
from deepres.models.resnet import cifar_resnet, imagenet_resnet

ALL_MODELS = list_models()


@pytest.mark.parametrize("name", ALL_MODELS)
def test_forward_shape_and_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    info = model_info(name)
    # ImageNet nets are fully convolutional: 64x64 keeps the suite fast and still leaves a 2x2
    # map in the last stage; CIFAR nets run at their native 32x32.
    size = 32 if info.family == "cifar" else 64
    model = build_network(name, num_classes=7)
    x = torch.randn(2, 3, size, size)
    out = model(x)
    assert out.shape == (2, 7)
    out.square().sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: {pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: {pname} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name}: {pname} has an all-zero gradient"


def test_registry_names():
    for depth in (20, 32, 44, 56, 110, 1202):
        assert f"resnet{depth}" in ALL_MODELS
    for depth in (20, 32, 44, 56, 110, 18, 34, 50, 101, 152):
        assert f"plain{depth}" in ALL_MODELS
    for depth in (18, 34, 50, 101, 152):
        assert f"resnet{depth}" in ALL_MODELS
    assert list_models("plain*") == [n for n in ALL_MODELS if n.startswith("plain")]
    assert list_models("*_v1_5") == ["resnet50_v1_5", "resnet101_v1_5", "resnet152_v1_5"]
    assert list_models("nothing*") == []


def test_family_defaults():
    assert build_network("resnet20").shortcut == "A"
    assert build_network("resnet20").num_classes == 10
    assert build_network("resnet18").shortcut == "B"
    assert build_network("resnet18").num_classes == 1000
    assert build_network("resnet34", shortcut="a").shortcut == "A"


def test_features_head_and_reset_classifier():
    model = build_network("resnet32")
    x = torch.randn(3, 3, 32, 32)
    features = model.forward_features(x)
    assert features.shape == (3, 64, 8, 8)
    pooled = model.forward_head(features, pre_logits=True)
    assert pooled.shape == (3, model.num_features) == (3, 64)
    assert torch.allclose(model.forward_head(features), model(x))
    model.reset_classifier(100)
    assert model(x).shape == (3, 100) and model.num_classes == 100
    assert model.get_classifier().out_features == 100


def test_other_input_channels():
    model = build_network("resnet20", in_chans=1, num_classes=3)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    assert build_network("resnet18", in_chans=4)(torch.randn(2, 4, 64, 64)).shape == (2, 1000)


def test_any_6n_plus_2_depth():
    model = cifar_resnet(8)
    assert len(model.blocks()) == 3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: build_network("resnet21"), "unknown model 'resnet21'.*Did you mean.*resnet20"),
        (lambda: build_network("vgg16"), "Valid names: resnet20, resnet32"),
        (lambda: cifar_resnet(21), "6n\\+2 layers.*20, 26"),
        (lambda: cifar_resnet(2), "6n\\+2 layers"),
        (lambda: imagenet_resnet(19), "choose one of \\[18, 34, 50, 101, 152\\]"),
        (
            lambda: build_network("resnet20", num_classes=0),
            "num_classes must be .* at least 1, got 0",
        ),
        (lambda: build_network("resnet20", num_classes=2.5), "num_classes must be"),
        (lambda: build_network("resnet20", in_chans=0), "in_chans must be"),
        (lambda: build_network("resnet20").reset_classifier(0), "num_classes must be"),
        (
            lambda: build_network("resnet20", num_clases=5),
            "does not take num_clases; valid overrides:.*num_classes",
        ),
        (lambda: build_network("resnet20", depth=32), "does not take depth"),
        (
            lambda: build_network("resnet20", shortcut="D"),
            "shortcut must be one of \\('A', 'B', 'C'\\)",
        ),
        (lambda: build_network("plain20", shortcut="B"), "plain net has no shortcuts"),
        (
            lambda: build_network("plain20", zero_init_residual=True),
            "zero_init_residual needs shortcuts",
        ),
    ],
)
def test_bad_calls_say_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_wrong_input_channels_at_run_time():
    model = build_network("resnet20")
    with pytest.raises(
        ValueError,
        match=r"expected a batch of shape \(N, 3, H, W\), got \(2, 1, 32, 32\).*in_chans=1",
    ):
        model(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="expected a batch of shape"):
        model(torch.randn(3, 32, 32))
