"""Run a set of trainings to completion, each in its own run directory, resuming where it stopped.

A run whose summary says it completed (or diverged: running it again would diverge again) is
left alone; one that has started is continued with ``--resume``; the rest start fresh. Every
training is a ``deepres train`` process of its own (a crash ends that training alone), its
output in ``jobs/NAME.log``; ``parallel=K`` runs K of them side by side (several small CIFAR
nets fill one GPU better than one does), and with one at a time its output is shown here too
unless quiet. With ``processes=N`` each training is N ``torchrun`` processes sharing its batch,
each batch norm over its own share: the paper's two GPUs of 64 images each are ``processes=2``
(on 2 CPU cores, one thread each, as fast as one process with two threads).

A SIGINT (Ctrl-C) or SIGTERM to this process is passed on, once, to every training, which saves
a checkpoint and stops; ``run_jobs`` then raises ``RunsStopped``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import yaml

from deepres.atomic import write_text_atomic
from deepres.errors import RunDirError
from deepres.runs import RunDir, RunSummary
from deepres.train import Recipe


class RunsStopped(Exception):
    """The trainings were stopped by a signal; their checkpoints are saved."""


@dataclass
class Job:
    name: str
    recipe: Recipe
    path: Path  # the run directory

    def summary(self) -> RunSummary | None:
        """How the run last ended, or None if it has not ended yet."""
        return RunDir(self.path).read_summary()

    def status(self) -> str | None:
        """ "completed", "diverged", "stopped by SIGINT", ..., or None (not ended yet)."""
        summary = self.summary()
        return summary.status_said if summary else None

    def how_far(self) -> str:
        """Where the run stands: "not started", or as ``RunDir.progress_said`` says it (a run
        being trained, or one killed outright, has no summary yet)."""
        run = RunDir(self.path)
        if not run.exists():
            return "not started"
        return run.progress_said(run.read_metrics(), self.summary())

    def state(self) -> str:
        """ "done", "resume" or "fresh"."""
        summary = self.summary()
        if summary is not None and summary.finished:
            return "done"
        run = RunDir(self.path)
        if run.exists():
            return "resume"
        run.remove_unstarted()  # what a start that stopped before its recipe left
        if run.in_use():
            raise RunDirError(
                f"{self.path} is in use: a process is starting a training in it; wait for it "
                "to end (or stop it), then run the same command again"
            )
        if self.path.exists():
            raise RunDirError(
                f"{self.path} holds files but is not a deepres run directory; "
                "move it out of the way"
            )
        return "fresh"


@dataclass
class Launch:
    """How to run, the same for every job."""

    device: str
    cache_dir: Path | None
    quiet: bool  # the trainings' output in their logs only, even one at a time
    jobs_dir: Path  # recipes and logs of the trainings
    processes: int = 1  # torchrun processes per training (its batch shared among them)


@dataclass
class _Training:
    """A job's training process, and how much of its log has been shown here."""

    job: Job
    proc: subprocess.Popen
    log: Path
    shown: int | None  # bytes of the log shown so far; None: not shown (quiet, or parallel)

    def show_output(self) -> None:
        """Print the whole lines that the log has gained since last time."""
        if self.shown is None:
            return
        with open(self.log, "rb") as f:
            f.seek(self.shown)
            lines = f.read().rpartition(b"\n")[0]
        if lines:
            self.shown += len(lines) + 1
            print(lines.decode(errors="replace"), file=sys.stderr, flush=True)


def run_jobs(jobs: list[Job], launch: Launch, parallel: int) -> None:
    """Train every job that is not done yet, ``parallel`` at a time; ``Job.status()`` then
    says how each ended."""
    todo = []
    for job in jobs:
        state = job.state()
        if state == "done":
            _say(f"{job.name}: finished earlier, skipped")
        else:
            todo.append((job, state == "resume"))
    launch.jobs_dir.mkdir(parents=True, exist_ok=True)
    env = _child_environment(launch, parallel)
    waiting, running = list(enumerate(todo, 1)), []
    show = parallel == 1 and not launch.quiet  # side by side, their lines would mix
    with _stop_signals():
        try:
            while waiting or running:
                while waiting and len(running) < parallel:
                    number, (job, resume) = waiting.pop(0)
                    doing = "resuming" if resume else "training"
                    _say(f"[{number}/{len(todo)}] {job.name}: {doing} (log: {_log(job, launch)})")
                    running.append(_start(job, resume, launch, env, show))
                for training in list(running):
                    ended = training.proc.poll() is not None
                    training.show_output()  # after the poll: an ended one has written all
                    if ended:
                        running.remove(training)
                        _report_exit(training)
                time.sleep(0.2)
        except _Stop as stop:
            _stop_all(running, launch, stop.signum)
            raise RunsStopped(f"stopped by {signal.Signals(stop.signum).name}") from None


