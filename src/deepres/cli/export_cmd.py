"""`deepres export`: a trained network as ONNX, TorchScript or safetensors, checked by running
the written file against PyTorch, with its preprocessing as JSON beside it."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepres.data import open_source
from deepres.errors import DataError, UsageError
from deepres.evaluate.int8_data import calibration_images, top1_error
from deepres.export import FORMATS, METHODS, export_int8, export_model
from deepres.export.export import TOLERANCE
from deepres.export.formats import SUFFIXES
from deepres.export.int8 import CALIBRATION_IMAGES, MAX_DROP, check_int8_tools, int8_support_note
from deepres.extras import require

from .text import pct
from .trained_args import WEIGHTS_HELP, note, open_network


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
    int8 = p.add_argument_group(
        "INT8",
        "Static post-training quantization in onnxruntime (int8 weights per channel, uint8 "
        "activations). The INT8 model is kept only if its top-1 error on DATA's test split "
        "(else val) is within --max-drop of the float model's; both go to OUTPUT.json.",
    )
    int8.add_argument("--int8", action="store_true", help="quantize the ONNX export to INT8")
    int8.add_argument(
        "--calibration",
        metavar="DATA",
        help="the data source (as for `deepres train --data`) whose training images "
        "calibrate the activations and whose test (else val) split measures the error",
    )
    int8.add_argument(
        "--calibration-images",
        type=int,
        default=CALIBRATION_IMAGES,
        metavar="N",
        help=f"training images to calibrate on, drawn at random (default {CALIBRATION_IMAGES})",
    )
    int8.add_argument(
        "--calibration-method",
        choices=METHODS,
        default=METHODS[0],
        help=f"how activation ranges are set from them (default {METHODS[0]})",
    )
    int8.add_argument(
        "--max-drop",
        type=float,
        default=100 * MAX_DROP,
        metavar="POINTS",
        help=f"most top-1 error, in points, the INT8 model may lose (default {100 * MAX_DROP:g})",
    )
    int8.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")


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
    if args.int8 or args.calibration:
        return _run_int8(args, fmt)
    trained, prep = open_network(args)
    result = export_model(trained, prep, fmt, args.output)
    print(f"wrote {result.path} ({fmt}, {trained.model_name}, any batch size)")
    print(
        f"checked with {result.checked_with} on a batch of random images: max abs "
        f"difference from PyTorch {result.max_abs_diff:.2g} (limit {TOLERANCE:g})"
    )
    print(f"preprocessing and classes: {result.preprocessing_path}")
    return 0


def _run_int8(args: argparse.Namespace, fmt: str) -> int:
    if fmt != "onnx":
        raise UsageError(f"--int8 exports ONNX only, not {fmt}; name an .onnx file")
    if not args.int8 or not args.calibration:
        raise UsageError("--int8 needs --calibration DATA, and --calibration needs --int8")
    if args.max_drop < 0:
        raise UsageError(f"--max-drop is in points of top-1 error, at least 0, not {args.max_drop}")
    check_int8_tools()  # before the data is read: nothing to lose yet
    trained, prep = open_network(args)
    recipe = trained.recipe or {}
    own = args.calibration == recipe.get("data")  # then its validation hold-out stays held out
    splits = open_source(
        args.calibration,
        cache_dir=args.cache_dir,
        val_size=recipe.get("val_size", 0) if own else 0,
        seed=recipe.get("seed", 0) if own else 0,
        image_size=recipe.get("image_size") if own else None,
    )
    split = "test" if splits.test is not None else "val" if splits.val is not None else None
    if split is None:
        raise DataError(
            f"{args.calibration} has only training images; the INT8 model's error is measured "
            "on a test/ or val/ split of images it was not calibrated on: add one"
        )
    test = getattr(splits, split)
    calibration = calibration_images(splits.train, prep, trained, args.calibration_images)
    tested_on = {"data": args.calibration, "split": split, "images": len(test)}
    warning = int8_support_note()
    if warning:
        note(warning)
    result = export_int8(
        trained,
        prep,
        args.output,
        calibration,
        lambda network: top1_error(network, test, prep, trained),
        tested_on,
        max_drop=args.max_drop / 100,
        method=args.calibration_method,
    )
    print(f"wrote {result.path} (onnx, INT8, {trained.model_name}, any batch size)")
    print(
        f"top-1 error on {args.calibration} ({split}, {len(test):,} images): float "
        f"{pct(result.float_error)}, INT8 {pct(result.int8_error)} (limit: "
        f"{args.max_drop:g} points worse)"
    )
    print(
        f"calibrated on {len(calibration)} training images ({args.calibration_method}); "
        f"preprocessing, classes and settings: {result.preprocessing_path}"
    )
    return 0
