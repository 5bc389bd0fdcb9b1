"""The model card of a finished run's weights (``ModelCard``), from the run's own records
(summary.json, meta.json, recipe.yaml, metrics.jsonl) and the errors measured when it was
shipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepres.catalog import DATA_SETS, CardData, Hardware, ModelCard, sha256_of
from deepres.runs import RunSummary
from deepres.runs.environment import changes_during_run, trained_in
from deepres.runs.step_time import StepTime


@dataclass(frozen=True, kw_only=True)
class FinishedRun:
    """A run that completed, whose last checkpoint (``final``) is its final network."""

    path: Path
    summary: RunSummary
    meta: dict  # meta.json
    recipe: dict  # recipe.yaml
    step_time: StepTime  # from metrics.jsonl
    final: Path


@dataclass(frozen=True, kw_only=True)
class Measured:
    """Top-1 test errors by evaluation mode ("center", "center-flip"), of the weights as
    stored (``storage``) and in float32, on ``test_images`` test images."""

    storage: str
    errors: dict[str, float]
    float32: dict[str, float]
    test_images: int


def recipe_naming(recipe: dict, data_set: str | None) -> dict:
    """``recipe`` with its data the named ``data_set`` where there is one, not the trainer's
    folder: the recipe a card and its weight file give."""
    return recipe if data_set is None else {**recipe, "data": data_set}


def card_data(
    name: str, run: FinishedRun, tested_on: str, data_set: str | None, note: str | None
) -> CardData:
    """What the weights ``name`` (MODEL-DATA[-VARIANT]) were trained and tested on: the named
    ``data_set`` in place of the trainer's folder where one is given."""
    trained_on = run.meta["data"]
    named = {}
    if data_set is not None:
        named = dict(source=data_set, tested_on=data_set, set=data_set)
        named["provenance"] = DATA_SETS[data_set]
    fields = dict(
        # MODEL-DATA or MODEL-DATA-VARIANT (resnet20-cifar10-fast): the data set's name
        name=name[len(run.summary.model) + 1 :].split("-")[0],
        source=trained_on["source"],
        kind=trained_on["kind"],
        images=trained_on["sizes"],
        classes=trained_on["classes"],
        image_size=trained_on["image_size"],
        tested_on=tested_on,
        note=note,
    )
    return CardData(**{**fields, **named})


def time_fields(time: StepTime) -> dict:
    """A card's training time, paused time left out, and that paused time."""
    return {"training_seconds": time.estimated, "paused_seconds": time.stood_paused}


def card_of_run(
    name: str,
    run: FinishedRun,
    *,
    data: CardData,
    measured: Measured,
    weights: Path,
    results: str,
    stated_hardware: str | None = None,
) -> ModelCard:
    """The card of ``weights`` (the file as shipped), whose run's records are copied to
    ``results``; ``stated_hardware``: the shipper's words where the records say too little."""
    summary, meta = run.summary, run.meta
    recipe = recipe_naming(run.recipe, data.set)
    return ModelCard(
        name=name,
        model=summary.model,
        weights=name[len(summary.model) + 1 :],  # create_model(model, weights=...)
        model_args=run.recipe.get("model_args", {}),
        data=data,
        recipe=recipe,
        iterations=summary.iterations,
        test_error=measured.errors["center"],
        test_error_float32=measured.float32["center"],
        test_error_center_flip=measured.errors.get("center-flip"),
        test_error_during_training=summary.test_error,
        test_images=measured.test_images,
        best_val_error=summary.best_val_error,
        best_val_iteration=summary.best_iteration,
        precision=trained_in(run.recipe.get("amp", "auto"), str(meta.get("device", ""))),
        storage=measured.storage,
        hardware=Hardware(
            device=meta.get("device"),
            device_name=meta.get("device_name"),
            cpu_threads=meta.get("cpu_threads"),
            world_size=meta.get("world_size"),
            stated_when_shipped=stated_hardware or None,
        ),
        changed_when_resumed=changes_during_run(meta),
        **time_fields(run.step_time),
        code_commit=meta["git_commit"],
        torch_version=meta["torch_version"],
        file=weights.name,
        bytes=weights.stat().st_size,
        sha256=sha256_of(weights),
        results=results,
    )
