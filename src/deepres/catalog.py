"""What deepres ships as data, read with the standard library alone: the table of every
network's size, and the model cards (``ModelCard``) of the trained weights shipped by name.

Nothing here imports torch, so `deepres models` answers in a fraction of a second. The weights
themselves are read by ``deepres.weights``, which checks each against its card's sha256
(``ModelCard.verify``) once per load; the table is written by
``python -m deepres.analysis.complexity`` from the built networks, and a test checks it
against them.

Files (package data):
    models/sizes.json             one row per registered network, in registry order
    weights/shipped/NAME.json     the model card of trained weights NAME (e.g. resnet20-cifar10)
    weights/shipped/NAME.md       the same card, for people (``deepres.weights.card_markdown``)
    weights/shipped/NAME.safetensors  the weights (`deepres ship` writes all three)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from deepres.errors import CheckpointError

PACKAGE = Path(__file__).resolve().parent
SIZE_TABLE = PACKAGE / "models" / "sizes.json"
SHIPPED_WEIGHTS = PACKAGE / "weights" / "shipped"
# Replaces the folder of shipped weights: for trying out weights before shipping them, for
# weights that a user shipped (`deepres ship --out FOLDER`), and for tests.
WEIGHTS_DIR_VARIABLE = "DEEPRES_WEIGHTS_DIR"
# The data sets of ../shared/data that deepres's own networks are trained on: a card names one
# and says where it comes from, never a folder of the machine that trained the network.
DATA_SETS = {
    "cifar10-png": "the original CIFAR-10 (Krizhevsky, 2009) as lossless PNG files, pixel for "
    "pixel the images of the official Python batches: 50,000 training and 10,000 test "
    "images, 32x32 RGB, 10 classes; the data set of the paper's Table 6",
    "cifar10-jpeg": "CIFAR-10 re-encoded as JPEG quality 75 with 4:2:0 chroma subsampling: "
    "a different data set from the paper's (a ResNet-20 trained on the original images has "
    "8.27% test error on the original test images and 18.97% on these)",
}
# A card field marked so is left out of NAME.json while it is None: the cards shipped before
# the field existed read, and write, as they are.
_OPTIONAL = "left out when None"


def model_sizes(pattern: str = "*") -> list[dict]:
    """Rows of the size table (name, family, depth, block, shortcut, params, multiply_adds,
    input_size) whose names match a shell-style pattern, in registry order."""
    rows = json.loads(SIZE_TABLE.read_text())
    return [row for row in rows if fnmatch.fnmatchcase(row["name"], pattern)]


def _optional():
    return field(default=None, metadata={_OPTIONAL: True})


@dataclass(frozen=True, kw_only=True)
class CardData:
    """What the shipped network was trained and tested on."""

    name: str  # the DATA of MODEL-DATA[-VARIANT]: "cifar10"
    source: str  # what training read: the named data set, else the trainer's --data
    kind: str  # the source's kind, as deepres.data names it ("array", "folder", ...)
    images: dict[str, int]  # split -> images
    classes: list[str]
    image_size: int | None
    tested_on: str  # the data whose test split measured the card's errors
    note: str | None = _optional()  # for a folder of images: how they are stored
    set: str | None = _optional()  # the named data set (e.g. "cifar10-png")
    provenance: str | None = _optional()  # where the named data set comes from, in words


@dataclass(frozen=True, kw_only=True)
class Hardware:
    """What the run trained on, as its meta.json says."""

    device: str | None
    device_name: str | None
    cpu_threads: int | None
    world_size: int | None
    # the shipper's words, for runs whose records do not name the CPU or a change of threads
    stated_when_shipped: str | None = _optional()


@dataclass(frozen=True, kw_only=True)
class ModelCard:
    """The model card of shipped weights NAME: NAME.json, field for field. Errors are
    fractions; "as shipped" means the weights as stored (``storage``)."""

    name: str  # MODEL-DATA[-VARIANT], e.g. resnet20-cifar10
    model: str  # the registered network
    weights: str  # what create_model(model, weights=...) takes: "cifar10"
    model_args: dict
    data: CardData
    recipe: dict  # the run's recipe.yaml (deepres.train.Recipe.to_dict())
    iterations: int
    test_error: float  # centre view, the weights as shipped
    test_error_float32: float
    # the centre view with its mirror image, for a recipe that validates so (eval_flip)
    test_error_center_flip: float | None
    test_error_during_training: float | None  # at the run's own view and precision
    test_images: int
    best_val_error: float | None
    best_val_iteration: int | None
    precision: str  # what training computed in: "float32" or "bf16 autocast"
    storage: str  # "float16" or "float32"
    hardware: Hardware
    changed_when_resumed: list[str] | None = _optional()  # code or hardware, in words
    training_seconds: float | None  # the steps alone, paused time left out
    # What the recorded step time also held of a process stopped with SIGSTOP: recorded by the
    # run, or its log windows under a fifth of its median rate (deepres.runs.step_time)
    paused_seconds: float | None = _optional()
    code_commit: str | None
    torch_version: str | None
    file: str  # NAME.safetensors, beside the card
    bytes: int
    sha256: str  # of the whole file
    results: str  # the run's records, relative to where it was shipped (docs/runs/NAME)

    @classmethod
    def read(cls, path: str | Path) -> ModelCard:
        """The card in NAME.json ``path``; ``CheckpointError`` names the file otherwise."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CheckpointError(
                f"{path}: unreadable model card ({err}); reinstall deepres"
            ) from None
        return cls.from_dict(values, str(path))

    @classmethod
    def from_dict(cls, values: object, where: str = "model card") -> ModelCard:
        """The card that ``values`` (NAME.json, parsed) holds; keys it does not know are left
        aside, so that a newer card still reads."""
        values = _fields_of(cls, values, where)
        nested = {"data": CardData, "hardware": Hardware}
        for key, record in nested.items():
            values[key] = record(**_fields_of(record, values[key], f"{where}, {key}"))
        return cls(**values)

    def to_dict(self) -> dict:
        return _to_dict(self)

    def to_json(self) -> str:
        """NAME.json's text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def verify(self, path: str | Path) -> None:
        """Refuse ``path`` (``CheckpointError``) unless its sha256 is the one the card
        records: a damaged, truncated or replaced file is never loaded."""
        digest = sha256_of(path)
        if digest != self.sha256:
            raise CheckpointError(
                f"{path}: sha256 {digest} is not the {self.sha256} that its model card "
                "records: the file is damaged or was replaced; reinstall deepres"
            )


def _fields_of(cls: type, values: object, where: str) -> dict:
    """The fields of record ``cls`` in ``values``, once every required one is there."""
    if not isinstance(values, dict):
        raise CheckpointError(f"{where}: not a model card's JSON object; reinstall deepres")
    known = {f.name: f for f in dataclasses.fields(cls)}
    missing = [k for k, f in known.items() if f.default is dataclasses.MISSING and k not in values]
    if missing:
        raise CheckpointError(
            f"{where}: not a complete model card (no {', '.join(missing)}); reinstall deepres"
        )
    return {k: v for k, v in values.items() if k in known}


def _to_dict(record) -> dict:
    values = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if value is None and f.metadata.get(_OPTIONAL):
            continue
        values[f.name] = _to_dict(value) if dataclasses.is_dataclass(value) else value
    return values


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_folder() -> Path:
    return Path(os.environ.get(WEIGHTS_DIR_VARIABLE) or SHIPPED_WEIGHTS)


def list_weights() -> list[str]:
    """Names of the shipped weights, sorted (e.g. ``["resnet20-cifar10"]``)."""
    folder = weights_folder()
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


class UnknownWeights(CheckpointError):
    """No shipped weights of that name; the message lists the shipped ones."""


def model_card(name: str) -> ModelCard:
    """The model card of shipped weights ``name``; ``UnknownWeights`` when there are none of
    that name."""
    path = weights_folder() / f"{name}.json"
    if "/" in name or os.sep in name or not path.is_file():
        raise UnknownWeights(unknown_weights(name))
    return ModelCard.read(path)


def model_cards() -> list[ModelCard]:
    return [model_card(name) for name in list_weights()]


def card_of(path: str | Path) -> ModelCard | None:
    """The model card of a file among the shipped weights, else None (any other file)."""
    path = Path(path)
    shipped = weights_folder()
    if path.parent.resolve() != shipped.resolve() or not (shipped / f"{path.stem}.json").is_file():
        return None
    return model_card(path.stem)


def unknown_weights(name: str) -> str:
    shipped = list_weights()
    listed = ", ".join(shipped) if shipped else "none are shipped yet"
    return f"no trained weights named {name!r} are shipped with deepres (shipped: {listed})"
