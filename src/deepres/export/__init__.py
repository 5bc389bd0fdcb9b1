"""Exporting a trained network to ONNX (float or INT8), TorchScript or safetensors, each export
checked by running it against PyTorch, with the preprocessing it expects written beside it as
JSON.

FORMATS and METHODS are the values ``export_model`` and ``export_int8`` take; deepres's own
modules import the rest from ``deepres.export.export``, ``.formats`` and ``.int8``. Imports
data, models, weights and engine; never train or cli (see docs/design.md, "Layers").

The guide: docs/using.md (export, INT8).
"""

from .export import ExportError, ExportResult, export_model
from .formats import FORMATS
from .int8 import METHODS, Int8Result, export_int8

__all__ = [
    "export_model",
    "ExportResult",
    "FORMATS",
    "export_int8",
    "Int8Result",
    "METHODS",
    "ExportError",
]
