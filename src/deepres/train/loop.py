"""The training loop: a run's parts (``build_training``), its start (``start_run``), then
iterate.

Everything a resumed run needs is in the checkpoint (``run_state``), so a run stopped at any
point and resumed ends with the same weights as one that never stopped.

Under torchrun, every process runs this loop on its share of each global batch, the model
wrapped in DistributedDataParallel. Whatever decides the course of the run (the log window's
training error, evaluation results, a request to stop) is summed over all processes first, so
that every process takes the same decision at the same iteration; rank 0 alone writes.
"""

from __future__ import annotations

import math
import signal
import time
from typing import Callable

import torch

from deepres.atomic import WriteError
from deepres.data import BatchLoader
from deepres.errors import RunDirError
from deepres.runs import RunStatus, RunSummary
from deepres.runs.plots import plot_run_curves
from deepres.runs.records import Best, Sums, WindowTotals

from .distributed import peer_lost
from .parts import TrainingParts, build_training
from .pauses import PauseClock, noticing_pauses
from .plan import TrainOptions
from .progress import Progress
from .recipe import Recipe
from .run_records import RunRecords
from .run_state import network_state, resumable_state
from .signals import catch_stop_signals
from .start import start_run
from .step import evaluation_sums, train_step
from .window import Window


class TrainingDiverged(RuntimeError):
    pass


class _EvaluationStopped(Exception):
    """A stop signal came during an evaluation."""


