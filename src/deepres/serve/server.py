"""Running the app under uvicorn on a socket bound beforehand, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import socket

import uvicorn
from starlette.applications import Starlette

from deepres.errors import UsageError

BACKLOG = 2048  # uvicorn's default
GRACE_SECONDS = 30  # after SIGTERM, requests still running after this long are cancelled

log = logging.getLogger("deepres.serve")


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port`` (0: any free port), or one clear error.
    Connections made before uvicorn starts to accept wait in its backlog."""
    try:
        family, kind, proto, _, _ = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # proto IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on sockets that
        # say they are TCP, and with it on every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, kind, proto)
    except OSError as err:
        raise UsageError(f"--host {host}: {err.strerror or err}") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as err:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {err.strerror or err}; choose "
            "another --port or --host"
        ) from None
    return sock


def run(app: Starlette, sock: socket.socket, *, access_log: bool = False) -> None:
    """Serve until SIGTERM or SIGINT; then stop taking connections, answer the requests in
    flight (up to GRACE_SECONDS), and return."""
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        lifespan="on",
        access_log=access_log,
        log_config=None,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    log.info(
        "serving on http://%s:%d (stop with Ctrl-C or SIGTERM)",
        f"[{host}]" if ":" in host else host,
        port,
    )
    # uvicorn answers SIGTERM and SIGINT by shutting down gracefully, and then raises the same
    # signal again, with the handlers it found restored, so that the process dies of it.
    # Handlers that ignore that second signal let serving end as a normal return (status 0).
    stopping = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stopping}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")
