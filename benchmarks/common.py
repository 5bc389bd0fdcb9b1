"""What the benchmarks share: the CIFAR-10 images (PNG or JPEG) unpacked into a cache outside the
repository."""

from __future__ import annotations

import os
import sys
import tarfile
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE = Path(os.environ.get("DEEPRES_BENCH_CACHE", Path.home() / ".cache" / "deepres-bench"))


def cifar10_root(kind: str) -> Path:
    """The folder with train/ and test/ (60,000 images) of the shared CIFAR-10 archives of
    ``kind`` ("png": the original images; "jpeg": the JPEG copy), unpacked once."""
    root = CACHE / f"cifar10-{kind}"
    done = CACHE / f".cifar10-{kind}-unpacked"
    if done.exists():
        return root
    for split in ("train", "test"):
        archive = SHARED_DATA / f"cifar10-{kind}-{split}.tar.gz"
        if not archive.is_file():
            sys.exit(
                f"benchmark needs {archive} (the CIFAR-10 {kind.upper()} images); it is not there"
            )
        print(f"unpacking {archive} into {CACHE} ...", file=sys.stderr)
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    done.touch()
    return root


def cifar10_jpeg_root() -> Path:
    """The CIFAR-10 JPEGs: what the speed benchmarks decode (JPEG decoding is a cost to measure)."""
    return cifar10_root("jpeg")