class Trainer:
    """The state of a run and its loop: when to log, evaluate, checkpoint and stop.

    ``parts`` are the run as ``build_training`` built it. ``step`` and ``evaluate`` are the
    arithmetic the loop runs (``train_step`` and ``evaluation_sums`` unless a caller, such as
    a test, passes its own); ``draw_curves`` draws curves.png (see ``RunRecords``).
    """

    def __init__(
        self,
        parts: TrainingParts,
        *,
        step: Callable = train_step,
        evaluate: Callable = evaluation_sums,
        draw_curves: Callable = plot_run_curves,
    ):
        self.parts = parts
        self.train_step, self.evaluation_sums = step, evaluate
        self.records = RunRecords(
            parts.run, parts.recipe, parts.world, say=parts.say, draw_curves=draw_curves
        )
        self.iteration = 0
        self.best = Best()
        self.window_start: WindowTotals | None = None  # the log window a resume goes on with
        self.stop_signal: int | None = None
        self.stopping = False
        self.pauses = PauseClock()

    def start(self) -> None:
        """Write what describes a fresh run, or load a resumed run's last checkpoint."""
        at = start_run(self.parts, self.records)
        self.iteration, self.best, self.window_start = at.iteration, at.best, at.window_start

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> RunSummary:
        self.start()
        parts, recipe = self.parts, self.parts.recipe
        progress = Progress(
            recipe.iterations,
            self.iteration,
            quiet=parts.options.quiet,
            log_dir=parts.run.tensorboard,
            enabled=parts.world.is_main,
        )
        batches = _endless(parts.train_loader)
        window = Window(parts.device, parts.world, self.window_start)  # its clock starts now
        self.pauses.restart()
        status, reason = RunStatus.COMPLETED, None
        try:
            with catch_stop_signals(self), noticing_pauses(self.pauses):
                if self._evaluation_pending():  # not training time: left out of the window
                    started = time.perf_counter()
                    self._evaluate(progress)
                    self.records.draw_curves()
                    self._leave_out(window, started)
                    self.stopping = self._stop_requested(at_log=True)
                while (
                    self.iteration < recipe.iterations
                    and not self.stopping
                    and not self._target_reached()
                ):
                    window = self._step(next(batches), window, progress)
                if self.stopping:
                    status = RunStatus.STOPPED
                    reason = (
                        signal.Signals(self.stop_signal).name if self.stop_signal else "a signal"
                    )
                    self._checkpoint(window)
                elif self._target_reached():
                    status = RunStatus.REACHED_TARGET
                    self._end_at_target(window, progress)
        except TrainingDiverged as err:
            status = RunStatus.DIVERGED
            self._say(f"error: {err}")
        except WriteError as err:
            raise self._stopped_by_fault(str(err), "once that is fixed, continue") from None
        except RuntimeError as err:
            fault = self._peer_fault(err)
            if fault is None:
                raise
            raise fault from None
        finally:
            progress.close()
        try:
            summary = self._finish(status, reason)
        except WriteError as err:
            raise RunDirError(
                f"{err}; {self._how_to_go_on('once that is fixed, continue')}"
            ) from None
        # Each process waits here for the others with the GIL released, so gloo's threads can
        # free the last collective's tensors (which takes the GIL) now. Left to interpreter
        # shutdown, a thread that asks for the GIL is ended and the process aborts
        # ("terminate called without an active exception"): rare, but a finished run failed.
        parts.world.barrier()
        return summary

    def _target_reached(self) -> bool:
        """The recipe's stop_at_val_error is met: some evaluation was at or below it (so the
        best one is), which a resumed run knows from its checkpoint too."""
        target, best = self.parts.recipe.stop_at_val_error, self.best.val_error
        return target is not None and best is not None and best <= target

    def _end_at_target(self, window: Window, progress: Progress) -> None:
        """Log the steps since the last log point (their seconds count towards the time to
        reach the target) and checkpoint the network that reached it."""
        if window.totals().sums.seen:
            window = self._log(window, self.parts.schedule.lr(self.iteration - 1), progress)
        self._checkpoint(window)
        self._say(
            f"reached validation error {100 * self.best.val_error:.2f}% at iteration "
            f"{self.iteration:,} (stop_at_val_error {self.parts.recipe.stop_at_val_error:g})"
        )

    def _stopped_by_fault(self, fault: str, then: str) -> RunDirError:
        """A fault stopped the run where it is (a full disk, a process of a torchrun training
        gone): summary.json says so if it still can be written, and the error, in one line,
        says what is kept and how to go on."""
        try:
            self._finish(RunStatus.FAULT, fault)
        except WriteError:
            pass  # the summary's own disk is full too: the error line says it all
        return RunDirError(f"{fault}; {self._how_to_go_on(then)}")

    def _peer_fault(self, err: RuntimeError) -> RunDirError | None:
        """The error to stop with when a collective failed because another process of a
        torchrun training stopped answering (it died, or was paused past the timeout); None
        for any other error."""
        lost = peer_lost(err) if self.parts.world.distributed else None
        if lost is None:
            return None
        return self._stopped_by_fault(
            f"another process of this training stopped answering ({lost})", "continue"
        )

    def _how_to_go_on(self, then: str) -> str:
        return f"{self.parts.checkpoints.kept()}: {then} with --resume {self.parts.run.path}"

    def _step(
        self, batch: tuple[torch.Tensor, torch.Tensor], window: Window, progress: Progress
    ) -> Window:
        parts, recipe = self.parts, self.parts.recipe
        lr = parts.schedule.lr(self.iteration)
        for group in parts.optimizer.param_groups:
            group["lr"] = lr
        images, labels = batch
        images = images.contiguous(memory_format=parts.memory_format)
        loss_sum, wrong = self.train_step(
            parts.step_model,
            parts.optimizer,
            images,
            labels,
            amp_dtype=parts.amp_dtype,
            label_smoothing=recipe.label_smoothing,
        )
        window.add(loss_sum, wrong, labels.numel())
        self.iteration += 1
        if parts.average:
            parts.average.update(parts.model, self.iteration)
        window.exclude_pause(self.pauses.step_ended())
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
            self.records.draw_curves()
        self._leave_out(window, started)
        started = time.perf_counter()
        if self.iteration % recipe.checkpoint_every == 0 or last:
            self._checkpoint(window)
        self._leave_out(window, started)
        self.stopping = self._stop_requested(at_log)
        return window

    def _leave_out(self, window: Window, started: float) -> None:
        """The time since ``started`` was no training (an evaluation, a checkpoint)."""
        window.exclude(time.perf_counter() - started)
        self.pauses.restart()

    def _stop_requested(self, at_log: bool) -> bool:
        world = self.parts.world
        if not world.distributed:
            return self.stop_signal is not None
        # Processes must stop at the same iteration, or the others would wait forever in the
        # next collective call: they agree at log points.
        return at_log and world.any(self.stop_signal is not None, self.parts.device)

    def _log(self, window: Window, lr: float, progress: Progress) -> Window:
        totals = window.totals()  # synchronises with the device (and the other processes)
        loss, error = totals.sums.loss, totals.sums.error
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss became {loss} by iteration "
                f"{self.iteration:,}; {self.parts.checkpoints.kept()} (try a lower "
                "lr or --set warmup=on)"
            )
        self.parts.schedule.observe_train_error(self.iteration, error)
        record = {
            "iteration": self.iteration,
            "epoch": self.iteration / len(self.parts.train_loader),
            "lr": lr,
            "train_loss": loss,
            "train_error": error,
            "images_per_s": totals.sums.seen / max(totals.seconds, 1e-9),
            "images": totals.sums.seen,
            "seconds": totals.seconds,
        }
        if window.paused:  # left out of seconds: the process was stopped (SIGSTOP, Ctrl-Z)
            record["paused_seconds"] = window.paused
        self._record(record, progress)
        return Window(self.parts.device, self.parts.world)

    def _evaluate(self, progress: Progress) -> None:
        parts = self.parts
        if not parts.eval_loaders:
            return
        record = {"iteration": self.iteration, "epoch": self.iteration / len(parts.train_loader)}
        parts.world.broadcast_buffers(parts.network)  # one model, evaluated in shares
        for name, loader in parts.eval_loaders.items():
            try:
                sums = self.evaluation_sums(
                    parts.network,
                    self._until_stopped(loader),
                    amp_dtype=parts.amp_dtype,
                    flip=parts.recipe.eval_flip,
                )
            except _EvaluationStopped:
                self._say(
                    f"stopped the evaluation at iteration {self.iteration:,}; a resumed run "
                    "does it again first"
                )
                return
            sums = Sums.from_tensor(parts.world.all_reduce_sum(sums))
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
            if self.stop_signal is not None and not self.parts.world.distributed:
                raise _EvaluationStopped
            yield batch

    def _evaluation_pending(self) -> bool:
        """A resumed run whose last session was stopped in the evaluation at its checkpoint's
        iteration: it has no evaluation record there."""
        recipe, at = self.parts.recipe, self.iteration
        due = at > 0 and (at % recipe.eval_every == 0 or at == recipe.iterations)
        if not (due and self.parts.eval_loaders and self.parts.options.resume):
            return False
        return not self.records.evaluated_at(at)

    def _record(self, record: dict, progress: Progress) -> None:
        self.records.log(record)
        progress.log(record)  # shows nothing on processes other than rank 0

    def _track_best(self, val_error: float) -> None:
        """The schedule watches the validation error; best.pt is chosen on it, never on test."""
        self.parts.schedule.observe_val_error(val_error)
        if self.best.improved_by(val_error):
            self.best = Best(val_error, self.iteration)
            self.parts.checkpoints.save_best(network_state(self.parts, self.iteration))

    def _checkpoint(self, window: Window) -> None:
        totals = window.totals()
        finite = all(torch.isfinite(p).all() for p in self.parts.network.parameters())
        if not finite or not math.isfinite(totals.sums.loss_sum):
            raise TrainingDiverged(
                f"non-finite weights or loss at iteration {self.iteration:,}; "
                f"{self.parts.checkpoints.kept()}"
            )
        self.parts.checkpoints.save_last(
            resumable_state(self.parts, self.iteration, self.best, totals)
        )
        self.records.record_bad_files(self.parts.bad_files())

    def _finish(self, status: RunStatus, reason: str | None) -> RunSummary:
        return self.records.finish(
            status,
            reason,
            iteration=self.iteration,
            best=self.best,
            params=sum(p.numel() for p in self.parts.model.parameters()),
            bad_files=self.parts.bad_files(),
        )

    def _say(self, text: str) -> None:
        self.parts.say(text)


def train(recipe: Recipe, options: TrainOptions, **injected: Callable) -> RunSummary:
    """Train per ``recipe`` into ``options.out`` (or continue it with ``options.resume``).
    Under torchrun, every process calls this; rank 0 returns the run's summary (the others,
    their status). ``injected``: ``step``, ``evaluate`` and ``draw_curves`` for ``Trainer``."""
    parts = build_training(recipe, options)
    try:
        return Trainer(parts, **injected).fit()
    finally:
        parts.close()


def _endless(loader: BatchLoader):
    while True:
        yield from loader
