"""Damaged checkpoints and weight files are refused with one error naming the file, never
loaded as silently wrong numbers (issue 14, item 3)."""

from __future__ import annotations

import shutil
import struct
import zipfile

import pytest
import torch

from deepres.cli import main
from deepres.weights import CheckpointError, load_checkpoint, read_weights, save_weights
from deepres.weights.checkpoint import save_checkpoint


def _record_bytes(path, member: str) -> tuple[int, int]:
    """(offset, size) of a zip record's stored bytes in ``path``."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def _damage(path, offset: int, new: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(new)


def _tensor_record(path, tensor_index: int) -> str:
    return f"{zipfile.ZipFile(path).namelist()[0].split('/')[0]}/data/{tensor_index}"


def test_flipped_bits_in_a_conv_tensor_are_refused(tmp_path):
    path = tmp_path / "last.pt"
    conv = torch.randn(16, 3, 3, 3)
    save_weights(path, {"conv1.weight": conv}, {"model_name": "resnet20"})
    offset, size = _record_bytes(path, _tensor_record(path, 0))
    with open(path, "rb") as f:
        f.seek(offset + size // 2)
        byte = f.read(1)[0]
    _damage(path, offset + size // 2, bytes([byte ^ 0x40]))  # one flipped bit in the exponent
    with pytest.raises(CheckpointError) as caught:
        read_weights(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: damaged checkpoint") and "CRC-32" in message


def test_zeroed_momentum_is_refused_before_resume(tmp_path):
    path = tmp_path / "last.pt"
    momentum = torch.full((64,), 0.5)
    save_checkpoint_like_training(path, momentum)
    offset, size = _record_bytes(path, _tensor_record(path, 1))
    _damage(path, offset, bytes(size))  # a block of zeroes, as a bad sector reads
    with pytest.raises(CheckpointError, match="do not match their checksum"):
        load_checkpoint(path)


def save_checkpoint_like_training(path, momentum):
    save_checkpoint(
        {
            "model": {"fc.weight": torch.ones(10, 64)},
            "optimizer": {"state": {0: {"momentum_buffer": momentum}}},
        },
        path,
    )


def test_an_undamaged_checkpoint_still_loads(tmp_path):
    path = tmp_path / "ok.pt"
    save_checkpoint_like_training(path, torch.arange(64.0))
    state = load_checkpoint(path)
    assert torch.equal(state["optimizer"]["state"][0]["momentum_buffer"], torch.arange(64.0))


def test_damaged_safetensors_are_refused_and_whole_ones_load(tmp_path):
    path = tmp_path / "net.safetensors"
    weights = {"conv1.weight": torch.randn(16, 3, 3, 3)}
    save_weights(path, weights, {"model_name": "resnet20", "classes": ["a", "b"]})
    assert torch.equal(read_weights(path).state_dict["conv1.weight"], weights["conv1.weight"])
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # one flipped bit in the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"^{path}: damaged safetensors file"):
        read_weights(path)


def test_eval_of_a_damaged_run_is_one_line(color_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(color_run, run)
    last = run / "checkpoints" / "last.pt"
    offset, size = _record_bytes(last, _tensor_record(last, 0))
    _damage(last, offset + size // 2, b"\0\0\0\0")
    assert main(["eval", str(run), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"deepres eval: error: {last}: damaged checkpoint") and "\n" not in err


def test_a_deflate_bomb_is_refused_from_its_zip_directory_before_reading(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"fc.weight": torch.zeros(8_000_000)}, plain)  # 32 MB of zeros, stored
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
    assert bomb.stat().st_size < 200_000  # a few hundred KB that declare 32 MB
    with pytest.raises(CheckpointError, match="its zip records declare 32,00.* bytes from a file"):
        read_weights(bomb)
    assert read_weights(plain).state_dict["fc.weight"].numel() == 8_000_000  # stored: fine
