"""`deepres serve` bounds the memory, descriptors and time of each request (issue 30, items 7
and 8): a slow body is cut off with 408, a client that hangs up is no 500 and logs no
traceback, an image whose header claims too many pixels (or too large a decode) is refused
with 413 before it is decoded, and decodes in flight are bounded. Loopback only, few requests."""

from __future__ import annotations

import io
import socket
import threading
import time

import anyio
import numpy as np
import pytest
import torch
from PIL import Image
from serving import Server, wait_until

from deepres.evaluate.infer import network_for
from deepres.serve import Limits, Service, create_app
from deepres.weights import load_model


@pytest.fixture(scope="module")
def server(color_run):
    server = Server(
        color_run, "--engine", "torch", "--body-timeout", "1", "--max-pixels", "20000000",
        "--max-decode-mb", "50",
    )  # fmt: skip
    yield server
    assert server.stop() == 0, server.output()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _half_sent(server, declared: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = f"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n"
    sock.sendall(head.encode() + sent)
    return sock


def test_a_slow_body_is_cut_off_with_408(server):
    sock = _half_sent(server, 10_000, b"\x89PNG")
    start = time.monotonic()
    answer = b""
    try:
        sock.settimeout(10)
        while b"did not arrive" not in answer and (chunk := sock.recv(4096)):
            answer += chunk  # the headers and the body may come in separate packets
    finally:
        sock.close()
    answer = answer.decode()
    assert answer.startswith("HTTP/1.1 408 "), answer
    assert "did not arrive within 1 s" in answer
    assert 0.9 < time.monotonic() - start < 10
    assert server.request("GET", "/healthz")[0] == 200


def _requests(metrics: str, status: str) -> int:
    lines = [ln for ln in metrics.splitlines() if ln.startswith("deepres_requests_total")]
    return sum(int(float(ln.split()[-1])) for ln in lines if f'status="{status}"' in ln)


def test_a_client_hanging_up_is_no_500_and_logs_no_traceback(server):
    for _ in range(3):
        _half_sent(server, 10_000, b"\x89PNG\r\n").close()

    def counted():
        return _requests(server.request("GET", "/metrics")[2], "499") >= 3

    wait_until(counted, 10, "three hang-ups counted as 499")
    assert _requests(server.request("GET", "/metrics")[2], "500") == 0
    assert "Traceback" not in server.output()


def test_too_many_pixels_or_too_large_a_decode_is_413_from_the_header(server, color_folder):
    many = _png(Image.new("L", (5000, 5000)))  # 25 M pixels in a few KB
    status, _, answer = server.request("POST", "/v1/predict", many)
    assert status == 413, answer
    assert "header claims 5000x5000 pixels, more than the limit of 20,000,000" in answer["error"]
    assert "(--max-pixels)" in answer["error"]
    sixteen = _png(Image.fromarray(np.zeros((2500, 2500), np.uint16)))  # 6 M pixels, 16-bit
    status, _, answer = server.request("POST", "/v1/predict", sixteen)
    assert status == 413, answer
    assert "decoding its 2500x2500 pixels would take about" in answer["error"]
    assert "more than the limit of 50 MiB (--max-decode-mb)" in answer["error"]
    good = (color_folder / "test" / "red" / "0.png").read_bytes()
    assert server.request("POST", "/v1/predict", good)[0] == 200


@pytest.mark.parametrize("top_k", ["%C2%B2", "9" * 5000])
def test_a_top_k_that_is_no_small_number_is_400(server, color_folder, top_k):
    good = (color_folder / "test" / "red" / "0.png").read_bytes()
    status, _, answer = server.request("POST", f"/v1/predict?top_k={top_k}", good)
    assert status == 400 and "top_k must be a whole number" in answer["error"], answer


async def _post(app, body: bytes) -> int:
    """One POST through the ASGI app itself; its status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/predict", "raw_path": b"/v1/predict",
        "query_string": b"", "headers": [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = []

    async def receive():
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


def test_decodes_in_flight_are_bounded(color_run, color_folder):
    trained = load_model(color_run)
    prep = trained.image_preprocessing()
    engine = network_for(
        trained, prep, "scores", engine="torch", modes=["center"], batch_size=8, device="cpu"
    )
    service = Service(trained, prep, engine, Limits(max_decodes=2))
    decode = service.views
    running, most = [0], [0]
    lock = threading.Lock()

    def slow_views(uploads) -> torch.Tensor:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        try:
            return decode(uploads)
        finally:
            with lock:
                running[0] -= 1

    service.views = slow_views
    app = create_app(service)
    good = (color_folder / "test" / "red" / "0.png").read_bytes()
    statuses = []

    async def six():
        async with anyio.create_task_group() as tasks:
            for _ in range(6):
                tasks.start_soon(lambda: _post_and_keep(app, good, statuses))

    service.batcher.start()
    try:
        anyio.run(six)
    finally:
        service.batcher.stop()
    assert statuses == [200] * 6 and most[0] == 2


async def _post_and_keep(app, body, statuses):
    statuses.append(await _post(app, body))


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_one_line(port, capsys):
    from deepres.cli import main

    with pytest.raises(SystemExit) as stopped:  # argparse's usage error, as for any option
        main(["serve", "run", "--port", port])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"--port: a port is a number from 0 to 65535, not '{port}'" in err
    assert "Traceback" not in err


def test_a_form_of_many_parts_does_not_hold_the_event_loop(server):
    from serving import multipart

    body, headers = multipart([(f"{i}.png", b"x" * 20) for i in range(100_000)])  # ~16 MB
    answers = []
    posting = threading.Thread(
        target=lambda: answers.append(server.request("POST", "/v1/predict", body, headers))
    )
    posting.start()
    time.sleep(0.5)  # the body is sent and being parsed
    slowest = 0.0
    while posting.is_alive():
        start = time.monotonic()
        assert server.request("GET", "/healthz")[0] == 200
        slowest = max(slowest, time.monotonic() - start)
        time.sleep(0.05)
    posting.join()
    assert answers[0][0] == 413  # 100,000 files: over --max-images, once parsed (2 s here)
    assert slowest < 1.0
