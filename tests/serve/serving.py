"""A real `deepres serve` process for tests: started on a free port of 127.0.0.1, read by
plain http.client, every wait bounded."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

START_TIMEOUT = 120  # seconds: importing torch and loading the network on a busy machine
REQUEST_TIMEOUT = 30


class Server:
    def __init__(self, weights, *options: str):
        command = [
            sys.executable,
            "-m",
            "deepres",
            "serve",
            str(weights),
            "--port",
            "0",
            "--device",
            "cpu",
            *options,
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        self.log: list[str] = []
        self.port: int | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._ready.wait(START_TIMEOUT) or self.port is None:
            self.stop()
            raise AssertionError("deepres serve did not start:\n" + self.output())

    def _read_log(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            found = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                self._ready.set()
        self._ready.set()  # the process ended

    def output(self) -> str:
        return "".join(self.log)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)

    def request(self, method: str, path: str, body=None, headers=None):
        """(status, headers, body as JSON where it is JSON, else text)."""
        conn = self.connect()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        kind = response.getheader("Content-Type", "")
        parsed = json.loads(data) if kind.startswith("application/json") else data.decode()
        return response.status, response, parsed

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(
                f"deepres serve did not stop within {timeout} s after SIGTERM:\n" + self.output()
            )


def multipart(files: list[tuple[str, bytes]], boundary: str = "deepres-test-boundary"):
    """(body, headers) of a multipart/form-data form with ``files`` as file fields."""
    parts = []
    for name, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def wait_until(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
