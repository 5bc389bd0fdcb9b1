"""Trained weights shipped with deepres, by name (``resnet20-cifar10``), read offline.

Each is package data (see ``deepres.catalog``): NAME.safetensors, the final weights of a
finished run with the network's name, classes, preprocessing and recipe in its metadata, and
NAME.json, its model card, which records the file's sha256. ``read_weights`` checks the
sha256 every time it reads the file, so a damaged, truncated or replaced file is refused
instead of loaded. `deepres ship` (``deepres.ship``) writes them; nothing here writes.

    create_model("resnet20", weights="cifar10")   # the network, with its trained weights
    load_model("resnet20-cifar10")                # with classes and preprocessing (trained.py)
"""

from __future__ import annotations

import warnings
from pathlib import Path

from torch import nn

from deepres import catalog
from deepres.errors import CheckpointError, ModelError
from deepres.models import create_model as create_untrained

from .files import read_weights
from .fit import load_strictly


def is_weights_name(text: str) -> bool:
    """Could ``text`` name shipped weights rather than a path? (One word, no suffix.)"""
    path = Path(text)
    return len(path.parts) == 1 and not path.suffix


def shipped_file(name: str) -> Path:
    """The weights file of shipped weights ``name`` (``read_weights`` checks its sha256)."""
    card = catalog.model_card(name)  # UnknownWeights lists the shipped names
    path = catalog.weights_folder() / card.file
    if not path.is_file():
        raise CheckpointError(f"{path}: the weights file of {name} is missing; reinstall deepres")
    return path


def create_model(name: str, *, weights: str | Path | None = None, **overrides) -> nn.Module:
    """``deepres.models.create_model``, optionally with trained weights: shipped with deepres
    (``weights="cifar10"``, or the whole name ``"resnet20-cifar10"``, loads
    ``resnet20-cifar10`` into ``resnet20``), or from a file (any that ``load_model`` reads,
    e.g. ``weights="resnet20-12fca82f.th"``).

    The network is returned in training mode, as ``create_model`` returns it (call ``.eval()``
    to predict). ``num_classes`` other than the weights' own gives a new, untrained classifier
    (``reset_classifier``), for fine-tuning; other overrides must agree with the weights.
    """
    if weights is None:
        return create_untrained(name, **overrides)
    if Path(weights).exists() or not is_weights_name(str(weights)):
        file = read_weights(weights)
        if file.note:
            warnings.warn(f"{file.path}: {file.note}", ConvertedLayout, stacklevel=2)
        what, model_args = str(file.path), file.info.get("model_args", {})
    else:
        card = catalog.model_card(_weights_name(name, str(weights)))
        file = read_weights(shipped_file(card.name))
        what, model_args = card.name, card.model_args
    num_classes = overrides.pop("num_classes", None)
    in_chans = file.state_dict["conv1.weight"].shape[1]
    if overrides.pop("in_chans", in_chans) != in_chans:
        raise ModelError(
            f"{what} takes images of {in_chans} channels; build the "
            "network without weights for other inputs"
        )
    model = create_untrained(
        name,
        **{**model_args, **overrides},
        in_chans=in_chans,
        num_classes=file.state_dict["fc.weight"].shape[0],
    )
    load_strictly(model, file.state_dict, file.path, name)
    if num_classes is not None and num_classes != model.num_classes:
        model.reset_classifier(num_classes)
    return model


class ConvertedLayout(UserWarning):
    """Another project's checkpoint, converted to deepres's layout: which, and how."""


def _weights_name(name: str, weights: str) -> str:
    """The shipped weights that ``weights`` names for network ``name``: their data
    ("cifar10") or their whole name, as ``list_weights()`` prints it ("resnet20-cifar10")."""
    if weights not in catalog.list_weights():
        return f"{name}-{weights}"
    network = catalog.model_card(weights).model
    if network != name:
        raise ModelError(
            f"{weights} are the weights of {network}, not {name}: "
            f'create_model("{network}", weights="{weights}")'
        )
    return weights
