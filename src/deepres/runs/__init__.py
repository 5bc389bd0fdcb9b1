"""Runs: the run directory and the typed records that a run writes and others read back.

Sits just above ``deepres.atomic`` and below weights, train, evaluate and analysis, so that
each of them reads and writes runs through this one definition of their layout and keys.
"""

from .compare import compare_runs
from .environment import SESSION_KEYS, changes_during_run, describe_environment, sessions
from .records import Best, CheckpointState, RunRecord, RunSummary, Sums, WindowTotals
from .rundir import RunDir, data_slug, read_metrics, trained_so_far

__all__ = [
    "compare_runs",
    "SESSION_KEYS",
    "changes_during_run",
    "describe_environment",
    "Best",
    "CheckpointState",
    "RunRecord",
    "RunSummary",
    "Sums",
    "WindowTotals",
    "RunDir",
    "data_slug",
    "read_metrics",
    "sessions",
    "trained_so_far",
]
