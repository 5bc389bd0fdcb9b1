"""SIGINT and SIGTERM during training: finish the step, save a checkpoint, return."""

from __future__ import annotations

import signal
from contextlib import contextmanager


@contextmanager
def catch_stop_signals(trainer):
    """SIGINT/SIGTERM: finish the current step, save a checkpoint and return. A second signal
    acts as usual."""

    def handler(signum, frame):
        trainer.stop_signal = signum
        signal.signal(signum, previous[signum])
        trainer._say(f"\n{signal.Signals(signum).name}: saving a checkpoint after this step")

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in previous:
            signal.signal(s, handler)
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
