"""Sizes of the networks against the paper's Tables 1 and 6 and torchvision's published figures."""

import pytest

from deepres.analysis.complexity import model_summary


@pytest.mark.parametrize(
    "name, paper_millions",
    [
        ("resnet20", "0.27"),
        ("resnet32", "0.46"),
        ("resnet44", "0.66"),
        ("resnet56", "0.85"),
        ("resnet110", "1.7"),
        ("resnet1202", "19.4"),
    ],
)
def test_cifar_parameters_round_to_table6(name, paper_millions):
    decimals = len(paper_millions.split(".")[1])
    params = model_summary(name)["params"]
    assert f"{params / 1e6:.{decimals}f}" == paper_millions


@pytest.mark.parametrize(
    "name, expected",
    [
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("resnet101", 44_549_160),
        ("resnet152", 60_192_808),
        ("resnet50_v1_5", 25_557_032),
        ("resnet101_v1_5", 44_549_160),
        ("resnet152_v1_5", 60_192_808),
    ],
)
def test_imagenet_parameters_equal_torchvision(name, expected):
    assert model_summary(name)["params"] == expected


@pytest.mark.parametrize(
    "name, paper_giga",
    [
        ("resnet18", "1.8"),
        ("resnet101", "7.6"),
        ("resnet152", "11.3"),
        # Table 1's 34-layer figure is the plain baseline's (Sec. 3.3: "3.6 billion FLOPs").
        ("plain34", "3.6"),
    ],
)
def test_multiply_adds_round_to_table1(name, paper_giga):
    assert f"{model_summary(name)['multiply_adds'] / 1e9:.1f}" == paper_giga


def test_resnet34_and_50_are_near_table1():
    # Measured 3.66 G (option B adds 0.02 G of projections) and 3.86 G against the paper's
    # 3.6 and 3.8: see docs/networks.md for why no counting convention matches all five.
    assert abs(model_summary("resnet34")["multiply_adds"] / 1e9 - 3.6) < 0.07
    assert abs(model_summary("resnet50")["multiply_adds"] / 1e9 - 3.8) < 0.07


@pytest.mark.parametrize(
    "name, published",
    [
        ("resnet18", 1.81),
        ("resnet34", 3.66),
        ("resnet50_v1_5", 4.09),
        ("resnet101_v1_5", 7.80),
        ("resnet152_v1_5", 11.51),
    ],
)
def test_multiply_adds_match_torchvision_published(name, published):
    assert round(model_summary(name)["multiply_adds"] / 1e9, 2) == published


def test_stride_in_3x3_costs_more_than_in_1x1():
    assert (
        model_summary("resnet50_v1_5")["multiply_adds"] > model_summary("resnet50")["multiply_adds"]
    )
