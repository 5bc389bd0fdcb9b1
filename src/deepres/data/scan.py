"""Finding the images of a split in a folder of class subfolders: ``split/<class>/<image>``.

Class names are the sorted subfolder names; images may sit deeper inside a class folder.
Hidden files and folders (a leading dot) are passed over. Everything else that is not used is
reported as a ``BadFile``: files with other extensions, files outside any class folder, empty
files, broken links and symlink loops, empty class folders. The reading of pixels is left to
the decode step, which reports the files that turn out not to be images.

Links never mislabel: one record of the files and folders taken (``Visited``) serves every
split of a data folder; a symlink that resolves inside the data folder is not followed (its
target is taken where it lies), one that resolves outside is followed once, and a file met a
second time (through another link, or a hard link) is reported instead of labelled again.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from deepres.errors import show_path

from .decode import IMAGE_EXTENSIONS, is_image_name
from .errors import BadFile, DataError, os_error_reason


@dataclass
class SplitFiles:
    """The image files of one split, in a fixed order (sorted by class, then path)."""

    root: str
    classes: list[str]
    files: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    # path, size, mtime_ns, inode, ctime_ns: what the data cache's key holds of each file
    entries: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    bad: list[BadFile] = field(default_factory=list)


def scan_split(
    root: str, classes: list[str] | None = None, visited: Visited | None = None
) -> SplitFiles:
    """The images under ``root/<class>/``; ``classes`` fixes the label order (train's).

    ``visited``: the record shared by every split of one data folder (default: this split's
    own), so that no real file is taken twice, whichever split or class links to it.
    """
    found = _class_folders(root)
    visited = Visited(root) if visited is None else visited
    visited.take_root(root)
    split = SplitFiles(root, sorted(found) if classes is None else list(classes))
    label_of = {name: i for i, name in enumerate(split.classes)}
    for name in sorted(found):
        class_dir = os.path.join(root, name)
        if name not in label_of:
            count = len(_walk_images(class_dir, [], Visited(class_dir)))
            split.bad.append(
                BadFile(
                    class_dir,
                    f"class {name!r} is not among the training classes ({count} image(s) not used)",
                )
            )
            continue
        if _usable(class_dir, visited, split.bad) is None:
            continue
        images = _walk_images(class_dir, split.bad, visited)
        if not images:
            split.bad.append(BadFile(class_dir, "empty class folder (no usable image files)"))
        for path, st in images:
            split.files.append(path)
            split.labels.append(label_of[name])
            split.entries.append((path, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
    for name in split.classes:
        if name not in found:
            split.bad.append(
                BadFile(
                    os.path.join(root, name),
                    f"class {name!r} of the training set has no folder here",
                )
            )
    _report_loose_files(root, split.bad)
    return split


def list_images(folder: str) -> tuple[list[str], list[BadFile]]:
    """Every image file below ``folder`` (sorted), and what was passed over there and why."""
    bad: list[BadFile] = []
    visited = Visited(folder)
    visited.take_root(folder)
    return [path for path, _ in _walk_images(folder, bad, visited)], bad


def _class_folders(root: str) -> list[str]:
    if not os.path.isdir(root):
        raise DataError(
            f"{show_path(root)} is not a folder; expected class subfolders of "
            f"images: {show_path(root)}/<class>/<image>"
        )
    try:
        entries = _listing(root)
    except OSError as err:
        raise DataError(f"cannot list {show_path(root)}: {os_error_reason(err)}") from None
    names = [e.name for e in entries if e.is_dir()]
    if not names:
        raise DataError(
            f"no class folders in {show_path(root)}; expected "
            f"{show_path(root)}/<class>/<image> (extensions "
            f"{', '.join(IMAGE_EXTENSIONS)})"
        )
    return names


def _listing(folder: str) -> list[os.DirEntry]:
    """The entries of ``folder`` that are not hidden, sorted by name."""
    return sorted(
        (e for e in os.scandir(folder) if not e.name.startswith(".")), key=lambda e: e.name
    )


def _report_loose_files(root: str, bad: list[BadFile]) -> None:
    for entry in _listing(root):
        if entry.is_dir():
            continue
        try:
            entry.stat()
            bad.append(BadFile(entry.path, "not inside a class folder"))
        except OSError as err:
            bad.append(BadFile(entry.path, os_error_reason(err)))


class Visited:
    """The record, for one data folder, of every file and folder already taken (by device and
    inode, so hard links count as the same file): no real file is read twice, under two
    labels or in two splits.

    ``roots``: the real folders the scan covers. A symlink that resolves inside them is not
    followed: what it points at is taken (or deliberately left out) where it lies.
    """

    def __init__(self, *roots: str):
        self.roots = [os.path.realpath(r) for r in roots]
        self.taken: dict[tuple[int, int], str] = {}

    def inside(self, path: str) -> str | None:
        """The root that the real path of ``path`` lies in, if any."""
        real = os.path.realpath(path)
        return next((r for r in self.roots if _within(real, r)), None)

    def take_root(self, folder: str) -> None:
        """Mark a folder the scan starts from as taken, so that a link back to it is a loop."""
        self.take(folder, os.stat(folder))

    def take(self, path: str, st: os.stat_result) -> str | None:
        """None the first time this file or folder is met, else the path it was first met at."""
        first = self.taken.setdefault((st.st_dev, st.st_ino), path)
        return None if first == path else first


def _within(real: str, folder: str) -> bool:
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _walk_images(folder: str, bad: list[BadFile], visited: Visited):
    """(path, stat) of every image file below ``folder``, sorted; problems go to ``bad``.

    A symlink that resolves outside the scanned folders is followed, once; one that resolves
    inside them is reported and not followed. Every real file and folder is taken once, so a
    link back up the tree, or a second link to the same images, is reported, not read twice.
    """
    try:
        entries = _listing(folder)
    except OSError as err:
        bad.append(BadFile(folder, os_error_reason(err)))
        return []
    found = []
    for entry in entries:
        st = _usable(entry.path, visited, bad)
        if st is None:
            continue
        if stat.S_ISDIR(st.st_mode):
            found += _walk_images(entry.path, bad, visited)
        elif not is_image_name(entry.name):
            bad.append(
                BadFile(
                    entry.path,
                    f"not an image file (extension is not one of {', '.join(IMAGE_EXTENSIONS)})",
                )
            )
        elif st.st_size == 0:
            bad.append(BadFile(entry.path, "empty file (0 bytes)"))
        else:
            found.append((entry.path, st))
    return found


def _usable(path: str, visited: Visited, bad: list[BadFile]) -> os.stat_result | None:
    """The stat of ``path`` (links followed) if it is to be used; else None, with the reason
    added to ``bad``: unreadable, a link into the scanned folders, or already taken."""
    try:
        st = os.stat(path)  # follows links; raises on loops and dangling links
    except OSError as err:
        bad.append(BadFile(path, os_error_reason(err)))
        return None
    if os.path.islink(path):
        root = visited.inside(path)
        if root is not None:
            bad.append(BadFile(path, _inside_link_reason(path, root)))
            return None
    first = visited.take(path, st)
    if first is not None:
        kind = "folder" if stat.S_ISDIR(st.st_mode) else "file"
        bad.append(
            BadFile(
                path,
                f"the same {kind} as {show_path(first)} (a link to it, or a "
                "hard link): not used twice, so no image gets two labels",
            )
        )
        return None
    return st


def _inside_link_reason(path: str, root: str) -> str:
    real = os.path.realpath(path)
    if _within(os.path.realpath(os.path.dirname(path)), real):
        return "symlink loop (to a folder that encloses it): not followed"
    return (
        f"symlink to {show_path(os.path.relpath(real, root))} inside the data folder "
        f"{show_path(root)}: not followed (the images there are taken where they lie, so "
        "none is counted twice or under another class)"
    )
