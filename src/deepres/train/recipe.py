"""Training recipes as typed data: one dataclass, named presets in YAML, validated overrides.

A recipe file may name a ``base`` recipe (a preset or another file) and change some fields.
Unknown keys and values of the wrong type are rejected with a message that lists what is valid.
Lengths (``iterations``, ``milestones``, ``lr_rise``, ``eval_every``, ``checkpoint_every``) count iterations,
as the paper does; a string like ``"30ep"`` counts epochs and is converted once the data set's
size is known (``Recipe.resolved``). ``Recipe.scaled_to`` is the one meaning of a shorter (or
longer) run: the whole schedule keeps its proportions.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from deepres.errors import RecipeError

Length = Union[int, str]  # iterations, or "<number>ep" for epochs
CHOICES = {
    "schedule": ("step", "plateau", "cosine", "onecycle"),
    "warmup": ("auto", "on", "off"),
    "augment": ("auto", "cifar", "crop", "imagenet", "none"),
    "normalize": ("pixel_mean", "channel"),
    "amp": ("auto", "bf16", "off"),
    "channels_last": ("auto", "on", "off"),
}
# A shortened schedule evaluates at least 1/EVAL_FLOOR of the recipe's own interval apart
# (cifar-paper: every 250 iterations or more, against its 2,000).
EVAL_FLOOR = 8
_EPOCHS = re.compile(r"^(\d+(?:\.\d+)?)ep$")


@dataclass(kw_only=True)
class Recipe:
    """Everything that decides what a training run computes."""

    model: str = "resnet20"
    model_args: dict = field(default_factory=dict)  # build_network overrides, e.g. shortcut: C
    init_from: Optional[str] = None  # weights to start from (fine-tuning); see train.finetune
    freeze: Optional[str] = None  # "stem", a stage ("layer2": it and all before) or "features"
    data: str = "digits"
    image_size: Optional[int] = None  # side the network sees (folders); None: the images' own
    val_size: int = 0  # images held out of train to choose the schedule (paper: 5000)
    batch_size: int = 128
    lr: float = 0.1
    lr_batch: int = 256  # the batch size that lr is meant for (scale_lr scales from it)
    scale_lr: bool = False  # lr x batch_size / lr_batch: the linear scaling rule
    sync_bn: bool = False  # batch statistics over the global batch of every process
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 1e-4
    decay_norm_and_bias: bool = True  # the paper decays every weight, BN and biases included
    label_smoothing: float = 0.0
    # Not the paper's (the cifar-fast recipe): an average of the weights, evaluated, kept and
    # shipped in their place (0: none); and evaluation of each image with its mirror image.
    ema_decay: float = 0.0
    ema_every: int = 1
    eval_flip: bool = False
    # End the run at the first evaluation whose validation error is at or below this (a
    # time-to-accuracy run; status "reached target"); None: run every iteration.
    stop_at_val_error: Optional[float] = None
    iterations: Length = 64000
    schedule: str = "step"  # "step": divide at milestones; "plateau": when val error stalls;
    # "cosine" / "onecycle": rise for lr_rise iterations, then down to 0 at the end (not the paper's)
    lr_rise: Length = 0
    milestones: list = field(default_factory=lambda: [32000, 48000])
    lr_factor: float = 0.1
    plateau_patience: int = 3  # evaluations without a better val error before dividing
    warmup: str = "auto"  # "auto": on for depth >= 110, as the paper does for ResNet-110
    warmup_lr: float = 0.01
    warmup_until_error: float = 0.8
    augment: str = "auto"  # "auto": the data set's own (cifar: pad-crop-flip; digits: crop)
    normalize: str = "pixel_mean"
    eval_every: Length = 2000
    log_every: int = 100
    checkpoint_every: Length = 2000
    amp: str = "auto"  # "auto": bf16 autocast on CUDA, none on CPU
    channels_last: str = "auto"
    compile: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in CHOICES:  # YAML 1.1 reads a bare on/off (yes/no) as a boolean
            if isinstance(getattr(self, name), bool):
                setattr(self, name, "on" if getattr(self, name) else "off")
        for f in dataclasses.fields(self):
            setattr(self, f.name, _check_type(f.name, getattr(self, f.name), _hints()[f.name]))
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise RecipeError(
                    f"recipe: {name} must be one of {allowed}, got {getattr(self, name)!r}"
                )
        if not 0 <= self.ema_decay < 1:
            raise RecipeError(
                f"recipe: ema_decay must be in [0, 1) (0: no average), got {self.ema_decay}"
            )
        for name in ("batch_size", "lr_batch", "log_every", "plateau_patience", "ema_every"):
            if getattr(self, name) < 1:
                raise RecipeError(f"recipe: {name} must be at least 1, got {getattr(self, name)}")
        for name in ("lr", "warmup_lr", "lr_factor"):
            if not getattr(self, name) > 0:
                raise RecipeError(f"recipe: {name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.label_smoothing < 1:
            raise RecipeError(
                f"recipe: label_smoothing must be in [0, 1) (0: none), got {self.label_smoothing}"
            )
        if not 0 <= self.seed < 2**32:
            raise RecipeError(f"recipe: seed must be in [0, 2**32), got {self.seed}")
        if self.image_size is not None and self.image_size < 1:
            raise RecipeError(f"recipe: image_size must be at least 1 pixel, got {self.image_size}")
        if self.val_size < 0 or self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise RecipeError("recipe: val_size and weight_decay must be >= 0, momentum in [0, 1)")
        if self.schedule == "plateau" and self.val_size == 0:
            raise RecipeError(
                "recipe: schedule 'plateau' watches the validation error; "
                "set val_size (e.g. 5000) so there is a validation split"
            )
        self._check_target()
        for name in ("iterations", "eval_every", "checkpoint_every"):
            _parse_length(name, getattr(self, name))
        if self.lr_rise != 0:
            _parse_length("lr_rise", self.lr_rise)
        for m in self.milestones:
            _parse_length("milestones", m)

    def _check_target(self) -> None:
        target = self.stop_at_val_error
        if target is None:
            return
        if not 0 < target < 1:
            raise RecipeError(
                f"recipe: stop_at_val_error is a fraction in (0, 1), e.g. 0.1, got {target}"
            )
        if self.val_size == 0:
            raise RecipeError(
                "recipe: stop_at_val_error watches the validation error; "
                "set val_size (e.g. 5000) so there is a validation split"
            )

    def replace(self, **changes: Any) -> Recipe:
        _reject_unknown(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def unused_fields(self) -> set[str]:
        """The fields that this recipe's other choices leave without effect (a cosine schedule
        has no milestones), so that a list of what changed need not name them."""
        unused = set()
        if self.schedule != "step":
            unused.add("milestones")
        if self.schedule not in ("step", "plateau"):
            unused.add("lr_factor")
        if self.schedule != "plateau":
            unused.add("plateau_patience")
        if self.schedule not in ("cosine", "onecycle"):
            unused.add("lr_rise")
        if self.ema_decay == 0:
            unused.add("ema_every")
        return unused

    def scaled_to(self, iterations: int, /, **fixed: Any) -> Recipe:
        """The schedule stretched or shortened to ``iterations``, keeping its proportions: the
        lr falls at the same fractions of the run (``milestones``; ``lr_rise`` too), there are as many
        evaluations (``eval_every``), checkpoints at least as often as evaluations and as the
        recipe's own, and at least 100 log points. Fields in ``fixed`` are taken as given (a
        ``--set``), not scaled. (The warm-up ends on a training error, not after a length.)"""
        if iterations < 1:
            raise RecipeError(f"--iterations must be at least 1, got {iterations}")
        if "iterations" in fixed:
            raise RecipeError(
                "give --iterations (which scales the schedule) or --set "
                "iterations=N (the raw field), not both"
            )
        lengths = [
            self.iterations,
            *self.milestones,
            self.lr_rise,
            self.eval_every,
            self.checkpoint_every,
        ]
        if any(isinstance(length, str) for length in lengths):
            raise RecipeError(
                "--iterations scales a schedule counted in iterations, and this "
                f"recipe counts epochs (iterations: {self.iterations}); set the "
                "lengths themselves with --set iterations=... --set milestones=..."
            )
        scale = iterations / self.iterations
        every = fixed.get("eval_every", self._scaled_eval_every(iterations))
        scaled = {
            "iterations": iterations,
            "milestones": [max(1, round(m * scale)) for m in self.milestones],
            "lr_rise": round(self.lr_rise * scale),
            "eval_every": every,
            "checkpoint_every": min(every, self.checkpoint_every),
            "log_every": (
                self.log_every
                if iterations >= self.iterations
                else min(self.log_every, max(1, iterations // 100))
            ),
        }
        return self.replace(**{**scaled, **fixed})

    def _scaled_eval_every(self, iterations: int) -> int:
        """As many evaluations as the recipe's, but in a shorter run none more often than every
        1/``EVAL_FLOOR`` of the recipe's own interval: an evaluation costs the same images
        however short the run, so that evaluating as often as the proportions say would
        outweigh the training (cifar-paper at 50 iterations: 15,000 images every 2 steps)."""
        scaled = max(1, round(self.eval_every * iterations / self.iterations))
        if iterations >= self.iterations:
            return scaled
        return max(scaled, self._eval_floor())

    def _eval_floor(self) -> int:
        return -(-self.eval_every // EVAL_FLOOR)

    def scaling_note(self, scaled: Recipe) -> str:
        """What ``scaled_to`` changed, in one line for the start of a run."""

        def lengths(recipe: Recipe) -> str:
            return (
                f"{schedule(recipe)}evaluations every {recipe.eval_every}, "
                f"checkpoints every {recipe.checkpoint_every}"
            )

        def schedule(recipe: Recipe) -> str:  # the lengths that this schedule uses
            if recipe.schedule == "step":
                return f"lr drops at {', '.join(map(str, recipe.milestones)) or 'none'}, "
            if recipe.schedule in ("cosine", "onecycle"):
                return f"lr rises for {recipe.lr_rise}, "
            return ""

        bounded = ""
        if scaled.eval_every > round(self.eval_every * scaled.iterations / self.iterations):
            bounded = (
                f" (no more often than every {self._eval_floor()}, 1/{EVAL_FLOOR} of the "
                "recipe's, so that evaluation stays a small share of the time; and at the end)"
            )
        return (
            f"--iterations {scaled.iterations} scales the schedule of {self.iterations} "
            f"iterations: {lengths(scaled)}{bounded} (were: {lengths(self)}); --set "
            f"iterations={scaled.iterations} would stop there without moving them"
        )

    def resolved(self, iterations_per_epoch: int) -> Recipe:
        """The recipe with every length in iterations, for a data set of this many batches."""

        def it(name: str, value: Length) -> int:
            return _parse_length(name, value, iterations_per_epoch)

        return self.replace(
            iterations=it("iterations", self.iterations),
            milestones=[it("milestones", m) for m in self.milestones],
            lr_rise=it("lr_rise", self.lr_rise) if self.lr_rise != 0 else 0,
            eval_every=it("eval_every", self.eval_every),
            checkpoint_every=it("checkpoint_every", self.checkpoint_every),
        )


def preset_names() -> list[str]:
    return sorted(
        p.name[:-5]
        for p in resources.files(__package__).joinpath("recipes").iterdir()
        if p.name.endswith(".yaml")
    )


def load_recipe(name_or_file: str) -> Recipe:
    """A preset by name (``deepres train --recipe cifar-paper``) or a YAML file."""
    return Recipe(**_recipe_fields(name_or_file, seen=()))


def load_run_recipe(path: Path) -> Recipe:
    """The recipe a run directory recorded (its recipe.yaml, at ``path``) for ``--resume``. A
    damaged or foreign file is one ``RecipeError`` naming it, never a traceback."""
    fix = "restore the file, or start the run again in another --out"
    try:
        fields = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        detail = " ".join(str(err).split())[:200]  # YAML's messages span lines
        raise RecipeError(f"{path}: not a readable recipe ({detail}); {fix}") from None
    if not isinstance(fields, dict) or not all(isinstance(key, str) for key in fields):
        raise RecipeError(
            f"{path}: not a deepres recipe (expected key: value lines, got "
            f"{type(fields).__name__}); {fix}"
        )
    try:
        _reject_unknown(fields)
        return Recipe(**fields)
    except (TypeError, ValueError) as err:  # RecipeError, or a value of a foreign shape
        raise RecipeError(f"{path}: {err}; {fix}") from None


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["lr=0.05", "milestones=[100, 200]"]`` -> {"lr": 0.05, "milestones": [100, 200]}."""
    changes = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"--set takes key=value, got {pair!r}")
        try:
            changes[key.strip()] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            raise RecipeError(f"--set {pair!r}: {text!r} is not a valid value") from None
    _reject_unknown(changes)
    return changes


