"""torch.hub entry points: every network of deepres, by its registered name, with the trained
weights shipped in the repository (no download).

    model = torch.hub.load("REPO_DIR", "resnet20", weights="cifar10", source="local")
    model = torch.hub.load("OWNER/deepres", "resnet56", weights="cifar10")  # from GitHub
    torch.hub.list("OWNER/deepres")                      # the entry points
    print(torch.hub.help("OWNER/deepres", "resnet20"))   # (list and help read GitHub only)

Works from a checkout that is not pip-installed: torch.hub puts the checkout on sys.path, and
deepres lives in its src/ folder, which is put there too.
"""

import sys as _sys
from pathlib import Path as _Path

# Checked by torch.hub before anything is loaded: deepres's core (pyproject.toml), as modules.
dependencies = ["torch", "numpy", "PIL", "yaml", "safetensors", "tqdm"]

_SRC = str(_Path(__file__).resolve().parent / "src")
if _SRC not in _sys.path:
    _sys.path.insert(0, _SRC)

from deepres import catalog as _catalog  # noqa: E402
from deepres.models import list_models as _list_models  # noqa: E402
from deepres.models import model_info as _model_info  # noqa: E402
from deepres.weights import create_model as _create_model  # noqa: E402


def _entry_point(name: str):
    def entry(weights=None, **overrides):
        return _create_model(name, weights=weights, **overrides)

    shipped = [w[len(name) + 1 :] for w in _catalog.list_weights() if w.startswith(f"{name}-")]
    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = (
        f"{name}: {_model_info(name).description}\n\n"
        f"weights: None (untrained), trained weights shipped with deepres "
        f"({', '.join(map(repr, shipped)) or 'none for this network'}), or a weight file "
        "(deepres, safetensors, torchvision, or a public CIFAR ResNet checkpoint).\n"
        "Other keywords as deepres.create_model takes them (num_classes, in_chans, shortcut, "
        "...). Returns an nn.Module in training mode; call .eval() to predict."
    )
    return entry


for _name in _list_models():
    globals()[_name] = _entry_point(_name)
