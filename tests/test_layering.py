"""Each layer imports only the layers below it (docs/design.md, "Layers"):

    cli -> serve, ship, experiments -> train, evaluate, export, analysis -> weights, engine
        -> data, models, runs

Beneath them all, `deepres.atomic`, `deepres.errors`, `deepres.catalog` and `deepres.extras`
(standard library only; the others raise the errors of `deepres.errors`) serve every layer.
"""

import subprocess
import sys
from pathlib import Path

import pytest

import deepres

BELOW = {
    "models": set(),
    "data": set(),
    "runs": set(),
    "weights": {"models", "data", "runs"},
    "engine": {"models"},
    "analysis": {"models", "data", "runs", "weights"},
    "train": {"models", "data", "runs", "weights"},
    "evaluate": {"models", "data", "runs", "weights", "engine"},
    "export": {"models", "data", "runs", "weights", "engine"},
    "experiments": {"models", "data", "runs", "weights", "train", "analysis"},
    "serve": {"models", "data", "runs", "weights", "engine", "evaluate"},
    "ship": {"models", "data", "runs", "weights", "engine", "evaluate"},
}
EVERY_LAYER = {"atomic", "errors", "catalog", "extras"}
PACKAGES = sorted(
    p.name
    for p in Path(deepres.__file__).parent.iterdir()
    if (p / "__init__.py").exists() and p.name != "cli"
)


def _packages_loaded_by(package: str) -> set[str]:
    code = (
        f"import sys, deepres.{package}; "
        "print(' '.join(m for m in sys.modules if m.startswith('deepres.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return {m.split(".")[1] for m in result.stdout.split()} - {package}


@pytest.mark.parametrize("package", PACKAGES)
def test_layer_imports_only_layers_below(package):
    assert package in BELOW, f"deepres.{package} has no place in the layering: add it to BELOW"
    assert _packages_loaded_by(package) <= BELOW[package] | EVERY_LAYER


@pytest.mark.parametrize("module", sorted(EVERY_LAYER))
def test_bottom_module_imports_nothing_of_deepres_nor_torch(module):
    code = (
        f"import sys, deepres.{module}; "
        "print(' '.join(m for m in sys.modules if m.startswith('deepres.') or m == 'torch'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert set(result.stdout.split()) <= {f"deepres.{module}", "deepres.errors"}, result.stderr
    assert f"deepres.{module}" in result.stdout.split(), result.stderr