def _start(job: Job, resume: bool, launch: Launch, env: dict, show: bool) -> _Training:
    command = [sys.executable, "-m", "deepres", "train", "--quiet", "--device", launch.device]
    if launch.processes > 1:
        torchrun = ["-m", "torch.distributed.run", "--standalone"]
        command[1:1] = [*torchrun, "--nproc-per-node", str(launch.processes)]
    if launch.cache_dir is not None:
        command += ["--cache-dir", str(launch.cache_dir)]
    if resume:
        command += ["--resume", str(job.path)]
    else:
        recipe_file = launch.jobs_dir / f"{job.name}.yaml"
        write_text_atomic(recipe_file, yaml.safe_dump(job.recipe.to_dict(), sort_keys=False))
        command += ["--recipe", str(recipe_file), "--out", str(job.path)]
    log = _log(job, launch)
    before = log.stat().st_size if log.exists() else 0  # earlier sessions' output
    # Its own process group: a Ctrl-C reaches this process alone, which passes it on to every
    # training once (a second would kill it before it saves).
    with open(log, "a") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return _Training(job, proc, log, before if show else None)


def _report_exit(training: _Training) -> None:
    job, summary = training.job, training.job.summary()
    if summary is not None and summary.finished:
        _say(f"{job.name}: {_outcome(summary)}")
        return
    tail = training.log.read_text(errors="replace").strip().splitlines()[-5:]
    _say(
        f"{job.name}: failed (exit code {training.proc.returncode}); the end of "
        f"{training.log}:\n  " + "\n  ".join(tail)
    )


def _stop_all(running: list[_Training], launch: Launch, signum: int) -> None:
    _say("stopping: every training saves a checkpoint; run the same command to go on")
    for training in running:
        pid = training.proc.pid
        for trainer in _trainers(pid) if launch.processes > 1 else [pid]:
            with suppress(ProcessLookupError):  # ended meanwhile
                os.kill(trainer, signum)
    for training in running:
        training.proc.wait()
        training.show_output()


def _trainers(torchrun_pid: int) -> list[int]:
    """torchrun's workers, signalled directly: torchrun passes a SIGTERM on but kills its
    workers 30 s later, and processes agree to stop only at log points, which a deep network
    on a CPU reaches a minute apart. torchrun ends when its workers have."""
    children = Path(f"/proc/{torchrun_pid}/task/{torchrun_pid}/children")
    try:
        return [int(pid) for pid in children.read_text().split()] or [torchrun_pid]
    except OSError:  # not Linux, or already gone
        return [torchrun_pid]


def _child_environment(launch: Launch, parallel: int) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if launch.device == "cpu" and "OMP_NUM_THREADS" not in env:
        # Share the cores rather than have every process claim all of them.
        processes = parallel * launch.processes
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // processes))
    return env


class _Stop(Exception):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stop_signals():
    """SIGINT and SIGTERM to this process raise ``_Stop``, once: a second acts as usual."""

    def stop(signum, frame):
        for s, handler in previous.items():
            signal.signal(s, handler)
        raise _Stop(signum)

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in previous:
            signal.signal(s, stop)
    except ValueError:  # not the main thread: signals stay as they are
        previous = {}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _log(job: Job, launch: Launch) -> Path:
    return launch.jobs_dir / f"{job.name}.log"


def _outcome(summary: RunSummary) -> str:
    text = f"{summary.status_said} after {summary.iterations:,} iterations"
    if summary.test_error is not None:
        text += f", test error {100 * summary.test_error:.2f}%"
    return text


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
