"""Where images come from, how they are decoded, cached and augmented, and what happens to a
file that is not a good image.

    splits = open_source("cifar10", val_size=5000)          # or "digits", a folder, ...
    loader = BatchLoader(splits.train, 128, train=True, device="cuda")
    for images, labels in loader: ...

Imports nothing from deepres.models, train or cli (see docs/design.md, "Layers").
"""

from .augment import (
    IMAGENET_PCA_EIGVAL,
    IMAGENET_PCA_EIGVEC,
    Normalize,
    center_crop,
    default_padding,
    pca_rgb_shift,
    random_crop_flip,
    ten_crop,
)
from .cache import default_cache_dir
from .cifar import RELEASES as CIFAR_RELEASES
from .datasets import ArrayDataset, Stats
from .decode import (
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    BadImage,
    TooManyPixels,
    decode_rgb,
    decode_square,
    header_pixels,
)
from .errors import BadFile, DataError, first_names, show_path
from .loader import BatchLoader
from .preprocess import MAX_SIDE, Preprocessing, to_channels
from .scan import list_images
from .sources import (
    DataSplits,
    absolute_source,
    folder_of,
    hold_out,
    missing_folder,
    open_source,
    split_fingerprint,
)
from .stream import (
    CROP,
    EVAL_SIDE,
    MULTISCALE_SIDES,
    TRAIN_SIDES,
    StreamDataset,
    eval_view,
    load_image,
    multiscale_views,
)

__all__ = [
    "open_source",
    "split_fingerprint",
    "DataSplits",
    "hold_out",
    "absolute_source",
    "folder_of",
    "missing_folder",
    "BatchLoader",
    "DataError",
    "BadFile",
    "BadImage",
    "TooManyPixels",
    "header_pixels",
    "ArrayDataset",
    "StreamDataset",
    "Stats",
    "Normalize",
    "random_crop_flip",
    "pca_rgb_shift",
    "center_crop",
    "ten_crop",
    "load_image",
    "multiscale_views",
    "eval_view",
    "decode_rgb",
    "default_cache_dir",
    "show_path",
    "CIFAR_RELEASES",
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "MAX_SIDE",
    "IMAGENET_PCA_EIGVAL",
    "IMAGENET_PCA_EIGVEC",
    "CROP",
    "EVAL_SIDE",
    "MULTISCALE_SIDES",
    "TRAIN_SIDES",
    "Preprocessing",
    "to_channels",
    "list_images",
    "default_padding",
    "decode_square",
    "first_names",
]
