"""CIFAR-10 and CIFAR-100 in their official Python format (Krizhevsky, 2009).

Read from ``<cache_dir>/cifar-10-python.tar.gz`` (or the unpacked ``cifar-10-batches-py/``;
likewise for CIFAR-100), downloaded there from the official address when allowed. Archives
are checked against the official MD5 sums. The batches are pickles: they are read with an
unpickler that admits only numpy arrays, so a tampered file cannot run code.
"""

from __future__ import annotations

import codecs
import hashlib
import http.client
import io
import pickle
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepres.atomic import WriteError, write_atomic
from deepres.errors import show_path

from .datasets import ArrayDataset
from .errors import DataError


@dataclass(frozen=True, kw_only=True)
class CifarRelease:
    title: str
    url: str
    md5: str
    folder: str  # what the archive unpacks to
    train: tuple[str, ...]  # batch files
    test: tuple[str, ...]
    label_key: bytes
    meta: str
    names_key: bytes

    @property
    def archive(self) -> str:
        return self.url.rsplit("/", 1)[-1]


RELEASES = {
    "cifar10": CifarRelease(
        title="CIFAR-10",
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a",
        folder="cifar-10-batches-py",
        train=tuple(f"data_batch_{i}" for i in range(1, 6)),
        test=("test_batch",),
        label_key=b"labels",
        meta="batches.meta",
        names_key=b"label_names",
    ),
    "cifar100": CifarRelease(
        title="CIFAR-100",
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        md5="eb9058c3a382ffc7106e4002c42a8d85",
        folder="cifar-100-python",
        train=("train",),
        test=("test",),
        label_key=b"fine_labels",
        meta="meta",
        names_key=b"fine_label_names",
    ),
}


def load_cifar(name: str, cache_dir: Path, download: bool):
    """(train, test, classes) of CIFAR-10 or CIFAR-100 as uint8 (N, 3, 32, 32) datasets."""
    release = RELEASES[name]
    members = _read_members(release, Path(cache_dir), download)
    classes = [n.decode() for n in _unpickle(members[release.meta], release)[release.names_key]]

    def split(batches: tuple[str, ...], title: str) -> ArrayDataset:
        parts = [_unpickle(members[b], release) for b in batches]
        images = np.concatenate([p[b"data"] for p in parts]).reshape(-1, 3, 32, 32)
        labels = np.concatenate([np.asarray(p[release.label_key]) for p in parts])
        return ArrayDataset(images, labels, classes=classes, name=f"{release.title} {title}")

    return split(release.train, "train"), split(release.test, "test"), classes


def _read_members(release: CifarRelease, cache_dir: Path, download: bool) -> dict[str, bytes]:
    needed = (*release.train, *release.test, release.meta)
    folder = cache_dir / release.folder
    if folder.is_dir():
        try:
            return {m: (folder / m).read_bytes() for m in needed}
        except OSError as err:
            raise DataError(
                f"incomplete {release.title} folder {show_path(folder)}: {err}; "
                "delete it to use the archive instead"
            ) from None
    archive = cache_dir / release.archive
    if not archive.exists():
        if not download:
            raise DataError(_where_to_put(release, cache_dir, "is not downloaded"))
        fetch(release.url, archive, release.md5)
    _check_md5(archive, release.md5, f"{show_path(archive)} is not the official archive")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            return {m: tar.extractfile(f"{release.folder}/{m}").read() for m in needed}
    except (tarfile.TarError, KeyError, OSError, EOFError) as err:
        raise DataError(f"cannot read {show_path(archive)}: {err}") from None


def _where_to_put(release: CifarRelease, cache_dir: Path, what: str) -> str:
    return (
        f"{release.title} {what}. Put the official archive at "
        f"{show_path(cache_dir / release.archive)} (from {release.url}, md5 {release.md5}), "
        f"or its unpacked folder at {show_path(cache_dir / release.folder)}, or allow the "
        "download (`--download` on the command line, download=True in Python)."
    )


def fetch(url: str, dest: Path, md5: str, timeout: float = 60.0) -> None:
    """Download ``url`` to ``dest`` with a progress bar; keep it only if its MD5 matches."""

    def download(f) -> None:
        digest = hashlib.md5()
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"downloading {dest.name}",
                mininterval=0.5,
            ) as bar:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != md5:
            raise DataError(
                f"the download from {url} is corrupt: md5 {digest.hexdigest()}, "
                f"expected {md5}. Download it again."
            )

    try:
        write_atomic(dest, download)  # a random temporary name: nothing planted is written
    except WriteError:
        raise
    except (OSError, http.client.HTTPException) as err:  # URLError is an OSError
        reason = getattr(err, "reason", None) or err
        raise DataError(
            f"could not download {url} ({reason}). Without network, fetch it on "
            f"another machine (md5 {md5}) and put it at {show_path(dest)}."
        ) from None


def _check_md5(path: Path, expected: str, problem: str) -> None:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise DataError(
            f"{problem}: md5 {digest.hexdigest()}, expected {expected}. Delete it "
            "and download it again."
        )


# What numpy arrays pickle to, taken from the running numpy (its module path changed in 2.0).
_ARRAY_PARTS = {
    "_reconstruct": np.ndarray((0,)).__reduce__()[0],
    "ndarray": np.ndarray,
    "dtype": np.dtype,
    "scalar": np.float64(0).__reduce__()[0],
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "numpy" and name in _ARRAY_PARTS:
            return _ARRAY_PARTS[name]
        if (module, name) == ("_codecs", "encode"):
            return codecs.encode  # how Python 3 writes bytes at protocol 2 (a re-saved copy)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR batch")


def _unpickle(data: bytes, release: CifarRelease) -> dict:
    try:
        return _ArraysOnly(io.BytesIO(data), encoding="bytes").load()
    except Exception as err:  # pickle raises many types on damaged data
        raise DataError(
            f"a {release.title} batch is damaged ({err}); delete the files and download them again"
        ) from None
