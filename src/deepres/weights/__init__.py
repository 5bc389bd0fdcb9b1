"""Reading and writing what training produces: checkpoints and weight files, and the trained
network rebuilt from them (``load_model``), and the trained weights shipped with deepres by
name (``create_model("resnet20", weights="cifar10")``, ``load_model("resnet20-cifar10")``).

Below are the names a user's script needs (``create_model`` and ``load_model`` are also
``deepres.create_model`` and ``deepres.load_model``); deepres's own modules import the rest
from the module that defines it. Sits below train, evaluate and export, which all read
checkpoints, and above models. Nothing here runs code from a file: PyTorch files are read
with ``weights_only``.

The guide: docs/using.md (trained weights, weight files, fine-tuning).
"""

from deepres.catalog import ModelCard

from .cards import card_markdown, read_card
from .checkpoint import CheckpointError, load_checkpoint
from .files import WeightFile, read_weights, save_weights
from .fit import guess_model_name
from .trained import TrainedModel, UnnamedClasses, load_model
from .zoo import ConvertedLayout, create_model

__all__ = [
    "create_model",
    "load_model",
    "TrainedModel",
    "ModelCard",
    "card_markdown",
    "read_weights",
    "save_weights",
    "WeightFile",
    "load_checkpoint",
    "read_card",
    "guess_model_name",
    "UnnamedClasses",
    "ConvertedLayout",
    "CheckpointError",
]
