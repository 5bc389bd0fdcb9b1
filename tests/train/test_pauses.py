"""A training process stopped and continued (SIGSTOP or Ctrl-Z, then SIGCONT) does not count
the pause as training time: a queue paused for a benchmark reported an hour of steps it never
took (``deepres.train.pauses``)."""

import json
import os
import signal
import subprocess

import pytest
from runs import tiny_recipe

from deepres.train import TrainOptions, train
from deepres.train import pauses as pauses_module
from deepres.train.pauses import PauseClock
from deepres.train.step import train_step

PAUSE = 3.0  # seconds the process stays stopped


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(pauses_module.time, "perf_counter", fake)
    return fake


def test_a_paused_step_counts_as_long_as_the_last_step_that_ran(clock):
    pauses = PauseClock()
    clock.now += 0.5
    assert pauses.step_ended() == 0.0  # a step of 0.5 s, run through
    clock.now += 10.0  # stopped for 10 s in the next step ...
    pauses.continued()  # ... then continued
    clock.now += 0.25
    assert pauses.step_ended() == 10.25 - 0.5  # counted as the last step that ran: 0.5 s
    clock.now += 0.75
    assert pauses.step_ended() == 0.0  # the SIGCONT is accounted for once


def test_a_pause_in_an_evaluation_is_left_out_with_it(clock):
    pauses = PauseClock()
    clock.now += 0.5
    pauses.step_ended()
    clock.now += 30.0  # an evaluation, stopped and continued in the middle
    pauses.continued()
    pauses.restart()  # its time left out whole, by the loop
    clock.now += 0.5
    assert pauses.step_ended() == 0.0


def _stop_myself_once(at_step: int):
    """A training step that stops its own process for PAUSE seconds at step ``at_step``:
    a helper process sends the SIGCONT."""
    steps = []

    def step(*args, **kwargs):
        steps.append(1)
        if len(steps) == at_step:
            pid = os.getpid()
            waker = subprocess.Popen(["sh", "-c", f"sleep {PAUSE}; kill -CONT {pid}"])
            os.kill(pid, signal.SIGSTOP)
            waker.wait()
        return train_step(*args, **kwargs)

    return step


def test_a_run_stopped_and_continued_reports_the_pause_apart(tmp_path):
    recipe = tiny_recipe(iterations=8, log_every=4, eval_every=8, checkpoint_every=8)
    out = tmp_path / "run"
    summary = train(recipe, TrainOptions(out=out, quiet=True), step=_stop_myself_once(6))
    assert summary.status == "completed"
    windows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    windows = [w for w in windows if "seconds" in w]
    assert [w.get("paused_seconds", 0.0) > 0 for w in windows] == [False, True]
    assert windows[1]["paused_seconds"] >= PAUSE - 0.5
    assert summary.train_seconds < PAUSE - 0.5  # eight tiny steps: well under a second
