"""CIFAR in the official Python format, from archives and folders that the tests build."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

import deepres.data.cifar as cifar
from deepres.data import DataError, open_source

PER_BATCH = 6


def batch_bytes(release, first: int, count: int) -> bytes:
    """A batch as the official pickles hold it: image k has red = k, green = 100 + label."""
    labels = [(first + k) % 10 for k in range(count)]
    data = np.zeros((count, 3, 32, 32), np.uint8)
    data[:, 0] = np.arange(first, first + count)[:, None, None]
    data[:, 1] = (100 + np.array(labels))[:, None, None]
    data[:, 2, 0, :] = np.arange(32)  # a row that shows whether the planes were reshaped right
    batch = {
        b"batch_label": b"synthetic",
        b"data": data.reshape(count, 3072),
        release.label_key: labels,
        b"filenames": [b"x.png"] * count,
    }
    return pickle.dumps(batch, protocol=2)


def write_archive(path, name="cifar10", payload=None):
    """An archive laid out like the official one; ``payload`` replaces the first batch."""
    release = cifar.RELEASES[name]
    names = {release.names_key: [f"class{i}".encode() for i in range(10)]}
    members = {release.meta: pickle.dumps(names, protocol=2)}
    for i, batch in enumerate(release.train + release.test):
        members[batch] = batch_bytes(release, i * PER_BATCH, PER_BATCH)
    if payload is not None:
        members[release.train[0]] = payload
    with tarfile.open(path, "w:gz") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(f"{release.folder}/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def official_md5(monkeypatch):
    """Makes the archives these tests write count as the official ones."""

    def accept(path, name="cifar10"):
        digest = hashlib.md5(open(path, "rb").read()).hexdigest()
        url = f"file://{path}"
        monkeypatch.setitem(
            cifar.RELEASES,
            name,
            dataclasses.replace(
                cifar.RELEASES[name],
                md5=digest,
                url=url.replace(os.path.basename(path), cifar.RELEASES[name].archive),
            ),
        )

    return accept


def check_cifar10(splits):
    assert splits.classes == [f"class{i}" for i in range(10)]
    assert len(splits.train) == 5 * PER_BATCH and len(splits.test) == PER_BATCH
    assert splits.image_size == 32 and splits.in_chans == 3 and splits.kind == "array"
    images, labels = splits.train.images, splits.train.labels
    assert images[:, 0, 7, 7].tolist() == list(range(5 * PER_BATCH))
    assert np.array_equal(images[:, 1, 3, 3], 100 + labels)
    assert images[0, 2, 0].tolist() == list(range(32))


def test_reads_a_local_archive(tmp_path, official_md5):
    official_md5(write_archive(tmp_path / "cifar-10-python.tar.gz"))
    check_cifar10(open_source("cifar10", cache_dir=tmp_path))


def test_reads_an_unpacked_folder(tmp_path):
    with tarfile.open(write_archive(tmp_path / "a.tar.gz")) as tar:
        tar.extractall(tmp_path / "cache", filter="data")
    check_cifar10(open_source("cifar10", cache_dir=tmp_path / "cache"))


def test_cifar100_uses_the_fine_labels(tmp_path, official_md5):
    official_md5(write_archive(tmp_path / "cifar-100-python.tar.gz", "cifar100"), "cifar100")
    splits = open_source("cifar100", cache_dir=tmp_path)
    assert len(splits.train) == PER_BATCH and len(splits.test) == PER_BATCH
    assert np.array_equal(splits.train.images[:, 1, 0, 0], 100 + splits.train.labels)


def test_downloads_and_verifies(tmp_path, official_md5):
    served = tmp_path / "server" / "cifar-10-python.tar.gz"
    served.parent.mkdir()
    official_md5(write_archive(served))
    cache = tmp_path / "cache"
    check_cifar10(open_source("cifar10", cache_dir=cache, download=True))
    assert (cache / "cifar-10-python.tar.gz").read_bytes() == served.read_bytes()
    assert os.listdir(cache) == ["cifar-10-python.tar.gz"]  # no .part left behind


def test_corrupt_download_is_not_kept(tmp_path, official_md5):
    served = tmp_path / "server" / "cifar-10-python.tar.gz"
    served.parent.mkdir()
    official_md5(write_archive(served))
    served.write_bytes(served.read_bytes()[:-10])  # damaged in transit
    with pytest.raises(DataError, match="corrupt: md5"):
        open_source("cifar10", cache_dir=tmp_path / "cache", download=True)
    assert os.listdir(tmp_path / "cache") == []


def test_offline_download_says_where_to_put_the_file(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as info:
        open_source("cifar10", cache_dir=tmp_path, download=True)
    message = str(info.value)
    assert "could not download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert f"put it at {tmp_path}/cifar-10-python.tar.gz" in message
    assert "c58f30108f718f92721af3b95e74349a" in message
    assert info.value.__suppress_context__  # the message alone, no chained traceback


def test_missing_without_download_says_where_to_put_the_files(tmp_path):
    with pytest.raises(DataError) as info:
        open_source("cifar100", cache_dir=tmp_path)
    message = str(info.value)
    assert f"{tmp_path}/cifar-100-python.tar.gz" in message
    assert f"{tmp_path}/cifar-100-python" in message and "download=True" in message
    assert "eb9058c3a382ffc7106e4002c42a8d85" in message


def test_a_damaged_local_archive_is_named(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"half a download")
    with pytest.raises(DataError, match="is not the official archive: md5"):
        open_source("cifar10", cache_dir=tmp_path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")  # would create the file if unpickled naively


def test_a_pickle_that_runs_code_is_refused(tmp_path, official_md5):
    marker = tmp_path / "pwned"
    exploit = pickle.dumps({b"data": _Exploit(str(marker))}, protocol=2)
    official_md5(write_archive(tmp_path / "cifar-10-python.tar.gz", payload=exploit))
    with pytest.raises(DataError, match="damaged.*not allowed"):
        open_source("cifar10", cache_dir=tmp_path)
    assert not marker.exists()
