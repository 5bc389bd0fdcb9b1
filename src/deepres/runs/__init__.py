"""Runs: the run directory and the typed records that a run writes and others read back.

    run = RunDir("runs/quick")
    run.read_summary(), run.read_metrics(), run.read_recipe(), run.trained_checkpoint()
    run.read_summary().status is RunStatus.COMPLETED     # how the run ended (and .reason)
    compare_runs([path, ...])                            # runs side by side, a Markdown table
    CheckpointState.from_dict(load_checkpoint(path))   # a checkpoint's contents, typed

Sits just above ``deepres.atomic`` and below weights, train, evaluate and analysis, so that
each of them reads and writes runs through this one definition of their layout and keys
(they import the other records from ``deepres.runs.records``, the environment of a run from
``deepres.runs.environment``).
"""

from .compare import compare_runs
from .records import CheckpointState, RunStatus, RunSummary
from .rundir import RunDir

__all__ = ["RunDir", "RunSummary", "RunStatus", "CheckpointState", "compare_runs"]
