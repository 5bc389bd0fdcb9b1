"""The weight average: its arithmetic on numbers small enough to check by hand, and its state."""

import pytest
import torch
from torch import nn

from deepres.train.ema import WeightAverage


def _net(value: float) -> nn.Module:
    net = nn.Sequential(nn.Linear(2, 1, bias=False), nn.BatchNorm1d(1))
    with torch.no_grad():
        net[0].weight.fill_(value)
    return net


def test_average_follows_the_weights_with_the_capped_decay():
    live = _net(0.0)
    average = WeightAverage(live, decay=0.9, every=1)
    with torch.no_grad():
        live[0].weight.fill_(10.0)
        live[1].running_mean.fill_(3.0)
    average.update(live, iteration=1)  # first update: decay min(0.9, 1/10) = 0.1
    assert average.model[0].weight[0, 0].item() == pytest.approx(9.0)
    assert average.model[1].running_mean.item() == 3.0  # statistics copied, not averaged
    for iteration in range(2, 200):
        average.update(live, iteration)
    assert average.model[0].weight[0, 0].item() == pytest.approx(10.0, abs=1e-6)


def test_updates_only_every_k_steps_with_the_decay_of_k_steps():
    live = _net(0.0)
    average = WeightAverage(live, decay=0.5, every=2)
    average.updates = 100  # past the early cap
    with torch.no_grad():
        live[0].weight.fill_(1.0)
    average.update(live, iteration=3)
    assert average.model[0].weight[0, 0].item() == 0.0
    average.update(live, iteration=4)
    assert average.model[0].weight[0, 0].item() == pytest.approx(1 - 0.5**2)


def test_state_round_trip_and_bad_settings():
    live = _net(2.0)
    average = WeightAverage(live, decay=0.99)
    average.update(live, 1)
    other = WeightAverage(_net(0.0), decay=0.99)
    other.load_state_dict(average.state_dict())
    assert other.updates == 1 and other.model[0].weight[0, 0].item() == pytest.approx(2.0)
    assert not any(p.requires_grad for p in other.model.parameters())
    for decay, every in ((1.0, 1), (0.0, 1), (0.9, 0)):
        with pytest.raises(ValueError, match="weight average"):
            WeightAverage(live, decay=decay, every=every)
