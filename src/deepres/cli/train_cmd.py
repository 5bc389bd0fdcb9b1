"""`deepres train`: train a registered network on a data source with a recipe."""

from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import fields
from pathlib import Path

from deepres.errors import DeepresError
from deepres.runs import RunDir, RunStatus, RunSummary
from deepres.runs.rundir import BAD_FILES
from deepres.train import RunRequest, plan_run, preset_names, train
from deepres.train.plan import DEFAULT_RECIPE, FIELD_FLAGS, FINETUNE_RECIPE

from .text import pct


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of epochs of at least 1, not {text!r}")
    return int(text)


# Flags of their own for the recipe fields people change most (deepres.train.plan.FIELD_FLAGS):
# each is --set FIELD=VALUE, nothing more.
FIELD_FLAG_HELP = {
    "batch_size": (int, "images per iteration, over all processes"),
    "lr": (float, "the learning rate (before the schedule's drops)"),
    "epochs": (
        _positive,
        "the run's length in epochs; the lr drops stay where they are (--iterations moves them)",
    ),
    "val_size": (int, "training images held out for validation"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a network (with no arguments: ResNet-20 on the built-in digits)",
        description="Train a network with one of the paper's recipes. With no arguments, trains "
        "ResNet-20 on the built-in 8x8 digits with the 'quick' recipe (offline, minutes on a CPU).",
    )
    p.add_argument("--model", help="registered network (see `deepres models`)")
    p.add_argument(
        "--data",
        help="'digits' (built in), 'cifar10', 'cifar100', 'imagenet:PATH', "
        "or a folder of class subfolders",
    )
    p.add_argument(
        "--recipe",
        help=f"a preset ({', '.join(preset_names())}) or a YAML file; default "
        f"{DEFAULT_RECIPE} ({FINETUNE_RECIPE} with --init-from: lr 0.01, cosine, the "
        "weights' own image size)",
    )
    p.add_argument(
        "--iterations",
        type=int,
        help="the length of the run: the recipe's lr "
        "drops and evaluations move with it, keeping their proportions (--set "
        "iterations=N stops at N without moving them)",
    )
    p.add_argument(
        "--image-size",
        type=int,
        metavar="N",
        help="side of the square images "
        "the network sees, for folders: up to 128 they are held whole at N pixels "
        "and trained CIFAR-style; 224 streams them through the ImageNet views "
        "(default: from the images' own size)",
    )
    p.add_argument("--seed", type=int, help="seed for initialisation, data order and augmentation")
    for name, (kind, meaning) in FIELD_FLAG_HELP.items():
        field, as_set = FIELD_FLAGS[name]
        p.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            metavar="N",
            help=f"{meaning} (= --set {field}={as_set('N')})",
        )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change any recipe field, e.g. --set lr=0.05 --set milestones=[100,200]",
    )
    p.add_argument(
        "--init-from",
        metavar="WEIGHTS",
        help="start from trained weights (a run "
        "directory, a weight file, torchvision's too, or the name of weights "
        "shipped with deepres such as resnet20-cifar10); the classifier is replaced "
        "when the number of classes differs; --model defaults to the weights' own",
    )
    p.add_argument(
        "--freeze",
        metavar="PART",
        help="do not train 'stem', the stages up to "
        "one ('layer1', 'layer2', ...) or all but the classifier ('features')",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument(
        "--scale-lr",
        action="store_true",
        help="scale lr linearly with the global batch (from the recipe's lr_batch)",
    )
    p.add_argument(
        "--sync-bn",
        action="store_true",
        help="under torchrun: batch norm statistics over the global batch",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="run directory (default runs/MODEL-DATA-TIME-PID; required under torchrun)",
    )
    p.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", help="continue a run from its last checkpoint"
    )
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: auto)")
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    p.add_argument("--download", action="store_true", help="download CIFAR if it is not cached")
    p.add_argument(
        "--on-bad-image",
        choices=("skip", "error"),
        default="skip",
        help="skip unusable images with one line each (default), or stop before "
        "training with the full list",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="one log line per log point, no bar (the default when stderr is not a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    request = RunRequest(**{f.name: getattr(args, f.name) for f in fields(RunRequest)})
    plan = plan_run(
        request,
        device=args.device,
        quiet=args.quiet,
        cache_dir=args.cache_dir,
        on_bad_image=args.on_bad_image,
        download=args.download,
    )
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr, flush=True)
    summary = train(plan.recipe, plan.options)
    if summary.rank == 0:
        _print_summary(summary)
    if summary.status is RunStatus.DIVERGED:
        return 1
    if summary.stopped:
        signum = signal.SIGTERM if summary.reason == "SIGTERM" else signal.SIGINT
        return 128 + int(signum)
    return 0


def _print_summary(summary: RunSummary) -> None:
    lines = [
        f"{summary.status_said} after {summary.iterations:,} of "
        f"{summary.planned_iterations:,} iterations: {summary.model} on {summary.data}"
    ]
    if summary.test_error is not None:
        lines.append(
            f"test error {pct(summary.test_error)} (accuracy {pct(1 - summary.test_error)})"
        )
    if summary.best_val_error is not None:
        lines.append(
            f"best validation error {pct(summary.best_val_error)} "
            f"at iteration {summary.best_iteration:,}"
        )
    if summary.test_error is None and summary.best_val_error is None:
        lines.append(_no_held_out_error(summary))
    if summary.images_per_s:
        lines.append(
            f"{summary.train_seconds:.0f} s of training, {summary.images_per_s:,.0f} images/s"
        )
    if summary.bad_files:
        lines.append(f"{summary.bad_files} unusable images skipped (see {BAD_FILES})")
    lines.append(f"run directory: {summary.run_dir}")
    if summary.stopped and summary.iterations < (summary.planned_iterations or 0):
        lines.append(f"to continue: deepres train --resume {summary.run_dir}")
    print("\n".join(lines), file=sys.stdout)


def _no_held_out_error(summary: RunSummary) -> str:
    """Why there is no test or validation error: the data has no such split, or the run
    ended before its first evaluation."""
    try:
        sizes = RunDir(summary.run_dir).read_meta().get("data", {}).get("sizes", {})
    except (DeepresError, AttributeError):  # an unreadable meta.json: say what is certain
        sizes = {}
    held_out = [name for name in ("val", "test") if sizes.get(name)]
    if held_out:
        return (
            f"no held-out error yet: the run ended at iteration {summary.iterations:,}, "
            f"before its first evaluation on the {' and '.join(held_out)} split"
        )
    return (
        f"no held-out error: {summary.data} has no test or validation split, "
        "and the training error says little about new images; hold out training "
        "images with --set val_size=N, or put a test/ folder beside train/"
    )
