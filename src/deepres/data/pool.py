"""Running a per-file function over many files in parallel, with a progress bar.

Processes, not threads: for small images the Python around each decode costs as much as the
decode itself, and only processes run that Python on every core. Files travel in chunks so
that a chunk's results cross the process boundary in one piece.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from tqdm import tqdm

from .decode import BadImage
from .errors import DataError

CHUNK = 256
# Below this many files a pool costs more to start than it saves.
_INLINE_BELOW = 1024


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_files(fn, files: list[str], *, desc: str, workers: int | None = None, **kwargs):
    """[(result, None) or (None, reason)] for ``fn(path, **kwargs)`` over ``files``, in order.

    ``fn`` must be a module-level function (it is sent to worker processes); it signals an
    unusable file by raising ``BadImage``.
    """
    workers = cpu_count() if workers is None else workers
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    job = partial(_run_chunk, fn, kwargs)
    results = []
    small = len(files) < _INLINE_BELOW  # done before a bar would show anything
    with tqdm(total=len(files), desc=desc, unit="img", mininterval=0.5, disable=small) as bar:
        if workers <= 1 or small:
            for chunk in chunks:
                results += job(chunk)
                bar.update(len(chunk))
            return results
        try:
            results = _map_in_pool(job, chunks, workers, bar)
        except BrokenProcessPool:
            raise DataError(
                f"{desc}: a decoding process died (out of memory?); try again with fewer workers"
            ) from None
    return results


def _map_in_pool(job, chunks: list, workers: int, bar) -> list:
    """``job`` over ``chunks`` in ``workers`` processes. The workers ignore Ctrl-C (each would
    print its own traceback); this process stops them at once when it is interrupted."""
    results = []
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_leave_ctrl_c_to_parent)
    try:
        for future in [pool.submit(job, chunk) for chunk in chunks]:
            while True:  # short waits: Ctrl-C is handled between them, not after a chunk
                try:
                    done = future.result(timeout=0.1)
                    break
                except TimeoutError:
                    continue
            results += done
            bar.update(len(done))
    except BaseException:  # Ctrl-C, or a worker that died: not after every chunk is done
        # The chunks being decoded would still run to their end (and exit would wait for
        # them): end the workers (Python 3.14's terminate_workers(); before it, only so).
        workers = list((pool._processes or {}).values())  # shutdown forgets them
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.terminate()
        raise
    pool.shutdown()
    return results


def _leave_ctrl_c_to_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(fn, kwargs: dict, paths: list[str]):
    out = []
    for path in paths:
        try:
            out.append((fn(path, **kwargs), None))
        except BadImage as err:
            out.append((None, str(err)))
    return out
