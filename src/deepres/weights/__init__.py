"""Reading and writing what training produces: checkpoints and weight files, and the trained
network rebuilt from them (``load_model``), and the trained weights shipped with deepres by
name (``create_model("resnet20", weights="cifar10")``, ``load_model("resnet20-cifar10")``).

Sits below train, evaluate and export, which all read checkpoints, and above models. Nothing
here runs code from a file: PyTorch files are read with ``weights_only``.
"""

from deepres.catalog import ModelCard

from .cards import card_markdown, read_card
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .files import INFO_KEYS, WeightFile, read_weights, save_weights
from .fit import guess_model_name, load_strictly, mismatches, strip_wrappers
from .layouts import KNOWN_PROJECTS
from .trained import (
    TrainedModel,
    UnnamedClasses,
    load_model,
    model_of,
    weights_path,
)
from .zoo import ConvertedLayout, create_model, shipped_file

__all__ = [
    "ModelCard",
    "card_markdown",
    "read_card",
    "CheckpointError",
    "load_checkpoint",
    "save_checkpoint",
    "INFO_KEYS",
    "WeightFile",
    "read_weights",
    "save_weights",
    "guess_model_name",
    "load_strictly",
    "mismatches",
    "strip_wrappers",
    "KNOWN_PROJECTS",
    "ConvertedLayout",
    "TrainedModel",
    "UnnamedClasses",
    "load_model",
    "model_of",
    "weights_path",
    "create_model",
    "shipped_file",
]
