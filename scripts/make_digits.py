"""Write src/deepres/data/digits.npz, the built-in digits, from scikit-learn's copy.

The data are the UCI ML hand-written digits (Alpaydin and Kaynak, 1998; UCI Machine Learning
Repository, "Optical Recognition of Handwritten Digits", its test part of 1,797 images), as
scikit-learn ships them in sklearn/datasets/data/digits.csv.gz: 8x8 counts 0..16 of a 4x4
block of a 32x32 bitmap, and the digit. Run once, with scikit-learn installed (deepres does
not need it afterwards):

    python scripts/make_digits.py        # checks the written file against load_digits()
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "deepres" / "data" / "digits.npz"


def main() -> int:
    from sklearn import __version__
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)
    if not np.array_equal(images, bunch.images):
        print("error: the digits are not whole counts 0..16", file=sys.stderr)
        return 1
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        images=images,
        labels=bunch.target.astype(np.uint8),
        source=np.array(f"scikit-learn {__version__} sklearn/datasets/data/digits.csv.gz"),
    )
    OUT.write_bytes(buffer.getvalue())
    with np.load(OUT) as written:
        assert np.array_equal(written["images"], bunch.images)
        assert np.array_equal(written["labels"], bunch.target)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(images):,} images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
