"""The lock that keeps two processes from training in one run directory at once.

A process that trains in a run directory holds an exclusive ``flock`` on its lock file and
writes its pid there, so that a second one is refused with the holder's pid. The kernel
releases a flock when its holder ends, however it ends (SIGKILL included): a lock file left by
a dead process is just a file, and the next process takes it over without anyone removing it.

A forked child (a DataLoader worker) would share the lock, and hold it after its parent was
killed (an orphaned worker lives on for seconds); so each child closes its copy of the
descriptor as it starts, and the lock is the training process's alone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import weakref
from pathlib import Path

from deepres.atomic import write_error
from deepres.errors import RunDirError

_HELD: weakref.WeakSet = weakref.WeakSet()  # the locks this process holds


def _drop_in_child() -> None:
    """In a forked child: close the copies of the held locks' descriptors (a close, not an
    unlock, which would release the parent's lock too)."""
    for lock in list(_HELD):
        if lock.fd is not None:
            os.close(lock.fd)
            lock.fd = None
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_in_child)


class RunLock:
    """An exclusive lock on ``path`` (a run's lock file), held until ``release()`` or the end
    of the process."""

    def __init__(self, path: Path, run: Path):
        self.path = path
        try:
            self.fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as err:
            raise write_error(path, err) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "unknown"
            self.release()
            raise RunDirError(
                f"{run} is in use: process {holder} is training in it; wait for "
                f"it to end (or stop it), then continue with --resume {run}"
            ) from None
        except OSError as err:
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                self.release()
                raise write_error(path, err) from None
            # A file system without locks (some network ones): train unguarded, as before.
        _HELD.add(self)
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as err:
            self.release()
            raise write_error(path, err) from None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor releases the flock
            self.fd = None


def lock_held(path: Path) -> bool:
    """Whether a live process holds the run lock at ``path`` (is training in that run now).
    Probes with a shared lock, which a holder's exclusive one refuses; a missing lock file, or
    a file system without locks, is "not held"."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the probe's shared lock at once
