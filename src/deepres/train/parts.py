"""What a training run is built from, and the one step that builds it.

``build_training(recipe, options)`` does all the work of a start: it joins torchrun's
process group, takes and locks the run directory (rank 0 does, for every process), reads the
data, and builds the loaders, the network where it trains, the optimiser and the schedule.
``Trainer`` receives the ``TrainingParts`` and runs the loop; ``close()`` hands them back.

A start that fails leaves nothing that stops the same command from running again: the lock
is released, the process group left, and the folders it made for the run removed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from deepres.data import BatchLoader, DataError, DataSplits, open_source
from deepres.data.sources import absolute_source, missing_folder
from deepres.errors import DeepresError, RecipeError, RunDirError
from deepres.models import model_info
from deepres.runs import RunDir
from deepres.runs.lock import RunLock

from .build import build_model, make_loaders, make_optimizer, make_schedule
from .checkpoints import Checkpoints
from .distributed import World, join, leave
from .ema import WeightAverage
from .finetune import start_from_weights
from .plan import TrainOptions
from .precision import autocast_dtype
from .recipe import Recipe
from .schedule import LRSchedule
from .sync_bn import convert_sync_batchnorm


@dataclass
class TrainingParts:
    """A run as built, before its first step. Every process has its own; rank 0's alone
    write (``say`` prints on rank 0 only)."""

    options: TrainOptions
    world: World
    device: torch.device
    run: RunDir
    lock: RunLock | None  # held by rank 0 while it trains in the run
    checkpoints: Checkpoints
    recipe: Recipe  # resolved: lengths in iterations, the images' side; what recipe.yaml holds
    splits: DataSplits
    train_loader: BatchLoader
    eval_loaders: dict[str, BatchLoader]  # "val" and "test", those the data has
    model: nn.Module  # the network being trained
    step_model: nn.Module | None  # what a step runs: model, in DDP and torch.compile wrappers
    average: WeightAverage | None  # the weight average, with the recipe's ema_decay
    optimizer: torch.optim.Optimizer
    schedule: LRSchedule
    amp_dtype: torch.dtype | None
    memory_format: torch.memory_format
    say: Callable[[str], None]

    @property
    def network(self) -> nn.Module:
        """The network that is evaluated and kept: the weight average where there is one."""
        return self.average.model if self.average else self.model

    def bad_files(self) -> list:
        """The unusable images: those found before training, then those met while streaming."""
        loaders = [self.train_loader, *self.eval_loaders.values()]
        return list(self.splits.bad_files) + [b for ld in loaders for b in ld.bad_files]

    def close(self) -> None:
        """Let another process train in the run directory, and leave the process group.

        The DistributedDataParallel wrapper goes first. Freed after the group is destroyed, it
        would free the group's last reference under the GIL, while gloo's threads may be
        waiting for the GIL to free the last collective's tensors: the process hangs, or at
        exit aborts ("terminate called without an active exception")."""
        self.step_model = None
        _release(self.lock, self.world)


def build_training(recipe: Recipe, options: TrainOptions) -> TrainingParts:
    """The parts of the run that ``recipe`` and ``options`` describe (this module's
    docstring says what that does). Under torchrun every process calls it."""
    model_info(recipe.model)  # a misspelt --model fails before any folder or data
    world, device = join(options.device)
    run, lock, made = RunDir(options.out), None, False
    try:
        lock, made = _take_run_dir(run, options, world, device)  # first: before data is read
        return _build(recipe, options, world, device, run, lock)
    except BaseException:
        _release(lock, world)
        if lock is not None and not options.resume:  # rank 0 took the folder
            run.remove_unstarted(made)  # so that the same command can run again
        raise


def _take_run_dir(
    run: RunDir, options: TrainOptions, world: World, device: torch.device
) -> tuple[RunLock | None, bool]:
    """Check or create the run directory and lock it (rank 0 does, for every process); every
    process learns whether that failed, so none waits for a rank that gave up. The lock, and
    whether the run's folder was made here."""
    lock, made, error = None, False, None
    if world.is_main:
        try:
            if options.resume:
                run.check_resumable()
            else:
                made = run.create()
            lock = run.lock()
        except DeepresError as err:
            error = err
    if world.any(error is not None, device):
        raise error or RunDirError(
            f"{run.path}: rank 0 could not take this run directory (it says why)"
        )
    return lock, made


