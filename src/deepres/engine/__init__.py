"""Running a trained network: eagerly in PyTorch, or in onnxruntime from an ONNX graph made in
memory, with ``auto`` measuring both at start-up and keeping the faster.

Every engine takes a float32 (N, C, H, W) batch on the CPU and gives float32 outputs on the
CPU: logits, softmax scores, or the globally pooled features the classifier reads.

Imports models only (see docs/design.md, "Layers"); evaluate, export and serve use it.
"""

from .engines import ENGINES, OUTPUTS, Engine, OnnxEngine, onnx_session, open_engine
from .onnx import FEATURES_NAME, INPUT_NAME, OUTPUT_NAME, onnx_bytes, quiet_exporters

__all__ = [
    "ENGINES",
    "OUTPUTS",
    "Engine",
    "OnnxEngine",
    "onnx_session",
    "open_engine",
    "FEATURES_NAME",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "onnx_bytes",
    "quiet_exporters",
]
