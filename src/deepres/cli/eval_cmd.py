"""`deepres eval`: top-1/top-5 error, per-class accuracy and confusion matrices of a trained
network on a labelled data set, in the paper's test-time modes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepres.atomic import make_folder
from deepres.data import (
    MAX_SIDE,
    absolute_source,
    missing_folder,
    open_source,
    show_path,
    split_fingerprint,
)
from deepres.errors import UsageError
from deepres.evaluate import MODES, evaluate, write_evaluation
from deepres.extras import available
from deepres.runs import RunDir, data_slug
from deepres.weights import TrainedModel

from .text import pct
from .trained_args import add_network_arguments, note, open_network

SPLITS = ("test", "val", "train")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a trained network: top-1/top-5 error, per-class accuracy, confusion matrix",
        description="Evaluate a trained network on a labelled data set "
        "(by default the test split of the data it was trained on). Writes results.json and, "
        "per mode, a confusion matrix as CSV and PNG.",
    )
    add_network_arguments(p, batch_size=128)
    p.add_argument(
        "--data",
        help="data source (as for `deepres train --data`); default: the "
        "one the network was trained on",
    )
    p.add_argument(
        "--split",
        choices=SPLITS,
        help="default: test, else val; train only when asked for (a folder of "
        "<class>/ folders that the network was not trained on is evaluated whole)",
    )
    p.add_argument(
        "--mode",
        action="append",
        choices=MODES,
        help="test-time views: centre view, centre view and its mirror image, 10-crop, "
        "or fully convolutional multi-scale (repeat for several; default center)",
    )
    p.add_argument(
        "--scales",
        type=_sides,
        help="shorter sides for multi-scale, e.g. "
        "224,256,384,480,640 (default: those, in proportion to the network's crop)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="folder for the results (default: eval-DATA-SPLIT "
        "in the run directory or beside the weight file)",
    )
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    p.add_argument("--download", action="store_true", help="download CIFAR if it is not cached")
    p.add_argument("--json", action="store_true", help="print results.json instead of a table")


def run(args: argparse.Namespace) -> int:
    trained, prep = open_network(args)
    dataset, source, split = _dataset(args, trained)
    modes = list(dict.fromkeys(args.mode or ["center"]))
    # Made now: a folder that cannot be written is said before the evaluation, not after it.
    out = make_folder(args.out or _default_out(Path(args.weights), source, split))
    results = evaluate(
        trained,
        prep,
        dataset,
        modes,
        batch_size=args.batch_size,
        device=args.device,
        workers=args.workers,
        scales=args.scales,
        engine=args.engine,
    )
    header = {
        "model": trained.model_name,
        "weights": str(trained.path),
        "data": source,
        "split": split,
    }
    record = write_evaluation(out, header, results)
    if not available("plots"):
        note("confusion matrices written as CSV only; for PNGs: pip install 'deepres[plots]'")
    for mode, summary in record["modes"].items():
        for path, reason in summary["unreadable"]:
            note(f"{mode}: left out {path}: {reason}")
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        _print_table(record, out)
    return 0


def _dataset(args: argparse.Namespace, trained: TrainedModel):
    """(dataset, source, split): ``--data`` or the training data, with the training run's
    validation hold-out where that is the source, so that "val" means the same images."""
    recipe = trained.recipe or {}
    source = args.data or recipe.get("data")
    if source is None:
        raise UsageError(
            f"{trained.path} does not record its training data; name the data to "
            "evaluate on with --data"
        )
    gone = missing_folder(source) if args.data is None else None
    if gone is not None:
        raise UsageError(
            f"{trained.path} was trained on {gone}, which is not on this machine; "
            "name the data to evaluate on with --data"
        )
    own = absolute_source(source) == absolute_source(recipe.get("data") or "")
    splits = open_source(
        source,
        cache_dir=args.cache_dir,
        download=args.download,
        val_size=recipe.get("val_size", 0) if own else 0,
        seed=recipe.get("seed", 0) if own else 0,
        image_size=recipe.get("image_size") if own else None,
        need_train=False,
    )
    if splits.flat and not own and args.split in (None, "train"):
        # Someone's own folder of labelled images: all of it is there to evaluate on.
        trained_on = recipe.get("data")
        note(
            f"evaluating on all {len(splits.train):,} images of {source}: a folder of "
            "<class>/ folders without train/, val/ or test/"
            + (f", not {trained_on}, which the network was trained on" if trained_on else "")
        )
        return splits.train, source, "all"
    available = [s for s in SPLITS if getattr(splits, s) is not None]
    split = args.split or available[0]
    if split not in available:
        raise UsageError(f"{source} has no {split} split (it has {', '.join(available)})")
    if split == "train" and args.split is None:
        raise UsageError(
            f"{source} has no test or val split, only training images, whose "
            "error says little about new images; evaluate on other data with "
            "--data, or give --split train to measure the training error anyway"
        )
    if split == "val" and own and recipe.get("val_size"):
        _check_held_out(trained, splits.val)
    if split == "train" or (split == "val" and own and recipe.get("val_size")):
        note(
            f"evaluating on the {split} split of {source}"
            + (
                ": the images the network was trained on"
                if split == "train" and own
                else f": the {recipe['val_size']} training images the run held out"
                if split == "val"
                else ""
            )
        )
    return getattr(splits, split), source, split


def _check_held_out(trained: TrainedModel, val) -> None:
    """The images a run held out (val_size) are those it recorded, or --split val is refused:
    images added to the folder since would move others from training into the split."""
    run = RunDir.of_checkpoint(trained.path)
    then = run.held_out_sha256() if run is not None else None
    if then is not None and split_fingerprint(val) != then:
        raise UsageError(
            f"{run.path}: the images its data holds out for validation are not those the run "
            f"held out (images were added to or removed from {trained.recipe['data']}), so "
            "some of them were trained on; put the data back as it was, or evaluate on the "
            "test split"
        )


def _default_out(weights: Path, source: str, split: str) -> Path:
    """RUN/eval-DATA-SPLIT for a run directory, else eval-CHECKPOINT-DATA-SPLIT beside the
    file (in the run directory for one of its checkpoints)."""
    slug = data_slug(source)
    if weights.is_dir():
        return weights / f"eval-{slug}-{split}"
    run = RunDir.of_checkpoint(weights)
    folder = run.path if run is not None else weights.parent
    return folder / f"eval-{weights.stem}-{slug}-{split}"


def _print_table(record: dict, out: Path) -> None:
    first = next(iter(record["modes"].values()))
    print(
        f"{record['model']} ({record['weights']}) on {record['data']}, {record['split']} "
        f"split: {first['images']:,} images"
    )
    print(f"{'mode':<12} {'top-1 error':>11} {'top-5 error':>11}")
    for mode, summary in record["modes"].items():
        print(f"{mode:<12} {pct(summary['top1_error']):>11} {pct(summary['top5_error']):>11}")
    print(
        f"results: {show_path(out / 'results.json')} (per-class accuracy; confusion "
        f"matrices as confusion-MODE.csv and .png)"
    )


def _sides(text: str) -> list[int]:
    try:
        sides = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sides like 224,256,384, not {text!r}")
    if any(not 1 <= s <= MAX_SIDE for s in sides):
        raise argparse.ArgumentTypeError(f"sides from 1 to {MAX_SIDE} pixels, not {text!r}")
    return sides
