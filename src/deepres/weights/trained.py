"""``load_model``: a trained network, rebuilt from a run directory or any weight file, and
used on images from Python (``predict``, ``embed``) with its own preprocessing."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepres import catalog
from deepres.data import DataError, Preprocessing, first_names
from deepres.errors import UsageError
from deepres.models import ResNet, create_model, model_info
from deepres.runs import RunDir
from deepres.runs.rundir import LAST, TRAINED_CHECKPOINTS

from .checkpoint import CheckpointError
from .exported import export_parts
from .files import WeightFile, read_weights
from .fit import guess_model_name, load_strictly, strip_wrappers
from .layouts import KNOWN_PROJECTS, foreign_keys
from .zoo import ConvertedLayout, is_weights_name, shipped_file


@dataclass
class TrainedModel:
    """A network in eval mode with what is known about it."""

    model: ResNet
    model_name: str
    model_args: dict  # create_model's arguments besides num_classes and in_chans
    classes: list[str]  # "0", "1", ... when the file names none
    preprocessing: Preprocessing | None  # what training fed the network; None for bare files
    path: Path  # the weight file read
    classes_named: bool  # False: the file names no classes, and ``classes`` are the indices
    recipe: dict | None  # the training recipe (deepres.train.Recipe.to_dict()), if recorded
    note: str = ""  # for another project's checkpoint: its layout and how it was converted
    # An ONNX file that `deepres export` wrote: its graph, and the engine that runs it
    # ("onnxruntime" or "onnxruntime-int8"). ``model`` is then the float network it was
    # exported from where that is at hand (else None): only the graph is used to predict.
    onnx: bytes | None = None
    onnx_engine: str = ""

    def __repr__(self) -> str:
        named = "" if self.classes_named else ", unnamed"
        return (
            f"TrainedModel({self.model_name}, {len(self.classes)} classes "
            f"({first_names(self.classes)}{named}), "
            f"{self.preprocessing!r}, from {self.path})"
        )

    @property
    def input_size(self) -> int:
        return model_info(self.model_name).input_size

    def info(self) -> dict:
        """What a weight file records besides the weights (``save_weights`` writes it)."""
        info = {
            "model_name": self.model_name,
            "model_args": self.model_args,
            "classes": self.classes if self.classes_named else None,
            "preprocessing": self.preprocessing and self.preprocessing.to_dict(),
            "recipe": self.recipe,
        }
        return RecordedInfo({k: v for k, v in info.items() if v is not None})

    def image_preprocessing(self) -> Preprocessing:
        """The recorded preprocessing; for a bare 224-pixel file, torchvision's."""
        return Preprocessing.from_record(self.preprocessing, str(self.path), self.input_size)

    @torch.inference_mode()
    def predict(self, images, top_k: int = 5):
        """The ``top_k`` (class, probability) pairs of an image, most probable first; a list
        of them for a list (or batch) of images. Images as ``Preprocessing.center_views``
        takes them: file paths, PIL images, numpy arrays or tensors, prepared as in training."""
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise UsageError(f"top_k must be a whole number of at least 1, not {top_k!r}")
        probs = self.model(self._views(images)).softmax(dim=1)
        values, indices = probs.topk(min(top_k, probs.shape[1]), dim=1)
        top = [
            [(self.classes[i], p) for i, p in zip(row_i, row_p)]
            for row_i, row_p in zip(indices.tolist(), values.tolist())
        ]
        return top if _is_many(images) else top[0]

    @torch.inference_mode()
    def embed(self, images) -> np.ndarray:
        """The globally pooled features that the classifier reads: (num_features,) float32
        for an image, (N, num_features) for a list or batch (images as for ``predict``)."""
        x = self._views(images)
        features = self.model.forward_head(self.model.forward_features(x), pre_logits=True)
        features = features.float().cpu().numpy()
        return features if _is_many(images) else features[0]

    def _views(self, images) -> torch.Tensor:
        if _is_many(images) and len(images) == 0:
            raise DataError("no images given (an empty list): pass one image or a list of them")
        device = next(self.model.parameters()).device
        return self.image_preprocessing().center_views(images).to(device)


def _is_many(images) -> bool:
    return isinstance(images, (list, tuple)) or (
        isinstance(images, torch.Tensor) and images.dim() == 4
    )


def weights_path(path: str | Path, *, average: bool = True) -> Path:
    """A run directory's best checkpoint (else its last one), the file of the weights shipped
    with deepres under that name (``resnet20-cifar10``), or ``path`` itself. Every command that
    takes weights resolves them here; a file or folder of that name comes first.
    ``average=False``: a run directory's last checkpoint, the one that keeps the trained
    weights beside their average (``load_model``)."""
    path = Path(path)
    if not path.exists() and is_weights_name(str(path)):
        try:
            return shipped_file(str(path))
        except catalog.UnknownWeights as err:
            raise CheckpointError(f"{path}: no such file or folder, and {err}") from None
    if not path.is_dir():
        return path
    run = RunDir(path)
    checkpoint = run.trained_checkpoint() if average else run.last
    if checkpoint is None or not checkpoint.is_file():
        kept = TRAINED_CHECKPOINTS if average else (LAST,)
        raise CheckpointError(
            f"{path}: a folder without {' or '.join(kept)}; give a run directory or a weight file"
        )
    return checkpoint


