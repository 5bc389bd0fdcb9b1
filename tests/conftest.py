"""Shared fixtures, among them slices of the real CIFAR-10 images (JPEG and PNG) unpacked into a
cache outside the repository."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest
from runs import make_color_folder, train_run

from deepres.cli import main
from deepres.ship import ShipTo
from deepres.weights import ModelCard

# Under pytest-xdist (the README's `-n 2`), each worker gets one of the two cores: one thread
# in it and in the processes its tests start, or the workers' threads fight over the cores.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SLICE_CACHE = Path(os.environ.get("DEEPRES_TEST_CACHE", "~/.cache/deepres-tests")).expanduser()


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def cifar_jpeg_slice():
    """The first 100 training and 20 test JPEGs of each CIFAR-10 class."""
    return cifar_slice(train_per_class=100, test_per_class=20)


@pytest.fixture(scope="session")
def cifar_jpeg_3000():
    """3,000 training and 1,000 test JPEGs of CIFAR-10 (300 and 100 per class)."""
    return cifar_slice(train_per_class=300, test_per_class=100)


@pytest.fixture(scope="session")
def color_folder(tmp_path_factory):
    """A generated image folder of 16x16 PNGs in four colour classes, train/ and test/."""
    return make_color_folder(tmp_path_factory.mktemp("colors") / "data")


@pytest.fixture(scope="session")
def color_run(tmp_path_factory, color_folder):
    """ResNet-20 trained for 20 iterations on ``color_folder`` (3 channels, 16 pixels); with
    lr 0.02 it learns the colours (lr 0.1 overshoots on 48 images, to logits in the hundreds)."""
    root = tmp_path_factory.mktemp("color_run")
    return train_run(
        root / "run",
        "--data",
        str(color_folder),
        "--iterations",
        "20",
        "--cache-dir",
        str(root / "cache"),
        "--set",
        "lr=0.02",
    )


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """ResNet-20 trained for 30 iterations on the built-in digits (1 channel, 8 pixels), with
    300 images held out for validation, so that the run has a best.pt besides its last.pt."""
    return train_run(
        tmp_path_factory.mktemp("digits_run") / "run",
        "--data",
        "digits",
        "--iterations",
        "30",
        "--set",
        "val_size=300",
    )


@pytest.fixture(scope="session")
def shipped_digits(tmp_path_factory, digits_run):
    """``digits_run`` shipped as resnet20-digits into a temporary checkout of deepres, as
    deepres ships its own weights: (where it was shipped, ``ShipTo``; its model card)."""
    repo = tmp_path_factory.mktemp("checkout")
    code = main(
        [
            *("ship", str(digits_run), "--name", "resnet20-digits", "--data", "digits"),
            *("--repo", str(repo), "--hardware", "a test machine, 2 cores"),
        ]
    )
    assert code == 0
    to = ShipTo.checkout(repo)
    return to, ModelCard.read(to.folder / "resnet20-digits.json")


@pytest.fixture(scope="session")
def cifar_png_3000():
    """3,000 training and 1,000 test images of the original CIFAR-10 (300 and 100 per class)."""
    return unpacked("png", {"train": 300, "test": 100})


@pytest.fixture(scope="session")
def cifar_png_test():
    """All 10,000 test images of the original CIFAR-10, lossless: test/<class>/NNNN.png."""
    return unpacked("png", {"test": 1000})


@pytest.fixture(scope="session")
def cifar_png_test_1000():
    """The first 100 test images of each class of the original CIFAR-10 (PNG)."""
    return unpacked("png", {"test": 100})


@pytest.fixture(scope="session")
def cifar_png_test_200():
    """The first 20 test images of each class of the original CIFAR-10 (PNG)."""
    return unpacked("png", {"test": 20})


def cifar_slice(train_per_class: int, test_per_class: int) -> Path:
    """The first images of each class of the real CIFAR-10 JPEGs, unpacked once."""
    return unpacked("jpeg", {"train": train_per_class, "test": test_per_class})


def unpacked(kind: str, per_class: dict[str, int]) -> Path:
    """The first ``per_class[split]`` images of each class of cifar10-{kind}-{split}.tar.gz,
    unpacked once into the cache: the folder cifar10-{kind} with a subfolder per split."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared CIFAR-10 images are absent ({SHARED_DATA} does not exist)")
    counts = "-".join(str(per_class[split]) for split in sorted(per_class))
    root = SLICE_CACHE / f"cifar10-{kind}-slice-{'-'.join(sorted(per_class))}-{counts}"
    if kind == "jpeg" and set(per_class) == {"train", "test"}:  # the name earlier runs wrote
        root = SLICE_CACHE / f"cifar10-jpeg-slice-{per_class['train']}-{per_class['test']}"
    if not root.exists():
        # Unpack beside it and rename into place: test runs in other checkouts share this
        # cache, and none may see a half-written slice.
        SLICE_CACHE.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=SLICE_CACHE, prefix=".partial-"))
        for split, count in per_class.items():
            _extract_slice(SHARED_DATA / f"cifar10-{kind}-{split}.tar.gz", partial, count)
        try:
            os.rename(partial, root)
        except OSError:  # another run finished first: use its slice
            shutil.rmtree(partial, ignore_errors=True)
    return root / f"cifar10-{kind}"


def _extract_slice(archive: Path, dest: Path, per_class: int) -> None:
    taken: dict[str, int] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 4:
                continue
            if taken.get(parts[2], 0) < per_class:
                taken[parts[2]] = taken.get(parts[2], 0) + 1
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
