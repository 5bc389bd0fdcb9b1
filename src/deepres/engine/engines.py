"""``open_engine``: a network ready to run on batches, in the engine asked for or, with
``auto``, in the one measured faster on this machine at start-up."""

from __future__ import annotations

import logging
import statistics
import time

import numpy as np
import torch
from torch import nn

from deepres.errors import UsageError
from deepres.extras import available, require

from .onnx import FEATURES_NAME, INPUT_NAME, OUTPUT_NAME, onnx_bytes

ENGINES = ("auto", "torch", "onnxruntime")
OUTPUTS = ("logits", "scores", "features")
TRACE_BATCH = 2  # the ONNX graph is traced at another batch size than 1: the batch stays free
TIMED_ROUNDS = 5  # auto: alternating timed calls per engine; the median of each is compared

log = logging.getLogger("deepres.engine")


class Outputs(nn.Module):
    """What the network gives: logits, softmax scores (the paper's "scores" that multi-view
    testing averages), or the pooled features the classifier reads (``pre_logits``)."""

    def __init__(self, model: nn.Module, output: str):
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"unknown network output {output!r}; choose from {OUTPUTS}")
        self.model, self.output = model, output

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.output == "features":
            return self.model.forward_head(self.model.forward_features(images), pre_logits=True)
        logits = self.model(images)
        return logits.softmax(dim=1) if self.output == "scores" else logits


class Engine:
    """Float32 (N, C, H, W) images on the CPU in, float32 (N, D) outputs on the CPU out."""

    name = ""
    choice = ""  # how the engine was chosen, in words (auto: the figures measured)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class TorchEngine(Engine):
    """Eager PyTorch in eval mode, channels_last as in training (the faster layout on GPUs; on
    the 2-core development CPU inference measured as fast either way: bench_infer.py)."""

    name = "torch"

    def __init__(self, network: nn.Module, device: torch.device | str):
        self.device = torch.device(device)
        self.network = network.eval().to(self.device, memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device).contiguous(memory_format=torch.channels_last)
        return self.network(images).float().cpu()


class OnnxEngine(Engine):
    """onnxruntime on the CPU, on as many threads as PyTorch uses, running an ONNX graph held
    in memory: one converted from the network (nothing is written to disk), or an exported
    file's. Takes images of the graph's size only."""

    name = "onnxruntime"

    def __init__(
        self,
        graph: bytes,
        image_shape: tuple[int, int, int],
        name: str = "",
        output: str | None = None,
    ):
        """``output``: for an exported file's graph, which of ``OUTPUTS`` to give (its
        logits, their softmax, or its features); None: the graph's first output as it is."""
        require("export", "the onnxruntime engine")
        self.image_shape = tuple(image_shape)
        self.name = name or self.name
        self.session = onnx_session(graph)
        self.fetch = [FEATURES_NAME if output == "features" else OUTPUT_NAME] if output else None
        if output == "features" and FEATURES_NAME not in {
            o.name for o in self.session.get_outputs()
        }:
            raise UsageError(
                "this ONNX model gives logits only, not the features embed needs; export "
                "it with --int8 (which adds them), or give the weights it was exported from"
            )
        self.softmax = output == "scores"

    @classmethod
    def of_network(cls, network: nn.Module, image_shape: tuple[int, int, int]) -> OnnxEngine:
        sample = torch.zeros(TRACE_BATCH, *image_shape)
        return cls(onnx_bytes(network.float().cpu().eval(), sample), image_shape)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if tuple(images.shape[1:]) != self.image_shape:
            raise UsageError(
                f"the {self.name} engine takes {self.image_shape} images, not "
                f"{tuple(images.shape[1:])}; use the torch engine"
            )
        x = np.ascontiguousarray(images.detach().cpu().numpy(), dtype=np.float32)
        out = torch.from_numpy(self.session.run(self.fetch, {INPUT_NAME: x})[0])
        return out.softmax(dim=1) if self.softmax else out


