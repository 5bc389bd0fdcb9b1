"""The learning-rate schedules of the paper."""

import math

import pytest

from deepres.train import load_recipe
from deepres.train.build import make_schedule
from deepres.train.schedule import LRSchedule


def test_cifar_paper_schedule():
    schedule = make_schedule(load_recipe("cifar-paper"))  # ResNet-20: no warm-up
    lrs = {i: schedule.lr(i) for i in (0, 400, 31999, 32000, 48000, 63999)}
    assert lrs == pytest.approx(
        {0: 0.1, 400: 0.1, 31999: 0.1, 32000: 0.01, 48000: 0.001, 63999: 0.001}
    )


def test_resnet110_warms_up_until_training_error_below_80_percent():
    schedule = make_schedule(load_recipe("cifar-paper").replace(model="resnet110"))
    assert schedule.lr(0) == pytest.approx(0.01)
    schedule.observe_train_error(300, 0.85)
    assert schedule.lr(301) == pytest.approx(0.01)
    schedule.observe_train_error(400, 0.79)
    assert schedule.warmup_ended_at == 400
    assert [schedule.lr(i) for i in (400, 32000, 48000)] == pytest.approx([0.1, 0.01, 0.001])
    schedule.observe_train_error(500, 0.95)  # the warm-up never comes back
    assert schedule.lr(500) == pytest.approx(0.1)


def test_warmup_can_be_forced_on_or_off():
    assert make_schedule(load_recipe("cifar-paper").replace(warmup="on")).lr(0) == pytest.approx(
        0.01
    )
    off = load_recipe("cifar-paper").replace(model="resnet110", warmup="off")
    assert make_schedule(off).lr(0) == pytest.approx(0.1)


def test_plateau_divides_after_patience_evaluations_without_improvement():
    schedule = LRSchedule(0.1, [], plateau=True, patience=2)
    for error in (0.5, 0.4, 0.45, 0.41):  # best 0.4, then two evaluations without improvement
        schedule.observe_val_error(error)
    assert schedule.lr(10**6) == pytest.approx(0.01)
    schedule.observe_val_error(0.39)
    schedule.observe_val_error(0.395)
    assert schedule.lr(0) == pytest.approx(0.01)


def test_state_round_trip_continues_identically():
    a = LRSchedule(0.1, [5], warmup_lr=0.01)
    a.observe_train_error(3, 0.5)
    b = LRSchedule(0.1, [5], warmup_lr=0.01)
    b.load_state_dict(a.state_dict())
    assert [b.lr(i) for i in range(8)] == [a.lr(i) for i in range(8)]


@pytest.mark.parametrize("shape", ["cosine", "onecycle"])
def test_annealed_schedules_rise_then_fall_to_zero(shape):
    recipe = load_recipe("cifar-paper").replace(schedule=shape, lr_rise=100, iterations=1100)
    schedule = make_schedule(recipe)
    assert schedule.lr(0) == pytest.approx(0.001) and schedule.lr(99) == pytest.approx(0.1)
    middle = 0.05 if shape == "onecycle" else 0.5 * 0.1 * (1 + math.cos(math.pi * 0.5))
    assert schedule.lr(600) == pytest.approx(middle)
    assert schedule.lr(1099) == pytest.approx(
        0.1 * (1 / 1000 if shape == "onecycle" else 0.5 * (1 + math.cos(math.pi * 0.999)))
    )
    lrs = [schedule.lr(i) for i in range(100, 1100)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))  # falls all the way, milestones ignored


def test_annealed_schedule_rise_in_epochs_and_checks():
    recipe = load_recipe("cifar-paper").replace(schedule="cosine", lr_rise="2ep", iterations="10ep")
    assert recipe.resolved(iterations_per_epoch=50).lr_rise == 100
    with pytest.raises(ValueError, match="must be shorter than the run"):
        make_schedule(recipe.resolved(50).replace(lr_rise=500))
