"""`deepres embed`: penultimate-layer features of image files to a .npy file, with the list of
files (one per row) beside it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from deepres.atomic import make_folder, write_together
from deepres.errors import UsageError, show_path
from deepres.evaluate import collect_files, embed

from .trained_args import add_file_arguments, add_network_arguments, open_network


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed",
        help="penultimate-layer features of image files to a .npy file",
        description="Write the globally pooled features that the classifier reads, one row "
        "per readable image, to FEATURES.npy, and the files in row order to "
        "FEATURES.files.txt (one per line; a backslash, newline or byte that is not UTF-8 in a "
        "name is written as \\\\, \\n or \\xNN). Unusable files get an error line and make "
        "the exit status 1.",
    )
    add_network_arguments(p, batch_size=64)
    add_file_arguments(p, averaged="features")
    p.add_argument("--output", type=Path, required=True, metavar="FEATURES.npy")


def run(args: argparse.Namespace) -> int:
    if args.output.suffix != ".npy":
        raise UsageError(f"--output {args.output}: name a .npy file")
    make_folder(args.output.parent)  # a folder that cannot be made is said before the work
    files, bad = collect_files(args.paths)
    trained, prep = open_network(args)
    features, kept, unreadable = embed(
        trained,
        prep,
        files,
        mode=args.mode,
        batch_size=args.batch_size,
        device=args.device,
        workers=args.workers,
        engine=args.engine,
    )
    bad += unreadable
    for b in bad:
        print(f"deepres embed: error: {b}", file=sys.stderr)
    # One name per line, escaped so that a newline in a name cannot shift the rows; both files
    # are written whole before either is renamed into place.
    listing = args.output.with_suffix(".files.txt")
    names = "".join(show_path(f, reversible=True) + "\n" for f in kept).encode()
    write_together(
        [(listing, lambda f: f.write(names)), (args.output, lambda f: np.save(f, features))]
    )
    print(
        f"{features.shape[0]:,} x {features.shape[1]} features of {trained.model_name} to "
        f"{args.output} (files in row order: {listing})"
    )
    if bad:
        print(
            f"deepres embed: {len(bad)} of {len(bad) + len(kept)} inputs could not be read",
            file=sys.stderr,
        )
    return 1 if bad else 0
