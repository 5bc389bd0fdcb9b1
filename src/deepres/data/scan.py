"""Finding the images of a split in a folder of class subfolders: ``split/<class>/<image>``.

Class names are the sorted subfolder names; images may sit deeper inside a class folder.
Hidden files and folders (a leading dot) are passed over. Everything else that is not used is
reported as a ``BadFile``: files with other extensions, files outside any class folder, empty
files, broken links and symlink loops, empty class folders. The reading of pixels is left to
the decode step, which reports the files that turn out not to be images.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from .decode import IMAGE_EXTENSIONS, is_image_name
from .errors import BadFile, DataError, os_error_reason, show_path


@dataclass
class SplitFiles:
    """The image files of one split, in a fixed order (sorted by class, then path)."""

    root: str
    classes: list[str]
    files: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    entries: list[tuple[str, int, int]] = field(default_factory=list)  # path, size, mtime_ns
    bad: list[BadFile] = field(default_factory=list)


def scan_split(root: str, classes: list[str] | None = None) -> SplitFiles:
    """The images under ``root/<class>/``; ``classes`` fixes the label order (train's)."""
    found = _class_folders(root)
    split = SplitFiles(root, sorted(found) if classes is None else list(classes))
    label_of = {name: i for i, name in enumerate(split.classes)}
    for name in sorted(found):
        class_dir = os.path.join(root, name)
        if name not in label_of:
            count = len(_walk_images(class_dir, []))
            split.bad.append(BadFile(class_dir, f"class {name!r} is not among the training "
                                     f"classes ({count} image(s) not used)"))
            continue
        images = _walk_images(class_dir, split.bad)
        if not images:
            split.bad.append(BadFile(class_dir, "empty class folder (no usable image files)"))
        for path, st in images:
            split.files.append(path)
            split.labels.append(label_of[name])
            split.entries.append((path, st.st_size, st.st_mtime_ns))
    for name in split.classes:
        if name not in found:
            split.bad.append(BadFile(os.path.join(root, name),
                                     f"class {name!r} of the training set has no folder here"))
    _report_loose_files(root, split.bad)
    return split


def list_images(folder: str) -> tuple[list[str], list[BadFile]]:
    """Every image file below ``folder`` (sorted), and what was passed over there and why."""
    bad: list[BadFile] = []
    return [path for path, _ in _walk_images(folder, bad)], bad


def _class_folders(root: str) -> list[str]:
    if not os.path.isdir(root):
        raise DataError(f"{show_path(root)} is not a folder; expected class subfolders of "
                        f"images: {show_path(root)}/<class>/<image>")
    try:
        entries = _listing(root)
    except OSError as err:
        raise DataError(f"cannot list {show_path(root)}: {os_error_reason(err)}") from None
    names = [e.name for e in entries if e.is_dir()]
    if not names:
        raise DataError(f"no class folders in {show_path(root)}; expected "
                        f"{show_path(root)}/<class>/<image> (extensions "
                        f"{', '.join(IMAGE_EXTENSIONS)})")
    return names


def _listing(folder: str) -> list[os.DirEntry]:
    """The entries of ``folder`` that are not hidden, sorted by name."""
    return sorted((e for e in os.scandir(folder) if not e.name.startswith(".")),
                  key=lambda e: e.name)


def _report_loose_files(root: str, bad: list[BadFile]) -> None:
    for entry in _listing(root):
        if entry.is_dir():
            continue
        try:
            entry.stat()
            bad.append(BadFile(entry.path, "not inside a class folder"))
        except OSError as err:
            bad.append(BadFile(entry.path, os_error_reason(err)))


def _walk_images(folder: str, bad: list[BadFile], seen: set | None = None):
    """(path, stat) of every image file below ``folder``, sorted; problems go to ``bad``.

    Symlinked folders are followed, but each real folder is entered once, so a link back up
    the tree is reported instead of recursing forever.
    """
    seen = set() if seen is None else seen
    real = os.path.realpath(folder)
    if real in seen:
        bad.append(BadFile(folder, "symlink loop (folder already visited)"))
        return []
    seen.add(real)
    try:
        entries = _listing(folder)
    except OSError as err:
        bad.append(BadFile(folder, os_error_reason(err)))
        return []
    found = []
    for entry in entries:
        try:
            st = entry.stat()  # follows links; raises on loops and dangling links
        except OSError as err:
            bad.append(BadFile(entry.path, os_error_reason(err)))
            continue
        if stat.S_ISDIR(st.st_mode):
            found += _walk_images(entry.path, bad, seen)
        elif not is_image_name(entry.name):
            bad.append(BadFile(entry.path, "not an image file (extension is not one of "
                               f"{', '.join(IMAGE_EXTENSIONS)})"))
        elif st.st_size == 0:
            bad.append(BadFile(entry.path, "empty file (0 bytes)"))
        else:
            found.append((entry.path, st))
    return found
