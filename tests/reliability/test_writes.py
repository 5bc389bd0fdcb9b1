"""Every file deepres writes is whole or absent, through no planted link, and an OS error says
in one line which path and what to do (issue 14, items 2, 6 and 7)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from deepres.atomic import WriteError, remove_stale_temporaries, write_atomic, write_together
from deepres.cli import main
from deepres.data.cifar import fetch


class _FullDisk:
    """A file object whose device is full after ``room`` bytes, as a real one reports it."""

    def __init__(self, f, room):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def flush(self):
        self.f.flush()


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_full_disk_leaves_every_old_file_whole_and_says_so_in_one_line(tmp_path):
    model, sidecar = tmp_path / "net.onnx", tmp_path / "net.onnx.json"
    model.write_bytes(b"old model")
    sidecar.write_text("old description")
    big = {"w": torch.zeros(100_000)}
    with pytest.raises(WriteError) as caught:
        write_together(
            [
                (sidecar, lambda f: f.write(b"new description")),
                (model, lambda f: torch.save(big, _FullDisk(f, 4096))),
            ]
        )
    # torch.save hides the ENOSPC in a RuntimeError ("unexpected pos"); it is found and said.
    assert caught.value.errno == errno.ENOSPC
    assert str(caught.value) == (
        f"cannot write {model}: no space left on the device; free some space or write elsewhere"
    )
    assert model.read_bytes() == b"old model" and sidecar.read_text() == "old description"
    assert _leftovers(tmp_path) == []


def test_temporary_names_are_random_so_a_planted_link_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out" / "file.bin"
    target.parent.mkdir()
    for name in (".file.bin.tmp", ".file.partial.bin", ".file.bin.partial"):
        (target.parent / name).symlink_to(victim)
    write_atomic(target, lambda f: f.write(b"data"))
    assert target.read_bytes() == b"data" and victim.read_text() == "precious"
    assert all((target.parent / n).is_symlink() for n in (".file.bin.tmp", ".file.partial.bin"))


def test_stale_temporaries_are_removed_only_when_ours_old_and_unlocked(tmp_path):
    target = tmp_path / "last.pt"
    old = time.time() - 3600

    def leftover(name, age=old):
        path = tmp_path / name
        path.write_bytes(b"x" * 1000)
        os.utime(path, (age, age))
        return path

    stale = leftover(".last.pt.k2j4_9xq.tmp")
    fresh = leftover(".last.pt.abcd1234.tmp", age=time.time())
    other = [
        leftover(n)
        for n in (
            ".last.pt.abc.tmp",
            "last.pt.abcd1234.tmp",
            ".last.pt.abcd1234.tmp.keep",
            ".best.pt.abcd1234.tmp",
        )
    ]
    link = tmp_path / ".last.pt.linkto00.tmp"
    link.symlink_to(other[0])
    os.utime(link, (old, old), follow_symlinks=False)
    busy = leftover(".last.pt.busy0000.tmp")
    with open(busy, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a live writer of that name
        write_atomic(target, lambda f: f.write(b"checkpoint"))
    assert not stale.exists()
    assert all(p.exists() for p in (fresh, busy, link, *other))
    assert remove_stale_temporaries(target) == [busy]  # its writer is gone now


def _export(*args):
    return main(["export", *map(str, args)])


def test_export_writes_nothing_through_a_planted_link_and_describes_itself_first(
    color_run, tmp_path, capsys
):
    out = tmp_path / "exports"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / ".net.partial.ts").symlink_to(victim)  # the old fixed temporary name
    (out / ".net.partial.safetensors").write_text("a user's own file")
    assert _export(color_run, "--output", out / "net.ts") == 0
    assert _export(color_run, "--output", out / "net.safetensors") == 0
    assert victim.read_text() == "precious"
    assert (out / ".net.partial.safetensors").read_text() == "a user's own file"
    for name in ("net.ts", "net.safetensors"):
        description = json.loads((out / f"{name}.json").read_text())
        assert description["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert _leftovers(out) == [".net.partial.safetensors", ".net.partial.ts"]
    capsys.readouterr()


def _one_error_line(capsys, command: str) -> str:
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(f"deepres {command}: error: "), err
    assert "Traceback" not in err
    return lines[-1]


def test_export_output_naming_a_folder_is_one_clear_line(color_run, tmp_path, capsys):
    assert _export(color_run, "--output", tmp_path) == 2
    line = _one_error_line(capsys, "export")
    assert (
        f"--output {tmp_path} is a folder; name the file to write, e.g. {tmp_path}/resnet20.onnx"
    ) in line


def test_eval_out_and_embed_output_that_cannot_be_written_are_one_line(
    color_run, color_folder, tmp_path, capsys
):
    in_the_way = tmp_path / "results"
    in_the_way.write_text("a file where eval wants a folder")
    assert main(["eval", str(color_run), "--out", str(in_the_way), "--workers", "0"]) == 2
    line = _one_error_line(capsys, "eval")
    assert f"cannot write {in_the_way}: a file of that name is in the way of a folder" in line
    folder = tmp_path / "features.npy"
    folder.mkdir()
    images = color_folder / "test" / "red"
    assert (
        main(["embed", str(color_run), str(images), "--output", str(folder), "--workers", "0"]) == 2
    )
    line = _one_error_line(capsys, "embed")
    assert f"cannot write {folder}: it is a folder; name a file inside it instead" in line
    assert sorted(os.listdir(tmp_path)) == ["features.npy", "results"]  # nothing half-written


_WRITER_THEN_HANG = """
import sys, time
from pathlib import Path
from deepres.atomic import write_atomic

def write(f):
    f.write(b"x" * 100_000)
    f.flush()
    print("writing", flush=True)
    time.sleep(600)

write_atomic(Path(sys.argv[1]), write)
"""


def test_what_a_sigkilled_writer_leaves_is_removed_by_the_next_write_and_not_before(tmp_path):
    target = tmp_path / "last.pt"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER_THEN_HANG, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline() == "writing\n"
        (leftover,) = [p for p in tmp_path.iterdir() if p.name.startswith(".last.pt.")]
        old = time.time() - 3600
        os.utime(leftover, (old, old))
        assert remove_stale_temporaries(target) == []  # old, but its writer is alive
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert leftover.exists() and not target.exists()  # SIGKILL: nothing renamed, nothing cleaned
    write_atomic(target, lambda f: f.write(b"next checkpoint"))
    assert not leftover.exists() and target.read_bytes() == b"next checkpoint"


def test_a_download_writes_nothing_through_a_planted_link(tmp_path):
    served = tmp_path / "server" / "archive.tar.gz"
    served.parent.mkdir()
    served.write_bytes(b"the archive's bytes")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "archive.tar.gz.part").symlink_to(victim)  # the old fixed temporary name
    fetch(
        f"file://{served}", cache / "archive.tar.gz", hashlib.md5(served.read_bytes()).hexdigest()
    )
    assert (cache / "archive.tar.gz").read_bytes() == served.read_bytes()
    assert victim.read_text() == "precious"
