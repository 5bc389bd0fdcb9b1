"""`deepres predict`: the most probable classes of image files, as a table or JSON lines.

Every readable file is predicted; each unusable one gets an error line of its own, and the
exit status is 1 when there was any.
"""

from __future__ import annotations

import argparse
import json
import sys

from deepres.errors import show_path
from deepres.evaluate import Prediction, collect_files, predict

from .trained_args import add_file_arguments, add_network_arguments, open_network


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="top-k classes of image files with their probabilities",
        description="Predict the classes of image files with a trained network. Folders are "
        "searched for images. A file that is not a usable image gets an error line and makes "
        "the exit status 1; every other file is still predicted.",
    )
    add_network_arguments(p, batch_size=64)
    add_file_arguments(p, averaged="scores")
    p.add_argument("--top-k", type=int, default=5, help="classes per image (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per file (errors too)")


def run(args: argparse.Namespace) -> int:
    files, bad = collect_files(args.paths)
    trained, prep = open_network(args)
    show = (
        _json_line
        if args.json
        else _Table(files, min(args.top_k, len(trained.classes)), trained.classes).line
    )
    failed = 0
    for b in bad:
        failed += 1
        show(Prediction(b.path, [], b.reason))
    for result in predict(
        trained,
        prep,
        files,
        top_k=args.top_k,
        mode=args.mode,
        batch_size=args.batch_size,
        device=args.device,
        workers=args.workers,
        engine=args.engine,
    ):
        failed += result.error is not None
        show(result)
    if failed:
        print(
            f"deepres predict: {failed} of {len(files) + len(bad)} inputs could not be "
            "read (see the error lines)",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _json_line(result: Prediction) -> None:
    record = {"file": show_path(result.file)}
    if result.error is not None:
        record["error"] = result.error
    else:
        record["top"] = [{"class": c, "probability": p} for c, p in result.top]
    print(json.dumps(record, allow_nan=False), flush=True)  # predict() gives no NaN: strict JSON


class _Table:
    """Aligned columns: file, then class and probability for each of the top k."""

    def __init__(self, files: list[str], k: int, classes: list[str]):
        self.file_width = max([len("file"), *(len(show_path(f)) for f in files)])
        self.class_width = max(len(f"top-{k}"), *(len(show_path(c)) for c in classes))
        cells = [f"{'top-' + str(i + 1):<{self.class_width}} {'prob':>6}" for i in range(k)]
        self.header: str | None = f"{'file':<{self.file_width}}  " + "  ".join(cells)

    def line(self, result: Prediction) -> None:
        name = show_path(result.file)
        if result.error is not None:
            print(f"deepres predict: error: {name}: {result.error}", file=sys.stderr, flush=True)
            return
        if self.header is not None:  # only above a first row: never an empty table
            print(self.header)
            self.header = None
        # Names from the disk and classes from the weight file are escaped: a newline or a
        # terminal escape sequence in either must not break or forge the table.
        cells = [f"{show_path(c):<{self.class_width}} {p:>6.1%}" for c, p in result.top]
        print(f"{name:<{self.file_width}}  " + "  ".join(cells), flush=True)