def _recipe_fields(name_or_file: str, seen: tuple[str, ...]) -> dict:
    if name_or_file in seen:
        raise RecipeError(f"recipe {name_or_file!r} names itself as a base: {' -> '.join(seen)}")
    path = Path(name_or_file)
    if name_or_file in preset_names():
        text = resources.files(__package__).joinpath(f"recipes/{name_or_file}.yaml").read_text()
    elif path.is_file():
        text = path.read_text()
    else:
        raise RecipeError(
            f"no recipe {name_or_file!r}: give a preset ({', '.join(preset_names())}) "
            "or the path of a YAML file"
        )
    try:
        fields = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise RecipeError(f"recipe {name_or_file}: not valid YAML ({err})") from None
    if not isinstance(fields, dict):
        raise RecipeError(
            f"recipe {name_or_file}: expected key: value lines, got {type(fields).__name__}"
        )
    base = fields.pop("base", None)
    try:
        _reject_unknown(fields)
    except RecipeError as err:
        raise RecipeError(f"recipe {name_or_file}: {err}") from None
    if base is None:
        return fields
    return {**_recipe_fields(str(base), seen + (name_or_file,)), **fields}


def _reject_unknown(changes: dict) -> None:
    known = [f.name for f in dataclasses.fields(Recipe)]
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise RecipeError(
            f"unknown recipe key{'s' * (len(unknown) > 1)} {', '.join(unknown)}; "
            f"valid keys: {', '.join(known)}"
        )


