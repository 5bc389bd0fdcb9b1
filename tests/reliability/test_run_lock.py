"""One process at a time trains in a run directory: a second is refused in one line naming the
run and the holder's pid, and the lock of a SIGKILLed process is free at once (issue 14,
item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from runs import settings

from deepres.errors import RunDirError
from deepres.runs import RunDir

TINY = [
    "--data",
    "digits",
    "--model",
    "resnet20",
    "--quiet",
    *settings(batch_size=32, log_every=1, checkpoint_every=1000, eval_every=1000),
]


def deepres(*args, **popen):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "deepres", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def test_a_second_trainer_is_refused_and_a_killed_ones_lock_is_free(tmp_path):
    out = tmp_path / "run"
    holder = deepres("train", *TINY, "--iterations", "100000", "--out", str(out))
    try:
        deadline = time.time() + 600
        while not (out / "metrics.jsonl").exists():  # training: the lock is held
            assert holder.poll() is None, holder.communicate()  # it ended: say why
            assert time.time() < deadline, "the first trainer did not start training"
            time.sleep(0.05)
        second = deepres("train", "--resume", str(out))
        _, err = second.communicate(timeout=600)
        assert second.returncode == 2, err
        assert err.strip() == (
            f"deepres train: error: {out} is in use: process {holder.pid} is training in "
            f"it; wait for it to end (or stop it), then continue with "
            f"--resume {out}"
        )
        assert holder.poll() is None  # untouched by the refused one
    finally:
        holder.kill()
        holder.communicate()
    # The kernel dropped the SIGKILLed holder's lock: the file and its pid stay, unheld.
    assert (out / ".lock").read_text().strip() == str(holder.pid)
    lock = RunDir(out).lock()
    assert (out / ".lock").read_text().strip() == str(os.getpid())
    with pytest.raises(RunDirError, match=f"process {os.getpid()} is training"):
        RunDir(out).lock()  # held by this process now
    lock.release()
    RunDir(out).lock().release()
