"""The export formats: how to write a network in each, and how to run what was written.

Every format takes float32 (N, C, H, W) images, N free, and gives (N, classes) logits.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from deepres.engine.onnx import INPUT_NAME, OUTPUT_NAME, onnx_bytes, quiet_exporters
from deepres.extras import require
from deepres.weights import UnnamedClasses, load_model, save_weights


def write_onnx(model: nn.Module, sample: torch.Tensor, path: Path, info: dict) -> None:
    """ONNX with a dynamic batch dimension, all weights inside the one file."""
    path.write_bytes(onnx_bytes(model, sample))


def run_onnx(path: Path, images: torch.Tensor) -> np.ndarray:
    require("export", "checking an ONNX export")
    import onnxruntime  # imported here: a second or two, and only this format needs it

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: images.numpy()})[0]


def write_torchscript(model: nn.Module, sample: torch.Tensor, path: Path, info: dict) -> None:
    """A traced TorchScript module: nothing in the forward pass depends on the batch size."""
    with quiet_exporters():
        torch.jit.trace(model, sample).save(str(path))


def run_torchscript(path: Path, images: torch.Tensor) -> np.ndarray:
    with quiet_exporters(), torch.inference_mode():
        return torch.jit.load(str(path), map_location="cpu")(images).numpy()


def write_safetensors(model: nn.Module, sample: torch.Tensor, path: Path, info: dict) -> None:
    """The weights, with the network's name, classes and preprocessing in the metadata."""
    save_weights(path, model.state_dict(), info)


def run_safetensors(path: Path, images: torch.Tensor) -> np.ndarray:
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UnnamedClasses)  # the export says so itself
        return load_model(path).model(images).numpy()


FORMATS = {
    "onnx": (write_onnx, run_onnx, "onnxruntime"),
    "torchscript": (write_torchscript, run_torchscript, "torch.jit.load"),
    "safetensors": (write_safetensors, run_safetensors, "deepres.weights.load_model"),
}
SUFFIXES = {
    ".onnx": "onnx",
    ".ts": "torchscript",
    ".torchscript": "torchscript",
    ".safetensors": "safetensors",
}
