"""Messages that say what is wrong, not something else (issue 30, "messages that mislead"): an
empty test split, a FIFO given as an image, --out beside --resume, and default run folders
that never collide."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from runs import SHORT, make_color_folder, settings

from deepres.cli import main


def _error_line(capsys, command) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"deepres {command}: error: "), err
    return line


def test_an_empty_test_split_is_named_not_blamed_on_the_batch_size(tmp_path, capsys):
    data = make_color_folder(tmp_path / "data", classes=("red", "green"))
    for image in (data / "test").rglob("*.png"):
        image.write_text("not an image")
    out = tmp_path / "run"
    argv = ["train", *SHORT, "--data", str(data), "--out", str(out), "--iterations", "2"]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 2
    line = _error_line(capsys, "train")
    assert f"{data / 'test'}: no usable image in this split; add images to it" in line
    assert "batch size" not in line and not out.exists()


def test_a_fifo_given_to_predict_is_said_to_be_one(color_run, tmp_path, capsys):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert main(["predict", str(color_run), str(fifo)]) == 1  # never waits for a writer
    err = capsys.readouterr().err
    assert f"{fifo}: a FIFO (named pipe), not an image file: not read" in err


def test_resume_with_another_out_is_refused(color_run, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    assert main(["train", "--resume", str(color_run), "--out", str(elsewhere)]) == 2
    line = _error_line(capsys, "train")
    assert f"--resume {color_run} goes on in that run's own folder, not in --out" in line
    assert not elsewhere.exists()


def test_default_run_folders_started_in_the_same_second_differ(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("time.strftime", lambda fmt: "20260101-000000")  # one second
    for _ in range(2):
        assert main(["train", *SHORT, "--data", "digits", "--iterations", "1"]) == 0
    pid = os.getpid()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        f"resnet20-digits-20260101-000000-{pid}",
        f"resnet20-digits-20260101-000000-{pid}-2",
    ]


def test_a_run_stopped_before_its_first_evaluation_does_not_say_there_is_no_test_split(
    tmp_path,
):
    out = tmp_path / "run"
    fields = settings(iterations=100_000, eval_every=100_000, log_every=1, checkpoint_every=50)
    run = subprocess.Popen(
        [sys.executable, "-m", "deepres", "train", "--quiet", "--data", "digits", *fields,
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        for line in run.stderr:  # training: stop it with Ctrl-C, before any evaluation
            if line.startswith("iteration 2 "):
                run.send_signal(signal.SIGINT)
                break
        printed, _ = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 130
    assert "has no test or validation split" not in printed
    assert "no held-out error yet: the run ended at iteration" in printed
    assert f"to continue: deepres train --resume {out}" in printed
