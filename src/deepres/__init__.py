"""deepres: the networks, recipes and experiments of He et al., "Deep Residual Learning for
Image Recognition" (2015), as a PyTorch library and a command-line tool."""

__version__ = "0.1.0"

# The calls most people need, as ``deepres.NAME``; each is imported on first use, so that
# ``import deepres.models`` stays free of the layers above it (see tests/test_layering.py).
_PUBLIC = {
    "create_model": "deepres.weights",
    "load_model": "deepres.weights",
    "list_models": "deepres.models",
    "list_weights": "deepres.catalog",
}


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'deepres' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(_PUBLIC[name])
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
