"""One file to pixels: every format and mode converts to 8-bit RGB; every unusable file gives
a reason instead of a traceback."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from deepres.data.decode import BadImage, decode_rgb, decode_square, fit_square, probe_size

from .helpers import png_bytes, write_image


@pytest.mark.parametrize("suffix", [".jpg", ".JPEG", ".png", ".webp", ".bmp", ".gif"])
def test_every_format_decodes_to_rgb(tmp_path, suffix):
    path = write_image(tmp_path / f"a{suffix}", (20, 10), color=(200, 40, 10))
    image = decode_rgb(str(path))
    assert image.shape == (10, 20, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - (200, 40, 10)).max() <= 12  # lossy formats and palettes


@pytest.mark.parametrize(
    "mode,suffix",
    [
        ("L", ".png"),
        ("L", ".jpg"),
        ("P", ".png"),
        ("CMYK", ".jpg"),
        ("I;16", ".png"),
        ("1", ".bmp"),
    ],
)
def test_other_modes_convert_to_rgb(tmp_path, mode, suffix):
    gray = 102  # in the web palette that PIL's "P" conversion uses, so it survives exactly
    if mode == "I;16":  # 16-bit: 102/255 of full scale must come out as 102, not clipped to 255
        source = Image.fromarray(np.full((8, 8), gray * 257, np.uint16))
    else:
        source = Image.new("RGB", (8, 8), (gray,) * 3).convert(mode)
    path = tmp_path / f"m{suffix}"
    source.save(path)
    image = decode_rgb(str(path))
    assert image.shape == (8, 8, 3)
    if mode == "1":  # one bit per pixel: a dither of black and white
        assert set(np.unique(image)) <= {0, 255}
    else:
        assert np.abs(image.astype(int) - gray).max() <= 4


def test_sixteen_bit_rgb_png_scales_down(tmp_path):
    values = np.zeros((4, 4, 3), ">u2")
    values[..., 0], values[..., 1] = 65535, 30000
    raw = b"".join(b"\x00" + row.tobytes() for row in values)
    path = tmp_path / "rgb16.png"
    path.write_bytes(png_bytes(4, 4, 16, 2, raw))
    assert tuple(decode_rgb(str(path))[0, 0]) == (255, 117, 0)


def test_transparency_is_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red
    rgba.putpixel((0, 0), (0, 0, 255, 255))  # one opaque blue pixel
    rgba.save(tmp_path / "a.png")
    image = decode_rgb(str(tmp_path / "a.png"))
    assert tuple(image[0, 0]) == (0, 0, 255) and tuple(image[3, 3]) == (255, 255, 255)
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0] + [9, 9, 9] * 255)
    palette.save(tmp_path / "p.gif", transparency=0)
    assert tuple(decode_rgb(str(tmp_path / "p.gif"))[1, 1]) == (255, 255, 255)


def test_one_pixel_and_large_images_are_used(tmp_path):
    tiny = write_image(tmp_path / "tiny.png", (1, 1), color=(9, 99, 199))
    assert decode_square(str(tiny), 32).shape == (3, 32, 32)
    assert tuple(decode_square(str(tiny), 32)[:, 5, 5]) == (9, 99, 199)
    big = write_image(tmp_path / "big.jpg", (6000, 4000), color=(50, 100, 150))
    small = decode_rgb(str(big), min_side=32)  # decoded at 1/8 scale, not 24 megapixels
    assert small.shape == (500, 750, 3)
    assert decode_square(str(big), 32).shape == (3, 32, 32)


def test_fit_square_keeps_the_centre(tmp_path):
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 20:60] = 255  # the centre 40x40 is white, the sides black
    square = fit_square(image, 40)
    assert square.shape == (40, 40, 3) and square.min() == 255


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty file"),
        (b"hello, I am a text file named like a picture\n", "text file"),
        (bytes(range(256)) * 4, "not a recognised image"),
    ],
)
def test_unusable_files_give_a_reason(tmp_path, content, reason):
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    with pytest.raises(BadImage, match=reason):
        decode_rgb(str(path))


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_and_corrupt_files_give_a_reason(tmp_path, suffix):
    data = write_image(tmp_path / f"ok{suffix}", (64, 64)).read_bytes()
    third = len(data) // 3
    (tmp_path / f"cut{suffix}").write_bytes(data[: 2 * third])
    with pytest.raises(BadImage, match="corrupt or truncated"):
        decode_rgb(str(tmp_path / f"cut{suffix}"))
    noise = np.random.default_rng(1).integers(0, 256, len(data) - third, dtype=np.uint8)
    (tmp_path / f"noise{suffix}").write_bytes(data[:third] + noise.tobytes())
    with pytest.raises(BadImage, match="corrupt"):
        decode_rgb(str(tmp_path / f"noise{suffix}"))
    (tmp_path / f"head{suffix}").write_bytes(data[:4] + bytes(200) + data[204:])
    with pytest.raises(BadImage, match="corrupt JPEG header" if suffix == ".jpg" else "not a"):
        decode_rgb(str(tmp_path / f"head{suffix}"))


def test_decompression_bomb_is_rejected_from_its_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bytes(100_000, 100_000, 8, 2, b"\x00" * 1000))
    start = time.perf_counter()
    # Our limit is quoted (--max-pixels where the server takes it), not PIL's own.
    with pytest.raises(BadImage, match="claims 10,000,000,000 pixels, more than the limit of 89,"):
        decode_rgb(str(path))
    with pytest.raises(BadImage, match="decompression bomb"):
        probe_size(str(path))
    # 30 GB of pixels were never allocated: rejecting took no time at all.
    assert time.perf_counter() - start < 1.0


def test_symlink_loop_and_missing_file_give_a_reason(tmp_path):
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    with pytest.raises(BadImage, match="symlink loop"):
        decode_rgb(str(loop))
    with pytest.raises(BadImage, match="no such file"):
        decode_rgb(str(tmp_path / "missing.jpg"))
