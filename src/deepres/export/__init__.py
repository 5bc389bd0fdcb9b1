"""Exporting a trained network to ONNX (float or INT8), TorchScript or safetensors, each export
checked by running it against PyTorch, with the preprocessing it expects written beside it as
JSON.

Imports data, models and weights; never train or cli (see docs/design.md, "Layers").
"""

from .export import TOLERANCE, ExportError, ExportResult, export_model, sample_batch
from .formats import FORMATS, SUFFIXES, run_onnx, write_onnx
from .int8 import (
    CALIBRATION_IMAGES,
    MAX_DROP,
    METHODS,
    Int8Result,
    check_int8_tools,
    export_int8,
    int8_support_note,
)

__all__ = [
    "TOLERANCE",
    "ExportError",
    "ExportResult",
    "export_model",
    "sample_batch",
    "CALIBRATION_IMAGES",
    "MAX_DROP",
    "METHODS",
    "Int8Result",
    "check_int8_tools",
    "export_int8",
    "int8_support_note",
    "FORMATS",
    "SUFFIXES",
    "run_onnx",
    "write_onnx",
]
