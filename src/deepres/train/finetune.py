"""Fine-tuning: start a run from trained weights, and freeze the early part of the network.

``init_from`` names a run directory or weight file (deepres, safetensors, torchvision, or the
public CIFAR ResNets of ``deepres.weights.layouts``). Every
weight is loaded with strict key checking, except the classifier when the number of classes
differs: that one is replaced by a freshly initialised layer, and the run says so.

``freeze`` stops training the stem, the stages up to a named one, or all but the classifier
("features"). Frozen parameters get no gradient (so no update and no weight decay) and frozen
batch-norm layers always run in inference mode: they normalise with the statistics they
learnt, which training leaves untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from deepres.errors import CheckpointError, RecipeError
from deepres.weights import WeightFile, read_weights
from deepres.weights.fit import load_strictly, strip_wrappers
from deepres.weights.trained import model_of, weights_path


@dataclass(frozen=True)
class StartingWeights:
    """What planning a run from trained weights needs to know of them, read from the file
    once (each read checks the file whole)."""

    fields: dict  # the recipe fields of their network: model and model_args
    image_size: int | None  # the side of the images they were trained at, if recorded


def starting_weights(path: str) -> StartingWeights:
    """The network whose weights ``path`` holds, and the image side it saw (its view), if the
    file records it (deepres's files do; torchvision's do not)."""
    file = read_weights(weights_path(path))
    name, model_args = model_of(file)
    return StartingWeights({"model": name, "model_args": model_args}, _image_size(file))


def _image_size(file: WeightFile) -> int | None:
    record = file.info.get("preprocessing")
    crop = record.get("crop") if isinstance(record, dict) else None
    return crop if isinstance(crop, int) else None


def start_from_weights(
    model: nn.Module, recipe, classes: list[str], *, load: bool, say: Callable[[str], None]
) -> None:
    """Apply the recipe's ``init_from`` (when ``load``: a resumed run has its own weights) and
    ``freeze`` to a freshly built ``model``."""
    if recipe.init_from and load:
        file = _load_init(model, recipe.init_from, recipe.model, classes, say)
        _note_image_size(recipe, _image_size(file), say)
    if recipe.freeze:
        freeze(model, recipe.freeze, say)


def _load_init(
    model: nn.Module, path: str, model_name: str, classes: list[str], say: Callable[[str], None]
) -> WeightFile:
    """Load the weights ``path`` holds into ``model`` (a new classifier where the classes
    differ); the file read, for what else it records."""
    file = read_weights(weights_path(path))
    if file.note:
        say(f"init-from {file.path}: {file.note}")
    state = strip_wrappers(file.state_dict)
    _check_channels(state, model, file.path)
    theirs = state.get("fc.weight")
    if theirs is None or theirs.shape[0] != model.num_classes:
        had = "no classifier" if theirs is None else f"a classifier of {theirs.shape[0]} classes"
        say(
            f"init-from {file.path}: it has {had} and the data {model.num_classes} classes: "
            "replacing the classifier (fc) with a new one"
        )
        state = {
            **{k: v for k, v in state.items() if not k.startswith("fc.")},
            **{k: v for k, v in model.state_dict().items() if k.startswith("fc.")},
        }
    elif file.info.get("classes") not in (None, list(classes)):
        say(
            f"init-from {file.path}: keeping its classifier, although its classes are named "
            "differently from the data's"
        )
    load_strictly(model, state, file.path, model_name)
    say(f"init-from {file.path}: loaded {len(state)} tensors into {model_name}")
    return file


def _note_image_size(recipe, trained_at: int | None, say: Callable[[str], None]) -> None:
    """Features learnt at one size carry over less well at another: say so at start-up."""
    if trained_at is None or trained_at == recipe.image_size:
        return
    say(
        f"note: init-from {recipe.init_from}: its network was trained on {trained_at}x"
        f"{trained_at} images, and this run trains it on {recipe.image_size}x"
        f"{recipe.image_size} images: what it learnt may carry over less well (for a folder, "
        f"--image-size {trained_at} trains at its own size)"
    )


def _check_channels(state: dict, model: nn.Module, path) -> None:
    """Weights for gray images do not fit colour data, nor the other way round: say so,
    rather than list mismatching shapes."""
    stem = state.get("conv1.weight")
    body = {k for k in model.state_dict() if not k.startswith("fc.")}
    if stem is None or stem.dim() != 4 or body - set(state):
        return  # another network: load_strictly names the keys that differ
    theirs, ours = stem.shape[1], model.conv1.weight.shape[1]
    if theirs != ours:
        raise CheckpointError(
            f"init-from {path}: the network was trained on {theirs}-channel images and the "
            f"data has {ours}-channel images ({_CHANNELS.get(ours, 'other')}); start from "
            f"weights trained on {ours}-channel images, or train from scratch (no --init-from)"
        )


_CHANNELS = {1: "grayscale", 3: "RGB"}


def freeze(model: nn.Module, upto: str, say: Callable[[str], None]) -> None:
    """Freeze the stem and the stages up to ``upto`` (see the module docstring)."""
    parts = frozen_parts(model, upto)
    for part in parts.values():
        for p in part.parameters():
            p.requires_grad_(False)
        for m in part.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.register_forward_pre_hook(_stay_in_eval_mode)
    frozen = sum(p.numel() for part in parts.values() for p in part.parameters())
    total = sum(p.numel() for p in model.parameters())
    say(f"frozen: {', '.join(parts)} ({frozen:,} of {total:,} parameters)")


def frozen_parts(model: nn.Module, upto: str) -> dict[str, nn.Module]:
    stages = list(model.stage_names)
    choices = ["stem", *stages, "features"]
    if upto not in choices:
        raise RecipeError(
            f"freeze: {upto!r} is not one of {', '.join(choices)} (for "
            f"{type(model).__name__} with stages {', '.join(stages)})"
        )
    last = len(stages) if upto == "features" else choices.index(upto)
    parts = {"stem": nn.ModuleList([model.conv1, model.bn1])}
    parts.update((name, getattr(model, name)) for name in stages[:last])
    return parts


def _stay_in_eval_mode(module: nn.Module, inputs) -> None:
    # model.train() switches every module to training mode; a frozen BN switches itself back.
    module.eval()