def onnx_session(graph: bytes):
    """An onnxruntime session of ``graph`` on the CPU, on as many threads as PyTorch uses."""
    import onnxruntime  # imported here: a second or two, and only these engines need it

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    # Its threads would otherwise spin for a while after each run, taking the CPU from
    # whatever runs next: request decoding, the event loop, auto's timing of torch.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def open_engine(
    model: nn.Module | None,
    output: str = "scores",
    engine: str = "torch",
    *,
    image_shape: tuple[int, int, int] | None = None,
    batch: int = 64,
    device: torch.device | str = "cpu",
    one_size: bool = True,
    exported: tuple[bytes, str] | None = None,
) -> Engine:
    """``model``'s ``output`` in ``engine``. ``image_shape`` (C, H, W) is what it will be fed,
    in batches of up to ``batch`` (``auto`` times the engines on such a batch);
    ``one_size=False``: images of several sizes (multi-scale views), which only torch takes.
    ``exported``: (graph, engine name) of an exported ONNX file to run instead; ``model`` is
    then the float network it was made from, or None."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine != "torch" and image_shape is None:
        raise UsageError(f"the {engine} engine needs the image shape it will be fed")
    on_cpu = torch.device(device).type == "cpu"
    if exported is not None:
        return _exported_engine(
            exported, model, output, engine, image_shape, batch, on_cpu, one_size
        )
    network = Outputs(model, output)
    if engine == "onnxruntime":
        _check_onnxruntime_can(on_cpu, one_size, device)
        return _chosen(OnnxEngine.of_network(network, image_shape), "onnxruntime (as asked)")
    if engine == "torch":
        return _chosen(TorchEngine(network, device), "torch (as asked)", quiet=True)
    if not on_cpu or not one_size or not available("export"):
        why = (
            "runs on the CPU only"
            if not on_cpu
            else "takes one image size only"
            if not one_size
            else "is not installed: pip install 'deepres[export]'"
        )
        return _chosen(TorchEngine(network, device), f"torch (auto: onnxruntime {why})")
    candidates = [OnnxEngine.of_network(network, image_shape), TorchEngine(network, "cpu")]
    return _fastest(candidates, image_shape, batch)


def _exported_engine(exported, model, output, engine, image_shape, batch, on_cpu, one_size):
    """An exported ONNX file in onnxruntime; with ``auto`` and its float network at hand,
    timed against the float engines, the fastest kept."""
    graph, name = exported
    if engine == "torch":
        raise UsageError(
            "an exported ONNX model runs in onnxruntime, not torch; use --engine onnxruntime "
            "or auto, or give the weights it was exported from"
        )
    _check_onnxruntime_can(on_cpu, one_size, "that device")
    own = OnnxEngine(graph, image_shape, name=name, output=output)
    if engine == "onnxruntime":
        return _chosen(own, f"{name} (the exported file, as asked)")
    if model is None:
        return _chosen(
            own, f"{name} (auto: the exported file; the float weights it names are not at hand)"
        )
    network = Outputs(model, output)
    candidates = [own, OnnxEngine.of_network(network, image_shape), TorchEngine(network, "cpu")]
    return _fastest(candidates, image_shape, batch)


def _check_onnxruntime_can(on_cpu: bool, one_size: bool, device) -> None:
    if not on_cpu:
        raise UsageError(
            f"the onnxruntime engine runs on the CPU only, not on {device}; "
            "use --engine torch or --device cpu"
        )
    if not one_size:
        raise UsageError(
            "the onnxruntime engine takes the network's own image size only; "
            "use --engine torch for multi-scale views"
        )


def _chosen(engine: Engine, choice: str, quiet: bool = False) -> Engine:
    engine.choice = choice
    if not quiet:
        log.info("engine: %s", choice)
    return engine


def _fastest(candidates: list[Engine], image_shape: tuple[int, int, int], batch: int) -> Engine:
    """The engines timed on one random batch, calls alternating; the fastest median wins."""
    images = torch.randn(batch, *image_shape)
    times: dict[Engine, list[float]] = {engine: [] for engine in candidates}
    for engine in times:
        engine(images)  # warm-up: first calls allocate and pick kernels
    for _ in range(TIMED_ROUNDS):
        for engine, seconds in times.items():
            start = time.perf_counter()
            engine(images)
            seconds.append(time.perf_counter() - start)
    median = {engine: statistics.median(seconds) for engine, seconds in times.items()}
    chosen, *others = sorted(median, key=median.get)
    against = ", ".join(
        f"{other.name}'s {1e3 * median[other]:.1f} ms ({median[other] / median[chosen]:.2f}x)"
        for other in others
    )
    return _chosen(
        chosen,
        f"{chosen.name} (auto: {1e3 * median[chosen]:.1f} ms per batch of {batch} against "
        f"{against}, medians of {TIMED_ROUNDS} calls)",
    )
