"""The HTTP API (Starlette) over a ``Service``.

- ``POST /v1/predict[?top_k=5]``: one image as the body, or several as files of a
  multipart/form-data form; JSON with the most probable classes of each.
- ``GET /v1/model``: the network, its classes, preprocessing and engine, and the model card
  of weights shipped with deepres (null for any other file).
- ``GET /healthz``, ``GET /metrics`` (Prometheus text), ``GET /`` (a web page to try it).

Every error is JSON, ``{"error": "..."}``, with a 4xx status for a bad request.
"""

from __future__ import annotations

import contextlib
import time

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .batcher import Busy
from .bodies import ClientGone, RequestError, read_uploads
from .metrics import CONTENT_TYPE
from .page import page_html
from .service import Service

CLIENT_CLOSED = 499  # nginx's status for a request its client gave up on
API = "POST /v1/predict, GET /v1/model, GET /healthz, GET /metrics, GET /"


def create_app(service: Service) -> Starlette:
    decodes = anyio.CapacityLimiter(service.limits.max_decodes)

    async def predict(request: Request) -> Response:
        top_k = service.parse_top_k(request.query_params.get("top_k"))
        limits = service.limits
        uploads = await read_uploads(
            request, limits.max_bytes, limits.max_images, limits.body_seconds
        )
        # Decoding is C code that releases the GIL: threads keep the event loop answering;
        # at most max_decodes of them at once, so decodes in flight bound the memory.
        images = await anyio.to_thread.run_sync(service.views, uploads, limiter=decodes)
        scores = await service.batcher.run(images)
        return JSONResponse(service.answer(uploads, scores, top_k))

    async def model(request: Request) -> Response:
        return JSONResponse(service.describe())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(service.metrics.text(), media_type=CONTENT_TYPE)

    page = page_html()

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        service.batcher.start()
        yield
        service.batcher.stop()  # after uvicorn has answered the requests in flight

    routes = [
        Route("/v1/predict", predict, methods=["POST"]),
        Route("/v1/model", model, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/", index, methods=["GET"]),
    ]
    handlers = {
        ClientGone: _client_gone,
        RequestError: _request_error,
        Busy: _busy,
        HTTPException: _http_error,
        Exception: _server_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.add_middleware(_Measured, service=service)
    return app


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _request_error(request: Request, err: RequestError) -> Response:
    return error(err.status, str(err))


async def _client_gone(request: Request, err: ClientGone) -> Response:
    return error(CLIENT_CLOSED, "the client closed the connection")  # sent to nobody


async def _busy(request: Request, err: Busy) -> Response:
    return error(503, f"busy: {err}; retry in a moment", {"Retry-After": "1"})


async def _http_error(request: Request, err: HTTPException) -> Response:
    if err.status_code == 404:
        message = f"no such path: {request.url.path} (the API: {API})"
    elif err.status_code == 405:
        allowed = (err.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
    else:
        message = str(err.detail)
    return error(err.status_code, message, err.headers)


async def _server_error(request: Request, err: Exception) -> Response:
    # Starlette logs the traceback after sending this; the client hears what failed.
    return error(500, f"internal error: {type(err).__name__}: {err}")


class _Measured:
    """ASGI middleware: counts every request by path and status, and times it."""

    def __init__(self, app, service: Service):
        self.app, self.metrics = app, service.metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # unless a response starts

        async def send_measured(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.request_started()
        try:
            await self.app(scope, receive, send_measured)
        finally:
            self.metrics.request_finished(scope["path"], status, time.perf_counter() - start)
