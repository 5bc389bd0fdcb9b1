"""`deepres train`: train a registered network on a data source with a recipe."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from deepres.data.sources import folder_of
from deepres.errors import DeepresError, UsageError
from deepres.runs import RunDir, RunSummary
from deepres.runs.rundir import BAD_FILES, RECIPE, data_slug
from deepres.train import Recipe, TrainOptions, load_recipe, parse_overrides, preset_names, train
from deepres.train.distributed import launched_by_torchrun, restarted_by_torchrun
from deepres.train.finetune import image_size_of_weights, model_of_weights
from deepres.train.recipe import load_run_recipe

from .text import pct

DEFAULT_RECIPE = "quick"
# Flags for the recipe fields people change most; each is --set FIELD=VALUE, nothing more.
FIELD_FLAGS = {
    "--batch-size": ("batch_size", int, "images per iteration, over all processes"),
    "--lr": ("lr", float, "the learning rate (before the schedule's drops)"),
    "--epochs": (
        "iterations",
        lambda text: f"{_positive(text)}ep",
        "the run's length in epochs; the lr drops stay where they are (--iterations moves them)",
    ),
    "--val-size": ("val_size", int, "training images held out for validation"),
}
FINETUNE_RECIPE = "finetune"  # with --init-from and no --recipe


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
    for flag, (field, kind, meaning) in FIELD_FLAGS.items():
        unit = "ep" if flag == "--epochs" else ""
        p.add_argument(flag, type=kind, metavar="N", help=f"{meaning} (= --set {field}=N{unit})")
    p.add_argument(
        "--set",
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
    recipe, out = _recipe_and_out(args)
    # A worker that torchrun starts again (--max-restarts) continues the run from its last
    # checkpoint instead of refusing the run directory that its first life created.
    resume = args.resume is not None or (restarted_by_torchrun() and RunDir(out).exists())
    # A preset's batch size is a default, not the user's choice: it shrinks to fit a small
    # training set; one from --set or a recipe file does not.
    chosen_batch = "batch_size" in _fields(args) or (
        args.recipe is not None and args.recipe not in preset_names()
    )
    options = TrainOptions(
        out=out,
        resume=resume,
        device=args.device,
        quiet=args.quiet,
        cache_dir=args.cache_dir,
        on_bad_image=args.on_bad_image,
        download=args.download,
        recipe_name=None if args.resume else _recipe_name(args),
        fit_batch=not chosen_batch,
    )
    summary = train(recipe, options)
    if summary.rank == 0:
        _print_summary(summary)
    if summary.status == "diverged":
        return 1
    if summary.stopped:
        signum = signal.SIGTERM if "SIGTERM" in summary.status else signal.SIGINT
        return 128 + int(signum)
    return 0


def _recipe_and_out(args: argparse.Namespace) -> tuple[Recipe, Path]:
    fields = _fields(args)  # raw recipe fields, never scaled
    options = {
        key: getattr(args, key)
        for key in ("model", "data", "seed", "init_from", "freeze", "image_size")
        if getattr(args, key) is not None
    }
    options.update(
        (flag, True) for flag in ("compile", "scale_lr", "sync_bn") if getattr(args, flag)
    )
    if args.resume is not None:
        if args.out is not None and Path(args.out).resolve() != Path(args.resume).resolve():
            raise UsageError(
                f"--resume {args.resume} goes on in that run's own folder, not in --out "
                f"{args.out}; drop --out (or copy the run there and resume that copy)"
            )
        run_dir = RunDir(args.resume)
        run_dir.check_resumable()
        if args.recipe or options or set(fields) - {"iterations"}:
            raise UsageError(
                "--resume continues the run's own recipe; only --iterations may "
                "change (start a new run for anything else)"
            )
        recipe = load_run_recipe(run_dir.path / RECIPE)
        return _with_length(recipe, args.iterations, fields), args.resume
    if options.get("init_from") and "model" not in options:
        options = {**model_of_weights(options["init_from"]), **options}
    recipe = load_recipe(_recipe_name(args)).replace(**options)
    if args.init_from and args.recipe is None and args.image_size is None:
        recipe = _at_the_weights_size(recipe)
    recipe = _with_length(recipe, args.iterations, fields)
    if args.out is None and launched_by_torchrun():
        raise UsageError(
            "under torchrun, give --out: every process, and every restart, must "
            "use the same run directory"
        )
    return recipe, args.out or _default_out(recipe)


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


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of epochs of at least 1, not {text!r}")
    return int(text)


def _fields(args: argparse.Namespace) -> dict:
    """The recipe fields that --set and the field flags (--lr, ...) give, checked as --set's."""
    fields = parse_overrides(args.set)
    for flag, (field, _, _) in FIELD_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is None:
            continue
        if field in fields:
            raise UsageError(f"{flag} and --set {field}=... both set {field}: give one")
        fields.update(parse_overrides([f"{field}={value}"]))
    return fields


def _recipe_name(args: argparse.Namespace) -> str:
    """--recipe, else the fine-tuning preset for --init-from, else the default."""
    return args.recipe or (FINETUNE_RECIPE if args.init_from else DEFAULT_RECIPE)


def _at_the_weights_size(recipe: Recipe) -> Recipe:
    """Fine-tuning on a folder: its images at the size the weights were trained at (the
    built-in data sets have one size of their own)."""
    folder = folder_of(recipe.data)
    size = image_size_of_weights(recipe.init_from)
    if folder is None or recipe.data.startswith("imagenet:") or size is None:
        return recipe
    return recipe.replace(image_size=size)


def _with_length(recipe: Recipe, iterations: int | None, fields: dict) -> Recipe:
    """The recipe with ``--set`` fields as given and, for ``--iterations``, its schedule
    scaled to that length (said on stderr, since the lr drops move)."""
    if iterations is None:
        return recipe.replace(**fields)
    scaled = recipe.scaled_to(iterations, **fields)
    if scaled.iterations != recipe.iterations:
        print(f"note: {recipe.scaling_note(scaled)}", file=sys.stderr, flush=True)
    return scaled


def _print_summary(summary: RunSummary) -> None:
    lines = [
        f"{summary.status} after {summary.iterations:,} of "
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
