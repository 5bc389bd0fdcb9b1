"""An ONNX file that `deepres export` wrote, read back with the description beside it
(FILE.onnx.json: classes, preprocessing, network), so that predict, eval, embed and serve run
it in onnxruntime like a network of their own. An INT8 export also names the float weights it
was made from; where they are still there, unchanged, they come with it, so that ``--engine
auto`` can time the INT8 model against the float engines."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from deepres.catalog import sha256_of
from deepres.data import Preprocessing

from .checkpoint import CheckpointError

EXPORT_FORMAT = "deepres-export-1"


def read_export(path: Path) -> dict:
    """The description of the exported ``path``, once it is known to belong to it."""
    sidecar = path.with_name(path.name + ".json")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such ONNX file")
    try:
        description = json.loads(sidecar.read_text())
    except FileNotFoundError:
        raise CheckpointError(
            f"{path}: an ONNX model without {sidecar.name} beside it (which `deepres export` "
            "writes: its classes and preprocessing); put it back, or give the weights the "
            "model was exported from"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{sidecar}: unreadable export description ({err})") from None
    if not isinstance(description, dict) or description.get("format") != EXPORT_FORMAT:
        raise CheckpointError(f"{sidecar}: not a deepres export description")
    if description.get("sha256") != sha256_of(path):
        raise CheckpointError(
            f"{path}: its sha256 is not the one {sidecar.name} records: the file changed "
            "after it was exported, or the two do not belong together; export it again"
        )
    if not isinstance(description.get("classes"), list):
        raise CheckpointError(f"{sidecar}: records no list of classes")
    return description


def export_parts(path: Path, device: str | torch.device = "cpu"):
    """(graph bytes, description, preprocessing, float TrainedModel or None) of ``path``."""
    from .trained import load_model  # trained.py reads exports through this module

    description = read_export(path)
    prep = Preprocessing.from_dict(description.get("preprocessing"), str(path) + ".json")
    source = description.get("exported_from") or {}
    float_model = None
    weights = Path(source.get("weights", "")) if source.get("weights") else None
    if weights is not None and weights.is_file() and sha256_of(weights) == source.get("sha256"):
        float_model = load_model(weights, device=device)
    return path.read_bytes(), description, prep, float_model
