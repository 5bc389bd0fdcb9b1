"""The learning-rate schedules of the paper."""

import pytest

from deepres.train import LRSchedule, load_recipe
from deepres.train.build import make_schedule


def test_cifar_paper_schedule():
    schedule = make_schedule(load_recipe("cifar-paper"))  # ResNet-20: no warm-up
    lrs = {i: schedule.lr(i) for i in (0, 400, 31999, 32000, 48000, 63999)}
    assert lrs == pytest.approx({0: 0.1, 400: 0.1, 31999: 0.1, 32000: 0.01, 48000: 0.001,
                                 63999: 0.001})


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
    assert make_schedule(load_recipe("cifar-paper").replace(warmup="on")).lr(0) == pytest.approx(0.01)
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
