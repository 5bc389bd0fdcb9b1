"""Exporting a trained network to ONNX, TorchScript or safetensors, each export checked by
running it against PyTorch, with the preprocessing it expects written beside it as JSON.

Imports data, models and weights; never train or cli (see DESIGN.md, "Layers").
"""

from .export import TOLERANCE, ExportError, ExportResult, export_model, sample_batch
from .formats import FORMATS, SUFFIXES, run_onnx, write_onnx

__all__ = [
    "TOLERANCE",
    "ExportError",
    "ExportResult",
    "export_model",
    "sample_batch",
    "FORMATS",
    "SUFFIXES",
    "run_onnx",
    "write_onnx",
]
