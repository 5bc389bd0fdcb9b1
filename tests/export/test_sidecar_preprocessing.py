"""An independent program that follows only the export's sidecar JSON (PIL, numpy and
onnxruntime, nothing of deepres) gets the probabilities of `deepres predict` (issue 29, item 4):
the sidecar states every step, the reduced-scale JPEG decode included."""

import json

import numpy as np
import onnxruntime
from PIL import Image, ImageOps

from deepres.cli import main


def _photo(path, width, height, fmt, seed):
    """A picture with smooth colour gradients and noise, so that each decode step shows."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + 2 * y) % 256], -1)
    pixels = np.clip(pixels + rng.integers(-40, 41, pixels.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if fmt == "PNG":
        image.putalpha(200)  # transparent pixels too
    image.save(path, fmt, **({"quality": 75} if fmt == "JPEG" else {}))
    return path


def independent_scores(path, sidecar, session):
    """The sidecar's steps, in PIL and numpy."""
    prep = sidecar["preprocessing"]
    decode, side, crop = prep["decode"], prep["resize"], prep["crop"]
    image = Image.open(path)
    if image.format == "JPEG" and decode.get("jpeg_draft"):
        image.draft("RGB", tuple(decode["jpeg_draft"]))
    image = ImageOps.exif_transpose(image)
    if "A" in image.getbands():
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
    image = image.convert("RGB")
    w, h = image.size
    if min(w, h) != side:
        k = side / min(w, h)
        size = (max(side, round(w * k)), max(side, round(h * k)))
        assert decode["resample"] == "bilinear"
        image = image.resize(size, Image.BILINEAR, reducing_gap=decode["reducing_gap"])
    pixels = np.asarray(image)
    h, w = pixels.shape[:2]
    top, left = (h - crop) // 2, (w - crop) // 2
    pixels = pixels[top : top + crop, left : left + crop].transpose(2, 0, 1)
    x = pixels.astype(np.float32) / 255 - np.asarray(prep["mean_image"], np.float32)
    logits = session.run(None, {sidecar["input"]["name"]: x[None]})[0][0]
    e = np.exp(logits - logits.max())
    return dict(zip(sidecar["classes"], (e / e.sum()).tolist()))


def test_a_program_following_the_sidecar_gets_predicts_probabilities(color_run, tmp_path, capsys):
    onnx = tmp_path / "net.onnx"
    assert main(["export", str(color_run), "--output", str(onnx), "--format", "onnx"]) == 0
    sidecar = json.loads((tmp_path / "net.onnx.json").read_text())
    session = onnxruntime.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    # JPEGs decoded at 1/8, 1/4, 1/2 and full scale for the network's 16 pixels, where the
    # scale libjpeg-turbo's own choice would take differs (124 and 30 pixels); a PNG; odd sizes.
    images = [
        _photo(tmp_path / "a.jpg", 200, 150, "JPEG", 0),
        _photo(tmp_path / "b.jpg", 200, 124, "JPEG", 1),
        _photo(tmp_path / "c.jpg", 41, 30, "JPEG", 2),
        _photo(tmp_path / "d.jpg", 97, 333, "JPEG", 3),
        _photo(tmp_path / "e.png", 201, 151, "PNG", 4),
        _photo(tmp_path / "f.png", 17, 23, "PNG", 5),
    ]
    capsys.readouterr()
    assert main(["predict", str(color_run), *map(str, images), "--json", "--top-k", "4"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == len(images)
    worst = 0.0
    for image, line in zip(images, lines):
        ours = independent_scores(image, sidecar, session)
        for top in line["top"]:
            worst = max(worst, abs(ours[top["class"]] - top["probability"]))
    assert worst < 1e-5, worst
