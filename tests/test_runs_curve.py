"""`deepres runs curve` (``deepres.analysis.curves.points_table``): points along runs' error
curves, the figures docs/results.md quotes of the paper's runs (the test error at an
iteration, the lowest, the training error before each learning-rate drop and at the end)."""

import json

import pytest

from deepres.cli import main


def _run(folder, train_errors, held_out, milestones=(300,)):
    """A run directory: a log window every 100 iterations (``train_errors``), and an
    evaluation record at each iteration of ``held_out``: {iteration: {key: error}}."""
    folder.mkdir()
    (folder / "recipe.yaml").write_text(f"model: resnet20\nmilestones: {list(milestones)}\n")
    records = []
    for n, error in enumerate(train_errors, 1):
        window = {"train_loss": 1.0, "train_error": error, "images": 12800, "seconds": 10.0}
        records.append({"iteration": 100 * n, **window})
        if 100 * n in held_out:
            records.append({"iteration": 100 * n, **held_out[100 * n]})
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_each_run_gives_its_test_and_training_error_along_the_way(tmp_path, capsys):
    # 20 windows: the last 5% of 2,000 iterations holds the windows at 1,900 and 2,000.
    train = [0.5] * 3 + [0.3, 0.2] + [0.1] * 14 + [0.04]
    test = {500: {"test_error": 0.4}, 1000: {"test_error": 0.25}, 2000: {"test_error": 0.3}}
    paper = _run(tmp_path / "paper", train, test)
    # A run with a validation split: the test error only at its end.
    held_out = {1000: {"val_error": 0.35}, 2000: {"val_error": 0.33, "test_error": 0.32}}
    held = _run(tmp_path / "held", train, held_out)

    out = tmp_path / "table.md"
    args = ["runs", "curve", str(paper), str(held), "--at", "500,1000", "--window", "200"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.read_text() == printed
    assert printed.splitlines() == [
        "| run | error (%) | 500 | 1,000 | last | lowest |",
        "|---|---|---:|---:|---:|---:|",
        "| paper | test | 40.00 | 25.00 | 30.00 | 25.00 at 1,000 |",
        "| paper | training, mean of 200 iterations | 25.00 | 10.00 | 7.00 | - |",
        "| held | validation | - | 35.00 | 33.00 | 33.00 at 2,000 |",
        "| held | training, mean of 200 iterations | 25.00 | 10.00 | 7.00 | - |",
    ]


def test_by_default_the_points_are_the_learning_rate_drops(tmp_path, capsys):
    run = _run(tmp_path / "run", [0.5, 0.4, 0.3, 0.2], {300: {"test_error": 0.6}}, (300,))
    assert main(["runs", "curve", str(run)]) == 0
    header, _, test, train = capsys.readouterr().out.splitlines()
    assert header == "| run | error (%) | 300 | last | lowest |"
    assert test == "| run | test | 60.00 | 60.00 | 60.00 at 300 |"
    assert train == "| run | training, mean of 1,000 iterations | 40.00 | 20.00 | - |"


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["runs", "curve", str(tmp_path), "--at", "1000"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"not run directories (no recipe.yaml): {tmp_path}")
    )
    run = _run(tmp_path / "run", [0.5], {})
    with pytest.raises(SystemExit) as stopped:
        main(["runs", "curve", str(run), "--at", "1000,next"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "a whole number of iterations, 1 or more, not 'next'" in err and "Traceback" not in err