def _parse_length(name: str, value: Length, iterations_per_epoch: int | None = None) -> int:
    if isinstance(value, int):
        if value < 1:
            raise RecipeError(f"recipe: {name} must be at least 1 iteration, got {value}")
        return value
    match = _EPOCHS.match(value)
    if not match:
        raise RecipeError(
            f"recipe: {name} must be iterations (64000) or epochs ('182ep'), got {value!r}"
        )
    if not float(match.group(1)) > 0:
        raise RecipeError(f"recipe: {name} must be more than 0 epochs, got {value!r}")
    if iterations_per_epoch is None:
        return 1
    return max(1, round(float(match.group(1)) * iterations_per_epoch))


def _hints() -> dict:
    return typing.get_type_hints(Recipe)


def _check_type(name: str, value: Any, hint: Any) -> Any:
    allowed = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
    allowed = tuple(typing.get_origin(t) or t for t in allowed)
    if float in allowed and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:  # YAML 1.1 reads 1e-4 (no dot) as a string; people write it that way
            value = float(value)
        except (ValueError, OverflowError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        raise RecipeError(f"recipe: {name} must be a finite number, got {value}")
    if isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed):
        return value
    names = " or ".join(t.__name__ for t in allowed)
    raise RecipeError(f"recipe: {name} must be {names}, got {value!r}")
