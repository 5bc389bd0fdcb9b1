"""The on-disk cache: decoded image arrays that a second run memory-maps instead of decoding.

An entry is ``<key>.json`` (labels, bad files, anything else the source wants back), with
``<key>.npy`` beside it when the entry holds images (uint8, N x C x H x W). The key hashes the
file list with every file's size, modification time, inode and change time, so that any
change to the folder decodes it afresh. Entries are written to a temporary name and renamed,
so a run killed halfway leaves no broken entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from deepres.atomic import write_atomic

from .errors import log

# Bump when decoding changes what an entry holds, so that old entries are not reused.
CACHE_FORMAT = 3  # 2: EXIF orientation applied; 3: JPEGs at the reduced scale PIL draft chooses


def default_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else $DEEPRES_CACHE, else $XDG_CACHE_HOME/deepres, else ~/.cache/deepres."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("DEEPRES_CACHE"):
        return Path(os.environ["DEEPRES_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "deepres"


def files_key(entries: list[tuple[str, int, int, int, int]], **settings) -> str:
    """A key for (path, size, mtime_ns, inode, ctime_ns) entries decoded with ``settings``.
    The inode and change time tell a file replaced with the same size and modification time
    (``cp -p``, ``rsync -t``): no tool sets the change time, so new bytes mean a new key."""
    h = hashlib.sha256(json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True).encode())
    for path, *numbers in entries:
        # surrogateescape: file names that are not UTF-8 still hash to their exact bytes.
        h.update(os.fsencode(path) + b"\0" + ":".join(map(str, numbers)).encode() + b"\n")
    return h.hexdigest()[:32]


class Cache:
    """Entries in ``folder``, one per key."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def load(self, key: str) -> tuple[np.ndarray | None, dict] | None:
        """(memory-mapped images or None, meta) for ``key``; None when there is no whole entry."""
        meta_path, array_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            if "count" not in meta:
                return None, meta
            # "c": copy-on-write, so torch.from_numpy gets a writable array and the file stays.
            images = np.load(array_path, mmap_mode="c")
        except (OSError, ValueError):
            return None
        return (images, meta) if len(images) == meta["count"] else None

    def save(self, key: str, meta: dict, images: np.ndarray | None = None) -> None:
        """Store an entry; a cache that cannot be written only costs the next run a decode."""
        meta_path, array_path = self._paths(key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if images is not None:
                write_atomic(array_path, lambda f: np.save(f, images))
                meta = {**meta, "count": len(images)}
            # The meta file goes last: its presence marks the entry as complete.
            text = json.dumps(meta)
            write_atomic(meta_path, lambda f: f.write(text.encode()))
        except OSError as err:
            log.warning(
                "could not write the data cache in %s (%s); the next run decodes again",
                self.folder,
                err.strerror or err,
            )

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.json", self.folder / f"{key}.npy"
