"""The server's counters in the Prometheus text format (version 0.0.4), kept by hand: requests
by path and status, request latency and batch size histograms, and a few gauges.

Updated from the event loop and from the batching thread, so every change holds one lock.
"""

from __future__ import annotations

import threading
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# Paths outside these are counted as "other", so that scanning for URLs cannot grow the labels.
PATHS = ("/", "/v1/predict", "/v1/model", "/healthz", "/metrics")


class Histogram:
    """Cumulative buckets, sum and count, per label set."""

    def __init__(self, buckets: tuple[float, ...]):
        self.buckets = buckets
        self.counts: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(buckets))
        self.sums: dict[tuple, float] = defaultdict(float)
        self.totals: dict[tuple, int] = defaultdict(int)

    def observe(self, labels: tuple, value: float) -> None:
        counts = self.counts[labels]
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
        self.sums[labels] += value
        self.totals[labels] += 1

    def lines(self, name: str, label_names: tuple[str, ...]) -> list[str]:
        out = []
        for labels in sorted(self.totals):
            pairs = [f'{k}="{v}"' for k, v in zip(label_names, labels)]
            bounds = [f"{b:g}" for b in self.buckets] + ["+Inf"]
            counts = self.counts[labels] + [self.totals[labels]]
            for bound, count in zip(bounds, counts):
                le = 'le="' + bound + '"'
                out.append(f"{name}_bucket{_labels(pairs + [le])} {count}")
            selector = _labels(pairs)
            out.append(f"{name}_sum{selector} {self.sums[labels]!r}")
            out.append(f"{name}_count{selector} {self.totals[labels]}")
        return out


def _labels(pairs: list[str]) -> str:
    return "{" + ",".join(pairs) + "}" if pairs else ""


class Metrics:
    def __init__(self, model: str, engine: str):
        self.model, self.engine = model, engine
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.latency = Histogram(LATENCY_BUCKETS)
        self.batch_sizes = Histogram(BATCH_BUCKETS)
        self.images = 0
        self.in_flight = 0
        self.queued_images = 0

    def request_started(self) -> None:
        with self.lock:
            self.in_flight += 1

    def request_finished(self, path: str, status: int, seconds: float) -> None:
        path = path if path in PATHS else "other"
        with self.lock:
            self.in_flight -= 1
            self.requests[path, status] += 1
            self.latency.observe((path,), seconds)

    def batch_run(self, size: int) -> None:
        with self.lock:
            self.batch_sizes.observe((), size)
            self.images += size

    def queue_changed(self, delta: int) -> None:
        with self.lock:
            self.queued_images += delta

    def text(self) -> str:
        with self.lock:
            lines = [
                "# HELP deepres_requests_total HTTP requests answered, by path and status.",
                "# TYPE deepres_requests_total counter",
                *(
                    f'deepres_requests_total{{path="{p}",status="{s}"}} {n}'
                    for (p, s), n in sorted(self.requests.items())
                ),
                "# HELP deepres_request_duration_seconds Time from a request's arrival to its "
                "answer, by path.",
                "# TYPE deepres_request_duration_seconds histogram",
                *self.latency.lines("deepres_request_duration_seconds", ("path",)),
                "# HELP deepres_batch_size Images in each batch the network ran.",
                "# TYPE deepres_batch_size histogram",
                *self.batch_sizes.lines("deepres_batch_size", ()),
                "# HELP deepres_images_total Images the network has classified.",
                "# TYPE deepres_images_total counter",
                f"deepres_images_total {self.images}",
                "# HELP deepres_requests_in_flight Requests being answered now.",
                "# TYPE deepres_requests_in_flight gauge",
                f"deepres_requests_in_flight {self.in_flight}",
                "# HELP deepres_queued_images Images waiting for the network.",
                "# TYPE deepres_queued_images gauge",
                f"deepres_queued_images {self.queued_images}",
                "# HELP deepres_model_info The network served and the engine that runs it.",
                "# TYPE deepres_model_info gauge",
                f'deepres_model_info{{model="{self.model}",engine="{self.engine}"}} 1',
            ]
        return "\n".join(lines) + "\n"
