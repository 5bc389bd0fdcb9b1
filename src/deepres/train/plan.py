"""A run's plan: what `deepres train` decides before it trains, as a library call.

    plan = plan_run(RunRequest(data="cifar10", recipe="cifar-paper", iterations=2000))
    summary = train(plan.recipe, plan.options)

``RunRequest`` is what a person asks for (the command's flags, as fields). ``plan_run`` applies
the rules below and returns the recipe, the run directory and the options that ``train``
takes, with notes for that person. It reads what the request names (the run to resume, the
weights to start from) and creates nothing.

- ``resume`` goes on in the run's own folder (another ``out`` is refused) with the run's own
  recipe.yaml; only ``iterations`` may change it. A process that torchrun starts again
  (--max-restarts) continues the run that its first life created.
- ``out`` defaults to runs/MODEL-DATA-TIME-PID, then -2, -3, ... while that folder exists;
  under torchrun it must be given: every process, and every restart, uses the same one.
- ``overrides`` (``--set KEY=VALUE``) and the field flags (``batch_size``, ``lr``, ``epochs``,
  ``val_size``) are recipe fields, parsed once as ``--set``'s; a field given both ways is
  refused.
- ``iterations`` is the run's length with the schedule scaled to it, which a note says
  (``--set iterations=N`` stops at N without moving the lr drops).
- ``init_from`` without ``recipe`` fine-tunes (the ``finetune`` preset); without ``model`` the
  network is the weights' own; on a folder without ``image_size``, images are at the size the
  weights were trained at.
- A preset's batch size is a default, which shrinks to fit a small training set
  (``TrainOptions.fit_batch``); one from a recipe file or a field is the user's choice.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from deepres.data.sources import folder_of
from deepres.errors import UsageError
from deepres.runs import RunDir
from deepres.runs.rundir import RECIPE, data_slug

from .distributed import launched_by_torchrun, restarted_by_torchrun
from .finetune import starting_weights
from .recipe import Recipe, load_recipe, load_run_recipe, parse_overrides, preset_names

DEFAULT_RECIPE = "quick"
FINETUNE_RECIPE = "finetune"  # with init_from and no recipe
# The recipe fields people change most, each a request field of its own: request field ->
# (recipe field, the value as --set gives it).
FIELD_FLAGS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "batch_size": ("batch_size", str),
    "lr": ("lr", str),
    "epochs": ("iterations", lambda epochs: f"{epochs}ep"),
    "val_size": ("val_size", str),
}
NAMED_FIELDS = ("model", "data", "seed", "init_from", "freeze", "image_size")  # None: the recipe's
SWITCHES = ("compile", "scale_lr", "sync_bn")  # False: the recipe's


@dataclass
class TrainOptions:
    """How and where to run, as opposed to what to compute (that is the recipe)."""

    out: Path
    resume: bool = False
    device: str = "auto"
    quiet: bool = False
    cache_dir: Path | None = None
    on_bad_image: str = "skip"
    download: bool = False
    recipe_name: str | None = None  # the preset or file the recipe came from, for the banner
    # A batch larger than the training set shrinks to it (said at start) instead of failing:
    # for a batch size that the user did not choose (a preset's).
    fit_batch: bool = False


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """What a person asks of a training run: `deepres train`'s flags, as fields (None: not
    given)."""

    recipe: str | None = None  # a preset or a YAML file (default quick, finetune with init_from)
    model: str | None = None
    data: str | None = None
    seed: int | None = None
    init_from: str | None = None
    freeze: str | None = None
    image_size: int | None = None
    compile: bool = False
    scale_lr: bool = False
    sync_bn: bool = False
    batch_size: int | None = None
    lr: float | None = None
    epochs: int | None = None
    val_size: int | None = None
    overrides: Sequence[str] = ()  # "KEY=VALUE", as --set gives them
    iterations: int | None = None  # the run's length, the schedule scaled to it
    out: Path | None = None
    resume: Path | None = None  # the run directory to continue


@dataclass(frozen=True)
class RunPlan:
    """What ``train`` takes, and what the person should read before it starts."""

    recipe: Recipe
    options: TrainOptions  # options.out is the run directory
    notes: tuple[str, ...] = ()


def plan_run(request: RunRequest, **how: Any) -> RunPlan:
    """The recipe, run directory and options of the run that ``request`` asks for, by the
    rules of this module's docstring. ``how``: ``TrainOptions``' fields of how to run
    (device, quiet, cache_dir, on_bad_image, download), passed on as given."""
    fields = _recipe_fields(request)
    if request.resume is not None:
        recipe = _resumed_recipe(request, fields)
    else:
        recipe = _new_recipe(request, fields)
    recipe, notes = _with_length(recipe, request.iterations, fields)
    if request.resume is None and request.out is None and launched_by_torchrun():
        raise UsageError(
            "under torchrun, give --out: every process, and every restart, must "
            "use the same run directory"
        )
    out = request.resume or request.out or _default_out(recipe)
    options = TrainOptions(
        out=out,
        # A worker that torchrun starts again continues the run from its last checkpoint
        # instead of refusing the run directory that its first life created.
        resume=request.resume is not None or (restarted_by_torchrun() and RunDir(out).exists()),
        recipe_name=None if request.resume else _recipe_name(request),
        fit_batch=not _batch_chosen(request, fields),
        **how,
    )
    return RunPlan(recipe, options, notes)


def _recipe_fields(request: RunRequest) -> dict[str, Any]:
    """The recipe fields that ``overrides`` and the field flags give, checked as --set's
    (raw: never scaled)."""
    fields = parse_overrides(list(request.overrides))
    for name, (field, as_set) in FIELD_FLAGS.items():
        value = getattr(request, name)
        if value is None:
            continue
        if field in fields:
            flag = f"--{name.replace('_', '-')}"
            raise UsageError(f"{flag} and --set {field}=... both set {field}: give one")
        fields.update(parse_overrides([f"{field}={as_set(value)}"]))
    return fields


def _default_out(recipe: Recipe) -> Path:
    """runs/MODEL-DATA-TIME-PID, unique: the process id tells apart runs that processes start
    in the same second, a count those that one process starts (-2, -3, ...)."""
    base = f"{recipe.model}-{data_slug(recipe.data)}-{time.strftime('%Y%m%d-%H%M%S')}"
    base = Path("runs") / f"{base}-{os.getpid()}"
    out, count = base, 1
    while out.exists():
        count += 1
        out = base.with_name(f"{base.name}-{count}")
    return out


def _resumed_recipe(request: RunRequest, fields: dict) -> Recipe:
    """The recipe.yaml of the run to resume, which the request may not change (but for its
    length)."""
    if request.out is not None and Path(request.out).resolve() != Path(request.resume).resolve():
        raise UsageError(
            f"--resume {request.resume} goes on in that run's own folder, not in --out "
            f"{request.out}; drop --out (or copy the run there and resume that copy)"
        )
    run = RunDir(request.resume)
    run.check_resumable()
    if request.recipe or _named_fields(request) or set(fields) - {"iterations"}:
        raise UsageError(
            "--resume continues the run's own recipe; only --iterations may "
            "change (start a new run for anything else)"
        )
    return load_run_recipe(run.path / RECIPE)


def _new_recipe(request: RunRequest, fields: dict) -> Recipe:
    """The named recipe with the request's named fields; ``fields`` come with the length."""
    named = _named_fields(request)
    weights = starting_weights(request.init_from) if request.init_from else None
    if weights and request.model is None:
        named = {**weights.fields, **named}
    recipe = load_recipe(_recipe_name(request)).replace(**named)
    if weights and request.recipe is None and request.image_size is None:
        recipe = _at_the_weights_size(recipe, weights.image_size)
    return recipe


