"""Which images a trained network is evaluated on: a split of the data it was trained on (by
default its test split, else its validation split), or of other data; and where the results go.

A run's validation split is rebuilt as the run held it out (its ``val_size`` and ``seed``), and
refused when the images it holds out are no longer those the run recorded. The training split
is evaluated only when asked for by name: its error says little about new images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepres.catalog import card_of
from deepres.data.sources import absolute_source, missing_folder, open_source, split_fingerprint
from deepres.errors import UsageError
from deepres.runs import RunDir
from deepres.runs.rundir import data_slug
from deepres.weights import TrainedModel

SPLITS = ("test", "val", "train")


@dataclass(frozen=True, kw_only=True)
class EvaluationData:
    dataset: Any  # an ArrayDataset or StreamDataset of ``deepres.data.open_source``
    source: str  # the data source, as ``deepres train --data`` takes it
    split: str  # one of SPLITS, or "all": a folder of <class>/ folders, evaluated whole
    note: str | None = None  # what the person evaluating should know about these images


def evaluation_data(
    trained: TrainedModel,
    split: str | None = None,
    data: str | None = None,
    *,
    cache_dir: Path | None = None,
    download: bool = False,
) -> EvaluationData:
    """The images to evaluate ``trained`` on: ``split`` (default test, else val) of ``data``
    (default the data it was trained on), with the training run's validation hold-out where
    that is the source, so that "val" means the same images."""
    recipe = trained.recipe or {}
    source = data or recipe.get("data")
    if source is None:
        raise UsageError(
            f"{trained.path} does not record its training data; name the data to "
            "evaluate on with --data"
        )
    card = card_of(trained.path) if data is None else None
    if card is not None and card.data.set is not None:  # a name, not a folder to open
        raise UsageError(
            f"{card.name} was trained on {card.data.set} (its card: `deepres models`); name "
            "a copy of that data to evaluate on with --data FOLDER"
        )
    gone = missing_folder(source) if data is None else None
    if gone is not None:
        raise UsageError(
            f"{trained.path} was trained on {gone}, which is not on this machine; "
            "name the data to evaluate on with --data"
        )
    own = absolute_source(source) == absolute_source(recipe.get("data") or "")
    splits = open_source(
        source,
        cache_dir=cache_dir,
        download=download,
        val_size=recipe.get("val_size", 0) if own else 0,
        seed=recipe.get("seed", 0) if own else 0,
        image_size=recipe.get("image_size") if own else None,
        need_train=False,
    )
    if splits.flat and not own and split in (None, "train"):
        # Someone's own folder of labelled images: all of it is there to evaluate on.
        trained_on = recipe.get("data")
        note = (
            f"evaluating on all {len(splits.train):,} images of {source}: a folder of "
            "<class>/ folders without train/, val/ or test/"
            + (f", not {trained_on}, which the network was trained on" if trained_on else "")
        )
        return EvaluationData(dataset=splits.train, source=source, split="all", note=note)
    available = [s for s in SPLITS if getattr(splits, s) is not None]
    chosen = split or available[0]
    if chosen not in available:
        raise UsageError(f"{source} has no {chosen} split (it has {', '.join(available)})")
    if chosen == "train" and split is None:
        raise UsageError(
            f"{source} has no test or val split, only training images, whose "
            "error says little about new images; evaluate on other data with "
            "--data, or give --split train to measure the training error anyway"
        )
    held_out = chosen == "val" and own and recipe.get("val_size")
    if held_out:
        _check_held_out(trained, splits.val)
    note = None
    if chosen == "train":
        trained_on_it = ": the images the network was trained on" if own else ""
        note = f"evaluating on the train split of {source}{trained_on_it}"
    elif held_out:
        note = (
            f"evaluating on the val split of {source}: the {recipe['val_size']} training "
            "images the run held out"
        )
    return EvaluationData(dataset=getattr(splits, chosen), source=source, split=chosen, note=note)


def _check_held_out(trained: TrainedModel, val) -> None:
    """The images a run held out (val_size) are those it recorded, or the val split is
    refused: images added to the folder since would move others from training into the split."""
    run = RunDir.of_checkpoint(trained.path)
    then = run.held_out_sha256() if run is not None else None
    if then is not None and split_fingerprint(val) != then:
        raise UsageError(
            f"{run.path}: the images its data holds out for validation are not those the run "
            f"held out (images were added to or removed from {trained.recipe['data']}), so "
            "some of them were trained on; put the data back as it was, or evaluate on the "
            "test split"
        )


def evaluation_folder(
    weights: Path, source: str, split: str, trained_weights: bool = False
) -> Path:
    """Where an evaluation's results go by default: RUN/eval-DATA-SPLIT for a run directory,
    else eval-CHECKPOINT-DATA-SPLIT beside the file (in the run directory for one of its
    checkpoints); eval-trained-... for the trained weights of a run with a weight average."""
    slug, what = data_slug(source), "eval-trained" if trained_weights else "eval"
    if weights.is_dir():
        return weights / f"{what}-{slug}-{split}"
    run = RunDir.of_checkpoint(weights)
    folder = run.path if run is not None else weights.parent
    return folder / f"{what}-{weights.stem}-{slug}-{split}"
