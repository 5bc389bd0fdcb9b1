"""The blocks and shortcut options of paper Sec. 3.3."""

import math

import pytest
import torch
from torch import nn

from deepres.models import build_network
from deepres.models.blocks import BasicBlock, Bottleneck, PadShortcut


def _num_params(module):
    return sum(p.numel() for p in module.parameters())


def test_option_a_shortcut_subsamples_and_zero_pads():
    x = torch.randn(2, 16, 8, 8)
    out = PadShortcut(16, 32, stride=2)(x)
    assert out.shape == (2, 32, 4, 4)
    assert torch.equal(out[:, :16], x[:, :, ::2, ::2])
    assert torch.count_nonzero(out[:, 16:]) == 0


def test_option_a_adds_no_parameters():
    resnet, plain = build_network("resnet56"), build_network("plain56")
    assert _num_params(resnet) == _num_params(plain)
    shortcuts = [b.downsample for b in resnet.blocks() if b.downsample is not None]
    assert len(shortcuts) == 2  # where stage 2 and stage 3 begin
    assert all(isinstance(s, PadShortcut) and _num_params(s) == 0 for s in shortcuts)


def test_option_a_block_adds_padded_input():
    torch.manual_seed(0)
    block = BasicBlock(16, 32, stride=2, shortcut="A").eval()
    x = torch.randn(2, 16, 8, 8)
    padded = torch.cat([x[:, :, ::2, ::2], torch.zeros(2, 16, 4, 4)], dim=1)
    assert torch.allclose(block(x), torch.relu(block.branch(x) + padded))


def test_plain_nets_have_no_shortcut_path():
    for name in ("plain20", "plain34", "plain50"):
        model = build_network(name)
        assert model.shortcut is None
        for block in model.blocks():
            assert not block.residual and block.downsample is None
    block = build_network("plain20").blocks()[0].eval()
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(block(x), torch.relu(block.branch(x)))


def test_option_b_projects_only_where_shape_changes():
    model = build_network("resnet34")
    for block in model.blocks():
        changes = (
            block.conv1.stride != (1, 1) or block.conv1.in_channels != block.conv2.out_channels
        )
        assert (block.downsample is not None) == changes
        if changes:
            assert isinstance(block.downsample[0], nn.Conv2d)
            assert block.downsample[0].kernel_size == (1, 1)


def test_option_c_projects_on_every_block():
    model = build_network("resnet34", shortcut="C")
    assert all(isinstance(b.downsample, nn.Sequential) for b in model.blocks())
    assert _num_params(model) > _num_params(build_network("resnet34"))


@pytest.mark.parametrize("name, strided", [("resnet50", "conv1"), ("resnet50_v1_5", "conv2")])
def test_bottleneck_stride_placement(name, strided):
    first_of_stage2 = build_network(name).layer2[0]
    assert isinstance(first_of_stage2, Bottleneck)
    for conv in ("conv1", "conv2", "conv3"):
        expected = (2, 2) if conv == strided else (1, 1)
        assert getattr(first_of_stage2, conv).stride == expected


def test_bottleneck_expands_by_four():
    block = Bottleneck(256, 64, shortcut="B")
    assert block.conv3.out_channels == 256 and block.downsample is None


def test_he_initialisation_fan_out():
    torch.manual_seed(0)
    conv = build_network("resnet18").layer4[0].conv2  # 512 -> 512, 3x3
    fan_out = conv.out_channels * 9
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.02)


def test_zero_init_residual_starts_each_block_as_identity():
    model = build_network("resnet20", zero_init_residual=True).eval()
    block = model.layer1[1]
    assert torch.count_nonzero(block.bn2.weight) == 0
    x = torch.rand(2, 16, 8, 8)  # non-negative, like the ReLU output that feeds a block
    assert torch.allclose(block(x), x)


def test_batch_norm_after_every_conv():
    model = build_network("resnet50")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == len(bns)
    assert all(conv.bias is None for conv in convs)
