"""HTTP serving throughput: `deepres serve` against a naive server, under N concurrent clients.

Both servers run as their own processes on 127.0.0.1 with the same network and weights and
the same HTTP stack (Starlette on uvicorn); they differ in how they run the network:

- `deepres serve`: dynamic batching, the engine chosen by `--engine` (default auto);
- naive: one forward pass per request, eager PyTorch, in the thread pool (what an endpoint
  written as `def predict(file): return model(preprocess(file))` does in FastAPI).

N client threads in this process each keep one connection and POST 32x32 PNGs (raw bytes)
back to back for a bounded time. Prints requests/s, p50/p99 latency and the error count for
each server, and the ratio. The weights are random (speed does not depend on them) unless
--weights names trained ones. Asserts nothing.

``--int8`` adds a third server: `deepres serve` of the weights' INT8 export (`deepres export
--int8`, calibrated on the CIFAR-10 JPEGs of ../shared/data, --max-drop 100 since random
weights have no accuracy to keep) in onnxruntime.

    .venv/bin/python benchmarks/bench_serve.py [--clients 16] [--seconds 20] [--rounds 2] [--int8]
"""

from __future__ import annotations

import argparse
import http.client
import io
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from deepres.data import Preprocessing, Stats
from deepres.models import build_network
from deepres.weights import save_weights

START_TIMEOUT = 300
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def random_weights(folder: Path) -> Path:
    """ResNet-20 with random weights and CIFAR-10's kind of preprocessing (32x32, per-pixel
    mean), as a weight file that `deepres serve` takes."""
    torch.manual_seed(0)
    model = build_network("resnet20")
    mean_image = np.full((3, 32, 32), 0.47, np.float32)
    prep = Preprocessing(
        kind="array",
        resize=32,
        crop=32,
        in_chans=3,
        normalize="pixel_mean",
        stats=Stats((0.49, 0.48, 0.45), (0.25, 0.24, 0.26), mean_image),
        flip=True,
        padding=4,
    )
    path = folder / "resnet20-random.safetensors"
    save_weights(
        path,
        model.state_dict(),
        {"model_name": "resnet20", "classes": CLASSES, "preprocessing": prep.to_dict()},
    )
    return path


def pngs(count: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buffer, "PNG")
        out.append(buffer.getvalue())
    return out


