"""A resumed run trains on the data it started with, or refuses: the same classes, in the same
order (a renamed or added class folder would permute or break the labels), and, for a split
held out of the training images (val_size), the same held-out files."""

from __future__ import annotations

from deepres.data import DataSplits
from deepres.data.errors import first_names
from deepres.data.sources import split_fingerprint
from deepres.errors import RunDirError
from deepres.runs import RunDir


def check_same_data(run: RunDir, classes_then: list[str], splits: DataSplits) -> None:
    """A ``RunDirError`` naming what changed since ``run`` started, if anything did."""
    now = list(splits.classes)
    advice = "put the data back as it was, or start a new run (another --out)"
    if classes_then != now:
        gone = [c for c in classes_then if c not in now]
        new = [c for c in now if c not in classes_then]
        change = "; ".join(
            part
            for part in (
                gone and f"missing now: {first_names(gone)}",
                new and f"new: {first_names(new)}",
            )
            if part
        )
        raise RunDirError(
            f"--resume {run.path}: the classes of {splits.source} have changed since the run "
            f"started ({change or 'in another order'}); resuming would mislabel images: " + advice
        )
    then = run.held_out_sha256()
    if then is not None and (splits.val is None or split_fingerprint(splits.val) != then):
        raise RunDirError(
            f"--resume {run.path}: the images held out for validation are not those the run "
            f"started with (images were added to or removed from {splits.source}), so some "
            "would be trained on: " + advice
        )
