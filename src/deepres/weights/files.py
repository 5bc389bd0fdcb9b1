"""Weight files: a network's state_dict with what is known about it, as safetensors or PyTorch.

Three kinds of file are read, none of them by running code from it:
- a deepres checkpoint (``last.pt``, ``best.pt`` or a ``.pt`` written by ``save_weights``),
- a ``.safetensors`` file (deepres writes its description into the metadata, and the SHA-256
  of its tensor bytes, checked when it is read),
- a bare state_dict saved with ``torch.save``, such as torchvision's ``resnet50-0676ba61.pth``
  (or one wrapped as ``{"state_dict": ...}`` or ``{"model": ...}``, as other trainers do);
  the public CIFAR ResNets of other projects are converted to deepres's layout (layouts.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import safetensors
import safetensors.torch
import torch

from deepres import catalog
from deepres.atomic import write_atomic
from deepres.errors import UsageError

from .checkpoint import FORMAT, CheckpointError, read_torch_file, save_checkpoint
from .layouts import convert

# What a file may say about its network, besides the weights.
INFO_KEYS = ("model_name", "model_args", "classes", "preprocessing", "recipe")
_SAFETENSORS_KEY = "deepres"
_DIGEST_KEY = "deepres_sha256"  # of the tensor bytes, everything after the header


@dataclass
class WeightFile:
    path: Path
    state_dict: dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)  # INFO_KEYS that the file records; {} for a bare one
    note: str = ""  # for another project's checkpoint: its layout and how it was converted


def read_weights(
    path: str | Path, map_location: str | torch.device = "cpu", *, average: bool = True
) -> WeightFile:
    """The weights in ``path`` and what the file says about them; ``CheckpointError`` names the
    file and the problem when it is missing, damaged, truncated or holds no weights.

    Each file is checked once: one of the shipped weights against its model card's sha256
    (of the whole file), a safetensors file that deepres wrote against the digest in its
    header, a torch.save file against its records' CRC-32s.

    ``average=False``: the trained weights that the last checkpoint of a run with a weight
    average (``ema_decay`` > 0) keeps beside the average, which is its network otherwise."""
    path = Path(path)
    card = catalog.card_of(path)
    if card is not None:
        card.verify(path)
    if not average:
        return _trained_weights(path, map_location)
    if _is_safetensors(path):
        weights = _read_safetensors(path, map_location, check_digest=card is None)
        if card is not None:  # it names the data set, never a folder of the training machine
            weights.info["recipe"] = card.recipe
        return weights
    state = read_torch_file(path, map_location)
    if _is_checkpoint(state):
        if not _is_state_dict(state.get("model")):
            raise CheckpointError(f"{path}: a deepres checkpoint without model weights")
        return _checked(WeightFile(path, state["model"], _checkpoint_info(state)))
    for weights in (
        state,
        *(state.get(k) for k in ("state_dict", "model") if isinstance(state, dict)),
    ):
        if _is_state_dict(weights):
            return _converted(_checked(WeightFile(path, weights)))
    what = (
        f"a dict with keys {', '.join(map(str, list(state)[:6]))}"
        if isinstance(state, dict)
        else f"a {type(state).__name__}"
    )
    raise CheckpointError(f"{path}: holds no state_dict of tensors ({what})")


def _trained_weights(path: Path, map_location) -> WeightFile:
    """The weights being trained, that a checkpoint keeps beside their average."""
    state = None if _is_safetensors(path) else read_torch_file(path, map_location)
    if not (_is_checkpoint(state) and _is_state_dict(state.get("trained_weights"))):
        raise CheckpointError(
            f"{path}: holds no weight average beside its trained weights (the last.pt of a "
            "run whose recipe has ema_decay > 0 does): its weights are the trained ones"
        )
    return _checked(WeightFile(path, state["trained_weights"], _checkpoint_info(state)))


def _is_checkpoint(state: object) -> bool:
    return isinstance(state, dict) and state.get("format") == FORMAT


def _checkpoint_info(state: dict) -> dict:
    """What a deepres checkpoint says of its network (INFO_KEYS)."""
    info = {k: state[k] for k in INFO_KEYS if k in state}
    if "model_args" not in info and isinstance(state.get("recipe"), dict):
        info["model_args"] = state["recipe"].get("model_args", {})
    return info


def save_weights(path: str | Path, weights, info: dict | None = None) -> None:
    """Write weights with their description: ``.safetensors`` by that suffix, else a deepres
    checkpoint (a PyTorch file). Either is written whole or not at all.

    ``weights``: a ``TrainedModel`` (``load_model``'s), whose name, classes and preprocessing
    are written too (``info`` adds to them), so that ``deepres predict`` takes the file; or a
    bare state_dict, described only by ``info`` (INFO_KEYS)."""
    path = Path(path)
    if hasattr(weights, "info") and hasattr(weights, "model"):  # a TrainedModel
        info = {**weights.info(), **(info or {})}
        weights = weights.model.state_dict()
    state_dict, info = weights, info or {}
    unknown = set(info) - set(INFO_KEYS)
    if unknown:
        raise UsageError(f"save_weights: unknown info keys {sorted(unknown)}; known: {INFO_KEYS}")
    if path.suffix == ".safetensors":
        tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
        metadata = {_SAFETENSORS_KEY: json.dumps(info)}
        # The format has no checksum: record one of the tensor bytes and our description in the
        # header (the tensor bytes do not depend on the header, so serialising again keeps them).
        metadata[_DIGEST_KEY] = _digest(safetensors.torch.save(tensors, metadata), metadata)
        write_atomic(path, lambda f: f.write(safetensors.torch.save(tensors, metadata)))
    else:
        save_checkpoint({"model": state_dict, **info}, path)


def _is_safetensors(path: Path) -> bool:
    """A safetensors file starts with its header's length (8 bytes) and then the JSON header."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False  # read_torch_file says why
    return len(head) == 9 and head[8:9] == b"{"


def _read_safetensors(path: Path, map_location, check_digest: bool) -> WeightFile:
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        weights = safetensors.torch.load_file(str(path), device=str(map_location))
    except (safetensors.SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: damaged or truncated safetensors file ({err})") from None
    if (
        check_digest
        and _DIGEST_KEY in metadata
        and _digest(path.read_bytes(), metadata) != metadata[_DIGEST_KEY]
    ):
        raise CheckpointError(
            f"{path}: damaged safetensors file: its tensors do not match the "
            "SHA-256 recorded when it was written, so the file changed since; "
            "use another copy"
        )
    try:
        info = json.loads(metadata.get(_SAFETENSORS_KEY, "{}"))
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: its '{_SAFETENSORS_KEY}' metadata is not JSON") from None
    return _checked(WeightFile(path, weights, {k: info[k] for k in INFO_KEYS if k in info}))


def _digest(data: bytes, metadata: dict) -> str:
    """SHA-256 of a safetensors file's tensor bytes (after the 8-byte length and the header)
    and of deepres's description in its metadata."""
    start = 8 + int.from_bytes(data[:8], "little")
    digest = hashlib.sha256(metadata.get(_SAFETENSORS_KEY, "").encode())
    digest.update(memoryview(data)[start:])
    return digest.hexdigest()


def _is_state_dict(obj: object) -> bool:
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


def _converted(file: WeightFile) -> WeightFile:
    """A bare state_dict of another project's layout in deepres's, with what its author
    published about it; any other one as it is."""
    converted = convert(file.state_dict)
    if converted is None:
        return file
    return WeightFile(file.path, converted.state_dict, converted.info, converted.note)


def _checked(file: WeightFile) -> WeightFile:
    """``file``, once every tensor's own bytes are found to hold all of its elements (a pickle
    may describe a view with zero strides, a billion elements over four bytes, and a network
    built to that shape would allocate all of them), and every value to be a number a network
    can answer with: no NaN or infinity (a training that diverged), no negative variance."""
    for key, t in file.state_dict.items():
        if t.numel() * t.element_size() > t.untyped_storage().nbytes():
            raise CheckpointError(
                f"{file.path}: tensor {key} claims shape "
                f"{tuple(t.shape)} over {t.untyped_storage().nbytes()} bytes; "
                "not a file that torch.save wrote from a network"
            )
        problem = _unusable_values(key, t)
        if problem:
            raise CheckpointError(
                f"{file.path}: tensor {key} holds {problem}, so every answer would be "
                "meaningless; use another checkpoint (an earlier one, if training diverged)"
            )
    return file


def _unusable_values(key: str, t: torch.Tensor) -> str | None:
    if not (t.is_floating_point() or t.is_complex()) or t.numel() == 0:
        return None
    bad = int((~torch.isfinite(t)).sum())
    if bad:
        return f"{bad:,} NaN or infinite value{'s' * (bad > 1)}"
    if key.endswith("running_var") and bool((t < 0).any()):
        return "a negative running variance"
    return None
