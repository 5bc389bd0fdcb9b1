"""Small image files made on the spot, for the data tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path, size=(32, 32), color=None, mode="RGB", fmt=None, seed=0) -> Path:
    """A small image file: random pixels, or one ``color``; ``fmt`` from the suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    if color is None:
        pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
        image = Image.fromarray(pixels)
    else:
        image = Image.new("RGB", size, color)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, format=fmt)
    return path


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, raw: bytes) -> bytes:
    """A PNG written by hand, so its header can say anything (e.g. 100000 x 100000)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_folder(
    root,
    classes=("cat", "dog"),
    per_class=3,
    splits=("train", "test"),
    size=(32, 32),
    suffix=".png",
) -> Path:
    """root/<split>/<class>/<n><suffix>, each image one colour that encodes (class, n)."""
    root = Path(root)
    for split in splits:
        for c, name in enumerate(classes):
            for n in range(per_class):
                write_image(
                    root / split / name / f"{n}{suffix}", size, color=(40 * c + 10, 5 * n, 200)
                )
    return root
