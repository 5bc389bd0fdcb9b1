"""SIGTERM to `deepres serve`: the request in flight is answered, then the process exits 0."""

import json
import signal
import socket
import time

import pytest
from serving import REQUEST_TIMEOUT, Server, wait_until


def _in_flight(server) -> int:
    _, _, text = server.request("GET", "/metrics")
    line = next(l for l in text.splitlines() if l.startswith("deepres_requests_in_flight "))
    return int(line.split()[1]) - 1  # less the /metrics request itself


def test_sigterm_answers_the_request_in_flight_and_exits_0(color_run, color_folder):
    server = Server(color_run, "--engine", "torch")
    try:
        image = (color_folder / "test" / "green" / "0.png").read_bytes()
        # A request whose body is half sent: the server has begun it and must finish it.
        conn = server.connect()
        conn.putrequest("POST", "/v1/predict")
        conn.putheader("Content-Length", str(len(image)))
        conn.endheaders(image[:20])
        wait_until(lambda: _in_flight(server) == 1, 30, "the request to be in flight")
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the server is shutting down meanwhile
        assert server.process.poll() is None, "the server quit with a request in flight"
        conn.send(image[20:])
        response = conn.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert answer["predictions"][0]["top"][0]["class"] == "green"
        conn.close()
        assert server.process.wait(REQUEST_TIMEOUT) == 0, server.output()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=5)
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()
