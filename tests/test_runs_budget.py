"""`deepres runs budget` (``deepres.experiments.budget``): the final test error of completed
runs against the images they trained on, as a table and a figure; runs not completed are
left out, and said to be."""

import json

import pytest
from runs import tiny_recipe

from deepres.cli import main
from deepres.experiments.budget import budget_points
from deepres.train import TrainOptions, train


def _run(out, iterations, batch_size, val_size=0):
    lengths = dict(val_size=val_size, iterations=iterations, eval_every=iterations, log_every=2)
    train(tiny_recipe(**lengths, batch_size=batch_size), TrainOptions(out=out, quiet=True))
    return json.loads((out / "summary.json").read_text())


def test_points_by_images_and_the_table(tmp_path, capsys):
    long, short = tmp_path / "long", tmp_path / "short"
    long_summary = _run(long, 8, 4)
    short_summary = _run(short, 4, 8)  # the same 32 images in 4 steps
    stopped = tmp_path / "stopped"
    _run(stopped, 2, 4)
    summary = json.loads((stopped / "summary.json").read_text())
    summary["status"] = "stopped by SIGTERM"
    (stopped / "summary.json").write_text(json.dumps(summary))

    out, plot = tmp_path / "budget.md", tmp_path / "budget.png"
    argv = ["runs", "budget", str(long), str(stopped), str(short), "--out", str(out)]
    assert main([*argv, "--plot", str(plot)]) == 0
    printed, err = capsys.readouterr()
    assert out.read_text() == printed
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "left out, not completed: stopped: stopped by SIGTERM, at iteration 2" in err
    assert "not one curve" not in err
    rows = printed.splitlines()[2:]
    assert len(rows) == 2  # the stopped run is no point
    assert rows[0].startswith("| resnet20 | 8 | 4 | 32 | ")
    assert rows[0].endswith(f" | {100 * long_summary['test_error']:.2f}% | long |")
    assert rows[1].startswith("| resnet20 | 4 | 8 | 32 | ")
    assert rows[1].endswith(f" | {100 * short_summary['test_error']:.2f}% | short |")


def test_budget_points_order_by_images(tmp_path):
    _run(tmp_path / "b", 6, 4)
    _run(tmp_path / "a", 2, 4)
    points, left_out = budget_points([tmp_path / "b", tmp_path / "a"])
    assert [p.images for p in points] == [8, 24] and left_out == []


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["runs", "budget", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path} is not a run directory (no recipe.yaml)" in err

    stopped = tmp_path / "stopped"
    _run(stopped, 2, 4)
    (stopped / "summary.json").unlink()  # as if killed before it wrote one
    assert main(["runs", "budget", str(stopped)]) == 2
    err = capsys.readouterr().err
    assert "left out, not completed: stopped: not finished, at iteration 2" in err
    assert err.endswith("none of the runs has completed: a budget curve needs finished runs\n")


def test_runs_on_different_images_are_said_to_be(tmp_path, capsys):
    _run(tmp_path / "all", 4, 4)
    _run(tmp_path / "split", 4, 4, val_size=8)
    assert main(["runs", "budget", str(tmp_path / "all"), str(tmp_path / "split")]) == 0
    err = capsys.readouterr().err
    assert err.count("not one curve, the runs trained on different images: ") == 2
    assert "less 0 validation images: all\n" in err
    assert "less 8 validation images: split\n" in err


def test_reference_levels_are_drawn_and_bad_ones_named(tmp_path, capsys):
    _run(tmp_path / "run", 4, 4)
    plain, marked = tmp_path / "plain.png", tmp_path / "marked.png"
    assert main(["runs", "budget", str(tmp_path / "run"), "--plot", str(plain)]) == 0
    argv = ["runs", "budget", str(tmp_path / "run"), "--plot", str(marked)]
    assert main([*argv, "--reference", "the paper's ResNet-20=8.75"]) == 0
    assert marked.read_bytes() != plain.read_bytes()  # the dashed level and its legend entry
    capsys.readouterr()
    for bad in ("8.75", "paper=", "paper=eight", "paper=120"):
        with pytest.raises(SystemExit) as stop:
            main([*argv, "--reference", bad])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert f"LABEL=PERCENT, a test error in % after the last '=', not '{bad}'" in err
