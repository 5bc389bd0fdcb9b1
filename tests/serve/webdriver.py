"""Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through its
chromedriver (no Selenium, nothing downloaded): open a page, find elements, type a file name
into a file input, read text. Every call has a timeout."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the protocol's key for an element reference
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT = 60


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    absent = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    if absent:
        return (
            f"{' and '.join(absent)} not installed (apt-get install chromium "
            "chromium-driver; .ci/run installs them where apt-get can)"
        )
    return None


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="deepres-chromium-")
        self.driver = subprocess.Popen(
            [CHROMEDRIVER, "--port=0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.url = self._driver_url()
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": FLAGS + [f"--user-data-dir={self.profile}"],
            },
        }
        answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.session = f"/session/{answer['sessionId']}"

    def _driver_url(self) -> str:
        found: list[str] = []
        ready = threading.Event()

        def read():
            for line in self.driver.stdout:
                port = re.search(r"started successfully on port (\d+)", line)
                if port:
                    found.append(f"http://127.0.0.1:{port.group(1)}")
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(TIMEOUT) or not found:
            self.close()
            raise AssertionError("chromedriver did not start")
        return found[0]

    def _call(self, method: str, path: str, payload: dict | None = None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as err:
            raise AssertionError(f"WebDriver {method} {path}: {err.read()[:500]!r}") from None

    def open(self, url: str) -> None:
        self._call("POST", f"{self.session}/url", {"url": url})

    def find(self, css: str) -> str:
        answer = self._call(
            "POST", f"{self.session}/element", {"using": "css selector", "value": css}
        )
        return answer[ELEMENT]

    def send_keys(self, element: str, text: str) -> None:
        self._call("POST", f"{self.session}/element/{element}/value", {"text": text})

    def text(self, css: str) -> str:
        return self._call("GET", f"{self.session}/element/{self.find(css)}/text")

    def script(self, code: str):
        return self._call("POST", f"{self.session}/execute/sync", {"script": code, "args": []})

    def wait_for_text(self, css: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.text(css)
            if text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"nothing appeared in {css} within {timeout} s")

    def screenshot(self, path) -> None:
        import base64

        path.write_bytes(base64.b64decode(self._call("GET", f"{self.session}/screenshot")))

    def close(self) -> None:
        if getattr(self, "session", None):
            try:
                self._call("DELETE", self.session)
            except Exception:  # the browser may be gone already; the driver is ended below
                pass
        self.driver.terminate()
        try:
            self.driver.wait(10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)
