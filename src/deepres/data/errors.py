"""What goes wrong with data, said so that a person can act on it.

Every unusable input becomes a ``BadFile``: logged once, in one line naming the file and the
reason, and kept in ``DataSplits.bad_files`` so that the run summary can count it. With
``on_bad_image="error"`` the whole list is raised as one ``DataError`` before training starts.
"""

from __future__ import annotations

import errno
import logging
import os
from typing import NamedTuple

from deepres.errors import DataError

log = logging.getLogger("deepres.data")

BAD_IMAGE_POLICIES = ("skip", "error")


class BadFile(NamedTuple):
    """An input that was not used, and why. ``path`` may be a file or a folder."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{show_path(self.path)}: {self.reason}"


def first_names(names: list[str], shown: int = 5) -> str:
    """``names`` joined by commas, whole when there are at most ``shown``; else the first
    ``shown`` and a count of the rest."""
    more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(map(show_path, names[:shown])) + more


def show_path(path: str | os.PathLike, *, reversible: bool = False) -> str:
    """A path (or a class name) that prints on one line of any terminal: bytes that are not
    UTF-8 appear as \\xNN, newlines, tabs and other unprintable characters as \\n, \\t,
    \\xNN or \\uNNNN. ``reversible``: backslashes are doubled too, so that the exact name
    can be read back (the file list that ``deepres embed`` writes, one name per line).

    File names on Linux are bytes; Python carries undecodable ones as lone surrogates, which
    would raise UnicodeEncodeError at the moment we try to report them.
    """
    text = os.fsdecode(path)
    if text.isprintable() and not (reversible and "\\" in text):
        return text
    return "".join(_escape(c, reversible) for c in text)


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(c: str, reversible: bool) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode carries it
        return f"\\x{code - 0xDC00:02x}"
    if c == "\\":
        return "\\\\" if reversible else c
    if c.isprintable():
        return c
    return _NAMED_ESCAPES.get(c) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def os_error_reason(err: OSError) -> str:
    """Why a file could not be read, in words (symlink loops and dangling links named)."""
    if err.errno == errno.ELOOP:
        return "symlink loop"
    if err.errno == errno.ENOENT:
        if err.filename is not None and os.path.islink(err.filename):
            return "broken symlink (target does not exist)"
        return "no such file (deleted or moved while being read)"
    return f"cannot read: {err.strerror or err}"


def check_policy(on_bad_image: str) -> None:
    if on_bad_image not in BAD_IMAGE_POLICIES:
        raise DataError(f"on_bad_image must be one of {BAD_IMAGE_POLICIES}, not {on_bad_image!r}")


def apply_bad_file_policy(bad: list[BadFile], on_bad_image: str, what: str) -> None:
    """Log each bad input in one line, or raise them all at once with ``on_bad_image="error"``."""
    check_policy(on_bad_image)
    if not bad:
        return
    if on_bad_image == "error":
        lines = "\n".join(f"  {b}" for b in bad)
        raise DataError(
            f"{len(bad)} unusable input(s) in {what} (on_bad_image='error'; "
            f"use 'skip' to train without them):\n{lines}"
        )
    for b in bad:
        log.warning("skipped %s", b)
    log.warning("%s: %d unusable input(s) skipped", what, len(bad))
