"""How fast the input pipeline is, next to how fast ResNet-20 trains, on this machine.

    .venv/bin/python benchmarks/bench_data.py

Prints figures; asserts nothing about time. Uses the real CIFAR-10 JPEGs of
../shared/data (unpacked once into ~/.cache/deepres-bench, outside the repository):

1. first decode of the 60,000 JPEGs (train + test) into a temporary cache folder;
2. start-up from that cache, in this process and in a fresh one (imports included);
3. images/s of CIFAR-10 training batches (128, pad-crop-flip, per-pixel mean) on the CPU;
4. images/s that ResNet-20 consumes in training (forward, backward, SGD step; batch 128);
and the ratio of 3 to 4: the target is at least 10, i.e. input under 10% of a step.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import cifar10_jpeg_root

from deepres.data import BatchLoader, open_source
from deepres.models import build_network

BATCH = 128


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def fresh_process_start(root: Path, cache_dir: str) -> float:
    code = (
        "import time; t = time.perf_counter(); from deepres.data import open_source; "
        f"open_source({str(root)!r}, cache_dir={cache_dir!r}); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def pipeline_rate(splits, epochs: int) -> float:
    loader = BatchLoader(splits.train, BATCH, train=True, augment="cifar", normalize="pixel_mean")
    next(iter(loader))  # the first batch pays for one-off set-up
    loader.set_epoch(0)
    count, start = 0, time.perf_counter()
    for _ in range(epochs):
        for images, _ in loader:
            count += len(images)
    return count / (time.perf_counter() - start)


def resnet20_rate(steps: int) -> float:
    torch.manual_seed(0)
    model = build_network("resnet20")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    images, labels = torch.randn(BATCH, 3, 32, 32), torch.randint(0, 10, (BATCH,))

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()  # warm-up: allocator, kernels
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2, help="pipeline epochs to time")
    parser.add_argument("--steps", type=int, default=30, help="ResNet-20 steps to time")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = cifar10_jpeg_root()
    print(f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} cores, data {root}")

    with tempfile.TemporaryDirectory(prefix="deepres-bench-cache-") as cache_dir:
        splits, first = timed(lambda: open_source(str(root), cache_dir=cache_dir))
        _, cached = timed(lambda: open_source(str(root), cache_dir=cache_dir))
        fresh = fresh_process_start(root, cache_dir)
        count = len(splits.train) + len(splits.test)
        print(f"first decode, {count:,} JPEGs: {first:8.2f} s ({count / first:,.0f} img/s)")
        print(f"cached start-up, same process: {cached:8.2f} s")
        print(f"cached start-up, fresh process: {fresh:7.2f} s (imports included)")
        data = pipeline_rate(splits, args.epochs)
    net = resnet20_rate(args.steps)
    print(
        f"pipeline, CIFAR-10 train batches of {BATCH} (pad-crop-flip + pixel mean), CPU: "
        f"{data:9,.0f} img/s"
    )
    print(
        f"ResNet-20 training step (forward+backward+SGD), batch {BATCH}, CPU:          "
        f"{net:9,.0f} img/s"
    )
    print(
        f"ratio pipeline / network: {data / net:.1f}x (target >= 10x; input is "
        f"{100 * net / data:.1f}% of a step)"
    )


if __name__ == "__main__":
    main()
