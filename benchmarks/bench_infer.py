"""CPU inference speed: PyTorch eager against the exported ONNX model in onnxruntime, float
and INT8.

ResNet-20 at 32x32 and ResNet-50 at 224x224, in one process, with the same number of threads
for every engine (default 2): PyTorch eager in the default memory format, PyTorch eager in
channels_last (as `deepres eval/predict` run it), and the model written by `deepres export
--format onnx` (deepres.export.formats.write_onnx) in onnxruntime. Rounds alternate between
the engines so that a busy moment of the machine falls on all of them alike; prints every round's
images/s and the medians, and the CPU's flags that decide INT8 speed (avx512_vnni, amx_int8...).
The weights are random: speed does not depend on them. Asserts nothing.

    .venv/bin/python benchmarks/bench_infer.py [--threads 2] [--rounds 3] [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import onnxruntime
import torch

from deepres.device import INT8_DOT_FLAGS, cpu_description, cpu_flags
from deepres.export.formats import write_onnx
from deepres.export.int8 import quantize
from deepres.models import build_network

CASES = (("resnet20", 32, 128), ("resnet50", 224, 16))  # model, input side, batch


def eager(model: torch.nn.Module, memory_format: torch.memory_format):
    model = model.to(memory_format=memory_format)

    def run(images: torch.Tensor) -> None:
        with torch.inference_mode():
            model(images.contiguous(memory_format=memory_format))

    return run


def onnx_session(
    model: torch.nn.Module, sample: torch.Tensor, folder: Path, threads: int, int8: bool = False
):
    path = folder / "model.onnx"
    write_onnx(model, sample[:2], path, {})
    if int8:  # calibrated on a few random batches of the benchmark's image size
        calibration = torch.randn(64, *sample.shape[1:])
        path.write_bytes(quantize(path.read_bytes(), calibration, "minmax"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(images: torch.Tensor) -> None:
        session.run(None, {"images": images.numpy()})

    return run


def images_per_second(run, images: torch.Tensor, seconds: float) -> float:
    run(images)  # warm-up: first-call allocations and kernel choices
    done, start = 0, time.perf_counter()
    while done < 2 * len(images) or time.perf_counter() - start < seconds:
        run(images)
        done += len(images)
    return done / (time.perf_counter() - start)


def int8_flags() -> str:
    """The CPU's int8 dot-product flags, as /proc/cpuinfo lists them."""
    flags = cpu_flags() or set()
    wanted = (*INT8_DOT_FLAGS, "avx512f", "avx2", "asimddp")
    found = [flag for flag in wanted if flag in flags]
    return ", ".join(found) if found else "none of " + ", ".join(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per engine and round")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, "
        f"{args.threads} threads, {args.rounds} rounds of {args.seconds:g} s per engine"
    )
    print(f"CPU: {cpu_description()}; int8 flags: {int8_flags()}")
    with tempfile.TemporaryDirectory() as folder:
        for name, side, batch in CASES:
            torch.manual_seed(0)
            model = build_network(name).eval()
            images = torch.randn(batch, 3, side, side)
            engines = {
                "eager (NCHW)": eager(model, torch.contiguous_format),
                "eager (channels_last)": eager(model, torch.channels_last),
                "onnxruntime": onnx_session(model, images, Path(folder), args.threads),
                "onnxruntime INT8": onnx_session(
                    model, images, Path(folder), args.threads, int8=True
                ),
            }
            rates = {engine: [] for engine in engines}
            for _ in range(args.rounds):
                for engine, run in engines.items():
                    rates[engine].append(images_per_second(run, images, args.seconds))
            print(f"\n{name}, {side}x{side}, batch {batch}")
            for engine, values in rates.items():
                rounds = ", ".join(f"{v:,.1f}" for v in values)
                print(
                    f"  {engine:<22} median {statistics.median(values):>9,.1f} images/s"
                    f"   (rounds: {rounds})"
                )
            best_eager = max(statistics.median(rates[e]) for e in engines if e.startswith("eager"))
            ratio = statistics.median(rates["onnxruntime"]) / best_eager
            print(f"  onnxruntime / faster eager: {ratio:.2f}x")
            int8 = statistics.median(rates["onnxruntime INT8"])
            print(
                f"  onnxruntime INT8 / onnxruntime: {int8 / statistics.median(rates['onnxruntime']):.2f}x"
            )


if __name__ == "__main__":
    main()
