"""Checkpoints: written atomically, verified and read without ever running code from the file.

A checkpoint is a dict of tensors and plain values (model, optimiser, schedule, data position,
RNG states, recipe), so ``torch.load(weights_only=True)`` reads it: a file that holds a pickled
object that would run code is refused rather than executed. Before it is read, every record
of the zip archive that torch.save writes is checked against its CRC-32, so damaged bytes are
refused with the file named, never loaded as wrong weights.
"""

from __future__ import annotations

import pickle
import zipfile
import zlib
from pathlib import Path

import torch

from deepres.atomic import write_atomic
from deepres.errors import CheckpointError

FORMAT = "deepres-checkpoint-1"
# How torch.save's older, pre-zip format begins (pickle of its magic number): torchvision's
# first weight files (e.g. resnet50-19c8e357.pth) are in it.
_LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19"


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write ``state`` to ``path`` so that a crash at any moment leaves the old file whole."""
    write_atomic(Path(path), lambda f: torch.save({"format": FORMAT, **state}, f))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a deepres checkpoint, refusing damaged, foreign and code-carrying files."""
    path = Path(path)
    state = read_torch_file(path, map_location)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a deepres checkpoint (no '{FORMAT}' marker)")
    return state


def read_torch_file(path: Path, map_location: str | torch.device = "cpu") -> object:
    """Whatever a ``torch.save`` file holds, read with ``weights_only``: tensors and plain
    values only, so a file that would run code when unpickled is refused, not executed."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    exported = _exported_model(path)
    if exported:
        raise CheckpointError(
            f"{path}: {exported}, written for other programs; deepres reads "
            "the run directory or checkpoint it was exported from"
        )
    if not (zipfile.is_zipfile(path) or _starts_with(path, _LEGACY_MAGIC)):
        # torch.save writes a zip archive (or, before PyTorch 1.6, the legacy format); anything
        # else is cut short, damaged or some other kind of file, and is not unpickled at all.
        raise CheckpointError(
            f"{path}: damaged or truncated checkpoint, or not a PyTorch file "
            "(it is not in torch.save's zip format)"
        )
    _verify_checksums(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" not in str(err):
            raise CheckpointError(f"{path}: damaged checkpoint ({_last_line(err)})") from None
        raise CheckpointError(
            f"{path}: refused to load: the file holds Python objects that would run code when "
            f"unpickled ({_last_line(err)}); only tensors and plain values are read"
        ) from None
    except (RuntimeError, EOFError, IndexError, zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(
            f"{path}: damaged or truncated checkpoint ({str(err)[:200]})"
        ) from None


def _verify_checksums(path: Path) -> None:
    """Check every record of a torch.save zip against its CRC-32, which torch.load does not:
    flipped bits or zeroed bytes in a tensor would otherwise load as silently wrong numbers.
    (The legacy pre-zip format carries no checksum; it is read as it is.)"""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            _refuse_inflation(path, archive)
            damaged = archive.testzip()  # reads every record and compares its CRC-32
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        raise CheckpointError(f"{path}: damaged checkpoint ({err})") from None
    if damaged is not None:
        raise CheckpointError(
            f"{path}: damaged checkpoint: the bytes of its record {damaged!r} "
            "do not match their checksum (CRC-32), so the file changed after it "
            "was written; use another copy, or an earlier checkpoint"
        )


def _refuse_inflation(path: Path, archive: zipfile.ZipFile) -> None:
    """torch.save stores its records uncompressed, so what they declare to hold cannot much
    exceed the file's own size; a compressed archive that declares more (a deflate bomb: a
    few MB declaring GB of tensors) is refused from its directory, before a byte is inflated."""
    declared = sum(info.file_size for info in archive.infolist())
    on_disk = path.stat().st_size
    if declared > 2 * on_disk + _INFLATION_SLACK:
        raise CheckpointError(
            f"{path}: its zip records declare {declared:,} bytes from a file of {on_disk:,}; "
            "torch.save stores tensors uncompressed, so this is no file it wrote (a "
            "decompression bomb?); refused before reading"
        )


_INFLATION_SLACK = 1 << 20  # bytes: room for small compressed records written by other tools


def _exported_model(path: Path) -> str | None:
    """What kind of exported network ``path`` is, if it is one (by suffix or contents)."""
    if path.suffix == ".onnx":
        return "an ONNX model"
    try:
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("/constants.pkl") for name in archive.namelist()):
                return "a TorchScript archive"
    except (zipfile.BadZipFile, OSError):
        pass
    return None


def _starts_with(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as f:
        return f.read(len(magic)) == magic


def _last_line(err: Exception) -> str:
    """The line of torch's long weights_only message that says what was found."""
    lines = [line for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if "GLOBAL" in line or "Unsupported" in line]
    return (useful or lines or ["unreadable"])[0][:200]
