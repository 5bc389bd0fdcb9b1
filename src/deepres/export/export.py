"""``export_model``: write a trained network in another format, run what was written on a
sample batch, compare with PyTorch, and write the preprocessing it expects beside it."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepres.atomic import os_error_in, staging_folder, write_error, write_together
from deepres.catalog import sha256_of
from deepres.data import Preprocessing
from deepres.errors import ExportError, UsageError
from deepres.weights import TrainedModel

from .formats import FORMATS, INPUT_NAME, OUTPUT_NAME, SUFFIXES

_SUFFIX = {fmt: suffix for suffix, fmt in reversed(SUFFIXES.items())}  # the first one listed

TOLERANCE = 1e-4  # float32 logits; the export is refused at or above it
TRACE_BATCH, CHECK_BATCH = 2, 3  # checked on another batch size than traced: the batch is free
FORMAT = "deepres-export-1"


@dataclass
class ExportResult:
    path: Path
    preprocessing_path: Path
    max_abs_diff: float
    checked_with: str


def export_model(
    trained: TrainedModel, prep: Preprocessing, fmt: str, output: str | Path
) -> ExportResult:
    """Write ``trained`` as ``fmt`` to ``output`` only if running the written file on a sample
    batch gives PyTorch's logits within TOLERANCE; the preprocessing goes to OUTPUT.json."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    output = Path(output)
    if output.is_dir():
        raise UsageError(
            f"--output {output} is a folder; name the file to write, e.g. "
            f"{output / (trained.model_name + _SUFFIX[fmt])}"
        )
    if fmt == "safetensors" and output.suffix != ".safetensors":
        raise UsageError(f"--output {output}: a safetensors file must end in .safetensors")
    if SUFFIXES.get(output.suffix, fmt) != fmt:
        raise UsageError(
            f"--output {output} names a {SUFFIXES[output.suffix]} file but --format is {fmt}; "
            f"end it in {_SUFFIX[fmt]} (or drop --format)"
        )
    write, run, checked_with = FORMATS[fmt]
    model = trained.model.float().cpu().eval()
    check = sample_batch(prep, CHECK_BATCH, seed=1)
    with torch.inference_mode():
        expected = model(check).numpy()
    # Written and checked in a private folder beside ``output`` (what a kill leaves there is
    # removed by the next export to ``output``); only a checked export is copied to a random
    # name beside ``output`` and renamed into place, after its description.
    with staging_folder(output) as private:
        staged = private / output.name
        try:
            write(model, sample_batch(prep, TRACE_BATCH, seed=0), staged, trained.info())
            got = run(staged, check)
        except Exception as err:
            cause = os_error_in(err)
            if cause is None:
                raise
            raise write_error(output, cause) from None
        diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else np.inf
        if not diff < TOLERANCE:
            raise ExportError(
                f"the {fmt} export's logits differ from PyTorch's by {diff:.3g} "
                f"(limit {TOLERANCE:g}; shapes {got.shape} and {expected.shape}); "
                f"nothing was written to {output}"
            )
        check = {
            "with": checked_with,
            "batch": CHECK_BATCH,
            "max_abs_diff": diff,
            "limit": TOLERANCE,
        }
        description = describe(trained, prep, fmt, output, sha256_of(staged), check)
        text = json.dumps(description, indent=2) + "\n"
        sidecar = output.with_name(output.name + ".json")
        write_together(
            [(sidecar, lambda f: f.write(text.encode())), (output, lambda f: _copy(staged, f))]
        )
    return ExportResult(output, sidecar, diff, checked_with)


def sample_batch(prep: Preprocessing, n: int, seed: int) -> torch.Tensor:
    """``n`` random images at the network's size, normalised as real ones would be."""
    generator = torch.Generator().manual_seed(seed)
    shape = (n, prep.in_chans, prep.crop, prep.crop)
    pixels = torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8)
    return prep.normalizer("cpu")(pixels)


def describe(
    trained: TrainedModel,
    prep: Preprocessing,
    fmt: str,
    output: Path,
    sha256: str,
    check: dict,
) -> dict:
    """What a program that loads the export needs to feed it and read its answer; ``check``:
    how the written file was checked."""
    size = prep.crop
    return {
        "format": FORMAT,
        "file": output.name,
        "sha256": sha256,  # of that file: tells whether the two belong together
        "export_format": fmt,
        "model": trained.model_name,
        "classes": trained.classes,
        "input": {
            "name": INPUT_NAME,
            "dtype": "float32",
            "layout": "NCHW",
            "shape": ["batch", prep.in_chans, size, size],
        },
        "output": {
            "name": OUTPUT_NAME,
            "shape": ["batch", len(trained.classes)],
            "meaning": "class scores before softmax, in the order of 'classes'",
        },
        "preprocessing": {"steps": prep.steps(), "decode": prep.decode(), **prep.to_dict()},
        "check": check,
    }


def _copy(source: Path, target) -> None:
    with open(source, "rb") as f:
        shutil.copyfileobj(f, target, 1 << 20)
