"""`deepres serve`: a trained network behind an HTTP API and a web page."""

from __future__ import annotations

import argparse
import logging

from deepres.evaluate.infer import network_for
from deepres.extras import require
from deepres.serve.limits import Limits

from .trained_args import add_engine_argument, add_weights_arguments, open_network

DEFAULTS = Limits()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve a trained network over HTTP (JSON API, metrics, a web page)",
        description="Serve a trained network: POST /v1/predict (an image as the body, or "
        "images as multipart/form-data files; ?top_k=N), GET /v1/model, GET /healthz, GET "
        "/metrics (Prometheus), and a web page at /. Requests arriving together run as one "
        "batch. SIGTERM or Ctrl-C answers the requests in flight, then exits.",
    )
    add_weights_arguments(p)
    add_engine_argument(p, default="auto")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default "
        "127.0.0.1, this machine only; 0.0.0.0 for every interface)",
    )
    p.add_argument("--port", type=_port, default=8000, help="default 8000; 0 for any free one")
    p.add_argument(
        "--max-batch",
        type=int,
        default=DEFAULTS.max_batch,
        help=f"images per forward pass (default {DEFAULTS.max_batch})",
    )
    p.add_argument(
        "--max-wait-ms",
        type=float,
        default=1e3 * DEFAULTS.max_wait,
        help="how long a request waits for others to batch with (default "
        f"{1e3 * DEFAULTS.max_wait:g} ms)",
    )
    p.add_argument(
        "--max-queue",
        type=int,
        default=DEFAULTS.max_queue,
        help="images waiting "
        f"for the network before requests are refused with 503 (default "
        f"{DEFAULTS.max_queue})",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULTS.max_bytes,
        help=f"largest request body, else 413 (default {DEFAULTS.max_bytes:,})",
    )
    p.add_argument(
        "--max-images",
        type=int,
        default=DEFAULTS.max_images,
        help=f"images per request (default {DEFAULTS.max_images})",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULTS.max_pixels,
        help="pixels per image; more is refused as a decompression bomb (default "
        f"{DEFAULTS.max_pixels:,})",
    )
    p.add_argument(
        "--max-decodes",
        type=int,
        default=DEFAULTS.max_decodes,
        help=f"images decoded at once (default {DEFAULTS.max_decodes}); with --max-decode-mb "
        "it bounds the memory that decoding takes",
    )
    p.add_argument(
        "--max-decode-mb",
        type=float,
        default=DEFAULTS.max_decode_bytes / 2**20,
        help="memory one image's decode may take, estimated from its header, else 413 "
        f"(default {DEFAULTS.max_decode_bytes / 2**20:g} MiB)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=DEFAULTS.body_seconds,
        help="seconds a client has to send its whole request body, else 408 (default "
        f"{DEFAULTS.body_seconds:g})",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")


def run(args: argparse.Namespace) -> int:
    # Our lines and uvicorn's; the ONNX converter's INFO chatter stays out.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    for name in ("deepres", "uvicorn"):
        logging.getLogger(name).setLevel(logging.INFO)
    require("serve", "deepres serve")  # before the port is taken and the network loaded
    from deepres.serve import Service, create_app, listen
    from deepres.serve import run as run_server

    limits = Limits(
        max_batch=args.max_batch,
        max_wait=args.max_wait_ms / 1e3,
        max_queue=args.max_queue,
        max_bytes=args.max_bytes,
        max_images=args.max_images,
        max_pixels=args.max_pixels,
        max_decodes=args.max_decodes,
        max_decode_bytes=int(args.max_decode_mb * 2**20),
        body_seconds=args.body_timeout,
    )
    sock = listen(args.host, args.port)  # before the slow start-up: a taken port fails fast
    trained, prep = open_network(args, engine_notes=False)  # logged with the lines below
    engine = network_for(
        trained,
        prep,
        "scores",
        engine=args.engine,
        modes=["center"],
        batch_size=limits.max_batch,
        device=args.device,
    )
    logging.getLogger("deepres.serve").info(
        "%s from %s, engine %s", trained.model_name, trained.path, engine.name
    )
    run_server(create_app(Service(trained, prep, engine, limits)), sock, access_log=args.access_log)
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return port
