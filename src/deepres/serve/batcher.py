"""Dynamic batching: images of requests that arrive together go through the network as one
batch, run by one thread so that the event loop keeps answering while the network computes.

The thread takes the first waiting request, then waits at most ``max_wait`` seconds for more,
until ``max_batch`` images are gathered; a request with more images than that is run in
chunks. While a batch runs, new requests queue, and the next batch takes them all at once, so
under load the wait is rarely needed.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass

import torch

from deepres.engine import Engine

from .metrics import Metrics


class Busy(Exception):
    """More images are waiting than the server takes: the client should retry later."""


@dataclass
class _Job:
    images: torch.Tensor  # (k, C, H, W) float32, normalised
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


class Batcher:
    def __init__(
        self, engine: Engine, metrics: Metrics, *, max_batch: int, max_wait: float, max_queue: int
    ):
        if max_batch < 1 or max_wait < 0 or max_queue < 1:
            raise ValueError(
                f"batching needs max_batch >= 1, max_wait >= 0 and max_queue >= 1"
                f" (got {max_batch}, {max_wait}, {max_queue})"
            )
        self.engine, self.metrics = engine, metrics
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._queued = 0  # images waiting or running; changed under the lock
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="deepres-batcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the queued requests, then end the thread."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    async def run(self, images: torch.Tensor) -> torch.Tensor:
        """The network's outputs for ``images``, computed in a batch with other requests'."""
        with self._lock:
            if self._queued + len(images) > self.max_queue:
                raise Busy(f"{self._queued} images are already waiting (limit {self.max_queue})")
            self._queued += len(images)
        self.metrics.queue_changed(len(images))
        loop = asyncio.get_running_loop()
        job = _Job(images, loop.create_future(), loop)
        self._jobs.put(job)
        return await job.future

    def _serve(self) -> None:
        held: _Job | None = None  # a job that did not fit in the last batch
        while True:
            first = held or self._jobs.get()
            held = None
            if first is None:
                return
            batch, size = [first], len(first.images)
            deadline = time.monotonic() + self.max_wait
            while size < self.max_batch:
                try:
                    job = self._jobs.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # stop once this batch has run
                    break
                if size + len(job.images) > self.max_batch:
                    held = job
                    break
                batch.append(job)
                size += len(job.images)
            self._run(batch)

    def _run(self, batch: list[_Job]) -> None:
        images = torch.cat([job.images for job in batch])
        try:
            parts = images.split(self.max_batch)
            outputs = torch.cat([self.engine(part) for part in parts])
            for part in parts:
                self.metrics.batch_run(len(part))
            results = outputs.split([len(job.images) for job in batch])
        except Exception as err:  # the engine failed: every request of the batch hears of it
            results = [err] * len(batch)
        with self._lock:
            self._queued -= len(images)
        self.metrics.queue_changed(-len(images))
        for job, result in zip(batch, results):
            job.loop.call_soon_threadsafe(_settle, job.future, result)


def _settle(future: asyncio.Future, result: torch.Tensor | Exception) -> None:
    if future.done():  # the client went away and its request was cancelled
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)
