"""Run a set of trainings to completion, each in its own run directory, resuming where it stopped.

A run whose summary says it completed (or diverged: running it again would diverge again) is
left alone; one that has started is continued with ``--resume`` semantics; the rest start
fresh. With ``parallel=1`` the trainings run one after another in this process; with more,
that many ``deepres train`` processes run side by side (several small CIFAR nets fill one GPU
better than one does), each with its log in ``jobs/NAME.log``. With ``processes=N`` each
training is N ``torchrun`` processes sharing its batch, each batch norm over its own share: the
paper's two GPUs of 64 images each are ``processes=2`` (on 2 CPU cores, one thread each, as
fast as one process with two threads).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from deepres.atomic import write_text_atomic
from deepres.errors import RunDirError
from deepres.runs import RunDir, RunSummary
from deepres.train import Recipe, TrainOptions, train


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
        return summary.status if summary else None

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
    quiet: bool
    jobs_dir: Path  # recipes and logs of the job processes
    processes: int = 1  # torchrun processes per training (its batch shared among them)


def run_jobs(jobs: list[Job], launch: Launch, parallel: int) -> None:
    """Train every job that is not done yet; ``Job.status()`` then says how each ended."""
    todo = []
    for job in jobs:
        state = job.state()
        if state == "done":
            _say(f"{job.name}: finished earlier, skipped")
        else:
            todo.append((job, state == "resume"))
    if parallel == 1 and launch.processes == 1:
        _run_here(todo, launch)
    else:
        _run_processes(todo, launch, parallel)


def _run_here(todo: list[tuple[Job, bool]], launch: Launch) -> None:
    for i, (job, resume) in enumerate(todo, 1):
        _say(f"[{i}/{len(todo)}] {job.name}: {'resuming' if resume else 'training'}")
        try:
            summary = train(
                job.recipe,
                TrainOptions(
                    out=job.path,
                    resume=resume,
                    device=launch.device,
                    quiet=launch.quiet,
                    cache_dir=launch.cache_dir,
                ),
            )
        except KeyboardInterrupt:  # outside the training loop, which handles its own
            raise RunsStopped("interrupted") from None
        _say(f"{job.name}: {_outcome(summary)}")
        if summary.stopped:
            raise RunsStopped(summary.status)


def _run_processes(todo: list[tuple[Job, bool]], launch: Launch, parallel: int) -> None:
    launch.jobs_dir.mkdir(parents=True, exist_ok=True)
    env = _child_environment(launch, parallel)
    waiting, running = list(todo), {}
    with _signals_as_interrupts():
        try:
            while waiting or running:
                while waiting and len(running) < parallel:
                    job, resume = waiting.pop(0)
                    running[job.name] = (job, _start(job, resume, launch, env))
                for name, (job, proc) in list(running.items()):
                    if proc.poll() is not None:
                        del running[name]
                        _report_exit(job, proc.returncode, launch)
                time.sleep(0.2)
        except KeyboardInterrupt:
            _stop_all([proc for _, proc in running.values()], launch)
            raise RunsStopped("interrupted") from None


def _start(job: Job, resume: bool, launch: Launch, env: dict) -> subprocess.Popen:
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
    _say(
        f"{job.name}: {'resuming' if resume else 'training'} in a process of its own "
        f"(log: {_log(job, launch)})"
    )
    # Its own process group: a Ctrl-C reaches this process alone, which then stops every
    # training with SIGTERM (one signal each: a second would kill it before it saves).
    with open(_log(job, launch), "a") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _report_exit(job: Job, code: int, launch: Launch) -> None:
    if job.state() == "done":
        _say(f"{job.name}: {_outcome(job.summary())}")
        return
    tail = _log(job, launch).read_text(errors="replace").strip().splitlines()[-5:]
    _say(
        f"{job.name}: failed (exit code {code}); the end of {_log(job, launch)}:\n  "
        + "\n  ".join(tail)
    )


def _stop_all(procs: list[subprocess.Popen], launch: Launch) -> None:
    _say("stopping: every training saves a checkpoint; run the same command to go on")
    for proc in procs:
        for pid in _trainers(proc.pid) if launch.processes > 1 else [proc.pid]:
            os.kill(pid, signal.SIGTERM)
    for proc in procs:
        proc.wait()


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


@contextmanager
def _signals_as_interrupts():
    """SIGTERM to this process stops the trainings as Ctrl-C does."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _log(job: Job, launch: Launch) -> Path:
    return launch.jobs_dir / f"{job.name}.log"


def _outcome(summary: RunSummary) -> str:
    text = f"{summary.status} after {summary.iterations:,} iterations"
    if summary.test_error is not None:
        text += f", test error {100 * summary.test_error:.2f}%"
    return text


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
