"""`deepres reproduce cifar10` end to end at a tiny scale on real CIFAR-10 JPEGs: the report's
files, processes side by side, stop and resume, settings that must not change, bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from deepres.cli import main
from deepres.errors import RunDirError
from deepres.experiments import Cifar10Settings
from deepres.experiments.cifar10 import shared_recipe
from deepres.experiments.results import run_record
from deepres.runs import RunDir
from deepres.train import load_recipe
from deepres.weights import load_checkpoint

TINY = [
    "reproduce",
    "cifar10",
    "--val-size",
    "200",
    "--iterations",
    "4",
    "--eval-every",
    "2",
    "--set",
    "batch_size=64",
]


def _args(data, out, *extra):
    return [
        *TINY,
        "--data",
        str(data),
        "--out",
        str(out),
        "--cache-dir",
        str(out.parent / "cache"),
        *extra,
    ]


def _summary(run_dir):
    return json.loads((run_dir / "summary.json").read_text())


def test_two_runs_side_by_side_write_the_whole_report(tmp_path, cifar_jpeg_slice, capsys):
    out = tmp_path / "out"
    assert main(_args(cifar_jpeg_slice, out, "--depths", "20", "--parallel", "2")) == 0
    names = {"resnet20-seed0", "plain20-seed0"}
    assert {p.name for p in (out / "runs").iterdir()} == names
    assert all("iteration 4" in (out / "jobs" / f"{n}.log").read_text() for n in names)

    results = json.loads((out / "results.json").read_text())
    for run in results["runs"]:
        summary = _summary(out / "runs" / run["name"])
        assert summary["status"] == "completed" and summary["iterations"] == 4
        assert run["test_error"] == summary["test_error"]
        assert len(run["response_std"]) == run["depth"] - 1  # every 3x3 layer
        assert [p[0] for p in run["curves"]["test_error"]] == [2, 4]
    rows = {row["model"]: row for row in results["table6"]}
    assert rows["resnet20"]["paper"] == 8.75 and rows["plain20"]["paper"] is None
    resnet20 = 100 * _summary(out / "runs" / "resnet20-seed0")["test_error"]
    assert rows["resnet20"]["mean"] == pytest.approx(resnet20)
    assert results["schedule"] == {
        "iterations": 4,
        "milestones": [2, 3],
        "paper_iterations": 64000,
        "paper_milestones": [32000, 48000],
        "shortened": True,
        "recipe": "cifar-paper",
        "paper_recipe": True,
        "recipe_iterations": 64000,
    }

    report = (out / "report.md").read_text()
    assert "Shortened schedule: not the paper's runs" in report
    assert f"| ResNet-20 | 20 | 0.27M | 1 | {resnet20:.2f} | 8.75 |" in report
    assert "JPEG" in report and "200 test images" in report
    assert "--depths 20" in report and "--parallel 2" in report
    threads = {run["meta"]["cpu_threads"] for run in results["runs"]}
    said = [f"{n} CPU thread{'' if n == 1 else 's'} at the run's start" for n in threads]
    assert all(words in report for words in said), results["environment"]["devices"]
    for name in ("figure6.png", "figure7.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG"


def test_runs_of_two_processes_each_stop_resume_and_say_so(tmp_path, cifar_jpeg_slice, capsys):
    """--processes-per-run 2, the paper's arrangement: each run is a torchrun of two processes
    whose batch norms see half the batch each; Ctrl-C (passed on to both) saves it and the
    same command goes on."""
    out = tmp_path / "out"
    args = _args(cifar_jpeg_slice, out, "--depths", "20", "--only", "table6")
    args += ["--processes-per-run", "2"]
    run = out / "runs" / "resnet20-seed0"
    code, output = _interrupt_once_checkpointed(args, run / "checkpoints" / "last.pt")
    assert code == 130, output
    stopped_at = load_checkpoint(run / "checkpoints" / "last.pt")["iteration"]
    assert 2 <= stopped_at < 4, output
    assert _summary(run)["status"] == "stopped by SIGINT"

    assert main(args) == 0
    summary = _summary(run)
    assert summary["status"] == "completed" and summary["iterations"] == 4
    meta = json.loads((run / "meta.json").read_text())
    assert meta["world_size"] == 2
    report = (out / "report.md").read_text()
    threads = meta["cpu_threads"]  # 1 unless OMP_NUM_THREADS says otherwise
    assert f"2 processes, batch norm over 32 images each, of {threads} CPU thread" in report
    assert "--processes-per-run 2" in report


def _interrupt_once_checkpointed(args, checkpoint):
    """`deepres ARGS` in a process of its own, sent SIGINT (Ctrl-C) as soon as ``checkpoint``
    exists; its exit status and standard output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepres", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.time() + 300
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    return proc.returncode, stdout + stderr


