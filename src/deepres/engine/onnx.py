"""A network as an ONNX graph in memory: the one conversion that `deepres export` writes to a
file and the onnxruntime engine runs."""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import warnings

import torch
from torch import nn

from deepres.extras import require

INPUT_NAME, OUTPUT_NAME = "images", "logits"
FEATURES_NAME = "features"  # the pooled features the classifier reads, where a graph has them


def onnx_bytes(
    model: nn.Module, sample: torch.Tensor, output_names: tuple[str, ...] = (OUTPUT_NAME,)
) -> bytes:
    """``model`` as a serialised ONNX model with a dynamic batch dimension and all weights
    inside; the other dimensions are those of ``sample``. ``output_names``: one per output
    of ``model``, in order."""
    require("export", "ONNX export")
    options = dict(
        input_names=[INPUT_NAME],
        output_names=list(output_names),
        dynamic_axes={INPUT_NAME: {0: "batch"}, **{name: {0: "batch"} for name in output_names}},
    )
    with quiet_exporters():
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            # torch >= 2.5: the torch.export-based exporter (the default from 2.9).
            program = torch.onnx.export(model, (sample,), dynamo=True, verbose=False, **options)
            return program.model_proto.SerializeToString()
        buffer = io.BytesIO()
        torch.onnx.export(model, (sample,), buffer, opset_version=17, **options)
        return buffer.getvalue()


@contextlib.contextmanager
def quiet_exporters():
    """The exporters' chatter (tracer warnings about our input-shape check, deprecation notes,
    torchvision-op registration) says nothing about this network; keep the output clean."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
