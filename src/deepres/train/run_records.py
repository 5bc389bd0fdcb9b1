"""What a run writes about itself besides its checkpoints: the description of a fresh run
(recipe.yaml, classes.json, meta.json) or the record of a resumed session, the metrics
records, the unusable images, curves.png and, at its end, summary.json.

Rank 0 alone writes: on the other processes the writing methods do nothing. What decides the
run's course (``evaluated_at``) is read by every process, so that all decide alike.
"""

from __future__ import annotations

from typing import Callable

import torch

from deepres.data import DataSplits
from deepres.extras import available
from deepres.runs import RunDir, RunStatus, RunSummary
from deepres.runs.environment import SESSION_KEYS, describe_environment
from deepres.runs.plots import plot_run_curves
from deepres.runs.records import Best

from .distributed import World
from .recipe import Recipe
from .summary import summarize_run


class RunRecords:
    """The records of the run in ``run``, trained by ``recipe`` (as resolved) in ``world``.
    ``draw_curves(records, path, title)`` draws curves.png (``plot_run_curves`` unless a
    caller, such as a test, passes its own); ``say`` prints a note for the person."""

    def __init__(
        self,
        run: RunDir,
        recipe: Recipe,
        world: World,
        *,
        say: Callable[[str], None],
        draw_curves: Callable = plot_run_curves,
    ):
        self.run, self.recipe, self.world = run, recipe, world
        self.say, self.draw = say, draw_curves

    def describe(self, splits: DataSplits, device: torch.device, recipe_name: str | None) -> None:
        """A fresh run, before its first iteration: its recipe, classes, where it runs, its
        data and the images found unusable."""
        if not self.world.is_main:
            return
        meta = {
            **describe_environment(device),
            "world_size": self.world.world_size,
            "recipe_name": recipe_name,
            "data": splits.summary(),
        }
        self.run.write_description(
            self.recipe.to_dict(),
            splits.classes,
            meta,
            [(b.path, b.reason) for b in splits.bad_files],
        )

    def record_resume(self, iteration: int, changes: dict, device: torch.device) -> None:
        """meta.json's record of this session; with a new length, recipe.yaml takes it whole
        (a later plain --resume goes on by it) and the record names what changed."""
        if not self.world.is_main:
            return
        now = {**describe_environment(device), "world_size": self.world.world_size}
        resumed = {"iteration": iteration, **{k: now[k] for k in SESSION_KEYS}}
        if changes:
            self.run.write_recipe(self.recipe.to_dict())
            resumed["changed"] = changes
        self.run.record_resume(resumed)

    def forget_metrics_after(self, iteration: int) -> None:
        """Drop the metrics records past ``iteration``, which a resumed run writes again."""
        if self.world.is_main:
            note = self.run.forget_metrics_after(iteration)
            if note:
                self.say(f"note: {note}")

    def log(self, record: dict) -> None:
        """One metrics record (a log point's or an evaluation's), in metrics.jsonl."""
        if self.world.is_main:
            self.run.log_metrics(record)

    def evaluated_at(self, iteration: int) -> bool:
        """metrics.jsonl holds an evaluation at ``iteration`` (read by every process)."""
        return any(
            r["iteration"] == iteration
            and any(k.endswith("_error") and k != "train_error" for k in r)
            for r in self.run.read_metrics()
        )

    def draw_curves(self) -> None:
        """curves.png, from the metrics so far (about 0.1 s; the first draw also loads
        matplotlib, about half a second)."""
        if self.world.is_main and available("plots"):
            self.draw(
                self.run.read_metrics(),
                self.run.curves,
                f"{self.recipe.model} on {self.recipe.data}, {self.run.path.name}",
            )

    def record_bad_files(self, bad_files: list) -> None:
        """bad_files.txt, with the images found unusable so far (``BadFile``s)."""
        if self.world.is_main:
            self.run.write_bad_files([(b.path, b.reason) for b in bad_files])

    def finish(
        self,
        status: RunStatus,
        reason: str | None,
        *,
        iteration: int,
        best: Best,
        params: int,
        bad_files: list,
    ) -> RunSummary:
        """How the run ended: summary.json, with the curves and bad files brought up to date.
        Other processes than rank 0 know their status and rank alone."""
        if not self.world.is_main:
            return RunSummary(
                status=status, reason=reason, iterations=iteration, rank=self.world.rank
            )
        if status is not RunStatus.COMPLETED:  # a completed run drew them at its last evaluation
            self.draw_curves()
        self.record_bad_files(bad_files)
        summary = summarize_run(
            self.run.read_metrics(),
            status,
            reason=reason,
            iterations=iteration,
            planned_iterations=self.recipe.iterations,
            model=self.recipe.model,
            data=self.recipe.data,
            params=params,
            best_val_error=best.val_error,
            best_iteration=best.iteration,
            bad_files=len(bad_files),
            run_dir=str(self.run.path),
            world_size=self.world.world_size,
        )
        self.run.write_summary(summary)
        return summary
