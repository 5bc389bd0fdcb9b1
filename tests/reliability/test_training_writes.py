"""A file of a run that cannot be written (disk full, read-only, no permission) stops training
with one line naming it and what to do; the last good checkpoint stays whole, summary.json
says how the run ended where it can, and the run resumes (issue 14, item 6)."""

from __future__ import annotations

import errno
import json

import pytest
from runs import settings

import deepres.runs.rundir
import deepres.train.checkpoints
from deepres.atomic import write_error
from deepres.cli import main
from deepres.runs import RunDir
from deepres.weights import load_checkpoint

TINY = [
    "--data",
    "digits",
    "--model",
    "resnet20",
    "--quiet",
    "--iterations",
    "8",
    *settings(batch_size=32, log_every=2, eval_every=4, checkpoint_every=4, milestones="[30]"),
]


def failing_on(call, error, real):
    """``real``, except that its ``call``-th call raises ``error`` (the OSError a full or
    read-only disk gives)."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise error
        return real(*args, **kwargs)

    return fake


def break_checkpoint(monkeypatch, out):
    real = deepres.train.checkpoints.save_checkpoint
    err = write_error(out / "checkpoints" / "last.pt", OSError(errno.ENOSPC, "No space"))
    monkeypatch.setattr(deepres.train.checkpoints, "save_checkpoint", failing_on(2, err, real))
    return "checkpoints/last.pt: no space left on the device; free some space"


def break_metrics(monkeypatch, out):
    def fake_open(path, mode="r", *args, **kwargs):
        if "a" in mode and path.exists() and len(path.read_text().splitlines()) == 4:
            # the 5th record, the log point at iteration 8
            raise OSError(errno.EACCES, "Permission denied")
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(deepres.runs.rundir, "open", fake_open, raising=False)
    return "metrics.jsonl: permission denied; write it elsewhere, or get write permission"


def break_summary(monkeypatch, out):
    err = write_error(out / "summary.json", OSError(errno.EROFS, "Read-only file system"))
    monkeypatch.setattr(RunDir, "write_summary", failing_on(1, err, RunDir.write_summary))
    return "summary.json: read-only file system; write it elsewhere"


@pytest.mark.parametrize(
    "break_a_file, good_iteration, summary",
    [(break_checkpoint, 4, True), (break_metrics, 4, True), (break_summary, 8, False)],
)
def test_an_unwritable_file_stops_the_run_in_one_line_and_it_resumes(
    tmp_path, capsys, monkeypatch, break_a_file, good_iteration, summary
):
    out = tmp_path / "run"
    said = break_a_file(monkeypatch, out)
    assert main(["train", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    err = err.strip().splitlines()[-1]  # after the progress lines, the error's one line
    assert err.startswith("deepres train: error: cannot write") and said in err, err
    assert (
        f"the last good checkpoint, of iteration {good_iteration}, stays in "
        f"{out / 'checkpoints' / 'last.pt'}: once that is fixed, continue with "
        f"--resume {out}"
    ) in err
    assert load_checkpoint(out / "checkpoints" / "last.pt")["iteration"] == good_iteration
    if summary:  # the disk of summary.json was fine: it says how the run ended
        ended = json.loads((out / "summary.json").read_text())
        assert ended["status"].startswith("stopped: cannot write") and said in ended["status"]
    monkeypatch.undo()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text())["status"] == "completed"
    assert load_checkpoint(out / "checkpoints" / "last.pt")["iteration"] == 8
