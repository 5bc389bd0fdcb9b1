"""`deepres eval`: top-1/top-5 error, per-class accuracy and confusion matrices of a trained
network on a labelled data set, in the paper's test-time modes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepres.atomic import make_folder
from deepres.data.preprocess import MAX_SIDE
from deepres.errors import show_path
from deepres.evaluate import MODES, evaluate, write_evaluation
from deepres.evaluate.split import SPLITS, evaluation_data, evaluation_folder
from deepres.extras import available

from .text import pct
from .trained_args import add_network_arguments, note, open_network

WHICH_WEIGHTS = ("average", "trained")


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
        "in the run directory, or beside the weight file; for shipped weights, in the "
        "working directory)",
    )
    p.add_argument(
        "--weights",
        dest="which_weights",
        choices=WHICH_WEIGHTS,
        help="for a run that keeps a weight average (recipe ema_decay > 0): the average "
        "(default), which is the run's network, or the trained weights, which the run's "
        "last.pt keeps beside it (a run directory gives its last.pt; results in "
        "eval-trained-...), to see what the average changes",
    )
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    p.add_argument("--download", action="store_true", help="download CIFAR if it is not cached")
    p.add_argument("--json", action="store_true", help="print results.json instead of a table")


def run(args: argparse.Namespace) -> int:
    trained, prep = open_network(args)
    data = evaluation_data(
        trained, args.split, args.data, cache_dir=args.cache_dir, download=args.download
    )
    if data.note:
        note(data.note)
    modes = list(dict.fromkeys(args.mode or ["center"]))
    # Made now: a folder that cannot be written is said before the evaluation, not after it.
    trained_weights = args.which_weights == "trained"
    default_out = evaluation_folder(Path(args.weights), data.source, data.split, trained_weights)
    out = make_folder(args.out or default_out)
    results = evaluate(
        trained,
        prep,
        data.dataset,
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
        "data": data.source,
        "split": data.split,
        **({"which_weights": "trained"} if trained_weights else {}),
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


def _print_table(record: dict, out: Path) -> None:
    first = next(iter(record["modes"].values()))
    trained = ", its trained weights" if record.get("which_weights") == "trained" else ""
    print(
        f"{record['model']} ({record['weights']}{trained}) on {record['data']}, "
        f"{record['split']} split: {first['images']:,} images"
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
