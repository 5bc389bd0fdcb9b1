"""How a folder's JPEG files were compressed, measured from the files themselves.

A JPEG carries its quantisation tables; libjpeg (IJG) derives them from one "quality" number,
so a file whose luminance table is libjpeg's for some quality was saved at that quality. The
chroma subsampling (4:4:4, 4:2:2, 4:2:0) is in the frame header. PIL reads both without
decoding the pixels. ``data_note`` says it in words, for the reproduction's report and the
model card of shipped weights.
"""

from __future__ import annotations

import io
from collections import Counter
from functools import lru_cache

import numpy as np
from PIL import Image, JpegImagePlugin

_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}


@lru_cache(maxsize=1)
def _libjpeg_tables() -> dict[tuple[int, ...], int]:
    """{luminance table: quality} for qualities 1-100, from PIL's own libjpeg encoder (so the
    tables are in the order PIL reads them back)."""
    tables = {}
    for quality in range(1, 101):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "JPEG", quality=quality)
        with Image.open(buffer) as im:
            tables.setdefault(tuple(im.quantization[0]), quality)
    return tables


def jpeg_settings(path: str) -> tuple[str, str]:
    """(quality, subsampling) of one JPEG file: ("75", "4:2:0"), or "custom tables" where
    the file's luminance table is not libjpeg's for any quality; raises OSError if unreadable."""
    with Image.open(path) as im:
        if im.format != "JPEG":
            raise OSError(f"{path}: not a JPEG file")
        table = tuple(im.quantization[0]) if im.quantization else ()
        subsampling = _SUBSAMPLING.get(JpegImagePlugin.get_sampling(im), "other")
    quality = _libjpeg_tables().get(table)
    return ("custom tables" if quality is None else str(quality)), subsampling


def measure_jpegs(files: list[str], sample: int = 100) -> str | None:
    """A phrase on the compression of up to ``sample`` JPEGs spread over ``files``, e.g.
    "libjpeg quality 75 (its quantisation tables) with 4:2:0 chroma subsampling in 100 of 100
    sampled JPEG files"; None when none of them can be read."""
    picks = np.unique(np.linspace(0, len(files) - 1, min(sample, len(files))).round())
    found = Counter()
    for i in picks.astype(int):
        try:
            found[jpeg_settings(files[i])] += 1
        except OSError:
            continue
    total = sum(found.values())
    if not total:
        return None
    parts = [
        f"{_quality_words(q)} with {s} chroma subsampling in {n} of {total}"
        for (q, s), n in found.most_common()
    ]
    return "; ".join(parts) + " sampled JPEG files"


def _quality_words(quality: str) -> str:
    if quality == "custom tables":
        return "quantisation tables of no libjpeg quality"
    return f"libjpeg quality {quality} (its quantisation tables)"


def data_note(spec: str, files: list[str]) -> str:
    """Where the images come from; for JPEG files (``files``: the training images), their
    compression as measured from the files."""
    if spec == "cifar10":
        return "The official CIFAR-10 release (lossless), as in the paper."
    jpegs = [f for f in files if f.lower().endswith((".jpg", ".jpeg"))]
    if not jpegs:
        return f"Images from the folder {spec} (no JPEG files among the training images)."
    share = f"{len(jpegs):,} of the {len(files):,} training images in {spec} are JPEG files"
    measured = measure_jpegs(jpegs)
    how = (
        f"measured from their headers: {measured}"
        if measured
        else "their compression could not be read"
    )
    return (
        f"{share}; {how}. Lossy compression costs some accuracy against the paper's "
        "lossless CIFAR-10; no number here is adjusted for it."
    )
