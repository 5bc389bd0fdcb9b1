"""What the commands that use a trained network share: which network, on which device."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from deepres.data import Preprocessing
from deepres.data.pool import cpu_count
from deepres.engine import ENGINES
from deepres.evaluate import MODES
from deepres.train.distributed import pick_device
from deepres.weights import ConvertedLayout, TrainedModel, UnnamedClasses, load_model

WEIGHTS_HELP = (
    "a run directory (its best checkpoint, else its last), a deepres checkpoint, a "
    ".safetensors file, a bare state_dict such as torchvision's resnet50-*.pth, or "
    "the name of weights shipped with deepres, e.g. resnet20-cifar10 (`deepres "
    "models` lists them)"
)


def add_network_arguments(p: argparse.ArgumentParser, batch_size: int) -> None:
    """The network and how it runs over files: ``predict``, ``embed`` and ``eval``."""
    add_weights_arguments(p)
    add_engine_argument(p, default="torch")
    p.add_argument(
        "--batch-size",
        type=int,
        default=batch_size,
        help=f"images per batch (default {batch_size})",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=min(4, cpu_count()),
        help="processes that decode image files (default: one per core, up to 4)",
    )


MAX_WORKERS = 64  # decoding processes: more only costs memory and start-up


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        workers = -1
    if not 0 <= workers <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"from 0 (decode in this process) to {MAX_WORKERS}, not {text!r} "
            f"(this machine has {cpu_count()} cores)"
        )
    return workers


def add_weights_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("weights", metavar="RUN_DIR_OR_CHECKPOINT", help=WEIGHTS_HELP)
    p.add_argument(
        "--model",
        help="the registered network the weights belong to (needed only "
        "for bare state_dicts that are not in torchvision's ImageNet layout)",
    )
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: auto)")


def add_engine_argument(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--engine",
        choices=ENGINES,
        help="eager PyTorch, onnxruntime (CPU only; converted in memory at start-up, "
        "a few seconds), or auto: whichever runs a batch faster here, measured at "
        f"start-up (default {default}; for an exported .onnx file, onnxruntime, and auto "
        "times it against the float weights it was exported from)",
    )
    p.set_defaults(default_engine=default)


def add_file_arguments(p: argparse.ArgumentParser, averaged: str) -> None:
    """The image files to use the network on, and the test-time views of each."""
    p.add_argument(
        "paths",
        nargs="+",
        metavar="FILE_OR_FOLDER",
        help="image files, and folders to search for them",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        default="center",
        help=f"test-time views whose {averaged} are averaged (default center)",
    )


def open_network(
    args: argparse.Namespace, engine_notes: bool = True
) -> tuple[TrainedModel, Preprocessing]:
    """The network named on the command line, on its device, with its preprocessing.
    ``engine_notes``: print the engine that ``--engine auto`` chooses as a note."""
    args.device = pick_device(args.device)
    if engine_notes:
        _show_engine_choice()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnnamedClasses)  # noted below, in the CLI's words
        warnings.simplefilter("ignore", ConvertedLayout)
        # `eval --weights trained`: the trained weights of a run that keeps their average
        average = getattr(args, "which_weights", None) != "trained"
        trained = load_model(args.weights, args.model, args.device, average=average)
    if getattr(args, "engine", "") is None:  # not given: an exported file runs as written
        auto = args.default_engine == "auto"
        args.engine = (
            "onnxruntime" if trained.onnx is not None and not auto else args.default_engine
        )
    prep = trained.image_preprocessing()
    if trained.note:
        note(f"{trained.path}: {trained.note}")
    if trained.preprocessing is None:
        note(
            f"{trained.path} records no preprocessing: using torchvision's ImageNet one "
            "(shorter side 256, centre 224, its channel mean and std)"
        )
    if not trained.classes_named:
        note(f"{trained.path} names no classes: classes are shown as indices")
    return trained, prep


def note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def _show_engine_choice() -> None:
    """The engine that ``auto`` chose, and the figures it chose by, as a note."""
    log = logging.getLogger("deepres.engine")
    if not any(isinstance(h, _Note) for h in log.handlers):
        log.addHandler(_Note())
        log.setLevel(logging.INFO)
        log.propagate = False


class _Note(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        note(record.getMessage())  # sys.stderr as it is now, not as it was when installed
