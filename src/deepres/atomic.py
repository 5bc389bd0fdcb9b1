"""Writing a file so that a crash at any moment leaves the old one whole: the one way every
layer of deepres writes what it must not half-write (checkpoints, caches, run records,
exports, evaluation results, features).

- The temporary file beside the target has a random name and is created with O_EXCL
  (``tempfile.mkstemp``), so nobody can plant a symlink or a file there for us to write
  through or to delete; it is written, flushed and fsynced, then renamed over the target,
  and the folder is fsynced so that the rename itself survives a power cut.
- Several files that belong together (an export and its JSON description, features and their
  file list) are all written in full first, then renamed one after the other: a full disk or
  a crash while writing leaves every old file as it was.
- A temporary file (or staging folder) left by a process that was killed
  (``.NAME.XXXXXXXX.tmp``) is removed the
  next time NAME is written: only names of exactly that pattern, regular files of this user,
  older than ``STALE_AFTER_S`` and not locked by a live writer (each writer holds a lock on
  its temporary file while it writes).
- An existing target that is not a regular file (a device, a FIFO, a socket, or a symlink to
  one) is refused, never replaced by a regular file: ``--output /dev/null`` must not make a
  file of the machine's /dev/null.
- An OS error while writing (disk full, read-only file system, no permission, a folder where
  a file should be) becomes a ``WriteError``: one line naming the path and what to do.

Imports nothing from deepres, so the lowest layers can use it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from deepres.errors import DeepresError

STALE_AFTER_S = 600  # a temporary file untouched this long belongs to no live writer
_RANDOM = "[a-z0-9_]{8}"  # what tempfile.mkstemp puts between prefix and suffix
_ADVICE = {
    errno.ENOSPC: ("no space left on the device", "free some space or write elsewhere"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write elsewhere"),
    errno.EROFS: ("read-only file system", "write it elsewhere"),
    errno.EACCES: ("permission denied", "write it elsewhere, or get write permission there"),
    errno.EPERM: ("operation not permitted", "write it elsewhere"),
    errno.EISDIR: ("it is a folder", "name a file inside it instead"),
    errno.ENOTDIR: ("a part of its path is a file, not a folder", "choose another path"),
    errno.EEXIST: ("a file of that name is in the way of a folder", "choose another path"),
    errno.EFBIG: (
        "the file is larger than the file system or `ulimit -f` allows",
        "write it elsewhere",
    ),
    errno.EIO: (
        "input/output error (a failing disk, or a lost network file system)",
        "check the device, or write elsewhere",
    ),
}


class WriteError(OSError, DeepresError):
    """A file that could not be written; ``str()`` is one line naming it and what to do.

    An OSError (with the original errno) for code that handles OS failures, and a
    DeepresError so that the command line prints it as one line rather than a traceback.
    """

    def __str__(self) -> str:
        return self.strerror  # the whole line; OSError would prefix "[Errno N]"


def write_error(path: str | os.PathLike, err: OSError) -> WriteError:
    """``err`` met while writing ``path``, said as one line with what to do."""
    what, todo = _ADVICE.get(err.errno, (err.strerror or str(err), "check the path"))
    return WriteError(err.errno, f"cannot write {os.fsdecode(path)}: {what}; {todo}")


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; done once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def make_folder(path: str | os.PathLike) -> Path:
    """``mkdir -p path``, with a ``WriteError`` that names it when that is impossible."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(path, err) from None
    return path


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it to ``path``."""
    write_together([(Path(path), write)])


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda f: f.write(text.encode()))


def write_together(files: list[tuple[Path, Callable[[BinaryIO], None]]]) -> None:
    """Write each (path, write) to its temporary file, and only when all are whole rename them
    into place, in the order given (put first what describes the rest)."""
    staged: list[tuple[str, Path]] = []  # written, not yet renamed
    try:
        for path, write in files:
            staged.append((_write_temporary(Path(path), write), Path(path)))
        while staged:
            tmp, path = staged[0]
            refuse_special_file(path)  # again: one may have been made while we wrote
            try:
                os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new
            except OSError as err:
                raise write_error(path, err) from None
            staged.pop(0)
    finally:
        for tmp, _ in staged:  # what a failure left
            Path(tmp).unlink(missing_ok=True)
    for folder in {Path(path).parent for path, _ in files}:
        _fsync_folder(folder)


def refuse_special_file(path: str | os.PathLike) -> None:
    """A ``WriteError`` if ``path`` exists and is not a regular file (a symlink is followed:
    one to a regular file may be replaced, one to a device or a FIFO may not)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # absent (or unreadable): writing it says what is wrong
    if stat.S_ISDIR(mode):
        raise write_error(path, OSError(errno.EISDIR, "is a folder"))
    if not stat.S_ISREG(mode):
        kind = special_file_kind(mode)
        raise WriteError(
            errno.EEXIST,
            f"cannot write {os.fsdecode(path)}: it is {kind}, not a regular file, and is never "
            "replaced; choose another path",
        )


