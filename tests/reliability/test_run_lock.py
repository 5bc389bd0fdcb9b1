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


_HOLD_THEN_FORK = """
import os, sys, time
from deepres.runs import RunDir

lock = RunDir(sys.argv[1]).lock()
child = os.fork()  # as a DataLoader worker is forked
if child == 0:
    time.sleep(60)  # an orphan that outlives its killed parent
    os._exit(0)
print(child, flush=True)
time.sleep(60)
"""


def test_a_killed_trainers_forked_workers_do_not_hold_its_lock(tmp_path):
    (tmp_path / "run").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THEN_FORK, str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(holder.stdout.readline())
    try:
        with pytest.raises(RunDirError, match="is in use"):
            RunDir(tmp_path / "run").lock()
        holder.kill()
        holder.wait(10)
        os.kill(child, 0)  # the forked child lives on
        RunDir(tmp_path / "run").lock().release()  # yet the lock is free at once
    finally:
        holder.kill()
        try:
            os.kill(child, 9)
        except ProcessLookupError:
            pass
