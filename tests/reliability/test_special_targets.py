"""Outputs never replace what is not a regular file (a device, a FIFO, a symlink to one), and
an export is staged beside its target, not in $TMPDIR (issue 30, item 2 and its messages)."""

from __future__ import annotations

import os
import stat

import pytest

from deepres.atomic import WriteError, remove_stale_temporaries, staging_folder, write_atomic
from deepres.cli import main


def _fifo(path):
    os.mkfifo(path)
    return path


def _one_error_line(capsys, command: str) -> str:
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(f"deepres {command}: error: "), err
    assert "Traceback" not in err
    return lines[-1]


def test_the_writer_refuses_a_fifo_and_a_symlink_to_one_and_leaves_them_as_they_are(tmp_path):
    fifo = _fifo(tmp_path / "pipe")
    link = tmp_path / "link.bin"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(WriteError, match="it is a FIFO .named pipe., not a regular file"):
            write_atomic(target, lambda f: f.write(b"data"))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link.bin", "pipe"]  # no temporary left either
    regular = tmp_path / "real.bin"
    regular.write_bytes(b"old")
    link.unlink()
    link.symlink_to(regular)
    write_atomic(link, lambda f: f.write(b"new"))  # a link to a regular file: replaced as before
    assert link.read_bytes() == b"new"


def test_export_eval_and_embed_refuse_a_fifo_as_output(color_run, color_folder, tmp_path, capsys):
    fifo = _fifo(tmp_path / "net.onnx")
    assert main(["export", str(color_run), "--output", str(fifo)]) == 2
    assert "it is a FIFO (named pipe), not a regular file" in _one_error_line(capsys, "export")
    out = tmp_path / "results"
    out.mkdir()
    _fifo(out / "results.json")
    assert main(["eval", str(color_run), "--out", str(out), "--workers", "0"]) == 2
    assert f"cannot write {out / 'results.json'}: it is a FIFO" in _one_error_line(capsys, "eval")
    link = tmp_path / "features.npy"
    link.symlink_to(fifo)
    images = str(color_folder / "test" / "red")
    assert main(["embed", str(color_run), images, "--output", str(link), "--workers", "0"]) == 2
    assert "it is a FIFO" in _one_error_line(capsys, "embed")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(os.listdir(out)) == ["results.json"]


def test_export_refuses_a_suffix_of_another_format(color_run, tmp_path, capsys):
    target = tmp_path / "x.safetensors"
    assert main(["export", str(color_run), "--format", "onnx", "--output", str(target)]) == 2
    line = _one_error_line(capsys, "export")
    assert f"--output {target} names a safetensors file but --format is onnx" in line
    assert not target.exists()


def test_export_stages_beside_its_target_and_a_killed_ones_folder_is_removed_later(
    color_run, tmp_path, monkeypatch
):
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    out = tmp_path / "out"
    assert main(["export", str(color_run), "--output", str(out / "net.onnx")]) == 0
    assert [n for n in os.listdir(tmpdir) if n != ".ses"] == []  # .ses: onnxruntime's own
    assert sorted(os.listdir(out)) == ["net.onnx", "net.onnx.json"]
    with staging_folder(out / "net.onnx") as folder:  # what a SIGKILL would leave: the folder
        (folder / "net.onnx").write_bytes(b"half an export")
        assert remove_stale_temporaries(out / "net.onnx", older_than_s=-1) == []  # in use
        os.rename(folder, out / ".net.onnx.killed00.tmp")
    assert remove_stale_temporaries(out / "net.onnx", older_than_s=-1) == [
        out / ".net.onnx.killed00.tmp"
    ]
    assert sorted(os.listdir(out)) == ["net.onnx", "net.onnx.json"]


def test_eval_out_writes_all_its_files_or_none(color_run, tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "results.json").write_text("the old results")
    (out / "confusion-center.png").mkdir()  # one file that cannot be written
    assert main(["eval", str(color_run), "--out", str(out), "--workers", "0"]) == 2
    line = _one_error_line(capsys, "eval")
    assert f"cannot write {out / 'confusion-center.png'}: it is a folder" in line
    assert sorted(os.listdir(out)) == ["confusion-center.png", "results.json"]
    assert (out / "results.json").read_text() == "the old results"
