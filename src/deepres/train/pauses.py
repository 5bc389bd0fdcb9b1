"""Time a training process spent stopped (SIGSTOP or Ctrl-Z, then SIGCONT), left out of its
training time: a queue paused for an hour beside a benchmark must not report an hour of steps.

The stop itself cannot be seen, but the continue can: SIGCONT runs a handler, which notes the
time. The pause then lies between the last point the clock was read (a step's end, or the end
of an evaluation or checkpoint, whose time is left out anyway) and the continue. The step it
fell in is counted as long as the last step that ran without one, and the rest of its time is
the pause.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager


class PauseClock:
    """Finds the seconds of each training step that the process spent stopped."""

    def __init__(self) -> None:
        self.continued_at: float | None = None  # when the last SIGCONT came, until accounted
        self.read_at = time.perf_counter()  # the last step's end, or the last restart
        self.step_seconds = 0.0  # the last step that ran without a pause

    def continued(self, signum=None, frame=None) -> None:
        """The SIGCONT handler."""
        self.continued_at = time.perf_counter()

    def restart(self) -> None:
        """Training steps follow from now: a log window began, or an evaluation or checkpoint
        ended (a pause during it was left out with it)."""
        self.continued_at = None
        self.read_at = time.perf_counter()

    def step_ended(self) -> float:
        """The seconds of the step that just ended that the process spent stopped; 0.0 when
        it was not stopped."""
        now = time.perf_counter()
        elapsed, self.read_at = now - self.read_at, now
        if self.continued_at is None:
            self.step_seconds = elapsed
            return 0.0
        self.continued_at = None
        return max(0.0, elapsed - self.step_seconds)


@contextmanager
def noticing_pauses(clock: PauseClock):
    """SIGCONT calls ``clock.continued`` while the block runs (from the main thread only)."""
    try:
        previous = signal.signal(signal.SIGCONT, clock.continued)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGCONT, previous)
