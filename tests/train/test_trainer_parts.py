"""The parts of training that the loop delegates to, each called directly: the log window,
best-tracking, the checkpoints, the summary, the building of a run and its records; and the
loop's stop decision, with the arithmetic passed in."""

import os
import signal

import pytest
import torch
from runs import tiny_recipe

from deepres.errors import RecipeError, RunDirError
from deepres.runs import CheckpointState, RunDir, RunStatus
from deepres.runs.records import Best, Sums, WindowTotals
from deepres.train import TrainOptions, train
from deepres.train.checkpoints import Checkpoints
from deepres.train.distributed import World
from deepres.train.parts import batch_that_fits, build_training
from deepres.train.run_records import RunRecords
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
        iteration=iteration,
        model={"w": torch.zeros(1)},
        model_name="resnet20",
        recipe={},
        classes=["a"],
        preprocessing={},
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
    best = CheckpointState(
        iteration=2,
        model={"w": torch.ones(1)},
        model_name="resnet20",
        recipe={},
        classes=["a"],
        preprocessing={},
    )
    writer.save_best(best)
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
    summary = summarize_run(records, RunStatus.COMPLETED, iterations=10)
    assert (summary.test_error, summary.val_error) == (0.35, 0.3)
    assert summary.train_seconds == 4.0 and summary.images_per_s == 50.0
    assert summarize_run([], RunStatus.DIVERGED, iterations=0).images_per_s is None


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
    assert (summary.status, summary.reason) == (RunStatus.STOPPED, "SIGTERM")
    assert summary.iterations == 2
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["iteration"] == 2
    resumed = train(recipe, TrainOptions(out=tmp_path / "run", resume=True, quiet=True))
    assert resumed.status == "completed" and resumed.iterations == 6


def test_a_non_finite_loss_ends_the_run_as_diverged(tmp_path, recipe):
    def nan_step(*args, **kwargs):
        loss_sum, wrong = train_step(*args, **kwargs)
        return loss_sum * float("nan"), wrong

    summary = train(recipe, TrainOptions(out=tmp_path / "run", quiet=True), step=nan_step)
    assert summary.status == "diverged" and summary.iterations == 5  # the first log point


def test_building_takes_and_locks_the_run_directory_and_close_hands_it_back(tmp_path, recipe):
    options = TrainOptions(out=tmp_path / "run", quiet=True, device="cpu")
    parts = build_training(recipe, options)
    try:
        assert parts.step_model is parts.model and parts.network is parts.model
        assert (parts.recipe.iterations, parts.recipe.image_size) == (6, 8)  # resolved
        assert len(parts.train_loader) == 1438 // 32 and set(parts.eval_loaders) == {"test"}
        assert not parts.run.exists()  # the Trainer writes the run's description
        with pytest.raises(RunDirError, match="is training in"):
            build_training(recipe, options)
    finally:
        parts.close()
    assert parts.step_model is None
    build_training(recipe, options).close()  # the folder is free again


def test_a_batch_larger_than_the_data_fits_only_when_it_was_not_chosen(tmp_path):
    said, big = [], tiny_recipe(batch_size=64)
    options = TrainOptions(out=tmp_path, fit_batch=True)
    assert batch_that_fits(big, 12, World(), options, said.append).batch_size == 12
    assert "each iteration trains on a batch of 12" in said[0]
    two = World(rank=0, world_size=5)  # the batch splits evenly across the processes
    assert batch_that_fits(big, 12, two, options, said.append).batch_size == 10
    with pytest.raises(RecipeError, match="batch_size 64 is more than the 12 training images"):
        batch_that_fits(big, 12, World(), TrainOptions(out=tmp_path), said.append)
    assert batch_that_fits(big, 100, World(), TrainOptions(out=tmp_path), said.append) == big


def _records(tmp_path, world, drawn):
    run = RunDir(tmp_path / f"rank{world.rank}")
    run.create()
    return RunRecords(
        run,
        tiny_recipe(iterations=6),
        world,
        say=print,
        draw_curves=lambda records, path, title: drawn.append((len(records), title)),
    )


def test_run_records_log_draw_and_sum_up_a_run_on_rank_0(tmp_path):
    drawn = []
    records = _records(tmp_path, World(), drawn)
    records.log({"iteration": 5, "train_loss": 2.0, "images": 160, "seconds": 2.0})
    assert not records.evaluated_at(5)
    records.log({"iteration": 5, "test_error": 0.5, "test_loss": 1.5})
    assert records.evaluated_at(5)
    summary = records.finish(
        RunStatus.STOPPED, "SIGTERM", iteration=5, best=Best(), params=7, bad_files=[]
    )
    assert drawn == [(2, f"resnet20 on digits, {records.run.path.name}")]  # a stopped run's
    assert (summary.test_error, summary.images_per_s, summary.params) == (0.5, 80.0, 7)
    written = records.run.read_summary()
    assert written == summary and written.status_said == "stopped by SIGTERM"


def test_run_records_write_nothing_on_other_ranks(tmp_path):
    drawn = []
    records = _records(tmp_path, World(rank=1, world_size=2), drawn)
    records.log({"iteration": 5, "test_error": 0.5})
    records.draw_curves()
    summary = records.finish(
        RunStatus.COMPLETED, None, iteration=6, best=Best(), params=7, bad_files=[]
    )
    assert (summary.status, summary.iterations, summary.rank) == (RunStatus.COMPLETED, 6, 1)
    assert drawn == [] and records.run.read_metrics() == [] and records.run.read_summary() is None
