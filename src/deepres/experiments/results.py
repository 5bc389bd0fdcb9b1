"""From finished run directories to the records of the report: errors, curves, responses."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from deepres.analysis.complexity import count_parameters
from deepres.analysis.curves import training_curves
from deepres.analysis.responses import response_stds
from deepres.data import BatchLoader, open_source
from deepres.models import model_info
from deepres.runs import CheckpointState, RunDir
from deepres.runs.environment import SESSION_KEYS, trained_in
from deepres.runs.records import RunRecord
from deepres.runs.rundir import RESPONSES
from deepres.runs.step_time import step_time
from deepres.train import Recipe
from deepres.train.build import build_model
from deepres.weights import load_checkpoint


def ensure_response_std(run_path: Path, device: torch.device, cache_dir: Path | None) -> None:
    """Fig. 7's numbers for a completed run: the std of every 3x3 layer's response over the
    whole test set, of the final model (last.pt) in eval mode. Computed once per checkpoint. A
    run restored from its records alone (no checkpoints) keeps the response_std.json it has;
    without either, it has none, and the report says that Figure 7 leaves it out."""
    run = RunDir(run_path)
    if not run.last.exists():  # restored from its records: nothing to measure again
        return
    state = CheckpointState.from_dict(load_checkpoint(run.last, map_location=device))
    measured = run.read_json(RESPONSES) if (run_path / RESPONSES).exists() else None
    if measured is not None and measured["iteration"] == state.iteration:
        return
    recipe = Recipe(**run.read_recipe())
    # The run's own split and seed, so that the images are normalised as in training.
    splits = open_source(
        recipe.data,
        cache_dir=cache_dir,
        val_size=recipe.val_size,
        seed=recipe.seed,
        image_size=recipe.image_size,
    )
    model = build_model(recipe, len(state.classes), splits.in_chans)
    model.load_state_dict(state.model)
    loader = BatchLoader(splits.test, 500, train=False, device=device, normalize=recipe.normalize)
    layers = response_stds(model.to(device), loader)
    run.write_json(
        RESPONSES,
        {
            "iteration": state.iteration,
            "split": "test",
            "images": len(splits.test),
            "layers": layers,
        },
    )


def run_record(run_path: Path) -> RunRecord | None:
    """One run as the report reads it; None for one that has neither ended nor logged an
    iteration. A run that has not completed says how far it is (the last iteration in its
    metrics) and whether it is training now (its lock is held); it may have no summary yet,
    as while its first process still trains."""
    run = RunDir(run_path)
    summary, metrics = run.read_summary(), run.read_metrics()
    if summary is None and not metrics:
        return None
    meta, recipe = run.read_meta(), Recipe(**run.read_recipe())
    info = model_info(recipe.model)
    responses = run_path / RESPONSES
    status, iterations = run.progress(metrics, summary)
    # From the log windows, finished or not: a run may have trained on after its last summary
    # (a process killed outright writes none), and an older run's summary counts the time its
    # stopped process stood still as training.
    time = step_time(metrics)
    seconds = time.estimated
    speed = time.images / seconds if seconds else None
    return RunRecord(
        name=run_path.name,
        model=recipe.model,
        depth=info.depth,
        residual=info.residual,
        seed=recipe.seed,
        status=status,
        iterations=iterations,
        test_error=summary.test_error if summary else None,
        best_val_error=summary.best_val_error if summary else None,
        best_iteration=summary.best_iteration if summary else None,
        params=summary.params if summary else count_parameters(_built(recipe, meta)),
        train_seconds=seconds,
        images_per_s=speed,
        curves=training_curves(metrics),
        response_std=(json.loads(responses.read_text())["layers"] if responses.exists() else None),
        meta={key: meta.get(key) for key in (*SESSION_KEYS, "resumes")},
        precision=trained_in(recipe.amp, str(meta.get("device", ""))),
    )


def _built(recipe: Recipe, meta: dict) -> torch.nn.Module:
    """The run's network, without its weights, on the meta device (no memory, no arithmetic)."""
    with torch.device("meta"):
        return build_model(recipe, len(meta["data"]["classes"]), meta["data"]["in_chans"])
