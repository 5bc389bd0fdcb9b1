"""`deepres export`: a trained network as ONNX, TorchScript or safetensors, checked by running
the written file against PyTorch, with its preprocessing as JSON beside it."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepres.errors import UsageError
from deepres.export import FORMATS, SUFFIXES, TOLERANCE, export_model
from deepres.extras import require

from .trained_args import WEIGHTS_HELP, open_network


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained network to ONNX, TorchScript or safetensors",
        description="Export a trained network (dynamic batch size). The written file is run on "
        f"a sample batch and compared with PyTorch; it is kept only if the largest difference "
        f"is below {TOLERANCE:g}. The preprocessing it expects (size, mean, std, classes) "
        "goes to OUTPUT.json.",
    )
    p.add_argument("weights", metavar="RUN_DIR_OR_CHECKPOINT", help=WEIGHTS_HELP)
    p.add_argument(
        "--format",
        choices=FORMATS,
        help=f"default: from the output's suffix ({', '.join(SUFFIXES)})",
    )
    p.add_argument("--output", type=Path, required=True, metavar="FILE")
    p.add_argument(
        "--model",
        help="the registered network the weights belong to (needed only "
        "for bare state_dicts that are not in torchvision's ImageNet layout)",
    )


def run(args: argparse.Namespace) -> int:
    fmt = args.format or SUFFIXES.get(args.output.suffix)
    if fmt is None and args.output.is_dir():
        fmt = "onnx"  # export_model says that a folder is no file name, suggesting one
    elif fmt is None:
        raise UsageError(
            f"--output {args.output}: say which format with --format ({', '.join(FORMATS)})"
        )
    if fmt == "onnx":
        require("export", "deepres export --format onnx")  # before the network is loaded
    args.device = "cpu"  # exports are traced and checked in float32 on the CPU
    trained, prep = open_network(args)
    result = export_model(trained, prep, fmt, args.output)
    print(f"wrote {result.path} ({fmt}, {trained.model_name}, any batch size)")
    print(
        f"checked with {result.checked_with} on a batch of random images: max abs "
        f"difference from PyTorch {result.max_abs_diff:.2g} (limit {TOLERANCE:g})"
    )
    print(f"preprocessing and classes: {result.preprocessing_path}")
    return 0
