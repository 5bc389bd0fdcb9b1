"""Where images come from, how they are decoded, cached and augmented, and what happens to a
file that is not a good image.

    splits = open_source("cifar10", val_size=5000)          # or "digits", a folder, ...
    loader = BatchLoader(splits.train, 128, train=True, device="cuda")
    for images, labels in loader: ...

Below are the names a user's script needs (``DataError`` is ``deepres.errors.DataError``);
deepres's own modules import the rest from the module that defines it (``deepres.data.decode``,
``.augment``, ``.stream``, ...). Imports nothing from deepres.models, train or cli (see
docs/design.md, "Layers").

The guide: docs/data.md.
"""

from deepres.errors import DataError

from .datasets import ArrayDataset, Stats
from .loader import BatchLoader
from .preprocess import Preprocessing
from .sources import DataSplits, open_source

__all__ = [
    "open_source",
    "DataSplits",
    "BatchLoader",
    "ArrayDataset",
    "Preprocessing",
    "Stats",
    "DataError",
]
