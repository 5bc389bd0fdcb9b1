"""The parts of training that the loop delegates to, each called directly: the log window,
best-tracking, the checkpoints, the summary; and the loop's stop decision, with the arithmetic
passed in."""

import os
import signal

import pytest
import torch
from runs import tiny_recipe

from deepres.runs import Best, CheckpointState, RunDir, Sums, WindowTotals
from deepres.train import TrainOptions, train
from deepres.train.checkpoints import Checkpoints
from deepres.train.distributed import World
from deepres.train.step import train_step
from deepres.train.summary import summarize_run
from deepres.train.window import Window
from deepres.weights import load_checkpoint


def test_window_sums_on_the_device_and_leaves_out_excluded_time():
    window = Window(torch.device("cpu"), World(), WindowTotals(Sums(1.0, 1, 2), 5.0))
    window.add(torch.tensor(3.0), torch.tensor(1), 2)
    window.exclude(10.0)
    totals = window.totals()
    assert totals.sums == Sums(4.0, 2, 4) and totals.sums.error == 0.5
    assert -5.0 < totals.seconds < -4.0  # 5 s carried over, 10 s excluded, ~0 s elapsed


def test_best_is_the_lowest_validation_error_and_ties_keep_the_first():
    best = Best()
    assert best.improved_by(0.5)
    best = Best(0.5, 10)
    assert best.improved_by(0.4) and not best.improved_by(0.5) and not best.improved_by(0.6)


def _state(iteration):
    return CheckpointState(
        iteration,
        {"w": torch.zeros(1)},
        "resnet20",
        {},
        ["a"],
        {},
        optimizer={},
        schedule={},
        data={},
        window=WindowTotals(Sums(), 0.0),
        best=Best(),
        rng={"cuda": []},
    )


def test_checkpoints_are_written_by_the_main_process_only(tmp_path):
    run = RunDir(tmp_path)
    run.create()
    reader, writer = Checkpoints(run, writer=False), Checkpoints(run, writer=True)
    assert writer.load_last("cpu") is None and "no checkpoint" in writer.kept()
    reader.save_last(_state(3))
    assert not run.last.exists()
    writer.save_last(_state(3))
    writer.save_best(CheckpointState(2, {"w": torch.ones(1)}, "resnet20", {}, ["a"], {}))
    assert reader.load_last("cpu") == _state(3)
    assert "of iteration 3, stays in" in reader.kept()
    assert load_checkpoint(run.best)["iteration"] == 2


def test_summary_figures_come_from_the_metrics_records():
    records = [
        {"iteration": 5, "train_loss": 2.0, "images": 100, "seconds": 1.0},
        {"iteration": 5, "val_error": 0.4, "test_error": 0.5},
        {"iteration": 10, "train_loss": 1.0, "images": 100, "seconds": 3.0},
        {"iteration": 10, "val_error": 0.3, "test_error": 0.35},
    ]
    summary = summarize_run(records, "completed", iterations=10)
    assert (summary.test_error, summary.val_error) == (0.35, 0.3)
    assert summary.train_seconds == 4.0 and summary.images_per_s == 50.0
    assert summarize_run([], "diverged", iterations=0).images_per_s is None


@pytest.fixture
def recipe():
    return tiny_recipe(iterations=6, log_every=5, eval_every=20, checkpoint_every=20)


def test_a_stop_request_ends_the_loop_after_the_step_with_a_checkpoint(tmp_path, recipe):
    steps = []

    def step_then_sigterm(*args, **kwargs):
        steps.append(1)
        if len(steps) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return train_step(*args, **kwargs)

    summary = train(recipe, TrainOptions(out=tmp_path / "run", quiet=True), step=step_then_sigterm)
    assert summary.status == "stopped by SIGTERM" and summary.iterations == 2
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["iteration"] == 2
    resumed = train(recipe, TrainOptions(out=tmp_path / "run", resume=True, quiet=True))
    assert resumed.status == "completed" and resumed.iterations == 6


def test_a_non_finite_loss_ends_the_run_as_diverged(tmp_path, recipe):
    def nan_step(*args, **kwargs):
        loss_sum, wrong = train_step(*args, **kwargs)
        return loss_sum * float("nan"), wrong

    summary = train(recipe, TrainOptions(out=tmp_path / "run", quiet=True), step=nan_step)
    assert summary.status == "diverged" and summary.iterations == 5  # the first log point
