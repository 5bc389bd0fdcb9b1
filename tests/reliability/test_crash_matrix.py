"""The crash matrix: a real `deepres train` process is SIGKILLed again and again (at random
moments over several seeds, and at aimed ones: in the middle of a checkpoint write, between a
checkpoint's write and its rename, in the middle of a metrics line), resumed each time, and
must end bit for bit where a run never stopped ends, with the same metrics records, none
twice (issue 14). One run directory takes all the kills, so that each costs one process."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch
from runs import settings

from deepres.weights import load_checkpoint

RECIPE = [
    "--data",
    "digits",
    "--model",
    "resnet20",
    "--quiet",
    "--iterations",
    "40",
    "--seed",
    "7",
    *settings(batch_size=32, log_every=2, checkpoint_every=2, eval_every=10, milestones="[30]"),
]

# Runs `deepres ARGS...` and SIGKILLs itself at the N-th write of a file, at a chosen moment.
AIMED = """
import os, signal, sys
import deepres.atomic as atomic
from deepres.cli import main
from deepres.runs import RunDir

moment, nth, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
calls = []

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def aimed_write(path, write):
    if path.name == "last.pt":
        calls.append(path)
    if path.name == "last.pt" and len(calls) == nth:
        if moment == "checkpoint-half-written":
            def half(f):
                write(f)
                f.flush()
                f.truncate(f.tell() // 2)
                die()
            return real_write(path, half)
        real_write(path, write)  # whole and synced, but never renamed into place
        die()
    return real_write(path, write)

def aimed_log(run, record):
    calls.append(1)
    if len(calls) == nth:
        with open(run.metrics, "a") as f:
            f.write(__import__("json").dumps(record)[:15])
        die()
    real_log(run, record)

real_write, real_log = atomic._write_temporary, RunDir.log_metrics
if moment == "metrics-half-line":
    RunDir.log_metrics = aimed_log
else:
    atomic._write_temporary = aimed_write
sys.exit(main(args))
"""


def python(*args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finished(proc, timeout=600):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    code, err = finished(python("-m", "deepres", "train", *RECIPE, "--out", str(out)))
    assert code == 0, err
    return out


def checkpoint_id(out):
    try:
        return os.stat(out / "checkpoints" / "last.pt").st_ino  # a rename gives a new one
    except FileNotFoundError:
        return None


def kill_at_random(args, out, seed):
    """Start `deepres ARGS`; once it has written a checkpoint of its own, SIGKILL it at a
    random moment."""
    before = checkpoint_id(out)
    proc = python("-m", "deepres", *args)
    deadline = time.time() + 600
    while checkpoint_id(out) == before and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(random.Random(seed).uniform(0.0, 0.4))  # a step, a log, an evaluation, a write
    proc.send_signal(signal.SIGKILL)
    return finished(proc)


def kill_aimed(args, moment, nth):
    return finished(python("-c", AIMED, moment, str(nth), *args))


def test_sigkill_anywhere_then_resume_ends_bit_identical(tmp_path, uninterrupted):
    out = tmp_path / "run"
    resume = ["train", "--resume", str(out), "--quiet"]
    kills = [
        lambda: kill_at_random(["train", *RECIPE, "--out", str(out)], out, seed=0),
        lambda: kill_aimed(resume, "checkpoint-half-written", 2),
        lambda: kill_at_random(resume, out, seed=1),
        lambda: kill_aimed(resume, "checkpoint-written-not-renamed", 2),
        lambda: kill_aimed(resume, "metrics-half-line", 3),
        lambda: kill_at_random(resume, out, seed=2),
    ]
    killed_at = []
    for kill in kills:
        code, err = kill()
        assert code == -signal.SIGKILL, f"not killed (the run ended first?): {code} {err}"
        killed_at.append(load_checkpoint(out / "checkpoints" / "last.pt")["iteration"])
    assert killed_at == sorted(killed_at) and killed_at[-1] < 40, killed_at
    code, err = finished(python("-m", "deepres", *resume))
    assert code == 0, err
    assert "Traceback" not in err

    final, expected = (
        load_checkpoint(run / "checkpoints" / "last.pt") for run in (out, uninterrupted)
    )
    assert final["iteration"] == expected["iteration"] == 40
    for key, tensor in expected["model"].items():
        assert torch.equal(final["model"][key], tensor), key
    for key, state in expected["optimizer"]["state"].items():
        assert torch.equal(
            final["optimizer"]["state"][key]["momentum_buffer"], state["momentum_buffer"]
        ), key
    assert _iterations(out) == _iterations(uninterrupted)  # none lost, none twice


def _iterations(run):
    return [
        (r["iteration"], "train_loss" in r)
        for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
    ]