def test_stopped_runs_resume_and_finished_runs_are_skipped(tmp_path, cifar_jpeg_slice, capsys):
    out = tmp_path / "out"
    args = _args(cifar_jpeg_slice, out, "--depths", "20", "--only", "figure6")
    first, second = out / "runs" / "resnet20-seed0", out / "runs" / "plain20-seed0"
    # Ctrl-C once the first run has written its first checkpoint (at iteration 2 of 4).
    code, output = _interrupt_once_checkpointed(args, first / "checkpoints" / "last.pt")
    assert code == 130, output
    assert "run the same command to continue" in output
    stopped_at = load_checkpoint(first / "checkpoints" / "last.pt")["iteration"]
    assert 2 <= stopped_at < 4, output
    assert not second.exists() and not (out / "report.md").exists()
    _report_only_lists_the_unfinished_runs(args, out, stopped_at, capsys)

    assert main(args) == 0
    assert f"resuming {first} at iteration {stopped_at}" in capsys.readouterr().err
    assert _summary(first)["iterations"] == _summary(second)["iterations"] == 4
    assert "No layer responses" in (out / "report.md").read_text()  # --only figure6

    checkpoints = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*.pt")}
    assert main(args) == 0
    assert capsys.readouterr().err.count("finished earlier, skipped") == 2
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*.pt")} == checkpoints
    calls = [json.loads(l)["status"] for l in (out / "invocations.jsonl").read_text().splitlines()]
    assert calls == ["stopped (stopped by SIGINT)", "completed", "completed"]

    # The next machine of a long queue may compute in another precision: the runs go on,
    # also where experiment.json was written when the precision was shared (it held "amp").
    assert main([*args, "--set", "amp=bf16"]) == 0
    assert capsys.readouterr().err.count("finished earlier, skipped") == 2
    settings = json.loads((out / "experiment.json").read_text())
    settings["recipe"]["amp"] = "bf16"
    (out / "experiment.json").write_text(json.dumps(settings))
    assert main([*args, "--report-only"]) == 0
    longer = [a if a != "4" else "8" for a in args]
    assert main(longer) == 2
    assert (
        "holds runs made with other settings (iterations: 4 there, 8 now" in capsys.readouterr().err
    )