def _named_fields(request: RunRequest) -> dict[str, Any]:
    """The recipe fields that the request names directly (model, data, ...; compile, ...)."""
    named = {
        key: getattr(request, key) for key in NAMED_FIELDS if getattr(request, key) is not None
    }
    named.update((switch, True) for switch in SWITCHES if getattr(request, switch))
    return named


def _recipe_name(request: RunRequest) -> str:
    """The recipe asked for, else the fine-tuning preset for init_from, else the default."""
    return request.recipe or (FINETUNE_RECIPE if request.init_from else DEFAULT_RECIPE)


def _batch_chosen(request: RunRequest, fields: dict) -> bool:
    """A preset's batch size is a default, not the user's choice: it shrinks to fit a small
    training set; one from the fields or a recipe file does not."""
    from_file = request.recipe is not None and request.recipe not in preset_names()
    return "batch_size" in fields or from_file


def _at_the_weights_size(recipe: Recipe, size: int | None) -> Recipe:
    """Fine-tuning on a folder: its images at the size the weights were trained at (the
    built-in data sets have one size of their own)."""
    folder = folder_of(recipe.data)
    if folder is None or recipe.data.startswith("imagenet:") or size is None:
        return recipe
    return recipe.replace(image_size=size)


def _with_length(
    recipe: Recipe, iterations: int | None, fields: dict
) -> tuple[Recipe, tuple[str, ...]]:
    """The recipe with ``fields`` as given and, for ``iterations``, its schedule scaled to that
    length, with a note when the lr drops move."""
    if iterations is None:
        return recipe.replace(**fields), ()
    scaled = recipe.scaled_to(iterations, **fields)
    if scaled.iterations == recipe.iterations:
        return scaled, ()
    return scaled, (recipe.scaling_note(scaled),)
