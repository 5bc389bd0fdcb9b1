"""Top-1 error of every network shipped with deepres, float against INT8, on the full test set
of the data set its card names (the original CIFAR-10 or its JPEG copy): one `deepres export
--int8` per network (calibrated on 256 of that set's training images), its figures read back
from the sidecar it writes. Prints a Markdown table.
``--max-drop 100`` so that a network over the default bound is measured, not refused.

    .venv/bin/python benchmarks/int8_accuracy.py [--method minmax] [--only resnet20-cifar10] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path

import torch
from common import CACHE, cifar10_root

from deepres import catalog
from deepres.cli import main as deepres
from deepres.export import METHODS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=METHODS, default=METHODS[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="shipped names (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"calibration: {args.method}, 256 training images of each card's data set; {args.threads} threads\n"
    )
    print("| network | data set | float top-1 error | INT8 top-1 error | difference (points) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or catalog.list_weights():
            data_set = catalog.model_card(name).data.set  # "cifar10-png" or "cifar10-jpeg"
            data = cifar10_root(data_set.removeprefix("cifar10-"))
            output = Path(folder) / f"{name}-int8.onnx"
            command = ["export", name, "--int8", "--calibration", str(data), "--output"]
            command += [str(output), "--max-drop", "100", "--calibration-method", args.method]
            with contextlib.redirect_stdout(io.StringIO()):  # its own report, in the sidecar
                code = deepres([*command, "--cache-dir", str(CACHE / "deepres-cache")])
            if code != 0:
                print(f"| {name} | {data_set} | export failed with status {code} | | |")
                continue
            check = json.loads(Path(f"{output}.json").read_text())["check"]
            fp, q = check["float_top1_error"], check["int8_top1_error"]
            print(
                f"| {name} | {data_set} | {100 * fp:.2f}% | {100 * q:.2f}% | {100 * (q - fp):+.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
