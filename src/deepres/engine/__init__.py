"""Running a trained network: eagerly in PyTorch, or in onnxruntime from an ONNX graph made in
memory, with ``auto`` measuring both at start-up and keeping the faster.

Every engine takes a float32 (N, C, H, W) batch on the CPU and gives float32 outputs on the
CPU: logits, softmax scores, or the globally pooled features the classifier reads.

    engine = open_engine(trained.model, "scores", "auto", image_shape=(3, 32, 32))

ENGINES and OUTPUTS are the values ``open_engine`` takes; export imports the ONNX parts from
``deepres.engine.onnx``. Imports models only (see docs/design.md, "Layers"); evaluate, export
and serve use it.
"""

from .engines import ENGINES, OUTPUTS, Engine, open_engine

__all__ = ["open_engine", "Engine", "ENGINES", "OUTPUTS"]
