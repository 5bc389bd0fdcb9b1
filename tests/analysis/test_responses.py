"""Fig. 7's layer responses, on networks whose weights make the answer computable by hand."""

import math

import pytest
import torch

from deepres.analysis.responses import response_layers, response_stds
from deepres.models import build_network

# 8x8 images: the CIFAR nets take any size, and small ones keep the tests fast.


def _plus_minus_images(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 1, 8, 8) images of +1 and -1 pixels, exactly half of each."""
    values = torch.ones(n * 8 * 8)
    values[: values.numel() // 2] = -1
    order = torch.randperm(values.numel(), generator=torch.Generator().manual_seed(seed))
    return values[order].reshape(n, 1, 8, 8)


def _identity_bn(bn: torch.nn.BatchNorm2d) -> None:
    """Eval-mode batch norm that passes its input through unchanged."""
    bn.running_mean.zero_()
    bn.running_var.fill_(1 - bn.eps)
    bn.weight.data.fill_(1)
    bn.bias.data.zero_()


def test_layers_are_every_3x3_convolution_in_order():
    names = [name for name, _ in response_layers(build_network("resnet20"))]
    assert len(names) == 19  # the stem and 2 x 9 block layers
    assert names[:3] == ["bn1", "layer1.0.bn1", "layer1.0.bn2"] and names[-1] == "layer3.2.bn2"
    assert len(response_layers(build_network("plain56"))) == 55
    # ImageNet nets: the 7x7 stem and the bottleneck's 1x1 layers are not 3x3 layers.
    bottleneck = [name for name, _ in response_layers(build_network("resnet50"))]
    assert len(bottleneck) == 16 and all(name.endswith(".bn2") for name in bottleneck)
    assert len(response_layers(build_network("resnet18"))) == 16


@pytest.mark.parametrize("name", ["plain20", "resnet20"])
def test_constant_responses_give_the_std_set_by_the_bn_bias(name):
    """With gamma 0 every channel answers its beta: +b on even channels and -b on odd ones
    gives a standard deviation of exactly b, whatever the input and whatever comes after (the
    in-place ReLU that follows bn1, the addition that follows bn2)."""
    model = build_network(name)
    layers = response_layers(model)
    for k, (_, bn) in enumerate(layers):
        b = 0.1 * (k + 1)
        bn.weight.data.zero_()
        bn.bias.data = torch.tensor([b if c % 2 == 0 else -b for c in range(bn.num_features)])
    stds = response_stds(model, [(torch.randn(3, 3, 8, 8), None)])
    assert [s["layer"] for s in stds] == [name for name, _ in layers]
    assert [s["std"] for s in stds] == pytest.approx(
        [0.1 * (k + 1) for k in range(len(layers))], rel=1e-6
    )


def test_hand_computed_std_through_conv_and_eval_mode_bn():
    """Stem: channel c = (c + 1) * x, so over +-1 pixels the std is sqrt(mean of (c + 1)^2)
    = sqrt(93.5). Next layer: channel c = (c + 1) * ReLU(x), which is c + 1 on half the pixels
    and 0 on the rest: mean 4.25, mean square 46.75, std sqrt(46.75 - 4.25^2)."""
    model = build_network("resnet20", in_chans=1)
    model.conv1.weight.data.zero_()
    model.conv1.weight.data[:, 0, 1, 1] = torch.arange(1.0, 17.0)
    first = model.layer1[0]
    first.conv1.weight.data.zero_()
    first.conv1.weight.data[range(16), range(16), 1, 1] = 1.0
    for bn in (model.bn1, first.bn1):
        _identity_bn(bn)
    images = _plus_minus_images(4)
    batches = [(images[:3], None), (images[3:], None)]  # merged across uneven batches
    stds = [s["std"] for s in response_stds(model, batches)]
    assert stds[0] == pytest.approx(math.sqrt(93.5), rel=1e-6)
    assert stds[1] == pytest.approx(math.sqrt(46.75 - 4.25**2), rel=1e-6)


def test_batches_merge_to_the_std_of_the_whole_set():
    torch.manual_seed(0)
    model = build_network("plain20")
    model.train()
    with torch.no_grad():  # give the running statistics something other than their start
        model(torch.randn(16, 3, 8, 8))
    images = torch.randn(10, 3, 8, 8)
    whole = response_stds(model, [(images, None)])
    parts = response_stds(model, [(images[:1], None), (images[1:7], None), (images[7:], None)])
    assert [p["std"] for p in parts] == pytest.approx([w["std"] for w in whole], rel=1e-6)
    assert model.training, "the model's mode is restored"
    assert all(not bn._forward_hooks for _, bn in response_layers(model)), "hooks removed"


def test_no_images_is_an_error():
    with pytest.raises(ValueError, match="no images"):
        response_stds(build_network("resnet20"), [])
