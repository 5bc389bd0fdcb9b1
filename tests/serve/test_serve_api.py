"""`deepres serve` over real HTTP: the answers agree with `deepres predict`, every bad request
gets a JSON error with a 4xx status, and the server goes on serving."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from serving import Server, multipart

from deepres.cli import main

MAX_BYTES, MAX_PIXELS = 50_000, 100_000


@pytest.fixture(scope="module")
def server(color_run):
    server = Server(
        color_run,
        "--engine",
        "torch",
        "--max-bytes",
        str(MAX_BYTES),
        "--max-pixels",
        str(MAX_PIXELS),
    )
    yield server
    assert server.stop() == 0, server.output()


@pytest.fixture(scope="module")
def images(color_folder):
    return sorted((color_folder / "test").glob("*/[01].png"))


def _predict_cli(run, files, capsys, top_k):
    capsys.readouterr()
    assert (
        main(
            [
                "predict",
                str(run),
                *map(str, files),
                "--json",
                "--engine",
                "torch",
                "--top-k",
                str(top_k),
            ]
        )
        == 0
    )
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _assert_same(served_top, cli_top):
    assert [t["class"] for t in served_top] == [t["class"] for t in cli_top]
    np.testing.assert_allclose(
        [t["probability"] for t in served_top],
        [t["probability"] for t in cli_top],
        rtol=0,
        atol=1e-6,
    )


def test_raw_body_and_form_agree_with_deepres_predict(server, color_run, images, capsys):
    expected = _predict_cli(color_run, images, capsys, top_k=3)
    for path, cli in zip(images, expected):
        status, _, answer = server.request(
            "POST", "/v1/predict?top_k=3", path.read_bytes(), {"Content-Type": "image/png"}
        )
        assert status == 200, answer
        assert answer["model"] == "resnet20" and answer["engine"] == "torch"
        [served] = answer["predictions"]
        assert served["file"] is None and len(served["top"]) == 3
        _assert_same(served["top"], cli["top"])
    body, headers = multipart([(p.parent.name + ".png", p.read_bytes()) for p in images])
    status, _, answer = server.request("POST", "/v1/predict?top_k=3", body, headers)
    assert status == 200, answer
    assert [p["file"] for p in answer["predictions"]] == [p.parent.name + ".png" for p in images]
    for served, cli in zip(answer["predictions"], expected):
        _assert_same(served["top"], cli["top"])
    # the colour classes are learnt: each test image's top class is its folder's
    assert [p["top"][0]["class"] for p in answer["predictions"]] == [p.parent.name for p in images]


def test_model_health_and_metrics(server, images):
    status, _, model = server.request("GET", "/v1/model")
    assert status == 200
    assert model["model"] == "resnet20" and sorted(model["classes"]) == [
        "blue",
        "gray",
        "green",
        "red",
    ]
    assert model["preprocessing"]["crop"] == 16 and model["preprocessing"]["steps"]
    assert server.request("GET", "/healthz")[:3:2] == (200, {"status": "ok"})
    server.request("POST", "/v1/predict", images[0].read_bytes())
    status, response, text = server.request("GET", "/metrics")
    assert status == 200 and response.getheader("Content-Type").startswith("text/plain")
    lines = text.splitlines()
    assert any(
        l.startswith('deepres_requests_total{path="/v1/predict",status="200"} ') for l in lines
    )
    assert 'deepres_request_duration_seconds_bucket{path="/v1/predict",le="+Inf"}' in text
    count = next(l for l in lines if l.startswith("deepres_batch_size_count "))
    assert int(count.split()[1]) >= 1
    assert 'deepres_model_info{model="resnet20",engine="torch"} 1' in lines


def _png(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _chunks(data, size=4096):
    return iter([data[i : i + size] for i in range(0, len(data), size)])


BAD_REQUESTS = {
    # name: (method, path, body, headers, status, words in the error)
    "text": ("POST", "/v1/predict", b"hello, I am text", {}, 400, "a text file, not an image"),
    "truncated": ("POST", "/v1/predict", "TRUNCATED", {}, 400, "truncated"),
    "bomb": ("POST", "/v1/predict", _png(400, 400), {}, 413, "decompression bomb"),
    "empty": ("POST", "/v1/predict", b"", {}, 400, "empty body"),
    "too large": ("POST", "/v1/predict", b"\0" * (MAX_BYTES + 1), {}, 413, "over the limit"),
    "too large, chunked": ("POST", "/v1/predict", "CHUNKED", {}, 413, "over the limit"),
    "wrong method": ("GET", "/v1/predict", None, {}, 405, "use POST"),
    "wrong path": ("POST", "/v2/predict", b"x", {}, 404, "no such path"),
    "bad top_k": ("POST", "/v1/predict?top_k=-1", "GOOD", {}, 400, "top_k"),
    "form without file": (
        "POST",
        "/v1/predict",
        b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nhi\r\n--b--\r\n',
        {"Content-Type": "multipart/form-data; boundary=b"},
        400,
        "no file",
    ),
    "too many images": ("POST", "/v1/predict", "65 FILES", {}, 413, "more than the limit of 64"),
    "unclosed form": (
        "POST",
        "/v1/predict",
        b'--b\r\nContent-Disposition: form-data; name="x"; filename="a.png"\r\n\r\nhi',
        {"Content-Type": "multipart/form-data; boundary=b"},
        400,
        "truncated",
    ),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_request_gets_a_json_error_and_the_server_goes_on(server, images, name):
    method, path, body, headers, status, words = BAD_REQUESTS[name]
    good = images[0].read_bytes()
    if body == "65 FILES":
        body, headers = multipart([(f"{i}.png", b"x") for i in range(65)])  # counted first
    body = {
        "TRUNCATED": good[: len(good) // 2],
        "GOOD": good,
        "CHUNKED": _chunks(b"\0" * (2 * MAX_BYTES)),
    }.get(body, body)
    # (http.client sends an iterator's chunks with Transfer-Encoding: chunked, no length)
    got, _, answer = server.request(method, path, body, headers)
    assert got == status, answer
    assert words in answer["error"], answer
    assert server.request("POST", "/v1/predict", good)[0] == 200
