"""``export_model``: write a trained network in another format, run what was written on a
sample batch, compare with PyTorch, and write the preprocessing it expects beside it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepres.data import Preprocessing
from deepres.weights import TrainedModel

from .formats import FORMATS, INPUT_NAME, OUTPUT_NAME

TOLERANCE = 1e-4  # float32 logits; the export is refused at or above it
TRACE_BATCH, CHECK_BATCH = 2, 3  # checked on another batch size than traced: the batch is free
FORMAT = "deepres-export-1"


class ExportError(ValueError):
    """An export that does not compute what the network computes."""


@dataclass
class ExportResult:
    path: Path
    preprocessing_path: Path
    max_abs_diff: float
    checked_with: str


def export_model(trained: TrainedModel, prep: Preprocessing, fmt: str,
                 output: str | Path) -> ExportResult:
    """Write ``trained`` as ``fmt`` to ``output`` only if running the written file on a sample
    batch gives PyTorch's logits within TOLERANCE; the preprocessing goes to OUTPUT.json."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "safetensors" and Path(output).suffix != ".safetensors":
        raise ValueError(f"--output {output}: a safetensors file must end in .safetensors")
    write, run, checked_with = FORMATS[fmt]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model = trained.model.float().cpu().eval()
    check = sample_batch(prep, CHECK_BATCH, seed=1)
    with torch.inference_mode():
        expected = model(check).numpy()
    # Written under a temporary name, so that a failed export never stands at ``output``.
    partial = output.with_name(f".{output.stem}.partial{output.suffix}")
    try:
        write(model, sample_batch(prep, TRACE_BATCH, seed=0), partial, trained.info())
        got = run(partial, check)
        diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else np.inf
        if not diff < TOLERANCE:
            raise ExportError(f"the {fmt} export's logits differ from PyTorch's by {diff:.3g} "
                              f"(limit {TOLERANCE:g}; shapes {got.shape} and {expected.shape}); "
                              f"nothing was written to {output}")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    sidecar = output.with_name(output.name + ".json")
    description = describe(trained, prep, fmt, output, diff, checked_with)
    sidecar.write_text(json.dumps(description, indent=2) + "\n")
    return ExportResult(output, sidecar, diff, checked_with)


def sample_batch(prep: Preprocessing, n: int, seed: int) -> torch.Tensor:
    """``n`` random images at the network's size, normalised as real ones would be."""
    generator = torch.Generator().manual_seed(seed)
    shape = (n, prep.in_chans, prep.crop, prep.crop)
    pixels = torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8)
    return prep.normalizer("cpu")(pixels)


def describe(trained: TrainedModel, prep: Preprocessing, fmt: str, output: Path,
             diff: float, checked_with: str) -> dict:
    """What a program that loads the export needs to feed it and read its answer."""
    size = prep.crop
    return {
        "format": FORMAT,
        "file": output.name,
        "export_format": fmt,
        "model": trained.model_name,
        "classes": trained.classes,
        "input": {"name": INPUT_NAME, "dtype": "float32", "layout": "NCHW",
                  "shape": ["batch", prep.in_chans, size, size]},
        "output": {"name": OUTPUT_NAME, "shape": ["batch", len(trained.classes)],
                   "meaning": "class scores before softmax, in the order of 'classes'"},
        "preprocessing": {"steps": prep.steps(), **prep.to_dict()},
        "check": {"with": checked_with, "batch": CHECK_BATCH, "max_abs_diff": diff,
                  "limit": TOLERANCE},
    }

