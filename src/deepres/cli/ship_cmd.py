"""`deepres ship`: a finished run's final weights with a model card, usable by name
(``deepres.ship``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepres.catalog import WEIGHTS_DIR_VARIABLE
from deepres.errors import UsageError, show_path
from deepres.ship import AUTO, DATA_SETS, DTYPES, ShipTo, rewrite_cards, ship

from .text import pct
from .trained_args import note


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ship",
        help="package a finished run's final weights with a model card, to use them by name",
        description="Package the final weights of a completed run (its last.pt) as NAME, as "
        "deepres packages its own: their test error is measured on the test split of --data "
        "in float32 and as stored (float16 where that changes no error), and NAME.safetensors, "
        "the model card NAME.json (data, recipe, errors, hardware, training time, sha256) and "
        "NAME.md (the card for people, with front matter for model hubs) are written, with a "
        "copy of the run's records (never its checkpoints). With "
        f"{WEIGHTS_DIR_VARIABLE}=FOLDER, deepres then takes NAME wherever it takes weights.",
    )
    p.add_argument("run", type=Path, nargs="?", metavar="RUN_DIR", help="a completed run directory")
    p.add_argument("--name", help="MODEL-DATA, or MODEL-DATA-VARIANT: e.g. resnet20-mydata")
    p.add_argument(
        "--data",
        help="the data the run was trained on (as for `deepres train --data`); the weights "
        "are measured on its test split",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--out",
        type=Path,
        metavar="FOLDER",
        help="the folder to ship into: NAME.safetensors, NAME.json and NAME.md there, the "
        "run's records in FOLDER/runs/NAME/",
    )
    where.add_argument(
        "--repo",
        type=Path,
        metavar="DIR",
        help="a checkout of deepres, for its maintainers: the weights into "
        "src/deepres/weights/shipped/, the run's records into docs/runs/NAME/",
    )
    p.add_argument(
        "--data-set",
        choices=DATA_SETS,
        help="the data set that --data holds: the card names it and where it comes from, "
        "instead of the folder",
    )
    p.add_argument(
        "--dtype",
        choices=[*DTYPES, AUTO],
        default=AUTO,
        help="how the weights are stored: float16 (half the size), refused if it changes a "
        "test error; float32; or auto (the default), float16 where it changes no test error, "
        "float32 where it would",
    )
    p.add_argument(
        "--hardware",
        help="what the run trained on, in words, for runs whose records do not say enough "
        "(older runs name no CPU model); the card says it was stated when shipping",
    )
    p.add_argument("--replace", action="store_true", help="ship over weights named NAME")
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    p.add_argument(
        "--rewrite-cards",
        action="store_true",
        help="write every NAME.md of --out or --repo again from its NAME.json (after a change "
        "of the card's format), and nothing else; a NAME.json from before cards said how long "
        "the run stood paused gets that from the run's records shipped beside it",
    )


def run(args: argparse.Namespace) -> int:
    to = ShipTo(args.out) if args.out is not None else ShipTo.checkout(args.repo)
    if args.rewrite_cards:
        if args.run is not None:
            raise UsageError("--rewrite-cards rewrites the cards already shipped: no RUN_DIR")
        for path in rewrite_cards(to):
            print(f"wrote {show_path(path)}")
        return 0
    if args.run is None or args.name is None or args.data is None:
        raise UsageError("RUN_DIR, --name and --data are needed to ship weights")
    card = ship(
        args.run,
        args.name,
        args.data,
        to,
        dtype=args.dtype,
        data_set=args.data_set,
        hardware=args.hardware,
        cache_dir=args.cache_dir,
        replace=args.replace,
    )
    print(
        f"shipped {card.name}: test error {pct(card.test_error)} as stored ({card.storage}), "
        f"{pct(card.test_error_float32)} in float32; {show_path(to.folder / card.file)} "
        f"({card.bytes:,} bytes), the run's records in {show_path(to.root / card.results)}"
    )
    if args.dtype == AUTO and card.storage == "float32":
        note("stored in float32: in float16 a test error would not be the same")
    if args.out is not None:
        note(
            f"{WEIGHTS_DIR_VARIABLE}={show_path(to.folder)} makes deepres take {card.name} "
            f"by name, e.g. `deepres predict {card.name} IMAGES`"
        )
    return 0
