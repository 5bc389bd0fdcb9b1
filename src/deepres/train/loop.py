"""The training loop: data, model, optimiser and schedule from a recipe, then iterate.

Everything a resumed run needs is in the checkpoint (model, optimiser, schedule, data position,
RNG states, the partial log window), so a run stopped at any point and resumed ends with the
same weights as one that never stopped.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from deepres.data import BatchLoader, Preprocessing, open_source
from deepres.models import create_model, model_info

from deepres.weights import load_checkpoint, save_checkpoint
from .progress import Progress
from .recipe import Recipe
from .rundir import RunDir, describe_environment
from .finetune import start_from_weights
from .schedule import LRSchedule
from .step import top1_error, train_step


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


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: this machine has no CUDA GPU; use --device cpu")
    return device


def build_model(recipe: Recipe, num_classes: int, in_chans: int) -> nn.Module:
    for key in ("num_classes", "in_chans"):
        if key in recipe.model_args:
            raise ValueError(f"model_args: {key} comes from the data; remove it from the recipe")
    return create_model(recipe.model, num_classes=num_classes, in_chans=in_chans, **recipe.model_args)


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.SGD:
    """SGD with momentum; BN weights and biases (the 1-d parameters, chosen by shape) are
    decayed too unless the recipe says otherwise, since the paper decays everything."""
    if recipe.decay_norm_and_bias:
        groups = [{"params": list(model.parameters()), "weight_decay": recipe.weight_decay}]
    else:
        params = list(model.parameters())
        groups = [{"params": [p for p in params if p.ndim > 1], "weight_decay": recipe.weight_decay},
                  {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov)


def make_schedule(recipe: Recipe) -> LRSchedule:
    warm = recipe.warmup == "on" or (recipe.warmup == "auto" and model_info(recipe.model).depth >= 110)
    return LRSchedule(recipe.lr, list(recipe.milestones), recipe.lr_factor,
                      plateau=recipe.schedule == "plateau", patience=recipe.plateau_patience,
                      warmup_lr=recipe.warmup_lr if warm else None,
                      warmup_until_error=recipe.warmup_until_error)


class Window:
    """Sums over the iterations since the last log point, kept on the device."""

    def __init__(self, device: torch.device, state: dict | None = None):
        state = state or {"loss_sum": 0.0, "wrong": 0, "seen": 0, "seconds": 0.0}
        self.loss_sum = torch.tensor(state["loss_sum"], device=device, dtype=torch.float64)
        self.wrong = torch.tensor(state["wrong"], device=device, dtype=torch.int64)
        self.seen = state["seen"]
        self.seconds = state["seconds"]
        self.started = time.perf_counter()

    def add(self, loss_sum: torch.Tensor, wrong: torch.Tensor, n: int) -> None:
        self.loss_sum += loss_sum
        self.wrong += wrong
        self.seen += n

    def state(self) -> dict:
        return {"loss_sum": self.loss_sum.item(), "wrong": int(self.wrong.item()), "seen": self.seen,
                "seconds": self.seconds + time.perf_counter() - self.started}


class Trainer:
    def __init__(self, recipe: Recipe, options: TrainOptions):
        self.options = options
        self.run = RunDir(options.out)
        if options.resume:
            self.run.check_resumable()
        else:
            self.run.create()  # first, so that a taken --out fails before any data is read
        self.device = pick_device(options.device)
        torch.manual_seed(recipe.seed)
        self._build_data(recipe)
        self.recipe = recipe = recipe.resolved(len(self.train_loader))
        self._build_model(recipe)
        self.optimizer = make_optimizer(self.model, recipe)
        self.schedule = make_schedule(recipe)
        self.iteration = 0
        self.best = {"val_error": None, "iteration": None}
        self.window_state: dict | None = None
        self.stop_signal: int | None = None

    def _build_data(self, recipe: Recipe) -> None:
        self.splits = open_source(recipe.data, cache_dir=self.options.cache_dir,
                                  val_size=recipe.val_size, seed=recipe.seed,
                                  on_bad_image=self.options.on_bad_image,
                                  download=self.options.download)
        # augment "auto": the data set's own (pad-crop-flip for CIFAR-size images, crop only
        # for digits, scale and colour for streamed ImageNet-size images).
        augment = None if recipe.augment == "auto" else recipe.augment
        self.train_loader = BatchLoader(self.splits.train, recipe.batch_size, train=True,
                                        device=self.device, seed=recipe.seed, augment=augment,
                                        normalize=recipe.normalize)
        self.eval_loaders = {
            name: BatchLoader(split, recipe.batch_size * 2, train=False, device=self.device,
                              normalize=recipe.normalize)
            for name, split in (("val", self.splits.val), ("test", self.splits.test))
            if split is not None
        }

    def _build_model(self, recipe: Recipe) -> None:
        model = build_model(recipe, len(self.splits.classes), self.splits.in_chans)
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
        self.step_model = torch.compile(self.model) if recipe.compile else self.model

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self, window: Window) -> dict:
        return {
            "iteration": self.iteration,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "data": self.train_loader.state_dict(),
            "window": window.state(),
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
        self.train_loader.load_state_dict(state["data"])
        self.window_state = state["window"]
        self.best = state["best"]
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])

    def start(self) -> None:
        """Fresh run: write what describes it. Resumed run: load the last checkpoint."""
        if self.options.resume and self.run.last.exists():
            self.load_state_dict(load_checkpoint(self.run.last, map_location=self.device))
            self.run.forget_metrics_after(self.iteration)
            self._say(f"resuming {self.run.path} at iteration {self.iteration:,}")
            return
        self.run.write_recipe(self.recipe.to_dict())
        self.run.write_json("classes.json", list(self.splits.classes))
        self.run.write_json("meta.json", {**describe_environment(self.device),
                                          "data": self.splits.summary()})
        bad = "".join(f"{b.path}\t{b.reason}\n" for b in self.splits.bad_files)
        (self.run.path / "bad_files.txt").write_text(bad)

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> dict:
        self.start()
        recipe = self.recipe
        window = Window(self.device, self.window_state)
        batches = _endless(self.train_loader)
        progress = Progress(recipe.iterations, self.iteration, quiet=self.options.quiet,
                            log_dir=self.run.path / "tensorboard")
        status = "completed"
        try:
            with _catch_stop_signals(self):
                while self.iteration < recipe.iterations and self.stop_signal is None:
                    lr = self.schedule.lr(self.iteration)
                    for group in self.optimizer.param_groups:
                        group["lr"] = lr
                    images, labels = next(batches)
                    images = images.contiguous(memory_format=self.memory_format)
                    loss_sum, wrong = train_step(self.step_model, self.optimizer, images, labels,
                                                 amp_dtype=self.amp_dtype,
                                                 label_smoothing=recipe.label_smoothing)
                    window.add(loss_sum, wrong, labels.numel())
                    self.iteration += 1
                    progress.step()
                    last = self.iteration == recipe.iterations
                    if self.iteration % recipe.log_every == 0 or last:
                        window = self._log(window, lr, progress)
                    if self.iteration % recipe.eval_every == 0 or last:
                        self._evaluate(progress)
                    if self.iteration % recipe.checkpoint_every == 0 or last:
                        self._checkpoint(window)
                if self.stop_signal is not None:
                    status = f"stopped by {signal.Signals(self.stop_signal).name}"
                    self._checkpoint(window)
        except TrainingDiverged as err:
            status = "diverged"
            self._say(f"error: {err}")
        finally:
            progress.close()
        return self._finish(status)

    def _log(self, window: Window, lr: float, progress: Progress) -> Window:
        state = window.state()  # synchronises with the device
        loss, error = state["loss_sum"] / state["seen"], state["wrong"] / state["seen"]
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the training loss became {loss} by iteration "
                                   f"{self.iteration:,}; {self._kept()} (try a lower lr or --set warmup=on)")
        self.schedule.observe_train_error(self.iteration, error)
        record = {"iteration": self.iteration, "epoch": self.iteration / len(self.train_loader),
                  "lr": lr, "train_loss": loss, "train_error": error,
                  "images_per_s": state["seen"] / max(state["seconds"], 1e-9),
                  "images": state["seen"], "seconds": state["seconds"]}
        self.run.log_metrics(record)
        progress.log(record)
        return Window(self.device)

    def _evaluate(self, progress: Progress) -> None:
        if not self.eval_loaders:
            return
        record = {"iteration": self.iteration, "epoch": self.iteration / len(self.train_loader)}
        for name, loader in self.eval_loaders.items():
            error, loss, _ = top1_error(self.model, loader, amp_dtype=self.amp_dtype)
            record[f"{name}_error"], record[f"{name}_loss"] = error, loss
        if "val_error" in record:
            self._track_best(record["val_error"])
        self.run.log_metrics(record)
        progress.log(record)

    def _track_best(self, val_error: float) -> None:
        """The schedule watches the validation error; best.pt is chosen on it, never on test."""
        self.schedule.observe_val_error(val_error)
        if self.best["val_error"] is None or val_error < self.best["val_error"]:
            self.best = {"val_error": val_error, "iteration": self.iteration}
            save_checkpoint({"model": self.model.state_dict(), "iteration": self.iteration,
                             "model_name": self.recipe.model, "recipe": self.recipe.to_dict(),
                             "classes": list(self.splits.classes),
                             "preprocessing": Preprocessing.of_loader(self.train_loader).to_dict()},
                            self.run.best)

    def _checkpoint(self, window: Window) -> None:
        finite = all(torch.isfinite(p).all() for p in self.model.parameters())
        if not finite or not math.isfinite(window.state()["loss_sum"]):
            raise TrainingDiverged(f"non-finite weights or loss at iteration {self.iteration:,}; "
                                   f"{self._kept()}")
        save_checkpoint(self.state_dict(window), self.run.last)

    def _kept(self) -> str:
        if not self.run.last.exists():
            return "no checkpoint had been written yet"
        kept = load_checkpoint(self.run.last)["iteration"]
        return f"the last good checkpoint, of iteration {kept:,}, stays in {self.run.last}"

    def _finish(self, status: str) -> dict:
        records = _read_jsonl(self.run.metrics)
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
        }
        self.run.write_json("summary.json", summary)
        return summary

    def _say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)


def train(recipe: Recipe, options: TrainOptions) -> dict:
    """Train per ``recipe`` into ``options.out`` (or continue it with ``options.resume``)."""
    return Trainer(recipe, options).fit()


def _endless(loader: BatchLoader):
    while True:
        yield from loader


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def _catch_stop_signals(trainer: Trainer):
    """SIGINT/SIGTERM: finish the current step, save a checkpoint and return. A second signal
    acts as usual."""
    def handler(signum, frame):
        trainer.stop_signal = signum
        signal.signal(signum, previous[signum])
        trainer._say(f"\n{signal.Signals(signum).name}: saving a checkpoint after this step")

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in previous:
            signal.signal(s, handler)
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
