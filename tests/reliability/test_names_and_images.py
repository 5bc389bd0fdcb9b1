"""File and class names cannot break or forge an output line, and images decode upright
(issue 14, item 7)."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image, ImageOps

from deepres.cli import main
from deepres.data.decode import decode_rgb, probe_size
from deepres.weights import load_checkpoint, save_weights

NEWLINE_NAME = "two\nlines.png"


@pytest.fixture
def photos(tmp_path, color_folder):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(color_folder / "test" / "red" / "0.png", folder / "a.png")
    shutil.copy(color_folder / "test" / "blue" / "0.png", folder / NEWLINE_NAME)
    shutil.copy(color_folder / "test" / "gray" / "0.png", folder / "back\\slash.png")
    return folder


def test_embed_file_list_stays_aligned_with_rows(color_run, photos, tmp_path, capsys):
    out = tmp_path / "features.npy"
    assert main(["embed", str(color_run), str(photos), "--output", str(out), "--workers", "0"]) == 0
    rows = np.load(out)
    lines = (tmp_path / "features.files.txt").read_text().splitlines()
    assert len(lines) == len(rows) == 3
    names = [line.encode().decode("unicode_escape") for line in lines]  # the escapes undone
    assert names == [str(photos / n) for n in ("a.png", "back\\slash.png", NEWLINE_NAME)]
    capsys.readouterr()


def test_predict_table_escapes_file_names_and_class_names(color_run, photos, tmp_path, capsys):
    state = load_checkpoint(color_run / "checkpoints" / "last.pt")
    forged = ["\x1b[2J\x1b[31mFAKE", "new\nline", "tab\tbed", "plain"]  # from a checkpoint
    weights = tmp_path / "classes.pt"
    save_weights(
        weights,
        state["model"],
        {
            "model_name": state["model_name"],
            "classes": forged,
            "preprocessing": state["preprocessing"],
        },
    )
    assert main(["predict", str(weights), str(photos), "--top-k", "4", "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\t" not in out
    lines = out.splitlines()
    assert len(lines) == 1 + 3  # a header, then one line per file
    assert any(line.startswith(str(photos / "two\\nlines.png")) for line in lines)
    assert "\\x1b[2J\\x1b[31mFAKE" in out and "new\\nline" in out


def _jpeg_with_orientation(orientation: int) -> bytes:
    """A 32x16 JPEG of four coloured quarters (no flip or turn looks the same), with an EXIF
    orientation."""
    pixels = np.zeros((16, 32, 3), np.uint8)
    pixels[:8, :16], pixels[:8, 16:] = (230, 20, 20), (20, 20, 230)
    pixels[8:, :16], pixels[8:, 16:] = (20, 230, 20), (240, 240, 240)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_on_decode(tmp_path, orientation):
    path = tmp_path / "photo.jpg"
    path.write_bytes(_jpeg_with_orientation(orientation))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"), np.int16)
    got = decode_rgb(str(path))
    assert got.shape == expected.shape
    assert np.abs(got.astype(np.int16) - expected).mean() < 4  # two JPEG decoders
    assert probe_size(str(path)) == (expected.shape[1], expected.shape[0])


def test_exif_orientation_in_png_too(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (5, 9, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # stored turned: shown rotated 90 degrees clockwise
    image.save(tmp_path / "p.png", exif=exif)
    np.testing.assert_array_equal(decode_rgb(str(tmp_path / "p.png")), np.rot90(pixels, -1))