def _build(
    recipe: Recipe,
    options: TrainOptions,
    world: World,
    device: torch.device,
    run: RunDir,
    lock: RunLock | None,
) -> TrainingParts:
    say = _said_by_rank_0(world)
    torch.manual_seed(recipe.seed)
    splits, recipe = _open_data(recipe, options, world, run, say)
    train_loader, eval_loaders = make_loaders(splits, recipe, world, device)
    say(f"data: {splits.pipeline}; training augmentation: {train_loader.describe_augment()}")
    # recipe.yaml holds what the run used: lengths in iterations, the images' side.
    recipe = recipe.resolved(len(train_loader)).replace(image_size=splits.image_size)
    model = build_model(recipe, len(splits.classes), splits.in_chans)
    if recipe.sync_bn and world.distributed:
        model = convert_sync_batchnorm(model)
    amp_dtype = autocast_dtype(recipe.amp, device, say=say)
    # channels_last is faster for these convolutions on GPUs and, measured, on CPUs too
    # (ResNet-20 training, 2 cores: about 1.5x), so "auto" turns it on everywhere.
    memory_format = (
        torch.contiguous_format if recipe.channels_last == "off" else torch.channels_last
    )
    resuming = options.resume and run.last.exists()  # the checkpoint has the weights
    start_from_weights(model, recipe, splits.classes, say=say, load=not resuming)
    model = model.to(device, memory_format=memory_format)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    optimizer, schedule = make_optimizer(model, recipe), make_schedule(recipe)
    # The wrappers come last, so that no start that fails leaves a DDP wrapper alive when
    # it leaves the process group (``TrainingParts.close`` says why that matters).
    step_model = _wrapped(model, recipe, world, device)
    average = WeightAverage(model, recipe.ema_decay, recipe.ema_every) if recipe.ema_decay else None
    return TrainingParts(
        options=options,
        world=world,
        device=device,
        run=run,
        lock=lock,
        checkpoints=Checkpoints(run, writer=world.is_main),
        recipe=recipe,
        splits=splits,
        train_loader=train_loader,
        eval_loaders=eval_loaders,
        model=model,
        step_model=step_model,
        average=average,
        optimizer=optimizer,
        schedule=schedule,
        amp_dtype=amp_dtype,
        memory_format=memory_format,
        say=say,
    )


def _open_data(
    recipe: Recipe, options: TrainOptions, world: World, run: RunDir, say: Callable[[str], None]
) -> tuple[DataSplits, Recipe]:
    """The data; and the recipe with a batch that fits it, and a folder as its absolute path
    (recipe.yaml then names it from any working folder)."""
    gone = missing_folder(recipe.data) if options.resume else None
    if gone is not None:
        raise DataError(
            f"{run.path} was trained on {gone}, which is not on this machine "
            "(moved or deleted?): put the folder back there to resume the run"
        )
    splits = open_source(
        recipe.data,
        cache_dir=options.cache_dir,
        val_size=recipe.val_size,
        seed=recipe.seed,
        on_bad_image=options.on_bad_image,
        download=options.download,
        image_size=recipe.image_size,
    )
    recipe = batch_that_fits(recipe, len(splits.train), world, options, say)
    if not options.resume:  # a resumed run keeps its records as they were
        recipe = recipe.replace(data=absolute_source(recipe.data))
    return splits, recipe


def batch_that_fits(
    recipe: Recipe, images: int, world: World, options: TrainOptions, say: Callable[[str], None]
) -> Recipe:
    """A training set of ``images``, smaller than the batch: every iteration takes all of it,
    as a DataLoader without drop_last would, if the batch size was not the user's choice
    (``options.fit_batch``)."""
    processes = world.world_size
    whole = images // processes * processes  # the global batch splits evenly across processes
    if recipe.batch_size <= images or options.resume:
        return recipe
    if not options.fit_batch or whole == 0:
        raise RecipeError(
            f"batch_size {recipe.batch_size} is more than the {images:,} "
            f"training images of {recipe.data}: --set batch_size=N with N at "
            f"most {max(whole, processes)}, or add images"
        )
    say(
        f"note: batch_size {recipe.batch_size} is more than the {images:,} training "
        f"images: each iteration trains on a batch of {whole}, the whole training "
        "set (--set batch_size=N to choose)"
    )
    return recipe.replace(batch_size=whole)


def _wrapped(model: nn.Module, recipe: Recipe, world: World, device: torch.device) -> nn.Module:
    """What a step runs: under torchrun the model in DistributedDataParallel, and compiled
    when the recipe says so."""
    step_model = model
    if world.distributed:
        cuda = device.type == "cuda"
        step_model = DistributedDataParallel(
            step_model, device_ids=[device.index] if cuda else None
        )
    return torch.compile(step_model) if recipe.compile else step_model


def _release(lock: RunLock | None, world: World) -> None:
    if lock is not None:
        lock.release()
    leave(world)


def _said_by_rank_0(world: World) -> Callable[[str], None]:
    """A ``say``: a line on stderr, from rank 0 alone."""

    def say(text: str) -> None:
        if world.is_main:
            print(text, file=sys.stderr, flush=True)

    return say
