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

from deepres.errors import DataError, show_path

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