def _report_only_lists_the_unfinished_runs(args, out, stopped_at, capsys):
    """--report-only trains nothing and logs no invocation; a stopped run is a row with its
    iteration and no error, a run being trained (its lock held) says so, and settings written
    by an older deepres (without the fields added since) still match."""
    settings = json.loads((out / "experiment.json").read_text())
    del settings["recipe"]["stop_at_val_error"], settings["recipe"]["ema_decay"]
    (out / "experiment.json").write_text(json.dumps(settings))
    capsys.readouterr()
    assert main([*args, "--report-only"]) == 0
    said = capsys.readouterr().out
    assert (
        f"not finished: resnet20-seed0 (stopped by SIGINT, at iteration {stopped_at:,}), "
        "plain20-seed0 (not started)"
    ) in said
    report = (out / "report.md").read_text()
    assert f"| resnet20-seed0 | stopped by SIGINT | {stopped_at:,} | - | - |" in report
    # A process killed outright leaves the summary of an earlier stop: the time comes from
    # the metrics, which hold every log window up to the last iteration.
    first = out / "runs" / "resnet20-seed0"
    summary = _summary(first)
    (first / "summary.json").write_text(json.dumps({**summary, "train_seconds": 0}))
    windows = [r for r in RunDir(first).read_metrics() if "train_loss" in r]
    assert run_record(first).train_seconds == pytest.approx(sum(r["seconds"] for r in windows))
    assert run_record(first).train_seconds > 0
    # Before its first process ends (or when that one was killed outright) a run has no
    # summary: it is a row all the same, its size counted from its recipe.
    (first / "summary.json").unlink()
    assert run_record(first).params == summary["params"]
    assert main([*args, "--report-only"]) == 0
    rows = (out / "report.md").read_text()
    assert f"| resnet20-seed0 | not finished | {stopped_at:,} | - | - |" in rows
    assert f"resnet20-seed0 (not finished, at iteration {stopped_at:,})" in capsys.readouterr().out
    (first / "summary.json").write_text(json.dumps(summary))
    assert "No run has completed yet" in report and not (out / "figure6.png").exists()
    lock = RunDir(out / "runs" / "resnet20-seed0").lock()  # as a training process holds it
    try:
        assert main([*args, "--report-only"]) == 0
    finally:
        lock.release()
    assert (
        f"| resnet20-seed0 | training | {stopped_at:,} | - | - |" in (out / "report.md").read_text()
    )
    assert len((out / "invocations.jsonl").read_text().splitlines()) == 1
    assert not (out / "runs" / "plain20-seed0").exists()


def test_a_command_that_fails_after_training_still_lists_itself(
    tmp_path, cifar_jpeg_slice, monkeypatch, capsys
):
    """Hours of training stay in the report's list of commands when a report step fails (an
    older deepres lost the command that trained plain-56 this way)."""
    out = tmp_path / "out"

    def no_checkpoint(run, *_):
        raise RunDirError(f"{run}/checkpoints/last.pt: no such checkpoint file")

    monkeypatch.setattr("deepres.experiments.cifar10.ensure_response_std", no_checkpoint)
    assert main(_args(cifar_jpeg_slice, out, "--depths", "20")) == 2
    assert "no such checkpoint file" in capsys.readouterr().err
    calls = [json.loads(l) for l in (out / "invocations.jsonl").read_text().splitlines()]
    assert [call["status"] for call in calls] == ["completed"]
    assert "--depths" in calls[0]["command"]


def test_short_schedule_keeps_the_paper_proportions():
    paper = load_recipe("cifar-paper")
    full = shared_recipe(Cifar10Settings(out=None, data="cifar10"))
    assert (full.iterations, full.milestones, full.eval_every) == (64000, [32000, 48000], 2000)
    assert full.replace(val_size=0) == paper.replace(data="cifar10")
    short = shared_recipe(Cifar10Settings(out=None, iterations=2000, eval_every=250))
    assert (short.milestones, short.eval_every, short.log_every) == ([1000, 1500], 250, 20)

    assert full.checkpoint_every == 500  # a long CPU run loses at most minutes when killed


