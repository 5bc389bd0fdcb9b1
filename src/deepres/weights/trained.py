"""``load_model``: a trained network, rebuilt from a run directory or any weight file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from deepres.models import ResNet, create_model, model_info

from .checkpoint import CheckpointError
from .files import WeightFile, read_weights
from .fit import guess_model_name, load_strictly, strip_wrappers

# Where a run directory keeps its checkpoints (deepres.train.rundir writes them), best first:
# best.pt is chosen on the validation split and exists only when the run had one.
RUN_CHECKPOINTS = ("checkpoints/best.pt", "checkpoints/last.pt")


@dataclass
class TrainedModel:
    """A network in eval mode with what is known about it."""

    model: ResNet
    model_name: str
    model_args: dict  # create_model's arguments besides num_classes and in_chans
    classes: list[str]  # "0", "1", ... when the file names none
    preprocessing: dict | None  # as deepres.data.Preprocessing.to_dict(); None for bare files
    path: Path  # the weight file read
    classes_named: bool  # False: the file names no classes, and ``classes`` are the indices
    recipe: dict | None  # the training recipe (deepres.train.Recipe.to_dict()), if recorded

    @property
    def input_size(self) -> int:
        return model_info(self.model_name).input_size


def weights_path(path: str | Path) -> Path:
    """A run directory's best checkpoint (else its last one), or ``path`` itself."""
    path = Path(path)
    if not path.is_dir():
        return path
    for name in RUN_CHECKPOINTS:
        if (path / name).is_file():
            return path / name
    raise CheckpointError(f"{path}: a folder without {' or '.join(RUN_CHECKPOINTS)}; give a "
                          "run directory or a weight file")


def load_model(path: str | Path, model_name: str | None = None,
               device: str | torch.device = "cpu") -> TrainedModel:
    """The network in a run directory, deepres checkpoint, safetensors or torchvision file.

    ``model_name`` overrides the name the file records; a bare state_dict (e.g. torchvision's)
    records none, so its name is taken from its layout where that is unambiguous.
    """
    file = read_weights(weights_path(path))
    name, model_args = model_of(file, model_name)
    state = strip_wrappers(file.state_dict)
    sizes = {}
    if _has_matrix(state, "fc.weight"):
        sizes["num_classes"] = state["fc.weight"].shape[0]
    if _has_matrix(state, "conv1.weight"):
        sizes["in_chans"] = state["conv1.weight"].shape[1]
    model = _build(file.path, name, model_args, sizes)
    load_strictly(model, state, file.path, name)
    named = file.info.get("classes")
    if named is not None and not (isinstance(named, list)
                                  and all(isinstance(c, str) for c in named)):
        raise CheckpointError(f"{file.path}: its class names are not a list of strings")
    if named is not None and len(named) != model.num_classes:
        raise CheckpointError(f"{file.path}: names {len(named)} classes but its classifier "
                              f"has {model.num_classes} outputs")
    classes = list(named) if named else [str(i) for i in range(model.num_classes)]
    return TrainedModel(model.to(device).eval(), name, model_args, classes,
                        file.info.get("preprocessing"),
                        file.path, bool(named), file.info.get("recipe"))


def model_of(file: WeightFile, model_name: str | None = None) -> tuple[str, dict]:
    """(registered name, create_model arguments) of the network whose weights ``file`` holds."""
    recorded = file.info.get("model_name")
    name = model_name or recorded or guess_model_name(file.state_dict)
    if name is None:
        raise CheckpointError(f"{file.path}: the file does not say which network its weights "
                              "belong to; name it with --model (`deepres models` lists them)")
    if not isinstance(name, str):
        raise CheckpointError(f"{file.path}: its model_name {name!r} is not a name")
    model_info(name)  # an unknown name fails here, with the valid ones listed
    if name != recorded:
        return name, {}
    model_args = file.info.get("model_args", {})
    if not (isinstance(model_args, dict) and all(isinstance(k, str) for k in model_args)):
        raise CheckpointError(f"{file.path}: its model_args are not a dict of named arguments")
    return name, dict(model_args)


def _build(path: Path, name: str, model_args: dict, sizes: dict) -> ResNet:
    """The network that a file records, checked before it is built: its tensors decide the
    number of classes and input channels; ``model_args`` may only choose among the rest."""
    for key, size in sizes.items():
        if model_args.get(key, size) != size:
            raise CheckpointError(f"{path}: its model_args say {key}={model_args[key]!r}, but its "
                                  f"weights have {size}; the file is inconsistent")
    try:
        return create_model(name, **{**model_args, **sizes})
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: the network it records cannot be built ({err})") from None


def _has_matrix(state: dict, key: str) -> bool:
    return key in state and state[key].dim() >= 2
