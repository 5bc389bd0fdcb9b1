"""Weight decay groups are chosen by parameter shape; the paper decays every weight."""

from deepres.models import build_network
from deepres.train import Recipe
from deepres.train.build import make_optimizer


def test_paper_decays_every_parameter():
    model = build_network("resnet20")
    (group,) = make_optimizer(model, Recipe()).param_groups
    assert group["weight_decay"] == 1e-4 and len(group["params"]) == len(list(model.parameters()))


def test_norm_and_bias_excluded_by_shape_when_asked():
    model = build_network("resnet20")
    decay, no_decay = make_optimizer(model, Recipe(decay_norm_and_bias=False)).param_groups
    assert no_decay["weight_decay"] == 0.0
    named = dict(model.named_parameters())
    no_decay_names = {n for n, p in named.items() if any(p is q for q in no_decay["params"])}
    assert no_decay_names == {n for n in named if "bn" in n or n.endswith("bias")}
    assert all(p.ndim == 4 or p.ndim == 2 for p in decay["params"])
    assert make_optimizer(model, Recipe(momentum=0.9)).defaults["momentum"] == 0.9
