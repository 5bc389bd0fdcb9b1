"""The shipped CIFAR-10 networks, evaluated without deepres: the weight file read with
safetensors, the network computed with torch.nn.functional from the paper's description
(Sec. 4.2: a 3x3/16 convolution, three stages of 3x3 pairs, option A shortcuts, global
average pool, a 10-way classifier), the test images decoded with PIL straight from the shared
archive and normalised by the mean image stored in the file. The test error must be the one
the model card gives: this checks deepres's models, data path and evaluation against code that
shares none of them."""

import functools
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO / ".." / "shared" / "data"
SHIPPED = REPO / "src" / "deepres" / "weights" / "shipped"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR_CARDS = sorted(
    path.stem
    for path in SHIPPED.glob("*.json")
    if "cifar10" in path.stem and json.loads(path.read_text())["data"].get("set")
)


def read_weights(path: Path) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    with safe_open(str(path), "pt") as f:
        state = {key: f.get_tensor(key).float() for key in f.keys()}
        preprocessing = json.loads(f.metadata()["deepres"])["preprocessing"]
    assert preprocessing["normalize"] == "pixel_mean"
    return state, np.asarray(preprocessing["mean_image"], dtype=np.float32)


def conv_bn(state: dict, conv: str, bn: str, x: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """A 3x3 convolution and the batch norm after it, in eval mode: the norm folded into the
    convolution's weights and bias (the same function, in about half the time)."""
    scale = state[f"{bn}.weight"] / torch.sqrt(state[f"{bn}.running_var"] + 1e-5)
    weight = state[f"{conv}.weight"] * scale[:, None, None, None]
    bias = state[f"{bn}.bias"] - state[f"{bn}.running_mean"] * scale
    return F.conv2d(x, weight, bias, stride=stride, padding=1)


def block(state: dict, prefix: str, x: torch.Tensor, residual: bool) -> torch.Tensor:
    weight = state[f"{prefix}.conv1.weight"]
    stride = 1 if weight.shape[0] == weight.shape[1] else 2  # a stage's first block halves
    out = F.relu(conv_bn(state, f"{prefix}.conv1", f"{prefix}.bn1", x, stride))
    out = conv_bn(state, f"{prefix}.conv2", f"{prefix}.bn2", out)
    if residual:
        shortcut = x[:, :, ::stride, ::stride]  # option A: subsample, then zero channels
        extra = out.shape[1] - shortcut.shape[1]
        out = out + torch.cat(
            [shortcut, shortcut.new_zeros(shortcut.shape[0], extra, *shortcut.shape[2:])], 1
        )
    return F.relu(out)


def logits(state: dict, x: torch.Tensor, residual: bool) -> torch.Tensor:
    x = F.relu(conv_bn(state, "conv1", "bn1", x))
    blocks = sorted(
        {
            ".".join(key.split(".")[:2])
            for key in state
            if key.startswith("layer") and ".conv1." in key
        },
        key=lambda name: (int(name[5]), int(name.split(".")[1])),
    )
    for prefix in blocks:
        x = block(state, prefix, x, residual)
    return F.linear(x.mean(dim=(2, 3)), state["fc.weight"], state["fc.bias"])


@functools.cache
def read_test_images(archive: Path):
    """(N x 32 x 32 x 3 uint8 pixels, N labels, N names CLASS/FILE) of every test image in
    the archive, in the order of their names."""
    found = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 4 and parts[1] == "test":
                image = Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")
                found.append((f"{parts[2]}/{parts[3]}", np.asarray(image), CLASSES.index(parts[2])))
    found.sort(key=lambda item: item[0])
    names, pixels, labels = zip(*found)
    return np.stack(pixels), torch.tensor(labels), list(names)


def wrong_names(state, mean_image, pixels, labels, names, residual: bool) -> set[str]:
    """The names of the images that the network given by ``state`` classifies wrongly."""
    x = torch.from_numpy(pixels.transpose(0, 3, 1, 2) / np.float32(255) - mean_image).float()
    x = x.contiguous(memory_format=torch.channels_last)  # faster convolutions on CPUs
    with torch.no_grad():
        predicted = torch.cat([logits(state, chunk, residual).argmax(1) for chunk in x.split(500)])
    return {name for name, wrong in zip(names, (predicted != labels).tolist()) if wrong}


@pytest.mark.parametrize("name", CIFAR_CARDS)
def test_shipped_network_has_its_cards_test_error_without_deepres(name):
    """With test-errors.txt in the run's records (the images deepres's evaluation got wrong
    when shipping), a sample of every tenth image is enough: there, the images this code gets
    wrong must be those, and the list must be as long as the card's error says. Without it,
    or with DEEPRES_CHECK_EVERY_TEST_IMAGE=1 (run it so when shipping), all 10,000."""
    card = json.loads((SHIPPED / f"{name}.json").read_text())
    archive = SHARED_DATA / f"{card['data']['set']}-test.tar.gz"
    if not archive.is_file():
        pytest.skip(f"the shared test images are absent ({archive} does not exist)")
    state, mean_image = read_weights(SHIPPED / card["file"])
    pixels, labels, names = read_test_images(archive)
    assert len(labels) == card["test_images"] == 10_000
    listed = REPO / card["results"] / "test-errors.txt"
    every = 1 if os.environ.get("DEEPRES_CHECK_EVERY_TEST_IMAGE") or not listed.is_file() else 10
    sample = slice(None, None, every)
    residual = card["model"].startswith("resnet")
    wrong = wrong_names(state, mean_image, pixels[sample], labels[sample], names[sample], residual)
    # Float sums in another order may move an image at the boundary, no more.
    if listed.is_file():
        said = set(listed.read_text().splitlines())
        assert len(said) == round(card["test_error"] * len(labels))
        differ = wrong ^ (said & set(names[sample]))
        assert len(differ) <= 2, sorted(differ)[:10]
    if every == 1:
        assert abs(len(wrong) - round(card["test_error_float32"] * len(labels))) <= 2, len(wrong)
