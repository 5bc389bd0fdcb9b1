"""How long a run's training steps took: as its log windows record it, and without the windows
in which its process stood still.

deepres before commit 88a9ff8 counted the time a stopped process (SIGSTOP: a queue paused for
tests or a benchmark) stood still as training. The log window a pause fell in then shows a rate
far below the run's: ``step_time`` takes the windows under a fifth of the run's median rate
for such pauses and counts them at that median rate. Runs trained since record their paused
time themselves (``paused_seconds``, already left out of the window's seconds)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

# A window this much slower than the run's median is a pause: running beside other work, or on
# a slower machine after a resume, costs a run a half or two thirds of its rate, not four fifths.
SLOW_FRACTION = 0.2


@dataclass(frozen=True)
class StepTime:
    """Seconds of training steps: ``recorded`` as the windows say, ``paused`` as the run left
    out itself; ``slow_windows`` windows took ``slow_excess`` seconds beyond the median rate."""

    images: int
    recorded: float
    paused: float
    slow_windows: int
    slow_excess: float

    @property
    def estimated(self) -> float:
        """The steps' seconds with the slow windows at the run's median rate."""
        return self.recorded - self.slow_excess

    @property
    def stood_paused(self) -> float:
        """The seconds the process stood paused: left out by the run, or by ``estimated``."""
        return self.paused + self.slow_excess


def step_time(metrics: list[dict]) -> StepTime:
    """The step time of a run from its metrics.jsonl records (evaluations left out)."""
    windows = [r for r in metrics if "train_loss" in r and r["seconds"] > 0]
    if not windows:
        return StepTime(0, 0.0, 0.0, 0, 0.0)
    median_rate = statistics.median(r["images"] / r["seconds"] for r in windows)
    slow = [r for r in windows if r["images"] / r["seconds"] < SLOW_FRACTION * median_rate]
    return StepTime(
        images=sum(r["images"] for r in windows),
        recorded=sum(r["seconds"] for r in windows),
        paused=sum(r.get("paused_seconds", 0.0) for r in windows),
        slow_windows=len(slow),
        slow_excess=sum(r["seconds"] - r["images"] / median_rate for r in slow),
    )


def step_time_table(rows: list[tuple[str, StepTime]]) -> str:
    """A Markdown table of named step times, a row each."""
    lines = [
        "| run | images | recorded | paused, left out | slow windows | their excess "
        "| without it | images/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in rows:
        rate = f"{t.images / t.estimated:,.0f}" if t.estimated > 0 else "-"
        lines.append(
            f"| {name} | {t.images:,} | {_duration(t.recorded)} | {_duration(t.paused)} | "
            f"{t.slow_windows} | {_duration(t.slow_excess)} | "
            f"{_duration(t.estimated)} | {rate} |"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 3600 else f"{seconds:,.0f} s ({seconds / 3600:.1f} h)"
