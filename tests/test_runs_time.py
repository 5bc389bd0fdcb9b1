"""`deepres runs time` (``deepres.runs.step_time``): a run's training-step time as recorded,
the paused time it left out itself, and its log windows that stood still (under a fifth of
the median rate), counted at the median rate."""

import json

import pytest
from runs import tiny_recipe

from deepres.cli import main
from deepres.runs.step_time import step_time
from deepres.train import TrainOptions, train


def _window(iteration, seconds, images=1000, **extra):
    return {
        "iteration": iteration,
        "train_loss": 1.0,
        "images": images,
        "seconds": seconds,
        **extra,
    }


def test_a_stopped_window_counts_at_the_median_rate():
    seconds = [1.0, 1.25, 60.0, 1.0, 0.8]  # rates 1000, 800, 17, 1000, 1250 images/s
    metrics = [_window(100 * (i + 1), s) for i, s in enumerate(seconds)]
    metrics.insert(2, {"iteration": 200, "test_error": 0.5})  # an evaluation is no step
    t = step_time(metrics)
    # the median rate is 1000 images/s: at it, the 60-s window takes 1 s
    assert (t.images, t.slow_windows) == (5000, 1)
    assert t.recorded == pytest.approx(64.05)
    assert t.slow_excess == pytest.approx(59.0)
    assert t.estimated == pytest.approx(5.05)


def test_a_window_at_half_the_rate_is_work_not_a_pause():
    t = step_time([_window(100, 1.0), _window(200, 2.0), _window(300, 1.0)])
    assert (t.slow_windows, t.estimated) == (0, pytest.approx(4.0))


def test_the_paused_time_a_run_left_out_is_summed():
    metrics = [_window(100, 1.0, paused_seconds=279.3), _window(200, 1.0, paused_seconds=0.7)]
    t = step_time(metrics)
    assert t.paused == pytest.approx(280.0) and t.estimated == pytest.approx(2.0)


def test_no_window_yet():
    assert step_time([{"iteration": 0, "test_error": 0.9}]).images == 0


def test_the_table_of_real_runs(tmp_path, capsys):
    steady, paused = tmp_path / "steady", tmp_path / "paused"
    for out in (steady, paused):
        recipe = tiny_recipe(val_size=0, iterations=8, eval_every=8, log_every=2, batch_size=4)
        train(recipe, TrainOptions(out=out, quiet=True))
    # The pause a run by older code counted: one window took 1,000 times its time.
    lines = (paused / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    window = next(r for r in records if "train_loss" in r)
    window["seconds"] *= 1000
    (paused / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))

    table = tmp_path / "time.md"
    assert main(["runs", "time", str(steady), str(paused), "--out", str(table)]) == 0
    printed = capsys.readouterr().out
    assert table.read_text() == printed
    rows = printed.splitlines()[2:]
    assert rows[0].startswith("| steady | 32 | ") and "| 0 s | 0 | 0 s |" in rows[0]
    cells = rows[1].split(" | ")
    assert cells[0] == "| paused" and cells[4] == "1"  # the one slow window, found


def test_not_a_run_directory_is_one_line(tmp_path, capsys):
    assert main(["runs", "time", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere" in err and "no recipe.yaml" in err


def test_a_log_window_without_its_seconds_is_one_line_naming_the_file(tmp_path, capsys):
    run = tmp_path / "run"
    train(tiny_recipe(val_size=0, iterations=4, log_every=2), TrainOptions(out=run, quiet=True))
    metrics = run / "metrics.jsonl"
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    del records[0]["seconds"]
    metrics.write_text("".join(json.dumps(r) + "\n" for r in records))
    capsys.readouterr()
    assert main(["runs", "time", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{metrics}, line 1: not a metrics record (a log window without its images" in err