def special_file_kind(mode: int) -> str:
    """What a file that is neither regular nor a folder is, in words, by its ``st_mode``."""
    return _SPECIAL.get(stat.S_IFMT(mode), "not a regular file")


_SPECIAL = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


def _write_temporary(path: Path, write: Callable[[BinaryIO], None]) -> str:
    """The name of a new temporary file beside ``path`` holding what ``write`` wrote, synced."""
    refuse_special_file(path)
    make_folder(path.parent)
    remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise write_error(path, err) from None
    try:
        with os.fdopen(fd, "wb") as f:
            _hold_lock(f)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; give it the usual mode
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        cause = os_error_in(err)
        if cause is not None:
            raise write_error(path, cause) from None
        raise
    return tmp


def os_error_in(err: BaseException) -> OSError | None:
    """The file system's OSError behind ``err``, if any: serialisers such as torch.save wrap
    the disk's ENOSPC in their own RuntimeError ("unexpected pos ..."), keeping it only in the
    exception chain."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, WriteError):
            return None  # already said in one line
        if isinstance(err, OSError) and err.errno in _ADVICE:
            return err  # a file's error; others (a network's, say) are the caller's to word
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


@contextmanager
def staging_folder(path: Path) -> Iterator[Path]:
    """A new private folder beside ``path`` (``.NAME.XXXXXXXX.tmp``) for files made before
    ``path`` is written from them (an export is checked there); removed on the way out, and,
    when a kill prevented that, by the next write of ``path`` (it is locked while in use)."""
    path = Path(path)
    refuse_special_file(path)
    make_folder(path.parent)
    remove_stale_temporaries(path)
    try:
        folder = tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise write_error(path, err) from None
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def remove_stale_temporaries(path: Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove what killed writers of ``path`` left behind (see the module docstring); returns
    the files removed. Never raises: a leftover that cannot be removed is only wasted space."""
    pattern = re.compile(re.escape(f".{path.name}.") + _RANDOM + re.escape(".tmp"))
    removed = []
    try:
        entries = [e for e in os.scandir(path.parent) if pattern.fullmatch(e.name)]
    except OSError:
        return removed
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
            if (
                (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode))
                and st.st_uid == os.geteuid()
                and time.time() - st.st_mtime > older_than_s
                and not _locked(entry.path)
            ):
                if stat.S_ISDIR(st.st_mode):  # a staging folder (see staging_folder)
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _hold_lock(f: BinaryIO) -> None:
    """Lock our temporary file while we write it: tells remove_stale_temporaries it is in use
    (the lock goes with the process, however it ends)."""
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # a file system without locks: _locked says locked, so leftovers there stay


def _locked(path: str) -> bool:
    """Whether a live writer may hold the lock on the temporary file ``path``."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:  # held (EWOULDBLOCK), or locks unsupported here: keep the file
        return True
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync folders; the rename is done all the same
    finally:
        os.close(fd)
