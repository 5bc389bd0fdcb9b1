"""`bash scripts/model-zoo.sh status`: each run of the queue's folder, how it ended or how far it
is, and for a run not finished the training time its remaining iterations take at the speed
of its last log windows."""

import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "model-zoo.sh"


def _run(runs: Path, name: str, last: int, seconds: float, status: str | None = None) -> None:
    run = runs / name
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text("model: resnet32\nbatch_size: 128\niterations: 64000\n")
    windows = [
        {"iteration": i, "train_loss": 1.0, "images": 12800, "seconds": seconds}
        for i in range(100, last + 1, 100)
    ]
    test = {"iteration": last, "test_error": 0.1526}
    lines = [json.dumps(record) for record in [*windows, test]]
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    if status:
        (run / "summary.json").write_text(json.dumps({"status": status}))


def test_status_says_how_far_each_run_is_and_how_long_the_rest_takes(tmp_path):
    runs = tmp_path / "reproduce-png" / "runs"
    _run(runs, "resnet20-seed0", 64000, 12.8, status="completed")
    _run(runs, "resnet32-seed0", 28000, 16.0)  # 800 images/s: 36,000 x 128 images in 1.6 h
    result = subprocess.run(
        ["bash", str(SCRIPT), "status"],
        capture_output=True,
        text=True,
        env={**os.environ, "ZOO": str(tmp_path)},
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "queue not running"
    assert (
        lines[1].split()
        == "resnet20-seed0 completed iteration 64,000 test error 15.26% at 64,000".split()
    )
    assert lines[2].endswith(
        "iteration 28,000  test error 15.26% at 28,000; 800 images/s, about 1.6 h of training to go"
    )
