"""A copy of a JPEG image folder with one more round of JPEG compression (for maintainers; the
JPEG-cost estimate of issue 10).

    .venv/bin/python scripts/recompress_jpegs.py SRC DST [--quality 75]

Every ``*.jpg``/``*.jpeg`` under SRC is decoded and saved again under DST at the same relative
path, at libjpeg quality ``--quality`` with 4:2:0 chroma subsampling (how the CIFAR-10 JPEGs in
../shared/data were made). Training the same short run on SRC and on DST measures what one more
round costs, a handle on what the first round (from the lossless originals) costs.
Prints the images written and the mean PSNR of the copies against the originals. DST must not
exist yet, so that a finished copy is never mixed with a half-written one.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

SUFFIXES = {".jpg", ".jpeg"}


def recompressed(path: Path, quality: int) -> tuple[bytes, float]:
    """(the image at ``path`` saved again as JPEG, its squared error per pixel value)."""
    with Image.open(path) as im:
        original = im.convert("RGB")
    buffer = io.BytesIO()
    original.save(buffer, "JPEG", quality=quality, subsampling=2)
    with Image.open(io.BytesIO(buffer.getvalue())) as again:
        changed = np.asarray(again.convert("RGB"), np.float64)
    error = float(np.mean((changed - np.asarray(original, np.float64)) ** 2))
    return buffer.getvalue(), error


def copy_tree(source: Path, target: Path, quality: int) -> tuple[int, float]:
    """Write every JPEG of ``source`` again under ``target``: (images, mean PSNR in dB)."""
    files = sorted(p for p in source.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise SystemExit(f"recompress_jpegs: {source}: no .jpg or .jpeg files under it")
    errors = []
    for path in files:
        data, error = recompressed(path, quality)
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)  # the folder is renamed into place once whole
        errors.append(error)
    psnr = [10 * math.log10(255**2 / e) if e > 0 else math.inf for e in errors]
    return len(files), float(np.mean([p for p in psnr if math.isfinite(p)] or [math.inf]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source", type=Path, metavar="SRC", help="a folder of JPEG images")
    p.add_argument("target", type=Path, metavar="DST", help="the copy (must not exist yet)")
    p.add_argument("--quality", type=int, default=75, help="libjpeg quality (default 75)")
    args = p.parse_args(argv)
    if not args.source.is_dir():
        print(f"recompress_jpegs: {args.source}: not a folder", file=sys.stderr)
        return 2
    if args.target.exists():
        print(f"recompress_jpegs: {args.target} exists; give a new folder", file=sys.stderr)
        return 2
    if not 1 <= args.quality <= 100:
        print(f"recompress_jpegs: --quality {args.quality}: give 1 to 100", file=sys.stderr)
        return 2
    partial = args.target.with_name(args.target.name + ".partial")
    count, psnr = copy_tree(args.source, partial, args.quality)
    partial.rename(args.target)
    print(
        f"{count:,} images recompressed at quality {args.quality} into {args.target}; "
        f"mean PSNR against the originals {psnr:.2f} dB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
