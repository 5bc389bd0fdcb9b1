"""What the server accepts and how it batches: plain values, so that `deepres serve --help`
shows them without the serve extra (starlette, uvicorn) installed."""

from __future__ import annotations

from dataclasses import dataclass

from deepres.data.decode import MAX_PIXELS
from deepres.errors import UsageError


@dataclass(frozen=True, kw_only=True)
class Limits:
    max_batch: int = 32  # images per forward pass
    max_wait: float = 0.005  # seconds the first request of a batch waits for others
    max_queue: int = 1024  # images waiting for the network; beyond it requests get 503
    max_bytes: int = 16 << 20  # request body
    max_images: int = 64  # per request
    max_pixels: int = MAX_PIXELS  # per image: more is a decompression bomb
    top_k: int = 5  # classes per image unless the request asks otherwise
    # Memory and time: images decoded at once, the memory one decode may take (estimated from
    # the header before decoding), and the seconds a client has to send its whole body.
    max_decodes: int = 2
    max_decode_bytes: int = 1 << 30
    body_seconds: float = 30.0

    def __post_init__(self):
        for name, value in vars(self).items():
            if not value > 0 and not (name == "max_wait" and value == 0):
                raise UsageError(f"{name.replace('_', '-')} must be positive, not {value}")
