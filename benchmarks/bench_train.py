"""Training speed: deepres against a plain PyTorch loop, same network, same data, same run.

The plain loop is the most common style: a Dataset that decodes and augments one JPEG at a
time, a DataLoader with worker processes, an eager loop in the default memory format. deepres
decodes the data set once into memory (cached), augments whole batches on the device and runs
the network in channels_last. Both train ResNet-20 with batch 128, SGD momentum 0.9, on the
50,000 CIFAR-10 training JPEGs. Prints images/s of each and their ratio; asserts nothing.

    .venv/bin/python benchmarks/bench_train.py [--steps 100] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from common import cifar10_jpeg_root
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from deepres.models import build_network
from deepres.runs import RunDir
from deepres.train import Recipe, TrainOptions, train

BATCH = 128
WARMUP_STEPS = 5


class JpegFolder(Dataset):
    """One image per __getitem__: decode, pad 4, random 32x32 crop, flip, normalise."""

    def __init__(self, root: Path):
        classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        self.items = [
            (f, c) for c, name in enumerate(classes) for f in sorted((root / name).iterdir())
        ]
        self.mean = np.array([0.491, 0.482, 0.447], dtype=np.float32)
        self.std = np.array([0.247, 0.243, 0.262], dtype=np.float32)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        path, label = self.items[i]
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
        image = np.pad(image, ((4, 4), (4, 4), (0, 0)))
        top, left = random.randint(0, 8), random.randint(0, 8)
        image = image[top : top + 32, left : left + 32]
        if random.random() < 0.5:
            image = image[:, ::-1]
        image = (image - self.mean) / self.std
        return torch.from_numpy(image.transpose(2, 0, 1).copy()), label


def plain_loop(root: Path, steps: int, device: torch.device, workers: int) -> float:
    torch.manual_seed(0)
    loader = DataLoader(
        JpegFolder(root / "train"),
        batch_size=BATCH,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        persistent_workers=workers > 0,
    )
    model = build_network("resnet20").to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model.train()
    for step, (images, labels) in enumerate(loader):
        if step == WARMUP_STEPS:
            _sync(device)
            start = time.perf_counter()
        if step == WARMUP_STEPS + steps:
            break
        images, labels = images.to(device), labels.to(device)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    _sync(device)
    return steps * BATCH / (time.perf_counter() - start)


def deepres_loop(root: Path, steps: int, device: torch.device, compile: bool, amp: str) -> dict:
    iterations = WARMUP_STEPS + steps
    recipe = Recipe(
        model="resnet20",
        data=str(root),
        batch_size=BATCH,
        iterations=iterations,
        milestones=[iterations],
        log_every=WARMUP_STEPS,
        eval_every=10**9,
        checkpoint_every=10**9,
        compile=compile,
        amp=amp,
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = train(recipe, TrainOptions(out=Path(tmp) / "run", device=str(device), quiet=True))
        wall = time.perf_counter() - start
        records = RunDir(Path(tmp) / "run").read_metrics()
    steady = [r for r in records if "train_loss" in r][1:]  # the first window holds the warm-up
    images = sum(r["images"] for r in steady)
    seconds = sum(r["seconds"] for r in steady)
    return {"images_per_s": images / seconds, "wall_s": wall, "test_error": summary.test_error}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps of each loop")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each loop")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=2, help="DataLoader workers of the plain loop"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true", help="torch.compile in deepres")
    parser.add_argument(
        "--amp",
        default="auto",
        choices=("auto", "bf16", "off"),
        help="deepres autocast (auto: bf16 on CUDA, none on CPU)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    root = cifar10_jpeg_root()
    print(
        f"ResNet-20, batch {BATCH}, {args.steps} timed steps after {WARMUP_STEPS} warm-up steps, "
        f"{device}, {args.threads} threads, torch {torch.__version__}, amp {args.amp}, "
        f"compile {args.compile}; {args.repeats} alternating runs of each"
    )
    ours, plain = [], []
    for _ in range(args.repeats):  # alternate, so that a noisy neighbour hits both loops
        run = deepres_loop(root, args.steps, device, args.compile, args.amp)
        ours.append(run["images_per_s"])
        plain.append(plain_loop(root, args.steps, device, args.workers))
        print(
            f"  deepres {ours[-1]:7,.0f} images/s (whole command {run['wall_s']:.1f} s)   "
            f"plain loop {plain[-1]:7,.0f} images/s",
            flush=True,
        )
    med_ours, med_plain = statistics.median(ours), statistics.median(plain)
    print(f"deepres     median {med_ours:7,.0f} images/s")
    print(
        f"plain loop  median {med_plain:7,.0f} images/s  "
        f"(Dataset + DataLoader({args.workers} workers) + eager)"
    )
    print(f"ratio of medians   {med_ours / med_plain:7.2f}x")


if __name__ == "__main__":
    main()
