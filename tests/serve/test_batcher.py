"""Dynamic batching: requests that wait together run as one batch, large ones in chunks, and
a full queue refuses more."""

import asyncio
import threading

import pytest
import torch

from deepres.serve.batcher import Batcher, Busy
from deepres.serve.metrics import Metrics


class RecordingEngine:
    """Doubles its input, noting each batch size; can be held to let requests pile up."""

    name = "fake"

    def __init__(self):
        self.sizes = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, images):
        self.gate.wait(10)
        self.sizes.append(len(images))
        return images.flatten(1)[:, :2] * 2


def _images(*values):
    """One 1x1x2 image per value, both pixels the value."""
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 1, 2)


def _run(batcher, coroutine):
    async def main():
        batcher.start()
        try:
            return await asyncio.wait_for(coroutine(), 30)
        finally:
            await asyncio.to_thread(batcher.stop)

    return asyncio.run(main())


def test_requests_waiting_together_run_as_one_batch_and_get_their_own_rows():
    engine = RecordingEngine()
    batcher = Batcher(engine, Metrics("m", "fake"), max_batch=8, max_wait=5.0, max_queue=64)

    async def requests():
        # max_wait is long: the batch runs as soon as its 8 images are there, not after 5 s
        return await asyncio.gather(
            *(batcher.run(_images(i)) for i in range(4)), batcher.run(_images(10, 11, 12, 13))
        )

    outputs = _run(batcher, requests)
    assert engine.sizes == [8]
    assert [o[:, 0].tolist() for o in outputs] == [[0], [2], [4], [6], [20, 22, 24, 26]]


def test_a_request_larger_than_a_batch_runs_in_chunks():
    engine = RecordingEngine()
    batcher = Batcher(engine, Metrics("m", "fake"), max_batch=3, max_wait=0, max_queue=64)
    output = _run(batcher, lambda: batcher.run(_images(*range(7))))
    assert engine.sizes == [3, 3, 1] and output[:, 0].tolist() == [2 * i for i in range(7)]


def test_a_full_queue_refuses_more_and_recovers():
    engine = RecordingEngine()
    engine.gate.clear()  # the network is busy
    batcher = Batcher(engine, Metrics("m", "fake"), max_batch=4, max_wait=0, max_queue=4)

    async def requests():
        first = asyncio.ensure_future(batcher.run(_images(1, 2, 3, 4)))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await batcher.run(_images(5))
        engine.gate.set()
        await first
        return await batcher.run(_images(6))

    assert _run(batcher, requests)[:, 0].tolist() == [12]
    assert engine.sizes == [4, 1]
