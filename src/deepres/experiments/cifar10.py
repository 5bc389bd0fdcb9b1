"""The paper's CIFAR-10 experiments (Sec. 4.2): Table 6, Figure 6 and Figure 7, measured.

Every network trains with the ``cifar-paper`` recipe into ``OUT/runs/MODEL-seedN``, a normal
run directory, so that running the same command again skips finished runs and resumes the
others. ``OUT/experiment.json`` keeps the settings that the runs share (data, split, recipe):
a later command may add depths or seeds, or compute in another precision (``PER_RUN``), but
not change those. Each command then writes the report of every finished run in OUT
(``deepres.experiments.report``).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import deepres
from deepres.atomic import write_text_atomic
from deepres.data import DataError, open_source
from deepres.data.jpeg_settings import data_note
from deepres.device import cpu_description, pick_device
from deepres.errors import RunDirError
from deepres.runs.environment import changes_during_run, describe_environment, sessions
from deepres.runs.records import RunRecord
from deepres.train import Recipe, load_recipe

from .report import (
    Environment,
    Invocation,
    Published,
    RecipeChange,
    ReportContext,
    Schedule,
    write_cifar10_report,
)
from .results import ensure_response_std, run_record
from .runner import Job, Launch, RunsStopped, run_jobs
from .settings import EXPERIMENT, Cifar10Settings, check_settings

# Table 6, CIFAR-10 test error (%) of the residual nets; the paper gives none for plain nets.
PAPER_TEST_ERROR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43, 1202: 7.93}
# The public reproduction whose checkpoints deepres reads (issue 26), as its README gives them.
PUBLIC_REPRODUCTION = Published(
    errors={20: 8.27, 32: 7.37, 44: 6.90, 56: 6.61, 110: 6.32},
    source="the figures published by akamaster/pytorch_resnet_cifar10 (its README), the "
    "same networks trained for 200 epochs on all 50,000 training images, each figure that "
    "of the epoch with the lowest test error; deepres measured 8.27, 7.37, 6.90 and 6.61 "
    "with the published checkpoints on the original test images.",
)


def shared_recipe(s: Cifar10Settings) -> Recipe:
    """The recipe (``cifar-paper`` unless asked) on these data; a shorter run keeps its
    proportions (``Recipe.scaled_to``): for the paper's, the lr falls at 50% and 75% of the
    iterations, and there are 32 evaluations."""
    base = load_recipe(s.recipe).replace(data=s.data, val_size=s.val_size)
    fixed = {**s.overrides, **({"eval_every": s.eval_every} if s.eval_every else {})}
    return base.scaled_to(s.iterations or base.iterations, **fixed)


def reproduce_cifar10(s: Cifar10Settings) -> int:
    """Train what is missing, then write the report; the exit status of the command."""
    started, started_text = time.time(), time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    check_settings(s)
    if os.path.isdir(os.path.expanduser(s.data)):
        s.data = str(Path(s.data).expanduser().resolve())  # the runs must find it from anywhere
    recipe = shared_recipe(s)
    own = load_recipe(s.recipe)
    if recipe.iterations != own.iterations:
        print(f"note: {own.scaling_note(recipe)}", flush=True)
    device = pick_device(s.device)
    if s.report_only and not (s.out / EXPERIMENT).exists():  # before the data: no runs, no report
        raise RunDirError(f"{s.out} holds no runs of `deepres reproduce cifar10` (no {EXPERIMENT})")
    splits = _open_data(s, recipe)  # once here: download and decode before any training
    _claim(s.out, recipe, s.recorded())
    jobs = [
        Job(
            f"{model}-seed{seed}",
            recipe.replace(model=model, seed=seed),
            s.out / "runs" / f"{model}-seed{seed}",
        )
        for model in s.models()
        for seed in range(s.seeds)
    ]
    if not s.report_only:
        launch = Launch(str(device), s.cache_dir, s.quiet, s.out / "jobs", s.processes)
        try:
            run_jobs(jobs, launch, s.parallel)
        except RunsStopped as stop:
            _log_invocation(s, started, started_text, f"stopped ({stop})")
            print(f"stopped ({stop}); run the same command to continue", flush=True)
            return 130
    status = {job.name: job.status() for job in jobs}  # each reads the run's summary.json
    unfinished = [
        f"{job.name} ({job.how_far() if s.report_only else status[job.name] or 'failed'})"
        for job in jobs
        if status[job.name] != "completed"
    ]
    if not s.report_only:  # before the report steps: one that fails keeps the training listed
        _log_invocation(s, started, started_text, "failed" if unfinished else "completed")
    if s.only in (None, "figure7"):
        for job in jobs:
            if status[job.name] == "completed":
                ensure_response_std(job.path, device, s.cache_dir)
    records = [run_record(path) for path in sorted((s.out / "runs").glob("*"))]
    runs = [record for record in records if record is not None]
    context = _context(s, recipe, runs, splits, device)
    listed = {run.name for run in runs}
    context.not_started = [job.name for job in jobs if job.name not in listed]
    write_cifar10_report(s.out, runs, context)
    print(f"report: {s.out / 'report.md'}", flush=True)
    if unfinished:
        print(f"{'not finished' if s.report_only else 'did not complete'}: "
              f"{', '.join(unfinished)}", flush=True)  # fmt: skip
        return 0 if s.report_only else 1
    return 0


def _open_data(s: Cifar10Settings, recipe: Recipe):
    splits = open_source(
        recipe.data, cache_dir=s.cache_dir, val_size=recipe.val_size, seed=0, download=s.download
    )
    if splits.test is None:
        raise DataError(
            f"{s.data} has no test split: Table 6 is measured on the test set "
            "(a folder needs a test/ beside train/)"
        )
    return splits


# What may differ between the runs of one OUT. Precision too: a queue of many days outlives
# its machine, a run goes on in the precision it started in (its own recipe.yaml), the next
# starts in what this CPU computes natively, and the report says which run computed in what.
PER_RUN = ("model", "seed", "amp")


def _claim(out: Path, recipe: Recipe, settings: dict) -> None:
    """The runs in one OUT share their recipe but for ``PER_RUN``; refuse to mix. Fields
    that deepres gained after the runs started count as their defaults; an experiment.json
    written before a field became ``PER_RUN`` holds it, and it is not compared."""
    shared = {k: v for k, v in recipe.to_dict().items() if k not in PER_RUN}
    path = out / EXPERIMENT
    if path.exists():
        defaults = {k: v for k, v in Recipe().to_dict().items() if k in shared}
        stored = json.loads(path.read_text())["recipe"]
        before = {**defaults, **{k: v for k, v in stored.items() if k not in PER_RUN}}
        changed = sorted(k for k in set(before) | set(shared) if before.get(k) != shared.get(k))
        if changed:
            detail = "; ".join(
                f"{k}: {before.get(k)!r} there, {shared.get(k)!r} now" for k in changed
            )
            raise RunDirError(
                f"{out} holds runs made with other settings ({detail}); use the "
                "settings they were started with, or another --out"
            )
        return
    out.mkdir(parents=True, exist_ok=True)
    settings = {"experiment": "cifar10", "recipe": shared, "settings": settings}
    write_text_atomic(path, json.dumps(settings, indent=1) + "\n")


def _log_invocation(s: Cifar10Settings, started: float, started_text: str, status: str) -> None:
    record = {
        "command": s.command_line(),
        "started": started_text,
        "seconds": time.time() - started,
        "status": status,
    }
    with open(s.out / "invocations.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def _context(
    s: Cifar10Settings, recipe: Recipe, runs: list[RunRecord], splits, device
) -> ReportContext:
    paper, own = load_recipe("cifar-paper"), load_recipe(s.recipe)
    ignored = {"model", "seed", "data"} | recipe.unused_fields()
    changes = [
        RecipeChange(key=k, paper=v, used=getattr(recipe, k))
        for k, v in paper.to_dict().items()
        if k not in ignored and getattr(recipe, k) != v
    ]
    log = s.out / "invocations.jsonl"  # none yet while the first command still trains
    invocations = [
        Invocation(**json.loads(line))
        for line in (log.read_text().splitlines() if log.exists() else [])
        if line.strip()
    ]
    schedule = Schedule(
        iterations=recipe.iterations,
        milestones=recipe.milestones,
        paper_iterations=paper.iterations,
        paper_milestones=paper.milestones,
        recipe=s.recipe,
        paper_recipe=s.recipe == "cifar-paper",
        recipe_iterations=own.iterations,
        shortened=recipe.iterations < own.iterations,
    )
    return ReportContext(
        schedule=schedule,
        recipe={k: v for k, v in recipe.to_dict().items() if k not in ("model", "seed")},
        recipe_changes=changes,
        only=s.only,
        data={**splits.summary(), "note": data_note(s.data, splits.train.files or [])},
        environment=_environment(runs, device, recipe.batch_size),
        invocations=invocations,
        paper_test_error=PAPER_TEST_ERROR,
        reproduction=PUBLIC_REPRODUCTION,
    )


def _environment(runs: list[RunRecord], device, batch_size: int) -> Environment:
    here = describe_environment(device)
    devices = {
        f"{r.meta['device']} ({r.meta['device_name']}, {_processes(r, batch_size)}{r.meta['cpu_threads']} "
        f"CPU thread{'' if r.meta['cpu_threads'] == 1 else 's'} at the run's start"
        + "".join(f"; {change}" for change in changes_during_run(r.meta))
        + ")"
        for r in runs
    }
    return Environment(
        git_commits=sorted({s["git_commit"] or "unknown" for r in runs for s in sessions(r.meta)}),
        report_git_commit=here["git_commit"],
        deepres_version=deepres.__version__,
        torch_version=here["torch_version"],
        python_version=here["python_version"],
        devices=sorted(devices),
        host=f"{cpu_description()}, {os.cpu_count()} CPU cores, {platform.platform()}",
    )


def _processes(run: RunRecord, batch_size: int) -> str:
    """How a run's batch was shared: several processes each normalise their own share."""
    world = run.meta.get("world_size", 1)
    if world == 1:
        return ""
    return f"{world} processes, batch norm over {batch_size // world} images each, of "
