"""`deepres embed`: penultimate-layer features of image files to a .npy file, with the list of
files (one per row) beside it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from deepres.data import show_path
from deepres.evaluate import collect_files, embed

from .trained_args import add_file_arguments, add_network_arguments, open_network


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed", help="penultimate-layer features of image files to a .npy file",
        description="Write the globally pooled features that the classifier reads, one row "
        "per readable image, to FEATURES.npy, and the files in row order to "
        "FEATURES.files.txt. Unusable files get an error line and make the exit status 1.")
    add_network_arguments(p, batch_size=64)
    add_file_arguments(p, averaged="features")
    p.add_argument("--output", type=Path, required=True, metavar="FEATURES.npy")


def run(args: argparse.Namespace) -> int:
    if args.output.suffix != ".npy":
        raise ValueError(f"--output {args.output}: name a .npy file")
    files, bad = collect_files(args.paths)
    trained, prep = open_network(args)
    features, kept, unreadable = embed(trained, prep, files, mode=args.mode,
                                       batch_size=args.batch_size, device=args.device,
                                       workers=args.workers, engine=args.engine)
    bad += unreadable
    for b in bad:
        print(f"deepres embed: error: {b}", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.output, features)
    listing = args.output.with_suffix(".files.txt")
    listing.write_text("".join(show_path(f) + "\n" for f in kept))
    print(f"{features.shape[0]:,} x {features.shape[1]} features of {trained.model_name} to "
          f"{args.output} (files in row order: {listing})")
    if bad:
        print(f"deepres embed: {len(bad)} of {len(bad) + len(kept)} inputs could not be read",
              file=sys.stderr)
    return 1 if bad else 0
