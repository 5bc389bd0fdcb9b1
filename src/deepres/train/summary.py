"""How a run ended, in figures: its ``RunSummary`` from its metrics records."""

from __future__ import annotations

from deepres.runs import RunStatus, RunSummary


def summarize_run(records: list[dict], status: RunStatus, **known) -> RunSummary:
    """The summary of a run whose metrics are ``records``: the errors of its last evaluation,
    its training time and speed (evaluation time left out), and the ``known`` fields."""
    train_records = [r for r in records if "train_loss" in r]
    last_eval = next((r for r in reversed(records) if "train_loss" not in r), {})
    seconds = sum(r["seconds"] for r in train_records)
    return RunSummary(
        status=status,
        test_error=last_eval.get("test_error"),
        val_error=last_eval.get("val_error"),
        train_seconds=seconds,
        images_per_s=sum(r["images"] for r in train_records) / seconds if seconds else None,
        **known,
    )
