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

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from deepres.data import BatchLoader, Preprocessing, open_source
from deepres.weights import load_checkpoint, save_checkpoint

from .build import build_model, make_optimizer, make_schedule
from .distributed import World, join, leave
from .finetune import start_from_weights
from .progress import Progress
from .recipe import Recipe
from .rundir import RunDir, describe_environment
from .signals import catch_stop_signals
from .step import evaluation_sums, train_step
from .sync_bn import convert_sync_batchnorm


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


class TrainingDiverged(RuntimeError):
    pass


class Window:
    """Sums over the iterations since the last log point, kept on the device.

    ``totals()`` adds up every process's sums, so all processes see the same figures; it is a
    collective call, made by every process at the same iteration.
    """

    def __init__(self, device: torch.device, world: World, state: dict | None = None):
        state = state or {"loss_sum": 0.0, "wrong": 0, "seen": 0, "seconds": 0.0}
        self.sums = torch.tensor([state["loss_sum"], state["wrong"], state["seen"]],
                                 device=device, dtype=torch.float64)
        self.world = world
        self.seconds = state["seconds"]
        self.started = time.perf_counter()

    def add(self, loss_sum: torch.Tensor, wrong: torch.Tensor, n: int) -> None:
        self.sums[0] += loss_sum
        self.sums[1] += wrong
        self.sums[2] += n

    def exclude(self, seconds: float) -> None:
        """Leave out time that was not spent training (evaluation, checkpoints)."""
        self.seconds -= seconds

    def totals(self) -> dict:
        loss_sum, wrong, seen = self.world.all_reduce_sum(self.sums.clone()).tolist()
        return {"loss_sum": loss_sum, "wrong": int(wrong), "seen": int(seen),
                "seconds": self.seconds + time.perf_counter() - self.started}


