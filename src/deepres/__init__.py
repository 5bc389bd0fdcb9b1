"""deepres: the networks, recipes and experiments of He et al., "Deep Residual Learning for
Image Recognition" (2015), as a PyTorch library and a command-line tool.

The calls most people need:

    create_model(name, weights=None, **overrides)  a network of the paper, optionally with
                                                   weights shipped with deepres
    load_model(path)                               a trained network (run directory, weight
                                                   file, shipped name) with its classes and
                                                   preprocessing: .predict(images), .embed()
    list_models(pattern="*")                       the registered networks
    list_weights()                                 the trained weights shipped with deepres

    >>> import deepres
    >>> trained = deepres.load_model("resnet20-cifar10")
    >>> trained.predict("cat.png", top_k=3)

The guides: README.md and the pages under docs/ (training, data, networks, using a trained
network, serving, reproducing the paper, distributed, guarantees, benchmarks, design,
development).

The layers below (``deepres.data``, ``deepres.train``, ``deepres.evaluate``, ...) hold the rest.
"""

__version__ = "0.1.0"

# The calls most people need, as ``deepres.NAME``; each is imported on first use, so that
# ``import deepres.models`` stays free of the layers above it (see tests/test_layering.py).
_PUBLIC = {
    "create_model": "deepres.weights",
    "load_model": "deepres.weights",
    "list_models": "deepres.models",
    "list_weights": "deepres.catalog",
}
# help(deepres) documents what __all__ names, wherever it is defined.
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'deepres' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(_PUBLIC[name])
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
