"""Serving a trained network over HTTP: a JSON API with dynamic batching, Prometheus metrics,
and a web page, on Starlette and uvicorn (the ``serve`` extra).

Imports data, models, weights, engine and evaluate; never train, export or cli (see
docs/design.md, "Layers"). The names below are imported on first use, so that ``Limits``
(deepres.serve.limits) is at hand where starlette is not installed.

The guide: docs/serving.md.
"""

_PUBLIC = {
    "create_app": "app",
    "listen": "server",
    "run": "server",
    "Limits": "limits",
    "Service": "service",
}
__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'deepres.serve' has no attribute {name!r}")
    import importlib

    from deepres.extras import require

    if name != "Limits":
        require("serve", "deepres serve")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