class Trainer:
    def __init__(self, recipe: Recipe, options: TrainOptions):
        self.options = options
        self.world, self.device = join(options.device)
        self.run = RunDir(options.out)
        if options.resume:
            self.run.check_resumable()
        elif self.world.is_main:
            self.run.create()  # first, so that a taken --out fails before any data is read
        torch.manual_seed(recipe.seed)
        self._build_data(recipe)
        # recipe.yaml holds what the run used: lengths in iterations, the images' side.
        self.recipe = recipe = recipe.resolved(len(self.train_loader)).replace(
            image_size=self.splits.image_size)
        self._build_model(recipe)
        self.optimizer = make_optimizer(self.model, recipe)
        self.schedule = make_schedule(recipe)
        self.iteration = 0
        self.best = {"val_error": None, "iteration": None}
        self.window_state: dict | None = None
        self.stop_signal: int | None = None
        self.stopping = False

    def _build_data(self, recipe: Recipe) -> None:
        self.splits = open_source(recipe.data, cache_dir=self.options.cache_dir,
                                  val_size=recipe.val_size, seed=recipe.seed,
                                  on_bad_image=self.options.on_bad_image,
                                  download=self.options.download, image_size=recipe.image_size)
        # augment "auto": the data set's own (pad-crop-flip for CIFAR-size images, crop only
        # for digits, scale and colour for streamed ImageNet-size images).
        augment = None if recipe.augment == "auto" else recipe.augment
        world = self.world
        if recipe.batch_size % world.world_size:
            raise ValueError(f"batch_size {recipe.batch_size} (the global batch) does not split "
                             f"evenly across {world.world_size} processes")
        share = dict(rank=world.rank, world_size=world.world_size, device=self.device,
                     normalize=recipe.normalize)
        per_process = recipe.batch_size // world.world_size
        self.train_loader = BatchLoader(self.splits.train, per_process, train=True,
                                        seed=recipe.seed, augment=augment, **share)
        self._say(f"data: {self.splits.pipeline}; training augmentation: "
                  f"{self.train_loader.describe_augment()}")
        self.eval_loaders = {
            name: BatchLoader(split, per_process * 2, train=False, **share)
            for name, split in (("val", self.splits.val), ("test", self.splits.test))
            if split is not None
        }

    def _build_model(self, recipe: Recipe) -> None:
        model = build_model(recipe, len(self.splits.classes), self.splits.in_chans)
        if recipe.sync_bn and self.world.distributed:
            model = convert_sync_batchnorm(model)
        cuda = self.device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if recipe.amp == "bf16" or (recipe.amp == "auto" and cuda) else None
        # channels_last is faster for these convolutions on GPUs and, measured, on CPUs too
        # (ResNet-20 training, 2 cores: about 1.5x), so "auto" turns it on everywhere.
        self.memory_format = torch.contiguous_format if recipe.channels_last == "off" else torch.channels_last
        start_from_weights(model, recipe, self.splits.classes, say=self._say,
                           load=not (self.options.resume and self.run.last.exists()))
        self.model = model.to(self.device, memory_format=self.memory_format)
        if cuda:
            torch.backends.cudnn.benchmark = True
        step_model: nn.Module = self.model
        if self.world.distributed:
            step_model = DistributedDataParallel(step_model, device_ids=[self.device.index] if cuda else None)
        self.step_model = torch.compile(step_model) if recipe.compile else step_model

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self, window_totals: dict) -> dict:
        return {
            "iteration": self.iteration,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "data": self.train_loader.state_dict(),
            "window": window_totals,
            "best": dict(self.best),
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            "recipe": self.recipe.to_dict(),
            "model_name": self.recipe.model,
            "classes": list(self.splits.classes),
            "preprocessing": Preprocessing.of_loader(self.train_loader).to_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.iteration = state["iteration"]
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        # Every process is where rank 0 was, each in its own share of the data.
        self.train_loader.load_state_dict({**state["data"], "rank": self.world.rank})
        # The saved window holds every process's sums: one process restores them, or the next
        # totals() would count them once per process.
        self.window_state = state["window"] if self.world.is_main else None
        self.best = state["best"]
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])

    def start(self) -> None:
        """Fresh run: write what describes it. Resumed run: load the last checkpoint (every
        process reads it, so the run directory must be on a file system they all see)."""
        if self.options.resume and self.run.last.exists():
            self.load_state_dict(load_checkpoint(self.run.last, map_location=self.device))
            if self.world.is_main:
                self.run.forget_metrics_after(self.iteration)
            self._say(f"resuming {self.run.path} at iteration {self.iteration:,}")
        elif self.world.is_main:
            self._describe_run()
        self.world.barrier()

    def _describe_run(self) -> None:
        self.run.write_recipe(self.recipe.to_dict())
        self.run.write_json("classes.json", list(self.splits.classes))
        self.run.write_json("meta.json", {**describe_environment(self.device),
                                          "world_size": self.world.world_size,
                                          "data": self.splits.summary()})
        bad = "".join(f"{b.path}\t{b.reason}\n" for b in self.splits.bad_files)
        (self.run.path / "bad_files.txt").write_text(bad)

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> dict:
        self.start()
        recipe = self.recipe
        window = Window(self.device, self.world, self.window_state)
        batches = _endless(self.train_loader)
        progress = Progress(recipe.iterations, self.iteration, quiet=self.options.quiet,
                            log_dir=self.run.path / "tensorboard", enabled=self.world.is_main)
        status = "completed"
        try:
            with catch_stop_signals(self):
                while self.iteration < recipe.iterations and not self.stopping:
                    window = self._step(next(batches), window, progress)
                if self.stopping:
                    name = signal.Signals(self.stop_signal).name if self.stop_signal else "a signal"
                    status = f"stopped by {name}"
                    self._checkpoint(window)
        except TrainingDiverged as err:
            status = "diverged"
            self._say(f"error: {err}")
        finally:
            progress.close()
        return self._finish(status)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], window: Window, progress: Progress) -> Window:
        recipe = self.recipe
        lr = self.schedule.lr(self.iteration)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        images, labels = batch
        images = images.contiguous(memory_format=self.memory_format)
        loss_sum, wrong = train_step(self.step_model, self.optimizer, images, labels,
                                     amp_dtype=self.amp_dtype, label_smoothing=recipe.label_smoothing)
        window.add(loss_sum, wrong, labels.numel())
        self.iteration += 1
        progress.step()
        last = self.iteration == recipe.iterations
        at_log = self.iteration % recipe.log_every == 0 or last
        if at_log:
            window = self._log(window, lr, progress)
        started = time.perf_counter()
        if self.iteration % recipe.eval_every == 0 or last:
            self._evaluate(progress)
        if self.iteration % recipe.checkpoint_every == 0 or last:
            self._checkpoint(window)
        window.exclude(time.perf_counter() - started)  # images/s counts training alone
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
        loss, error = totals["loss_sum"] / totals["seen"], totals["wrong"] / totals["seen"]
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the training loss became {loss} by iteration "
                                   f"{self.iteration:,}; {self._kept()} (try a lower lr or --set warmup=on)")
        self.schedule.observe_train_error(self.iteration, error)
        record = {"iteration": self.iteration, "epoch": self.iteration / len(self.train_loader),
                  "lr": lr, "train_loss": loss, "train_error": error,
                  "images_per_s": totals["seen"] / max(totals["seconds"], 1e-9),
                  "images": totals["seen"], "seconds": totals["seconds"]}
        self._record(record, progress)
        return Window(self.device, self.world)

    def _evaluate(self, progress: Progress) -> None:
        if not self.eval_loaders:
            return
        record = {"iteration": self.iteration, "epoch": self.iteration / len(self.train_loader)}
        self.world.broadcast_buffers(self.model)  # one model, evaluated in shares
        for name, loader in self.eval_loaders.items():
            sums = evaluation_sums(self.model, loader, amp_dtype=self.amp_dtype)
            wrong, loss_sum, seen = self.world.all_reduce_sum(sums).tolist()
            record.update({f"{name}_error": wrong / seen, f"{name}_loss": loss_sum / seen,
                           f"{name}_images": int(seen)})
        if "val_error" in record:
            self._track_best(record["val_error"])
        self._record(record, progress)

    def _record(self, record: dict, progress: Progress) -> None:
        if self.world.is_main:
            self.run.log_metrics(record)
            progress.log(record)

    def _track_best(self, val_error: float) -> None:
        """The schedule watches the validation error; best.pt is chosen on it, never on test."""
        self.schedule.observe_val_error(val_error)
        if self.best["val_error"] is None or val_error < self.best["val_error"]:
            self.best = {"val_error": val_error, "iteration": self.iteration}
            if self.world.is_main:
                save_checkpoint({"model": self.model.state_dict(), "iteration": self.iteration,
                                 "model_name": self.recipe.model, "recipe": self.recipe.to_dict(),
                                 "classes": list(self.splits.classes),
                                 "preprocessing": Preprocessing.of_loader(self.train_loader).to_dict()},
                                self.run.best)

    def _checkpoint(self, window: Window) -> None:
        totals = window.totals()
        finite = all(torch.isfinite(p).all() for p in self.model.parameters())
        if not finite or not math.isfinite(totals["loss_sum"]):
            raise TrainingDiverged(f"non-finite weights or loss at iteration {self.iteration:,}; "
                                   f"{self._kept()}")
        if self.world.is_main:
            save_checkpoint(self.state_dict(totals), self.run.last)

    def _kept(self) -> str:
        if not self.run.last.exists():
            return "no checkpoint had been written yet"
        kept = load_checkpoint(self.run.last)["iteration"]
        return f"the last good checkpoint, of iteration {kept:,}, stays in {self.run.last}"

    def _finish(self, status: str) -> dict:
        if not self.world.is_main:
            return {"status": status, "rank": self.world.rank}
        records = self.run.read_metrics()
        train_records = [r for r in records if "train_loss" in r]
        last_eval = next((r for r in reversed(records) if "train_loss" not in r), {})
        seconds = sum(r["seconds"] for r in train_records)
        summary = {
            "status": status,
            "iterations": self.iteration,
            "planned_iterations": self.recipe.iterations,
            "model": self.recipe.model,
            "data": self.recipe.data,
            "params": sum(p.numel() for p in self.model.parameters()),
            "test_error": last_eval.get("test_error"),
            "val_error": last_eval.get("val_error"),
            "best_val_error": self.best["val_error"],
            "best_iteration": self.best["iteration"],
            "train_seconds": seconds,
            "images_per_s": sum(r["images"] for r in train_records) / seconds if seconds else None,
            "bad_files": len(self.splits.bad_files),
            "run_dir": str(self.run.path),
            "world_size": self.world.world_size,
            "rank": 0,
        }
        self.run.write_json("summary.json", summary)
        return summary

    def _say(self, text: str) -> None:
        if self.world.is_main:
            print(text, file=sys.stderr, flush=True)


def train(recipe: Recipe, options: TrainOptions) -> dict:
    """Train per ``recipe`` into ``options.out`` (or continue it with ``options.resume``).
    Under torchrun, every process calls this; rank 0 returns the run's summary."""
    trainer = Trainer(recipe, options)
    try:
        return trainer.fit()
    finally:
        leave(trainer.world)


def _endless(loader: BatchLoader):
    while True:
        yield from loader
