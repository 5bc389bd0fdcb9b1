"""Serving a trained network over HTTP: a JSON API with dynamic batching, Prometheus metrics,
and a web page, on Starlette and uvicorn.

Imports data, models, weights, engine and evaluate; never train, export or cli (see
DESIGN.md, "Layers").
"""

from .app import create_app
from .bodies import RequestError, Upload
from .server import listen, run
from .service import Limits, Service

__all__ = ["create_app", "RequestError", "Upload", "listen", "run", "Limits", "Service"]
