"""What a run says before its first step: what is trained on what, where, how and for how
long, so that a wrong choice shows at once rather than in the summary hours later."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepres.data import DataSplits

from .recipe import Recipe


@dataclass(kw_only=True)
class Setup:
    """The run as it starts, from the Trainer's parts."""

    recipe: Recipe
    recipe_name: str | None  # the preset or file it came from, when known
    parameters: int
    splits: DataSplits
    device: torch.device
    world_size: int
    amp_dtype: torch.dtype | None
    channels_last: bool
    run_dir: str
    resumed_at: int | None  # the iteration a resumed run goes on from


def banner(setup: Setup) -> list[str]:
    return [_what(setup), _how(setup), _schedule(setup.recipe, setup.recipe_name), _where(setup)]


def _what(s: Setup) -> str:
    sizes = [
        (len(split), words)
        for split, words in (
            (s.splits.train, "training"),
            (s.splits.val, "validation"),
            (s.splits.test, "test"),
        )
        if split is not None
    ]
    images = ", ".join(f"{n:,} {words}" for n, words in sizes)
    return (
        f"{s.recipe.model} ({s.parameters:,} parameters) on {s.recipe.data}: {images} "
        f"images, {len(s.splits.classes)} classes, {s.splits.image_size}x"
        f"{s.splits.image_size} pixels"
    )


def _how(s: Setup) -> str:
    processes = f" x {s.world_size} processes" if s.world_size > 1 else ""
    precision = "bf16 autocast" if s.amp_dtype == torch.bfloat16 else "float32"
    layout = "channels_last" if s.channels_last else "contiguous (NCHW)"
    threads = torch.get_num_threads()
    return (
        f"device {s.device}{processes}, {threads} thread{'s' * (threads != 1)}, {precision}, "
        f"{layout}" + (", torch.compile" if s.recipe.compile else "")
    )


def _schedule(r: Recipe, name: str | None) -> str:
    lr = r.lr * (r.batch_size / r.lr_batch if r.scale_lr else 1.0)
    if r.schedule == "step":
        drops = ", ".join(f"{m:,}" for m in r.milestones)
        course = f"x{r.lr_factor:g} at {drops}" if drops else "constant"
    elif r.schedule == "plateau":
        course = f"x{r.lr_factor:g} when the validation error stops falling"
    else:
        course = r.schedule
    return (
        f"recipe{f' {name}' if name else ''}: {r.iterations:,} iterations of batch "
        f"{r.batch_size}, lr {lr:g} ({course}), evaluation every {r.eval_every:,}, "
        f"checkpoint every {r.checkpoint_every:,}"
    )


def _where(s: Setup) -> str:
    if s.resumed_at is None:
        return f"run directory {s.run_dir}"
    return f"resuming {s.run_dir} at iteration {s.resumed_at:,} of {s.recipe.iterations:,}"
