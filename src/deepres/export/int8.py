"""``export_int8``: a trained network as an INT8 ONNX model by static post-training
quantization in onnxruntime, written only when its top-1 error on held-out images is within
``max_drop`` of the float model's.

Why onnxruntime's quantizer, in QDQ format, with int8 weights per output channel and uint8
activations: onnxruntime fuses each QuantizeLinear/DequantizeLinear pair around a Conv into
one integer convolution, and its x86 kernels multiply uint8 activations by int8 weights (the
operand types of the VNNI instruction vpdpbusd). In a quick check on the shipped ResNet-20
(batch 128, one thread, the machine busy), uint8 activations ran 1.9x the float model and int8
activations slower than it (156 against 274 images/s), so uint8 it is. Per-channel weights:
per-tensor ones did not collapse here (the shipped ResNet-20, min-max, full test set: 12.85%
error against the float model's 12.80%), but per-channel scales cost nothing at run time and
keep the thin channels of networks whose filters differ widely in scale. The weights use a
7-bit range: on a CPU without VNNI (AVX2 only) onnxruntime multiplies with vpmaddubsw, whose
16-bit pair sums saturate with full-range weights; the shipped PNG ResNet-20 there lost 5.5
points with 8 bits (1,000 test images) and none with 7 (docs/using.md#int8).
The calibration method is a choice (``METHODS``), min-max by default: on the full CIFAR-10
JPEG test set (benchmarks/int8_accuracy.py), min-max lost 0.13, 0.09 and 0.17 points on the
shipped ResNet-20, ResNet-20 (fast) and ResNet-56, percentile 0.20, 0.18 and 0.19 (on 2,000
test images of ResNet-20 alone percentile had looked better: too few to tell).
PyTorch's quantizer (torch.ao) was not tried: its x86 backend runs eagerly or through
TorchScript, which none of deepres's engines serve.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from deepres.atomic import write_together
from deepres.catalog import sha256_of
from deepres.data import Preprocessing
from deepres.device import INT8_DOT_FLAGS, cpu_flags
from deepres.engine.engines import OnnxEngine
from deepres.engine.onnx import FEATURES_NAME, INPUT_NAME, OUTPUT_NAME, onnx_bytes, quiet_exporters
from deepres.errors import ExportError, UsageError
from deepres.weights import TrainedModel

from .export import TRACE_BATCH, describe, sample_batch

MAX_DROP = 0.003  # 0.3 point of top-1 error: the most an INT8 export may lose by default
CALIBRATION_IMAGES = 256
METHODS = ("minmax", "percentile", "entropy")  # the first is the default
CALIBRATION_BATCH = 32

# A network in an engine: float32 (N, C, H, W) images in, (N, classes) scores out.
Network = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Int8Result:
    path: Path
    preprocessing_path: Path
    float_error: float
    int8_error: float
    settings: dict


def export_int8(
    trained: TrainedModel,
    prep: Preprocessing,
    output: str | Path,
    calibration: torch.Tensor,
    top1_error: Callable[[Network], float],
    tested_on: dict,
    *,
    max_drop: float = MAX_DROP,
    method: str = METHODS[0],
) -> Int8Result:
    """Quantize ``trained`` with activation ranges from ``calibration`` (normalised images, as
    the network's training images were prepared), measure ``top1_error`` of the float and the
    INT8 model (``tested_on`` says on what: data, split, images), and write the INT8 model and
    its description only if it loses at most ``max_drop`` (a fraction)."""
    output = Path(output)
    if method not in METHODS:
        raise UsageError(f"unknown calibration method {method!r}; choose from {', '.join(METHODS)}")
    if output.is_dir():
        raise UsageError(
            f"--output {output} is a folder; name the file to write, e.g. "
            f"{output / (trained.model_name + '-int8.onnx')}"
        )
    _, version = _quantization_tools()
    model = _LogitsAndFeatures(trained.model.float().cpu().eval())
    names = (OUTPUT_NAME, FEATURES_NAME)  # features too: `deepres embed` runs the file
    float_graph = onnx_bytes(model, sample_batch(prep, TRACE_BATCH, seed=0), names)
    int8_graph = quantize(float_graph, calibration, method)
    image_shape = (prep.in_chans, prep.crop, prep.crop)
    try:
        int8_engine = OnnxEngine(int8_graph, image_shape, "onnxruntime-int8", output="logits")
    except Exception as err:  # onnxruntime's own errors: no kernel for an operator here
        raise ExportError(
            f"onnxruntime {version} cannot run the INT8 model of "
            f"{trained.model_name} on this CPU ({_first_line(err)}); export it in float "
            "(without --int8)"
        ) from None
    float_error = top1_error(OnnxEngine(float_graph, image_shape, output="logits"))
    int8_error = top1_error(int8_engine)
    where = f"{tested_on['data']} ({tested_on['split']} split, {tested_on['images']:,} images)"
    if over_the_bound(float_error, int8_error, max_drop):
        raise ExportError(
            f"the INT8 model of {trained.model_name} has {100 * int8_error:.2f}% top-1 error "
            f"on {where} against the float model's {100 * float_error:.2f}%, "
            f"{100 * (int8_error - float_error):.2f} points worse (limit "
            f"{100 * max_drop:.2f}); nothing was written to {output}. Export it in float, "
            "or allow more with --max-drop POINTS"
        )
    settings = {
        "quantizer": f"onnxruntime {version} quantize_static",
        "format": "QDQ",
        "weights": "int8 with 7-bit range, symmetric, per output channel",
        "activations": "uint8, per tensor",
        "calibration": {
            "method": method,
            "images": len(calibration),
            "data": tested_on["data"],
            "split": "train",
        },
    }
    check = {
        "with": "onnxruntime",
        "tested_on": tested_on,
        "float_top1_error": float_error,
        "int8_top1_error": int8_error,
        "max_drop": max_drop,
    }
    description = describe(trained, prep, "onnx", output, _sha256(int8_graph), check)
    description["output"]["extra"] = {
        "name": FEATURES_NAME,
        "shape": ["batch", trained.model.num_features],
        "meaning": "the globally pooled features the classifier reads",
    }
    description["int8"] = settings
    description["recipe"] = trained.recipe
    # The float weights it was made from, for `--engine auto` to time it against them.
    description["exported_from"] = {
        "weights": str(trained.path.resolve()),
        "sha256": sha256_of(trained.path),
    }
    text = json.dumps(description, indent=2) + "\n"
    sidecar = output.with_name(output.name + ".json")
    write_together(
        [(sidecar, lambda f: f.write(text.encode())), (output, lambda f: f.write(int8_graph))]
    )
    return Int8Result(output, sidecar, float_error, int8_error, settings)


def over_the_bound(float_error: float, int8_error: float, max_drop: float) -> bool:
    """Whether the INT8 model lost more than ``max_drop``. The errors are image counts as
    fractions, and their difference is not exact: 1,407/10,000 - 1,377/10,000 comes out
    3e-18 above 0.003, which refused a drop of exactly the bound (plain56-cifar10, 0.30
    points); the tolerance is far below one image's share of any test set."""
    return int8_error - float_error > max_drop + 1e-12


def quantize(float_graph: bytes, calibration: torch.Tensor, method: str) -> bytes:
    """``float_graph`` quantized statically: weights per output channel, activations by the
    ranges ``method`` finds in ``calibration``. The quantizer reads and writes files, so it
    works in a private temporary folder."""
    quantization, version = _quantization_tools()
    from onnxruntime.quantization import shape_inference

    methods = {
        "percentile": quantization.CalibrationMethod.Percentile,
        "minmax": quantization.CalibrationMethod.MinMax,
        "entropy": quantization.CalibrationMethod.Entropy,
    }
    with tempfile.TemporaryDirectory(prefix="deepres-int8-") as private:
        folder = Path(private)
        (folder / "float.onnx").write_bytes(float_graph)
        # The quantizer prints its progress and warns about what it leaves in float.
        try:
            with contextlib.redirect_stdout(io.StringIO()), quiet_exporters():
                # Folds constants and infers shapes first, as onnxruntime asks before quantizing.
                shape_inference.quant_pre_process(folder / "float.onnx", folder / "prepared.onnx")
                quantization.quantize_static(
                    folder / "prepared.onnx",
                    folder / "int8.onnx",
                    _Batches(calibration),
                    quant_format=quantization.QuantFormat.QDQ,
                    per_channel=True,
                    activation_type=quantization.QuantType.QUInt8,
                    weight_type=quantization.QuantType.QInt8,
                    calibrate_method=methods[method],
                    # 7-bit weights: x86 CPUs without VNNI multiply uint8 by int8 with
                    # vpmaddubsw, whose 16-bit sums of pairs saturate with 8-bit weights.
                    reduce_range=True,
                )
        except Exception as err:  # the quantizer's own errors, of many kinds
            raise ExportError(
                f"onnxruntime {version} cannot quantize this network "
                f"({_first_line(err)}); export it in float (without --int8)"
            ) from None
        return (folder / "int8.onnx").read_bytes()


def int8_support_note(flags: set[str] | None = None) -> str | None:
    """A line to show where INT8 runs on this CPU without fast int8 dot products, else None;
    ``flags``: the CPU's (default: this machine's)."""
    flags = cpu_flags() if flags is None else flags
    if flags is None:
        return "cannot read this CPU's flags (/proc/cpuinfo): INT8 may run no faster than float"
    if flags.intersection(INT8_DOT_FLAGS) or "asimddp" in flags:  # asimddp: Arm's
        return None
    return (
        f"this CPU has none of {', '.join(INT8_DOT_FLAGS)}: onnxruntime runs INT8 on it with "
        "older instructions, which may be no faster than float"
    )


class _LogitsAndFeatures(nn.Module):
    """The network's logits and the pooled features they are computed from, in one pass."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.model.forward_head(self.model.forward_features(images), pre_logits=True)
        return self.model.get_classifier()(features), features


class _Batches:
    """onnxruntime's CalibrationDataReader protocol: one input dict per call, None at the end."""

    def __init__(self, images: torch.Tensor):
        self._batches = iter(
            {INPUT_NAME: np.ascontiguousarray(b.numpy(), dtype=np.float32)}
            for b in images.split(CALIBRATION_BATCH)
        )

    def get_next(self):
        return next(self._batches, None)


def check_int8_tools() -> None:
    """Refuse, in one line, an onnxruntime that cannot quantize."""
    _quantization_tools()


def _quantization_tools():
    """onnxruntime's quantization package (it needs the onnx package) and onnxruntime's version."""
    try:
        import onnxruntime
        from onnxruntime import quantization
    except ImportError as err:
        raise ExportError(
            f"--int8 needs onnxruntime with its quantization tools ({err}); install the "
            "versions in constraints.txt (bash scripts/setup.sh)"
        ) from None
    return quantization, onnxruntime.__version__


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
