"""Turning one image file into RGB pixels, or into a one-line reason why not.

JPEGs go through libjpeg-turbo (simplejpeg, the ``jpeg`` extra), which is about twice as fast
as PIL for small images and can decode at 1/2, 1/4 or 1/8 scale; everything else, any JPEG
that simplejpeg declines, and every JPEG where it is not installed, goes through PIL. Every mode PIL knows is converted to 8-bit RGB; what cannot be
decoded raises ``BadImage`` with a reason a person can read. Images are returned upright: the
EXIF orientation a camera records is applied, as image viewers do.
"""

from __future__ import annotations

import functools
import importlib
import io
import os
import re
import warnings

import numpy as np
from PIL import Image

from .errors import os_error_reason

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")
# PIL's own default limit: no real photo has more pixels; a file that claims more is treated
# as a decompression bomb and rejected from its header, before any pixel memory is allocated.
MAX_PIXELS = 89_478_485
# Above this many bytes a file is opened lazily by PIL instead of being read whole.
_MAX_READ_BYTES = 64 << 20
_JPEG_MAGIC = b"\xff\xd8\xff"
_HARMLESS_JPEG_WARNINGS = (
    "extraneous bytes before marker",
    "unknown JFIF revision",
    "Invalid SOS parameters",
)
# Composite transparent images onto white, as image viewers show them.
_BACKGROUND = (255, 255, 255)


class BadImage(Exception):
    """A file that cannot be used as an image; ``str(err)`` is the reason."""


# The resize to the network's side: PIL's bilinear filter, with this reducing_gap.
REDUCING_GAP = 3.0