def test_queue_finishes_each_depth_before_the_next():
    queue = Cifar10Settings(out=None, depths=(20, 56, 1202)).models()
    assert queue == ["resnet20", "plain20", "resnet56", "plain56", "resnet1202"]
    assert Cifar10Settings(out=None, depths=(56, 20), only="table6").models() == [
        "resnet56",
        "resnet20",
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--depths", "21"], "not 21"),
        (["--parallel", "0"], "--parallel must be at least 1"),
        (["--set", "seed=3"], "--set seed: use the command's own options"),
        (["--data", "/no/such/folder"], "unknown data source"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, extra, message, capsys):
    code = main(["reproduce", "cifar10", "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_data_without_a_test_split_is_refused(tmp_path, capsys):
    for cls in ("a", "b"):
        (tmp_path / "data" / "train" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (32, 32), (80 * i, 0, 0)).save(
                tmp_path / "data" / "train" / cls / f"{i}.png"
            )
    code = main(
        [
            "reproduce",
            "cifar10",
            "--data",
            str(tmp_path / "data"),
            "--val-size",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert code == 2 and "has no test split" in capsys.readouterr().err


def test_another_recipe_is_named_in_every_heading(tmp_path, cifar_jpeg_slice, capsys):
    out = tmp_path / "fast"
    args = _args(cifar_jpeg_slice, out, "--depths", "20", "--only", "table6", "--quiet")
    assert main([*args, "--recipe", "cifar-fast"]) == 0
    # --quiet: the training's lines are in its log alone
    assert "iteration 4" in (out / "jobs" / "resnet20-seed0.log").read_text()
    assert "iteration 4" not in capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert results["schedule"]["recipe"] == "cifar-fast"
    fast = load_recipe("cifar-fast")
    assert (results["recipe"]["schedule"], results["recipe"]["eval_flip"]) == (fast.schedule, True)
    report = (out / "report.md").read_text()
    headings = [line for line in report.splitlines() if line.startswith("#")]
    label = "recipe cifar-fast, 4 iterations, NOT the paper's"  # the length: budgets differ
    assert headings and all(label in h for h in headings)
    assert "not the paper's" in report.split("\n## ")[0]  # the banner under the title
    assert "scored with its mirror image" in report  # cifar-fast's test errors use flips
    changes = next(line for line in report.splitlines() if "changed in:" in line)
    assert "`schedule` step -> cosine" in changes and "`lr_rise`" in changes
    assert "`milestones`" not in changes  # a cosine schedule has none
    assert "--recipe cifar-fast" in " ".join(results["invocations"][0]["command"])


def test_report_only_takes_the_settings_of_out_and_lists_every_run(
    tmp_path, cifar_jpeg_slice, capsys
):
    """Issue 29, item 7: `--report-only --out OUT` alone; a missing Figure 7 is blamed on
    --only only where --only left it out; a run not started is a row of the runs table."""
    out = tmp_path / "out"
    assert main(_args(cifar_jpeg_slice, out, "--depths", "20", "--only", "table6")) == 0
    cache = ["--cache-dir", str(out.parent / "cache")]
    capsys.readouterr()
    assert main(["reproduce", "cifar10", "--report-only", "--out", str(out), *cache]) == 0
    assert "| resnet20-seed0 | completed | 4 |" in (out / "report.md").read_text()
    assert "`--only table6` leaves them out" in (out / "report.md").read_text()
    # The ResNet stopped before its end (no summary), its plain net never started.
    (out / "runs" / "resnet20-seed0" / "summary.json").unlink()
    only = ["--only", "figure7"]
    assert main(["reproduce", "cifar10", "--report-only", "--out", str(out), *only, *cache]) == 0
    report = (out / "report.md").read_text()
    assert "`--only" not in report and "none has completed yet" in report
    assert "| plain20-seed0 | not started | 0 |" in report
    # The report of a queue whose first command still trains: no command has ended yet.
    (out / "invocations.jsonl").unlink()
    assert main(["reproduce", "cifar10", "--report-only", "--out", str(out), *cache]) == 0
    assert "- none has ended yet" in (out / "report.md").read_text()


def test_report_only_on_a_folder_without_runs_says_so_before_looking_for_data(tmp_path, capsys):
    """No experiment.json: the one line names OUT, not a data set that was never asked for."""
    out = tmp_path / "nothing"
    assert main(["reproduce", "cifar10", "--report-only", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out} holds no runs of `deepres reproduce cifar10`" in err
    assert "download" not in err and not out.exists()
