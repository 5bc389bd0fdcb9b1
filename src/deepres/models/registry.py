"""One registry of every network by name: ``build_network(name, **overrides)``, ``list_models``.

Users call ``deepres.create_model(name, weights=None, **overrides)``, which builds here and
loads trained weights when asked (deepres.weights.zoo); this layer knows no weights.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from deepres.errors import ModelError

from .resnet import IMAGENET_LAYOUTS, cifar_resnet, imagenet_resnet

CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)  # paper Table 6
CIFAR_PLAIN_DEPTHS = (20, 32, 44, 56, 110)  # paper Fig. 6


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """What the registry knows of a network without building it."""

    name: str
    family: str  # "cifar" or "imagenet"
    depth: int
    residual: bool
    input_size: int  # native square input, in pixels
    builder: Callable[..., nn.Module]
    fixed: dict = field(default_factory=dict)  # arguments the name itself decides
    description: str = ""

    def overridable(self) -> list[str]:
        """Keyword arguments that ``build_network`` accepts for this network."""
        params = inspect.signature(self.builder).parameters
        return [
            p
            for p in params
            if params[p].kind is inspect.Parameter.KEYWORD_ONLY and p not in self.fixed
        ]


_REGISTRY: dict[str, ModelInfo] = {}


def register(info: ModelInfo) -> ModelInfo:
    if info.name in _REGISTRY:
        raise ValueError(f"model {info.name!r} is registered twice")
    _REGISTRY[info.name] = info
    return info


def list_models(pattern: str = "*") -> list[str]:
    """Registered names matching a shell-style pattern (e.g. ``"plain*"``), in registry order."""
    return [name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern)]


def model_info(name: str) -> ModelInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ModelError(
            f"unknown model {name!r}.{hint} Valid names: {', '.join(_REGISTRY)} "
            "(`deepres models` prints them with their sizes)"
        ) from None


def build_network(name: str, **overrides) -> nn.Module:
    """A registered network, freshly initialised; ``overrides`` replace its defaults (e.g.
    num_classes=100).

    The architecture alone: ``deepres.create_model`` builds through it and adds trained
    weights, and is what users call. Its own name, not a second ``create_model``, so that one
    name never means two signatures.
    """
    info = model_info(name)
    allowed = info.overridable()
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise ModelError(
            f"{name} does not take {', '.join(unknown)}; valid overrides: {', '.join(allowed)}"
        )
    return info.builder(**info.fixed, **overrides)


_FAMILIES = {"cifar": (32, cifar_resnet), "imagenet": (224, imagenet_resnet)}


def _add(name: str, family: str, *, depth: int, residual: bool, description: str, **fixed):
    """Register a network of ``family``; ``fixed`` adds to the depth and residual that its
    name decides."""
    input_size, builder = _FAMILIES[family]
    register(
        ModelInfo(
            name=name,
            family=family,
            depth=depth,
            residual=residual,
            input_size=input_size,
            builder=builder,
            fixed={"depth": depth, "residual": residual, **fixed},
            description=description,
        )
    )


def _register_all() -> None:
    for depth in CIFAR_DEPTHS:
        _add(
            f"resnet{depth}",
            "cifar",
            depth=depth,
            residual=True,
            description="CIFAR-10 ResNet of paper Sec. 4.2, Table 6",
        )
    for depth in CIFAR_PLAIN_DEPTHS:
        _add(
            f"plain{depth}",
            "cifar",
            depth=depth,
            residual=False,
            description="CIFAR-10 plain net of paper Fig. 6",
        )
    for residual, kind in ((True, "resnet"), (False, "plain")):
        for depth in IMAGENET_LAYOUTS:
            stride_note = ", bottleneck stride in the first 1x1" if depth >= 50 else ""
            _add(
                f"{kind}{depth}",
                "imagenet",
                depth=depth,
                residual=residual,
                description=f"ImageNet {kind} net of paper Table 1{stride_note}",
            )
        if residual:
            for depth in (50, 101, 152):
                _add(
                    f"resnet{depth}_v1_5",
                    "imagenet",
                    depth=depth,
                    residual=True,
                    stride_in_1x1=False,
                    description=(
                        "torchvision's v1.5: bottleneck stride in the 3x3, not the paper's 1x1"
                    ),
                )


_register_all()