class Process:
    """A server process; its port is read from its 'serving on http://127.0.0.1:PORT' line."""

    def __init__(self, name: str, command: list[str]):
        self.name = name
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.process.stderr:
                self.lines.append(line)
                found = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(START_TIMEOUT) or self.port is None:
            self.stop()
            sys.exit(f"{name} did not start:\n{''.join(self.lines)}")

    def get(self, path: str) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path)
        return conn.getresponse().read().decode()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def load(port: int, images: list[bytes], clients: int, seconds: float) -> dict:
    """``clients`` threads POSTing for ``seconds``: requests/s, latencies, errors."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(k: int) -> None:
        conn = None
        n = k
        while time.perf_counter() < deadline:
            body = images[n % len(images)]
            n += clients
            start = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", "/v1/predict", body, {"Content-Type": "image/png"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok, conn = False, None
            if ok:
                latencies[k].append(time.perf_counter() - start)
            else:
                errors[k] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    done = sorted(x for per in latencies for x in per)
    return {
        "rps": len(done) / elapsed,
        "errors": sum(errors),
        "p50": 1e3 * np.percentile(done, 50) if done else float("nan"),
        "p99": 1e3 * np.percentile(done, 99) if done else float("nan"),
    }


def naive_server(weights: str) -> None:
    """The yardstick: one eager forward pass per request, in Starlette's thread pool."""
    import logging

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from deepres.serve import listen
    from deepres.serve import run as run_server
    from deepres.weights import load_model

    trained = load_model(weights)
    prep = Preprocessing.from_record(trained.preprocessing, weights, trained.input_size)
    normalize, model = prep.normalizer(), trained.model.eval()

    def forward(data: bytes) -> dict:
        with torch.inference_mode():
            scores = model(normalize(prep.read(data))[None]).softmax(1)[0]
        probs, indices = scores.topk(5)
        return {
            "top": [
                {"class": trained.classes[i], "probability": p}
                for i, p in zip(indices.tolist(), probs.tolist())
            ]
        }

    async def predict(request):
        return JSONResponse(await run_in_threadpool(forward, await request.body()))

    app = Starlette(routes=[Route("/v1/predict", predict, methods=["POST"])])
    # The same listening socket and uvicorn settings as deepres serve's, which also print
    # the 'serving on' line that the benchmark reads.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("deepres.serve").setLevel(logging.INFO)
    run_server(app, listen("127.0.0.1", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20, help="per server and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating between servers")
    parser.add_argument("--weights", help="trained ResNet weights (default: random ResNet-20)")
    parser.add_argument("--engine", default="auto", help="deepres serve's --engine")
    parser.add_argument("--int8", action="store_true", help="also serve the INT8 export")
    parser.add_argument("--naive-server", metavar="WEIGHTS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        return naive_server(args.naive_server)
    with tempfile.TemporaryDirectory() as folder:
        weights = args.weights or str(random_weights(Path(folder)))
        servers = [
            Process(
                "deepres serve",
                [
                    sys.executable,
                    "-m",
                    "deepres",
                    "serve",
                    weights,
                    "--port",
                    "0",
                    "--device",
                    "cpu",
                    "--engine",
                    args.engine,
                ],
            ),
            Process("naive eager", [sys.executable, __file__, "--naive-server", weights]),
        ]
        if args.int8:
            int8 = int8_export(weights, Path(folder))
            command = [sys.executable, "-m", "deepres", "serve", str(int8), "--port", "0"]
            servers.append(Process("deepres INT8", [*command, "--engine", "onnxruntime"]))
        try:
            run(servers, pngs(64), args)
        finally:
            for server in servers:
                server.stop()


def int8_export(weights: str, folder: Path) -> Path:
    """``weights`` as `deepres export --int8` writes them, calibrated on the CIFAR-10 JPEGs."""
    from common import CACHE, cifar10_jpeg_root

    output = folder / "int8.onnx"
    command = [sys.executable, "-m", "deepres", "export", weights, "--int8", "--output"]
    command += [str(output), "--calibration", str(cifar10_jpeg_root()), "--max-drop", "100"]
    subprocess.run([*command, "--cache-dir", str(CACHE / "deepres-cache")], check=True)
    return output


def run(servers: list[Process], images: list[bytes], args) -> None:
    model = servers[0].get("/v1/model")
    choice = re.search(r'"engine_choice":"([^"]*)"', model)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.clients} "
        f"clients on 127.0.0.1, {args.rounds} rounds of {args.seconds:g} s per server"
    )
    print(f"deepres serve engine: {choice.group(1) if choice else '?'}")
    results: dict[str, list[dict]] = {s.name: [] for s in servers}
    for _ in range(args.rounds):
        for server in servers:
            load(server.port, images, args.clients, 1.0)  # warm-up
            results[server.name].append(load(server.port, images, args.clients, args.seconds))
    print(
        f"\n{'server':<14} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        "   (median over rounds; requests/s of each round)"
    )
    medians = {}
    for name, rounds in results.items():
        medians[name] = statistics.median(r["rps"] for r in rounds)
        p50 = statistics.median(r["p50"] for r in rounds)
        p99 = statistics.median(r["p99"] for r in rounds)
        errors = sum(r["errors"] for r in rounds)
        each = ", ".join(f"{r['rps']:.1f}" for r in rounds)
        print(f"{name:<14} {medians[name]:>11.1f} {p50:>8.1f} {p99:>8.1f} {errors:>7}   ({each})")
    metrics = servers[0].get("/metrics")
    total = re.search(r"^deepres_batch_size_sum (\S+)", metrics, re.M)
    count = re.search(r"^deepres_batch_size_count (\S+)", metrics, re.M)
    if total and count and float(count.group(1)):
        print(
            f"\ndeepres serve: {float(total.group(1)) / float(count.group(1)):.1f} images "
            "per batch on average (warm-ups included)"
        )
    print(f"deepres serve / naive: {medians['deepres serve'] / medians['naive eager']:.2f}x")
    if "deepres INT8" in medians:
        int8 = medians["deepres INT8"]
        print(f"deepres INT8 / deepres serve: {int8 / medians['deepres serve']:.2f}x")


if __name__ == "__main__":
    main()
