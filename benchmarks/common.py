"""What the benchmarks share: the CIFAR-10 JPEGs unpacked into a cache outside the repository."""

from __future__ import annotations

import os
import sys
import tarfile
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE = Path(os.environ.get("DEEPRES_BENCH_CACHE", Path.home() / ".cache" / "deepres-bench"))


def cifar10_jpeg_root() -> Path:
    """The folder with train/ and test/ (60,000 JPEGs), unpacked once from ../shared/data."""
    root = CACHE / "cifar10-jpeg"
    done = CACHE / ".cifar10-jpeg-unpacked"
    if done.exists():
        return root
    for split in ("train", "test"):
        archive = SHARED_DATA / f"cifar10-jpeg-{split}.tar.gz"
        if not archive.is_file():
            sys.exit(f"benchmark needs {archive} (the CIFAR-10 JPEGs); it is not there")
        print(f"unpacking {archive} into {CACHE} ...", file=sys.stderr)
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    done.touch()
    return root