def load_model(
    path: str | Path,
    model_name: str | None = None,
    device: str | torch.device = "cpu",
    *,
    average: bool = True,
) -> TrainedModel:
    """The network in a run directory, deepres checkpoint, safetensors or torchvision file.

    ``model_name`` overrides the name the file records; a bare state_dict (e.g. torchvision's)
    records none, so its name is taken from its layout where that is unambiguous.
    ``average=False``: for a run with a weight average (``ema_decay`` > 0), the trained
    weights that its last checkpoint keeps beside the average (a run directory gives its
    last.pt; best.pt keeps the average alone); any other file is refused.
    """
    source = weights_path(path, average=average)
    if source.suffix == ".onnx" and average:
        return _load_export(source, device)
    file = read_weights(source, average=average)
    if file.note:
        warnings.warn(f"{file.path}: {file.note}", ConvertedLayout, stacklevel=2)
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
    if named is not None and not (
        isinstance(named, list) and all(isinstance(c, str) for c in named)
    ):
        raise CheckpointError(f"{file.path}: its class names are not a list of strings")
    if named is not None and len(named) != model.num_classes:
        raise CheckpointError(
            f"{file.path}: names {len(named)} classes but its classifier "
            f"has {model.num_classes} outputs"
        )
    if named:
        classes = list(named)
    else:
        classes = [str(i) for i in range(model.num_classes)]
        warnings.warn(
            f"{file.path} names no classes: they are the indices 0 to "
            f"{model.num_classes - 1} (save_weights(path, trained) records them)",
            UnnamedClasses,
            stacklevel=2,
        )
    record = file.info.get("preprocessing")
    preprocessing = None if record is None else Preprocessing.from_dict(record, str(file.path))
    return TrainedModel(
        model.to(device).eval(),
        name,
        model_args,
        classes,
        preprocessing,
        file.path,
        bool(named),
        file.info.get("recipe"),
        file.note,
    )


class RecordedInfo(dict):
    """``TrainedModel.info()``: the dict that a weight file records, whose repr (as a REPL
    shows it) gives the mean image's shape instead of its thousands of numbers."""

    def __repr__(self) -> str:
        prep = self.get("preprocessing")
        if not prep or "mean_image" not in prep:
            return super().__repr__()
        shape = "x".join(map(str, np.shape(prep["mean_image"])))
        shown = {**prep, "mean_image": f"<{shape} floats>"}
        return repr({**self, "preprocessing": shown})


def _load_export(path: Path, device: str | torch.device) -> TrainedModel:
    graph, description, prep, float_model = export_parts(path, device)
    name = description.get("model")
    model_info(name)  # an unknown name fails here, with the valid ones listed
    int8 = "int8" in description
    return TrainedModel(
        float_model.model if float_model is not None else None,
        name,
        description.get("model_args", {}),
        [str(c) for c in description["classes"]],
        prep,
        path,
        True,
        description.get("recipe"),
        onnx=graph,
        onnx_engine="onnxruntime-int8" if int8 else "onnxruntime",
    )


class UnnamedClasses(UserWarning):
    """A weight file without class names: the classes are shown as indices."""


def model_of(file: WeightFile, model_name: str | None = None) -> tuple[str, dict]:
    """(registered name, create_model arguments) of the network whose weights ``file`` holds."""
    recorded = file.info.get("model_name")
    name = model_name or recorded or guess_model_name(file.state_dict)
    if name is None:
        foreign = foreign_keys(file.state_dict)
        if foreign:
            raise CheckpointError(
                f"{file.path}: weights in a layout deepres does not know (not deepres's or "
                f"torchvision's, nor {', '.join(KNOWN_PROJECTS)}'s): keys "
                f"{', '.join(foreign[:3])}{f' and {len(foreign) - 3} more' * (len(foreign) > 3)} "
                "match none of them"
            )
        raise CheckpointError(
            f"{file.path}: the file does not say which network its weights "
            "belong to; name it with --model (`deepres models` lists them)"
        )
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
            raise CheckpointError(
                f"{path}: its model_args say {key}={model_args[key]!r}, but its "
                f"weights have {size}; the file is inconsistent"
            )
    try:
        return create_model(name, **{**model_args, **sizes})
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: the network it records cannot be built ({err})") from None


def _has_matrix(state: dict, key: str) -> bool:
    return key in state and state[key].dim() >= 2
