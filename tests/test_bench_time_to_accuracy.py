"""benchmarks/bench_time_to_accuracy.py on the digits, with a target every run reaches at its
first evaluation: both recipes stop there, the figures come from their metrics, and a second
invocation reports without training again. (No time is asserted: it is a benchmark.)"""

import json
import sys

import pytest
from repo_scripts import REPO, load_script

sys.path.insert(0, str(REPO / "benchmarks"))  # the benchmark imports its neighbour common.py
bench = load_script("benchmarks/bench_time_to_accuracy.py")

TINY = ["--data", "digits", "--val-size", "200", "--target", "0.99", "--eval-every", "4"]
TINY += ["--set", "batch_size=32", "--threads", "1"]


def test_both_recipes_stop_at_the_target_and_are_reported(tmp_path, capsys):
    assert bench.main([*TINY, "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    for name in bench.RECIPES:
        figures = bench.report(tmp_path / name, 0.99)
        assert figures["status"] == "reached target" and figures["invocations"] == 1
        assert figures["reached"]["iteration"] == 4 and figures["reached"]["images"] == 4 * 32
        assert figures["wall_seconds"] >= figures["reached"]["train_seconds"] > 0
        assert f"{name:<12}         4" in table
    assert "cifar-paper / cifar-fast: 1.00x the images" in table
    assert "validation error on this machine: " in table

    meta = tmp_path / "cifar-paper" / "meta.json"  # as if it had trained on another machine
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "device_name": "Other CPU"}))
    assert bench.main([*TINY, "--out", str(tmp_path)]) == 0  # finished: reported, not trained
    assert json.loads((tmp_path / "cifar-fast" / bench.WALL).read_text()).__len__() == 1
    table = capsys.readouterr().out
    assert "on more than one kind of machine (" in table and "Other CPU" in table
    with pytest.raises(SystemExit, match="another recipe than this invocation's"):
        bench.main([*TINY, "--set", "lr=0.05", "--out", str(tmp_path)])


def test_time_to_target_sums_the_windows_up_to_the_first_evaluation_at_target():
    records = [
        {"iteration": 100, "train_loss": 1, "images": 12800, "seconds": 10.0},
        {"iteration": 100, "epoch": 0.3, "val_error": 0.2},
        {"iteration": 200, "train_loss": 1, "images": 12800, "seconds": 11.0},
        {"iteration": 200, "epoch": 0.6, "val_error": 0.09},
        {"iteration": 300, "train_loss": 1, "images": 12800, "seconds": 12.0},
        {"iteration": 300, "epoch": 0.9, "val_error": 0.08},
    ]
    got = bench.time_to_target(records, 0.10)
    assert got == {
        "iteration": 200, "epoch": 0.6, "val_error": 0.09, "images": 25600, "train_seconds": 21.0
    }  # fmt: skip
    assert bench.time_to_target(records, 0.05) is None