class TooManyPixels(BadImage):
    """An image whose header claims more pixels than the limit (a decompression bomb)."""


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def decode_rgb(
    source: str | bytes, *, min_side: int | None = None, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """The image file at path ``source``, or the encoded image ``source`` itself (bytes), as a
    (H, W, 3) uint8 array.

    ``min_side``: the caller only needs the shorter side to be at least this long, so JPEGs may
    be decoded at a reduced scale (much faster for large photos). Raises ``BadImage``.
    """
    in_memory = isinstance(source, bytes)
    head = _read_head(source)
    size = len(source) if in_memory else os.path.getsize(source)
    if head[:3] == _JPEG_MAGIC and size <= _MAX_READ_BYTES:
        data = source if in_memory else _read_all(source)
        fast = _decode_jpeg_fast(data, min_side, max_pixels)
        if fast is not None:
            return upright(fast, _jpeg_orientation(data))
        opened = io.BytesIO(data)
    else:
        opened = io.BytesIO(source) if in_memory else source
    return _decode_pil(opened, head, min_side, max_pixels)


def probe_size(path: str, *, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(width, height) from the file's header alone; raises ``BadImage``."""
    head = _read_head(path)
    with _open_pil(path, head, max_pixels) as im:
        w, h = im.size
        return (h, w) if _orientation(im) in _TRANSPOSED else (w, h)


def header_pixels(source: str | bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int, int]:
    """(width, height, bytes a decode may hold per pixel) from the header alone, before any
    pixel is decoded; raises ``BadImage`` (``TooManyPixels`` above ``max_pixels``). The bytes count the decoded mode, the RGB copy and,
    for 16-bit and wider images, the conversion to 8 bits."""
    head = _read_head(source)
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    with _open_pil(opened, head, max_pixels) as im:
        w, h = im.size
        sixteen = im.mode.startswith("I;16")
        wide = im.mode in ("I", "F")  # 32-bit: converted through float64
        per_pixel = _MODE_BYTES.get(im.mode, 4) + 3 + (8 if sixteen else 0) + (24 if wide else 0)
        return w, h, per_pixel


_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "RGB": 3, "YCbCr": 3, "I;16": 2}


def resize_shorter(image: np.ndarray, side: int) -> np.ndarray:
    """Scale a (H, W, 3) array so that its shorter side is ``side`` pixels (aspect kept)."""
    h, w = image.shape[:2]
    if min(h, w) == side:
        return image
    scale = side / min(h, w)
    size = (max(side, round(w * scale)), max(side, round(h * scale)))
    # reducing_gap: a fast box pre-reduction for large downscales, then an antialiased resize.
    return np.asarray(
        Image.fromarray(image).resize(size, Image.BILINEAR, reducing_gap=REDUCING_GAP)
    )


def draft_scale(width: int, height: int, min_side: int | None) -> int:
    """The reduced DCT scale 1/s at which a JPEG is decoded when only a shorter side of
    ``min_side`` is needed: s is the largest of 8, 4, 2 (else 1) with s * min_side at most
    the shorter side, as PIL's ``Image.draft("RGB", (min_side, min_side))`` chooses, and the
    result is ceil(width / s) x ceil(height / s). One rule for both decoders, so that a program
    with PIL alone (following an export's sidecar) gets the same pixels."""
    if not min_side:
        return 1
    return next(s for s in (8, 4, 2, 1) if s == 1 or s * min_side <= min(width, height))


def crop(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    return image[top : top + size, left : left + size]


def fit_square(image: np.ndarray, side: int) -> np.ndarray:
    """Shorter side to ``side``, then the centred ``side`` x ``side`` square."""
    image = resize_shorter(image, side)
    h, w = image.shape[:2]
    return crop(image, (h - side) // 2, (w - side) // 2, side)


def decode_square(source: str | bytes, side: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The image (a path, or the encoded bytes) as a (3, side, side) uint8 array: shorter side
    scaled, centre cut."""
    image = fit_square(decode_rgb(source, min_side=side, max_pixels=max_pixels), side)
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def _read_head(source: str | bytes) -> bytes:
    if isinstance(source, bytes):
        if not source:
            raise BadImage("empty file (0 bytes)")
        return source[:64]
    try:
        if os.path.getsize(source) == 0:
            raise BadImage("empty file (0 bytes)")
        with open(source, "rb") as f:
            return f.read(64)
    except OSError as err:
        raise BadImage(os_error_reason(err)) from None


def _read_all(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise BadImage(os_error_reason(err)) from None


def _decode_jpeg_fast(data: bytes, min_side: int | None, max_pixels: int) -> np.ndarray | None:
    """simplejpeg's decode; None where PIL should decode instead (CMYK, or a header that
    simplejpeg cannot read, so that PIL words the problem, or no simplejpeg installed)."""
    simplejpeg = _simplejpeg()
    if simplejpeg is None:
        return None
    try:
        h, w, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    _check_pixels(w, h, max_pixels)
    if colorspace not in ("YCbCr", "Gray", "RGB"):
        return None  # CMYK/YCCK: PIL knows Adobe's inverted-CMYK convention
    # libjpeg-turbo's own choice (any n/8) would differ from PIL's draft: ask for its size.
    s = draft_scale(w, h, min_side)
    options = dict(colorspace="RGB", min_height=-(-h // s), min_width=-(-w // s))
    try:
        return simplejpeg.decode_jpeg(data, **options)
    except ValueError as err:
        # Strict decoding fails on every libjpeg warning. Some are harmless and common in
        # real photos; the others mean missing or damaged pixels, which PIL would accept
        # quietly (as grey or noise) and so would train on.
        if not any(w in str(err) for w in _HARMLESS_JPEG_WARNINGS):
            raise BadImage(f"corrupt or truncated JPEG: {err}") from None
    try:
        return simplejpeg.decode_jpeg(data, strict=False, **options)
    except ValueError as err:
        raise BadImage(f"corrupt JPEG: {err}") from None


@functools.cache
def _simplejpeg():
    """The simplejpeg module, or None where it is not installed (PIL decodes instead)."""
    try:
        return importlib.import_module("simplejpeg")
    except ImportError:
        return None


def _check_pixels(w: int, h: int, max_pixels: int) -> None:
    if w * h > max_pixels:
        raise TooManyPixels(
            f"decompression bomb: header claims {w}x{h} pixels, more than the "
            f"limit of {max_pixels:,}"
        )
    if w <= 0 or h <= 0:
        raise BadImage(f"header claims an empty image ({w}x{h})")


def _open_pil(source, head: bytes, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        # We apply our own pixel limit below; PIL's warning would only add noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(source)
        except Image.DecompressionBombError as err:  # PIL's own limit: say ours instead
            claimed = re.search(r"\((\d+) pixels\)", str(err))
            size = f"{int(claimed.group(1)):,}" if claimed else f"more than {2 * MAX_PIXELS:,}"
            raise TooManyPixels(
                f"decompression bomb: header claims {size} pixels, more than the limit "
                f"of {max_pixels:,}"
            ) from None
        except Exception as err:  # PIL raises many types on bad headers
            raise BadImage(_unidentified_reason(head, err)) from None
    try:
        _check_pixels(*im.size, max_pixels)
    except BadImage:
        im.close()
        raise
    return im


def _unidentified_reason(head: bytes, err: Exception) -> str:
    if head.startswith(_JPEG_MAGIC):
        return "corrupt JPEG header"
    if _looks_like_text(head):
        start = " ".join(head[:20].decode("utf-8", "replace").split())
        return f'a text file, not an image (its text begins "{start}")'
    return f"not a recognised image format ({type(err).__name__})"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)


def _decode_pil(source, head: bytes, min_side: int | None, max_pixels: int) -> np.ndarray:
    with _open_pil(source, head, max_pixels) as im:
        fmt = im.format or "image"
        try:
            if min_side and im.format == "JPEG":
                im.draft("RGB", (min_side, min_side))
            return upright(rgb_of_pil(im), _orientation(im))
        except Exception as err:  # decoders raise OSError, SyntaxError, zlib.error, ...
            raise BadImage(f"corrupt or truncated {fmt}: {err}") from None


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """A (H, W, C) image as it is meant to be seen, given its EXIF orientation (1 to 8: how
    the camera stored it; 6, for instance, is a photo taken with the camera turned right)."""
    if orientation not in range(2, 9):
        return image
    if orientation in _TRANSPOSED:
        image = image.transpose(1, 0, 2)  # 5 is exactly a transpose; 6, 7, 8 flip it too
    flips = {2: (1,), 3: (0, 1), 4: (0,), 6: (1,), 7: (0, 1), 8: (0,)}.get(orientation, ())
    return np.ascontiguousarray(np.flip(image, flips))


_TRANSPOSED = (5, 6, 7, 8)  # orientations whose upright image swaps width and height
_EXIF_ORIENTATION = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block does not make the pixels unusable
        return 1
    return value if value in range(1, 9) else 1


def _jpeg_orientation(data: bytes) -> int:
    """The EXIF orientation of a JPEG; most have no EXIF block, found without parsing."""
    if _EXIF_HEADER not in data[: 1 << 18]:  # EXIF sits in the first segments, before pixels
        return 1
    try:
        with Image.open(io.BytesIO(data)) as im:
            return _orientation(im)
    except Exception:
        return 1


def rgb_of_pil(im: Image.Image) -> np.ndarray:
    """A PIL image of any mode as (H, W, 3) uint8 (transparent pixels onto white)."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        return _wide_gray_to_rgb(np.asarray(im), sixteen_bit=im.mode.startswith("I;16"))
    if im.mode == "P" and "transparency" in im.info or im.mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        background = Image.new("RGBA", im.size, _BACKGROUND + (255,))
        im = Image.alpha_composite(background, im)
    return np.asarray(im.convert("RGB"))


def _wide_gray_to_rgb(values: np.ndarray, sixteen_bit: bool) -> np.ndarray:
    """16-bit (or 32-bit) grayscale to 8 bits; PIL's own convert would clip at 255 instead."""
    if sixteen_bit:  # in integers, rint(v / 257) exactly: a quarter of float64's memory
        gray = ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    values = values.astype(np.float64)
    if values.max(initial=0) > 255:
        values = values / 257.0  # 65535 -> 255
    gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)
