"""Training in several processes with torchrun on CPU (gloo): every test is bounded in time."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from deepres.data import BatchLoader, open_source
from deepres.train.distributed import peer_lost
from deepres.weights import load_checkpoint

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
WORKER = str(Path(__file__).with_name("dist_worker.py"))
SYNCBN_WORKER = str(Path(__file__).with_name("syncbn_worker.py"))
RECIPE = {
    "data": "digits",
    "model": "resnet20",
    "batch_size": 64,
    "iterations": 12,
    "milestones": [100],
    "log_every": 4,
    "eval_every": 6,
    "checkpoint_every": 4,
}


def run(cmd, timeout=240):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.parametrize("sync_bn", [False, True])
def test_two_processes_end_with_identical_models(tmp_path, sync_bn):
    run([*TORCHRUN, WORKER, str(tmp_path), json.dumps({**RECIPE, "sync_bn": sync_bn})])
    for rank in (0, 1):
        left = json.loads((tmp_path / f"exit{rank}.json").read_text())
        # The DDP wrapper was gone before the process group was (else a hang or an abort at
        # exit), and the last collective was a barrier, during which gloo's threads free the
        # tensors they still hold (freed at interpreter shutdown, they abort the process).
        assert left["ddp_alive_at_destroy"] == [0]
        assert left["last_calls"][-2:] == ["barrier", "destroy_process_group"]
    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    saved = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["model"]
    assert all(torch.equal(saved[k], rank0[k]) for k in rank0)
    # Only rank 0 wrote, and it wrote each record once.
    records = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in records if "train_loss" in r] == [4, 8, 12]
    # Distributed evaluation counts each test image exactly once.
    test_size = len(open_source("digits").test)
    assert {r["test_images"] for r in records if "test_error" in r} == {test_size}


def test_sync_batchnorm_matches_one_process_on_the_global_batch(tmp_path):
    for name, launcher in (("two", TORCHRUN), ("one", [sys.executable])):
        (tmp_path / name).mkdir()
        run([*launcher, SYNCBN_WORKER, str(tmp_path / name)])
    one, two = torch.load(tmp_path / "one" / "rank0.pt"), torch.load(tmp_path / "two" / "rank0.pt")
    for key in one:
        if one[key].is_floating_point():
            assert torch.allclose(two[key], one[key], rtol=1e-9, atol=1e-11), key


@pytest.mark.parametrize("world_size", [2, 3])
def test_each_training_index_once_per_epoch_across_ranks(world_size):
    splits = open_source("digits")
    dataset = splits.train
    dataset.labels = np.arange(len(dataset))  # a label that names its image
    seen = []
    for rank in range(world_size):
        loader = BatchLoader(dataset, 16, train=True, seed=1, rank=rank, world_size=world_size)
        seen += [int(y) for _, labels in loader for y in labels]
    assert len(seen) == len(set(seen))  # nothing twice
    per_rank = len(dataset) // world_size
    assert len(seen) == world_size * (per_rank - per_rank % 16)  # full batches only
    everything = []
    for rank in range(world_size):
        loader = BatchLoader(dataset, 16, train=False, rank=rank, world_size=world_size)
        everything += [int(y) for _, labels in loader for y in labels]
    assert sorted(everything) == list(range(len(dataset)))  # evaluation: each exactly once


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _train_command(out: Path, iterations: int) -> list[str]:
    """deepres train on digits in two processes, a checkpoint every 5 iterations."""
    settings = ["batch_size=64", "log_every=5", "checkpoint_every=5", "eval_every=30"]
    return [
        *TORCHRUN,
        *("-m", "deepres", "train", "--data", "digits", "--device", "cpu", "--quiet"),
        *("--out", str(out), "--iterations", str(iterations)),
        *(arg for setting in settings for arg in ("--set", setting)),
    ]


def _wait_for_checkpoint(proc: subprocess.Popen, last: Path, iteration: int) -> None:
    deadline = time.time() + 180
    while not (last.exists() and load_checkpoint(last)["iteration"] >= iteration):
        assert time.time() < deadline and proc.poll() is None, "no checkpoint came"
        time.sleep(0.05)


def test_killed_worker_restarts_and_the_run_completes(tmp_path):
    out = tmp_path / "run"
    cmd = _train_command(out, 60)
    cmd.insert(len(TORCHRUN), "--max-restarts=1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_checkpoint(proc, out / "checkpoints" / "last.pt", 10)
        workers = _children(proc.pid)
        assert len(workers) == 2
        os.kill(workers[-1], 9)
        output, _ = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert proc.returncode == 0, output[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["iterations"] == 60
    assert "resuming" in output
    iterations = [
        json.loads(l)["iteration"]
        for l in (out / "metrics.jsonl").read_text().splitlines()
        if "train_loss" in json.loads(l)
    ]
    assert iterations == list(range(5, 61, 5))  # every log point once, none lost or repeated


def test_a_worker_paused_past_the_timeout_stops_the_run_in_one_line(tmp_path):
    """A collective that waits longer than DEEPRES_DIST_TIMEOUT for a paused (or dead) process
    fails: the training says so in one line, with the checkpoint kept and how to resume, and
    no traceback of deepres's."""
    out = tmp_path / "run"
    # The timeout also bounds how long the first process waits for the second to join: 8 s
    # leaves room for a start slowed by a loaded machine, the 20-second pause is well past it.
    env = {**os.environ, "DEEPRES_DIST_TIMEOUT": "8", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        _train_command(out, 2000),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        _wait_for_checkpoint(proc, out / "checkpoints" / "last.pt", 10)
        rank1 = _children(proc.pid)[-1]
        os.kill(rank1, signal.SIGSTOP)
        time.sleep(20)
        os.kill(rank1, signal.SIGCONT)
        output, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode != 0
    said = [line for line in output.splitlines() if line.startswith("deepres train: error:")]
    assert said, output[-3000:]
    assert "another process of this training stopped answering" in said[0]
    assert f"--resume {out}" in said[0] and "last good checkpoint, of iteration" in said[0]
    assert "bug in deepres" not in output and "src/deepres" not in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"].startswith("stopped: another process of this training")


@pytest.mark.parametrize(
    "message, said",
    [
        (
            "[/x/gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting 2000ms for recv "
            "operation to complete",
            "Timed out waiting 2000ms for recv operation to complete",
        ),
        ("Application timeout caused pair closure", "Application timeout caused pair closure"),
        (
            "[/x/pair.cc:534] Connection closed by peer [127.0.0.1]:3457\nmore lines",
            "Connection closed by peer [127.0.0.1]:3457",
        ),
        ("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)", None),  # a bug, not a peer
    ],
)
def test_what_a_lost_peer_says(message, said):
    assert peer_lost(RuntimeError(message)) == said
