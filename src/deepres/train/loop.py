"""The training loop: data, model, optimiser and schedule from a recipe, then iterate.

Everything a resumed run needs is in the checkpoint (model, optimiser, schedule, data position,
RNG states, the partial log window), so a run stopped at any point and resumed ends with the
same weights as one that never stopped.

Under torchrun, every process runs this loop on its share of each global batch, the model
wrapped in DistributedDataParallel. Whatever decides the course of the run (the log window's
training error, evaluation results, a request to stop) is summed over all processes first, so
that every process takes the same decision at the same iteration; rank 0 alone writes.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from deepres.atomic import WriteError
from deepres.data import (
    BatchLoader,
    DataError,
    Preprocessing,
    absolute_source,
    missing_folder,
    open_source,
)
from deepres.errors import DeepresError, RecipeError, RunDirError
from deepres.extras import available
from deepres.models import model_info
from deepres.runs import (
    SESSION_KEYS,
    Best,
    CheckpointState,
    RunDir,
    RunSummary,
    Sums,
    WindowTotals,
    describe_environment,
)
from deepres.runs.plots import plot_run_curves
from deepres.runs.rundir import RECIPE

from .banner import Setup, banner
from .build import build_model, make_loaders, make_optimizer, make_schedule
from .checkpoints import Checkpoints
from .distributed import join, leave
from .ema import WeightAverage
from .finetune import start_from_weights
from .precision import autocast_dtype
from .progress import Progress
from .recipe import Recipe, load_run_recipe
from .relength import length_changes
from .same_data import check_same_data
from .signals import catch_stop_signals
from .step import evaluation_sums, train_step
from .summary import summarize_run
from .sync_bn import convert_sync_batchnorm
from .window import Window


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


class TrainingDiverged(RuntimeError):
    pass


class _EvaluationStopped(Exception):
    """A stop signal came during an evaluation."""


class Trainer:
    """The loop and its decisions: when to log, evaluate, checkpoint and stop.

    ``step`` and ``evaluate`` are the arithmetic it runs (``train_step`` and
    ``evaluation_sums`` unless a caller, such as a test, passes its own).
    """

    def __init__(
        self,
        recipe: Recipe,
        options: TrainOptions,
        *,
        step: Callable = train_step,
        evaluate: Callable = evaluation_sums,
    ):
        self.options = options
        self.train_step, self.evaluation_sums = step, evaluate
        model_info(recipe.model)  # a misspelt --model fails before any folder or data
        self.world, self.device = join(options.device)
        self.run = RunDir(options.out)
        self.checkpoints = Checkpoints(self.run, writer=self.world.is_main)
        self.made = False  # whether this process made the run's folder
        self.lock = None
        try:
            self.lock = self._take_run_dir()  # first: a taken --out fails before data is read
            self._build(recipe)
        except BaseException:
            self.close()
            if self.lock is not None and not self.options.resume:  # rank 0 took the folder
                self.run.remove_unstarted(self.made)  # so that the same command can run again
            raise

    def _take_run_dir(self):
        """Check or create the run directory and lock it (rank 0 does, for every process);
        every process learns whether that failed, so none waits for a rank that gave up."""
        lock, error = None, None
        if self.world.is_main:
            try:
                if self.options.resume:
                    self.run.check_resumable()
                else:
                    self.made = self.run.create()
                lock = self.run.lock()
            except DeepresError as err:
                error = err
        if self.world.any(error is not None, self.device):
            raise error or RunDirError(
                f"{self.run.path}: rank 0 could not take this run directory (it says why)"
            )
        return lock

    def close(self) -> None:
        """Let another process train in the run directory, and leave the process group.

        The DistributedDataParallel wrapper goes first. Freed after the group is destroyed,
        it would free the group's last reference under the GIL, while gloo's threads may be
        waiting for the GIL to free the last collective's tensors: the process hangs, or at
        exit aborts ("terminate called without an active exception")."""
        if self.lock is not None:
            self.lock.release()
        vars(self).pop("step_model", None)
        leave(self.world)

    def _build(self, recipe: Recipe) -> None:
        torch.manual_seed(recipe.seed)
        recipe = self._build_data(recipe)
        # recipe.yaml holds what the run used: lengths in iterations, the images' side.
        self.recipe = recipe = recipe.resolved(len(self.train_loader)).replace(
            image_size=self.splits.image_size
        )
        self._build_model(recipe)
        self.optimizer = make_optimizer(self.model, recipe)
        self.schedule = make_schedule(recipe)
        self.iteration = 0
        self.best = Best()
        self.window_start: WindowTotals | None = None  # the log window a resume goes on with
        self.stop_signal: int | None = None
        self.stopping = False

    def _build_data(self, recipe: Recipe) -> Recipe:
        """The data and its loaders; returns the recipe with a batch that fits the data, and
        a folder as its absolute path (recipe.yaml then names it from any working folder)."""
        gone = missing_folder(recipe.data) if self.options.resume else None
        if gone is not None:
            raise DataError(
                f"{self.run.path} was trained on {gone}, which is not on this machine "
                "(moved or deleted?): put the folder back there to resume the run"
            )
        self.splits = open_source(
            recipe.data,
            cache_dir=self.options.cache_dir,
            val_size=recipe.val_size,
            seed=recipe.seed,
            on_bad_image=self.options.on_bad_image,
            download=self.options.download,
            image_size=recipe.image_size,
        )
        recipe = self._batch_that_fits(recipe)
        if not self.options.resume:  # a resumed run keeps its records as they were
            recipe = recipe.replace(data=absolute_source(recipe.data))
        self.train_loader, self.eval_loaders = make_loaders(
            self.splits, recipe, self.world, self.device
        )
        self._say(
            f"data: {self.splits.pipeline}; training augmentation: "
            f"{self.train_loader.describe_augment()}"
        )
        return recipe

    def _batch_that_fits(self, recipe: Recipe) -> Recipe:
        """A training set smaller than the batch: every iteration takes all of it, as a
        DataLoader without drop_last would, if the batch size was not the user's choice."""
        images, world = len(self.splits.train), self.world.world_size
        whole = images // world * world  # the global batch splits evenly across processes
        if recipe.batch_size <= images or self.options.resume:
            return recipe
        if not self.options.fit_batch or whole == 0:
            raise RecipeError(
                f"batch_size {recipe.batch_size} is more than the {images:,} "
                f"training images of {recipe.data}: --set batch_size=N with N at "
                f"most {max(whole, world)}, or add images"
            )
        self._say(
            f"note: batch_size {recipe.batch_size} is more than the {images:,} training "
            f"images: each iteration trains on a batch of {whole}, the whole training "
            "set (--set batch_size=N to choose)"
        )
        return recipe.replace(batch_size=whole)

    def _build_model(self, recipe: Recipe) -> None:
        model = build_model(recipe, len(self.splits.classes), self.splits.in_chans)
        if recipe.sync_bn and self.world.distributed:
            model = convert_sync_batchnorm(model)
        cuda = self.device.type == "cuda"
        self.amp_dtype = autocast_dtype(recipe.amp, self.device, say=self._say)
        # channels_last is faster for these convolutions on GPUs and, measured, on CPUs too
        # (ResNet-20 training, 2 cores: about 1.5x), so "auto" turns it on everywhere.
        self.memory_format = (
            torch.contiguous_format if recipe.channels_last == "off" else torch.channels_last
        )
        start_from_weights(
            model,
            recipe,
            self.splits.classes,
            say=self._say,
            load=not (self.options.resume and self.run.last.exists()),
        )
        self.model = model.to(self.device, memory_format=self.memory_format)
        if cuda:
            torch.backends.cudnn.benchmark = True
        step_model: nn.Module = self.model
        if self.world.distributed:
            step_model = DistributedDataParallel(
                step_model, device_ids=[self.device.index] if cuda else None
            )
        self.step_model = torch.compile(step_model) if recipe.compile else step_model
        self.average = (
            WeightAverage(self.model, recipe.ema_decay, recipe.ema_every)
            if recipe.ema_decay
            else None
        )

    @property
    def network(self) -> nn.Module:
        """The network that is evaluated and kept: the weight average where there is one."""
        return self.average.model if self.average else self.model

    # -- state ---------------------------------------------------------------------------------
    def network_state(self) -> CheckpointState:
        """The network and what describes it: all that best.pt holds."""
        return CheckpointState(
            iteration=self.iteration,
            model=self.network.state_dict(),
            model_name=self.recipe.model,
            recipe=self.recipe.to_dict(),
            classes=list(self.splits.classes),
            preprocessing=Preprocessing.of_loader(self.train_loader).to_dict(),
        )

    def state_dict(self, window_totals: WindowTotals) -> CheckpointState:
        state = self.network_state()
        state.optimizer = self.optimizer.state_dict()
        state.schedule = self.schedule.state_dict()
        state.data = self.train_loader.state_dict()
        state.window, state.best = window_totals, self.best
        state.rng = {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }
        if self.average:
            state.trained_weights = self.model.state_dict()
            state.average_updates = self.average.updates
        return state

    def load_state_dict(self, state: CheckpointState) -> None:
        self.iteration = state.iteration
        if self.average:
            self.average.load_state_dict({"model": state.model, "updates": state.average_updates})
        self.model.load_state_dict(
            state.model if state.trained_weights is None else state.trained_weights
        )
        self.optimizer.load_state_dict(state.optimizer)
        self.schedule.load_state_dict(state.schedule)
        # Every process is where rank 0 was, each in its own share of the data.
        self.train_loader.load_state_dict({**state.data, "rank": self.world.rank})
        # The saved window holds every process's sums: one process restores them, or the next
        # totals() would count them once per process.
        self.window_start = state.window if self.world.is_main else None
        self.best = state.best
        torch.set_rng_state(state.rng["torch"])
        if state.rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state.rng["cuda"])

    def start(self) -> None:
        """Fresh run: write what describes it. Resumed run: load the last checkpoint (every
        process reads it, so the run directory must be on a file system they all see)."""
        last = self.checkpoints.load_last(self.device) if self.options.resume else None
        changes = {}
        if last is not None:
            # Checked before anything is written: a refused length or changed data leaves the
            # run as it was.
            check_same_data(self.run, list(last.classes or []), self.splits)
            changes = length_changes(
                load_run_recipe(self.run.path / RECIPE),
                self.recipe,
                last.schedule,
                last.iteration,
                self.run.path,
            )
            self._load_last(last)
            self._forget_metrics_after(self.iteration)
        elif self.options.resume:
            # Killed before its first checkpoint: nothing to go on from, so the run starts
            # again, its metrics emptied so that none is written twice.
            self._forget_metrics_after(0)
            self._say(
                f"note: {self.run.path} has no checkpoint yet ({self.run.last}): "
                "starting the run again from iteration 0"
            )
        if self.world.is_main:
            self._say("\n".join(banner(self._setup(resumed=last is not None))))
            for extra, what in (("plots", "curves.png"), ("tensorboard", "TensorBoard events")):
                if not available(extra):
                    self._say(f"note: no {what} for this run: pip install 'deepres[{extra}]'")
            if last is None:
                self._describe_run()
            else:
                self._record_resume(changes)
        self.world.barrier()

    def _load_last(self, last: CheckpointState) -> None:
        """``load_state_dict``, with a checkpoint of another network (a foreign last.pt, an
        edited ``model:``) said in one line."""
        mismatch = None
        if last.model_name != self.recipe.model:
            mismatch = f"it holds a {last.model_name}, the recipe says {self.recipe.model}"
        else:
            try:
                self.load_state_dict(last)
            except DeepresError:
                raise
            except (RuntimeError, KeyError, ValueError) as err:
                mismatch = " ".join(str(err).split())[:200]
        if mismatch is not None:
            raise RunDirError(
                f"--resume {self.run.path}: {self.run.last} is not a checkpoint of this run's "
                f"network ({mismatch}); put back its own last.pt and recipe.yaml, or start a "
                "new run (another --out)"
            )

    def _forget_metrics_after(self, iteration: int) -> None:
        if self.world.is_main:
            note = self.run.forget_metrics_after(iteration)
            if note:
                self._say(f"note: {note}")

    def _setup(self, resumed: bool) -> Setup:
        name = self.options.recipe_name
        if resumed and name is None:
            name = self.run.read_meta().get("recipe_name")
        return Setup(
            self.recipe,
            name,
            sum(p.numel() for p in self.model.parameters()),
            self.splits,
            self.device,
            self.world.world_size,
            self.amp_dtype,
            self.memory_format == torch.channels_last,
            str(self.run.path),
            self.iteration if resumed else None,
        )

    def _describe_run(self) -> None:
        meta = {
            **describe_environment(self.device),
            "world_size": self.world.world_size,
            "recipe_name": self.options.recipe_name,
            "data": self.splits.summary(),
        }
        self.run.write_description(
            self.recipe.to_dict(),
            self.splits.classes,
            meta,
            [(b.path, b.reason) for b in self.splits.bad_files],
        )

    def _record_resume(self, changes: dict) -> None:
        """meta.json's record of this session; with a new length, recipe.yaml takes it whole
        (a later plain --resume goes on by it) and the record names what changed."""
        now = {**describe_environment(self.device), "world_size": self.world.world_size}
        resumed = {"iteration": self.iteration, **{k: now[k] for k in SESSION_KEYS}}
        if changes:
            self.run.write_recipe(self.recipe.to_dict())
            resumed["changed"] = changes
        self.run.record_resume(resumed)

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> RunSummary:
        self.start()
        recipe = self.recipe
        progress = Progress(
            recipe.iterations,
            self.iteration,
            quiet=self.options.quiet,
            log_dir=self.run.tensorboard,
            enabled=self.world.is_main,
        )
        batches = _endless(self.train_loader)
        window = Window(self.device, self.world, self.window_start)  # its clock starts now
        status = "completed"
        try:
            with catch_stop_signals(self):
                if self._evaluation_pending():  # not training time: left out of the window
                    started = time.perf_counter()
                    self._evaluate(progress)
                    self._draw_curves()
                    window.exclude(time.perf_counter() - started)
                    self.stopping = self._stop_requested(at_log=True)
                while (
                    self.iteration < recipe.iterations
                    and not self.stopping
                    and not self._target_reached()
                ):
                    window = self._step(next(batches), window, progress)
                if self.stopping:
                    name = signal.Signals(self.stop_signal).name if self.stop_signal else "a signal"
                    status = f"stopped by {name}"
                    self._checkpoint(window)
                elif self._target_reached():
                    status = "reached target"
                    self._end_at_target(window, progress)
        except TrainingDiverged as err:
            status = "diverged"
            self._say(f"error: {err}")
        except WriteError as err:
            self._say_how_it_ended(err)
            raise self._cannot_write(err) from None
        finally:
            progress.close()
        try:
            summary = self._finish(status)
        except WriteError as err:
            raise self._cannot_write(err) from None
        # Each process waits here for the others with the GIL released, so gloo's threads can
        # free the last collective's tensors (which takes the GIL) now. Left to interpreter
        # shutdown, a thread that asks for the GIL is ended and the process aborts
        # ("terminate called without an active exception"): rare, but a finished run failed.
        self.world.barrier()
        return summary

    def _target_reached(self) -> bool:
        """The recipe's stop_at_val_error is met: some evaluation was at or below it (so the
        best one is), which a resumed run knows from its checkpoint too."""
        target, best = self.recipe.stop_at_val_error, self.best.val_error
        return target is not None and best is not None and best <= target

    def _end_at_target(self, window: Window, progress: Progress) -> None:
        """Log the steps since the last log point (their seconds count towards the time to
        reach the target) and checkpoint the network that reached it."""
        if window.totals().sums.seen:
            window = self._log(window, self.schedule.lr(self.iteration - 1), progress)
        self._checkpoint(window)
        self._say(
            f"reached validation error {100 * self.best.val_error:.2f}% at iteration "
            f"{self.iteration:,} (stop_at_val_error {self.recipe.stop_at_val_error:g})"
        )

    def _cannot_write(self, err: WriteError) -> RunDirError:
        """A file of the run could not be written (a full disk, say): the run stops where it
        is and can be resumed once that is fixed. The error, in one line, says all that."""
        return RunDirError(
            f"{err}; {self.checkpoints.kept()}: once that is fixed, continue "
            f"with --resume {self.run.path}"
        )

    def _say_how_it_ended(self, err: WriteError) -> None:
        """Write summary.json for a run stopped by ``err``, if it can still be written."""
        try:
            self._finish(f"stopped: {err}")
        except WriteError:
            pass  # the summary's own disk is full too: the error line says it all

    def _step(
        self, batch: tuple[torch.Tensor, torch.Tensor], window: Window, progress: Progress
    ) -> Window:
        recipe = self.recipe
        lr = self.schedule.lr(self.iteration)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        images, labels = batch
        images = images.contiguous(memory_format=self.memory_format)
        loss_sum, wrong = self.train_step(
            self.step_model,
            self.optimizer,
            images,
            labels,
            amp_dtype=self.amp_dtype,
            label_smoothing=recipe.label_smoothing,
        )
        window.add(loss_sum, wrong, labels.numel())
        self.iteration += 1
        if self.average:
            self.average.update(self.model, self.iteration)
        progress.step()
        last = self.iteration == recipe.iterations
        at_log = self.iteration % recipe.log_every == 0 or last
        if at_log:
            window = self._log(window, lr, progress)
        # images/s counts training alone: evaluation time is left out of the window before a
        # checkpoint saves it (a resumed run goes on with its seconds), checkpoint time after.
        started = time.perf_counter()
        if self.iteration % recipe.eval_every == 0 or last:
            self._evaluate(progress)
            self._draw_curves()
        window.exclude(time.perf_counter() - started)
        started = time.perf_counter()
        if self.iteration % recipe.checkpoint_every == 0 or last:
            self._checkpoint(window)
        window.exclude(time.perf_counter() - started)
        self.stopping = self._stop_requested(at_log)
        return window

    def _stop_requested(self, at_log: bool) -> bool:
        if not self.world.distributed:
            return self.stop_signal is not None
        # Processes must stop at the same iteration, or the others would wait forever in the
        # next collective call: they agree at log points.
        return at_log and self.world.any(self.stop_signal is not None, self.device)

    def _log(self, window: Window, lr: float, progress: Progress) -> Window:
        totals = window.totals()  # synchronises with the device (and the other processes)
        loss, error = totals.sums.loss, totals.sums.error
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss became {loss} by iteration "
                f"{self.iteration:,}; {self.checkpoints.kept()} (try a lower "
                "lr or --set warmup=on)"
            )
        self.schedule.observe_train_error(self.iteration, error)
        record = {
            "iteration": self.iteration,
            "epoch": self.iteration / len(self.train_loader),
            "lr": lr,
            "train_loss": loss,
            "train_error": error,
            "images_per_s": totals.sums.seen / max(totals.seconds, 1e-9),
            "images": totals.sums.seen,
            "seconds": totals.seconds,
        }
        self._record(record, progress)
        return Window(self.device, self.world)

    def _evaluate(self, progress: Progress) -> None:
        if not self.eval_loaders:
            return
        record = {"iteration": self.iteration, "epoch": self.iteration / len(self.train_loader)}
        self.world.broadcast_buffers(self.network)  # one model, evaluated in shares
        for name, loader in self.eval_loaders.items():
            try:
                sums = self.evaluation_sums(
                    self.network,
                    self._until_stopped(loader),
                    amp_dtype=self.amp_dtype,
                    flip=self.recipe.eval_flip,
                )
            except _EvaluationStopped:
                self._say(
                    f"stopped the evaluation at iteration {self.iteration:,}; a resumed run "
                    "does it again first"
                )
                return
            sums = Sums.from_tensor(self.world.all_reduce_sum(sums))
            record.update(
                {
                    f"{name}_error": sums.error,
                    f"{name}_loss": sums.loss,
                    f"{name}_images": sums.seen,
                }
            )
        if "val_error" in record:
            self._track_best(record["val_error"])
        self._record(record, progress)

    def _until_stopped(self, loader: BatchLoader):
        """The loader's batches until a stop is asked for: Ctrl-C stops an evaluation at once
        (the checkpoint that follows holds the state, and a resumed run evaluates first).
        Under torchrun every process must see the same batches, so there it finishes."""
        for batch in loader:
            if self.stop_signal is not None and not self.world.distributed:
                raise _EvaluationStopped
            yield batch

    def _evaluation_pending(self) -> bool:
        """A resumed run whose last session was stopped in the evaluation at its checkpoint's
        iteration: it has no evaluation record there."""
        recipe, at = self.recipe, self.iteration
        due = at > 0 and (at % recipe.eval_every == 0 or at == recipe.iterations)
        if not (due and self.eval_loaders and self.options.resume):
            return False
        evaluated = any(
            r["iteration"] == at and any(k.endswith("_error") and k != "train_error" for k in r)
            for r in self.run.read_metrics()
        )
        return not evaluated

    def _draw_curves(self) -> None:
        """curves.png, from the metrics so far (about 0.1 s; the first draw also loads
        matplotlib, about half a second)."""
        if self.world.is_main and available("plots"):
            plot_run_curves(
                self.run.read_metrics(),
                self.run.curves,
                f"{self.recipe.model} on {self.recipe.data}, {self.run.path.name}",
            )

    def _record(self, record: dict, progress: Progress) -> None:
        if self.world.is_main:
            self.run.log_metrics(record)
            progress.log(record)

    def _track_best(self, val_error: float) -> None:
        """The schedule watches the validation error; best.pt is chosen on it, never on test."""
        self.schedule.observe_val_error(val_error)
        if self.best.improved_by(val_error):
            self.best = Best(val_error, self.iteration)
            self.checkpoints.save_best(self.network_state())

    def _checkpoint(self, window: Window) -> None:
        totals = window.totals()
        finite = all(torch.isfinite(p).all() for p in self.network.parameters())
        if not finite or not math.isfinite(totals.sums.loss_sum):
            raise TrainingDiverged(
                f"non-finite weights or loss at iteration {self.iteration:,}; "
                f"{self.checkpoints.kept()}"
            )
        self.checkpoints.save_last(self.state_dict(totals))
        self._record_bad_files()

    def _bad_files(self) -> list:
        """The unusable images: those found before training, then those met while streaming."""
        loaders = [self.train_loader, *self.eval_loaders.values()]
        return list(self.splits.bad_files) + [b for ld in loaders for b in ld.bad_files]

    def _record_bad_files(self) -> None:
        if self.world.is_main:
            self.run.write_bad_files([(b.path, b.reason) for b in self._bad_files()])

    def _finish(self, status: str) -> RunSummary:
        if not self.world.is_main:
            return RunSummary(status, self.iteration, rank=self.world.rank)
        if status != "completed":  # a completed run drew them at its last evaluation
            self._draw_curves()
        self._record_bad_files()
        summary = summarize_run(
            self.run.read_metrics(),
            status,
            iterations=self.iteration,
            planned_iterations=self.recipe.iterations,
            model=self.recipe.model,
            data=self.recipe.data,
            params=sum(p.numel() for p in self.model.parameters()),
            best_val_error=self.best.val_error,
            best_iteration=self.best.iteration,
            bad_files=len(self._bad_files()),
            run_dir=str(self.run.path),
            world_size=self.world.world_size,
        )
        self.run.write_summary(summary)
        return summary

    def _say(self, text: str) -> None:
        if self.world.is_main:
            print(text, file=sys.stderr, flush=True)


def train(recipe: Recipe, options: TrainOptions, **arithmetic: Callable) -> RunSummary:
    """Train per ``recipe`` into ``options.out`` (or continue it with ``options.resume``).
    Under torchrun, every process calls this; rank 0 returns the run's summary (the others,
    their status). ``arithmetic``: ``step`` and ``evaluate`` for ``Trainer``."""
    trainer = Trainer(recipe, options, **arithmetic)
    try:
        return trainer.fit()
    finally:
        trainer.close()


def _endless(loader: BatchLoader):
    while True:
        yield from loader
