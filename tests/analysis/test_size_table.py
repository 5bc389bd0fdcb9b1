"""The size table that `deepres models` prints without building anything
(deepres/models/sizes.json), checked against the built networks."""

import pytest

from deepres.analysis.complexity import model_summary
from deepres.catalog import model_sizes
from deepres.models import list_models

TABLE = {row["name"]: row for row in model_sizes()}
STALE = (
    "deepres/models/sizes.json is stale: regenerate it with `python -m deepres.analysis.complexity`"
)


def test_table_lists_every_registered_network_in_order():
    assert list(TABLE) == list_models(), STALE


@pytest.mark.parametrize("name", [n for n in list_models() if n != "resnet1202"])
def test_row_is_what_the_built_network_counts(name):
    assert TABLE[name] == model_summary(name), STALE


def test_resnet1202_row_follows_from_the_built_cifar_nets():
    """ResNet-1202 takes seconds to build even on the meta device. A CIFAR net of depth 6n+2
    gains the same parameters and multiply-adds with each block added to every stage, so both
    are linear in n: checked on the built ResNet-110 (n = 18), then used for n = 200."""
    r20, r32, r110 = (model_summary(name) for name in ("resnet20", "resnet32", "resnet110"))
    for key in ("params", "multiply_adds"):
        per_n, remainder = divmod(r32[key] - r20[key], 5 - 3)
        assert remainder == 0
        assert r110[key] == r20[key] + (18 - 3) * per_n
        assert TABLE["resnet1202"][key] == r20[key] + (200 - 3) * per_n, STALE
    other = {k: v for k, v in TABLE["resnet1202"].items() if k not in ("params", "multiply_adds")}
    assert other == {
        "name": "resnet1202",
        "family": "cifar",
        "depth": 1202,
        "block": "basic",
        "shortcut": "A",
        "input_size": 32,
    }
