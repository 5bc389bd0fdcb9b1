"""Byte-identical image files in a data folder: a test image copied into train/ (the test
error would then count images trained on), or one image twice in a split. Found at scan time
by hashing only the files whose size another file shares, and remembered in the data cache."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from deepres.errors import show_path

from .cache import Cache, files_key
from .errors import log
from .scan import SplitFiles

_SHOWN = 3  # examples named in the warning


def find_duplicates(splits: dict[str, SplitFiles], cache: Cache) -> list[tuple[str, str]]:
    """(first, copy) for every file whose bytes are those of an earlier one, in any split."""
    entries = [e for split in splits.values() for e in split.entries]
    key = files_key(entries, kind="duplicates")
    hit = cache.load(key)
    if hit is not None:
        return [tuple(pair) for pair in hit[1]["pairs"]]
    by_size = defaultdict(list)
    for path, size, *_ in entries:
        by_size[size].append(path)
    pairs = []
    for paths in by_size.values():
        first: dict[bytes, str] = {}
        for path in paths if len(paths) > 1 else []:
            digest = _sha256(path)
            if digest is not None and first.setdefault(digest, path) != path:
                pairs.append((first[digest], path))
    cache.save(key, {"pairs": pairs})
    return pairs


def warn_of_duplicates(splits: dict[str, SplitFiles], cache: Cache) -> None:
    """One warning line naming a few copies, the ones across splits first."""
    pairs = find_duplicates(splits, cache)
    if not pairs:
        return
    split_of = {path: name for name, split in splits.items() for path in split.files}
    across = [p for p in pairs if split_of.get(p[0]) != split_of.get(p[1])]
    shown = (across + [p for p in pairs if p not in across])[:_SHOWN]
    examples = ", ".join(f"{show_path(b)} = {show_path(a)}" for a, b in shown)
    leak = (
        f", {len(across)} of them across splits (the test error counts images trained on)"
        if across
        else ""
    )
    log.warning(
        "%d image file(s) are byte-identical copies of others%s: %s; remove the copies",
        len(pairs),
        leak,
        examples,
    )


def _sha256(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").digest()
    except OSError:
        return None  # the decode step reports it
