"""``ship``: a finished run's final weights, measured on the test split of its data, written
with their model card; ``rewrite_cards``: every NAME.md again from its NAME.json. The rules
are in the docstring of ``deepres.ship``."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from deepres import catalog
from deepres.atomic import make_folder, write_text_atomic, write_together
from deepres.catalog import DATA_SETS, ModelCard
from deepres.data import Preprocessing, open_source
from deepres.data.jpeg_settings import data_note
from deepres.errors import DeepresError, UsageError
from deepres.evaluate import evaluate
from deepres.runs import RunDir
from deepres.runs.rundir import LAST, META, METRICS, RECIPE, RESPONSES, SUMMARY
from deepres.runs.step_time import step_time
from deepres.weights import card_markdown, load_checkpoint, load_model, read_weights, save_weights

from .card import FinishedRun, Measured, card_data, card_of_run, recipe_naming, time_fields

DTYPES = {"float16": torch.float16, "float32": torch.float32}
# The smallest storage that changes no test error: float16, else float32.
AUTO = "auto"
RUN_RECORDS = (METRICS, RECIPE, SUMMARY, META)  # copied beside the card; never a checkpoint
# Copied too where the run has them: the reproduction's Figure 7 from the records alone.
RUN_RECORDS_IF_THERE = (RESPONSES,)
# Written beside them: the test images the shipped network gets wrong, which lets a check
# that shares no code with deepres test the card's figure image by image on a sample.
TEST_ERRORS = "test-errors.txt"
# Where deepres's own weights go in a checkout of its repository (``ShipTo.checkout``).
CHECKOUT_WEIGHTS = Path("src/deepres") / catalog.SHIPPED_WEIGHTS.relative_to(catalog.PACKAGE)
CHECKOUT_RECORDS = Path("docs/runs")


class Refused(DeepresError):
    """The run cannot be shipped as asked; the message says why and what to do."""


@dataclass(frozen=True)
class ShipTo:
    """Where weights are shipped: NAME.safetensors, NAME.json and NAME.md into
    ``root / weights`` (``folder``), the run's records into ``root / records / NAME``, which
    the card names relative to ``root``."""

    root: Path
    weights: Path = Path(".")
    records: Path = Path("runs")

    @classmethod
    def checkout(cls, repo: Path) -> ShipTo:
        """Into a checkout of deepres, as deepres ships its own weights."""
        return cls(Path(repo), CHECKOUT_WEIGHTS, CHECKOUT_RECORDS)

    @property
    def folder(self) -> Path:
        return self.root / self.weights


def ship(
    run: str | Path,
    name: str,
    data: str,
    to: ShipTo,
    *,
    dtype: str = AUTO,
    data_set: str | None = None,
    hardware: str | None = None,
    cache_dir: str | Path | None = None,
    replace: bool = False,
) -> ModelCard:
    """Ship the final weights of ``run`` as ``name`` (MODEL-DATA[-VARIANT]) into ``to``,
    measured on the test split of ``data`` (the data the run trained on); the card written.

    ``dtype``: how the weights are stored ("float16" is refused if it changes a test error;
    "auto" stores float16 where it changes none, float32 where it would);
    ``data_set``: the name of the data set ``data`` holds (``DATA_SETS``), which the card
    gives instead of the folder; ``hardware``: the shipper's words on what the run trained
    on, for runs whose records do not say enough; ``replace``: ship over weights of ``name``.
    """
    finished = finished_run(Path(run))
    _check_request(name, finished, dtype, data_set)
    if (to.folder / f"{name}.json").exists() and not replace:
        raise Refused(f"{to.folder / name}.json exists: --replace to ship new weights as {name}")
    splits = open_source(data, cache_dir=cache_dir)
    test = _test_split(splits, data, finished)
    modes = ["center", "center-flip"] if finished.recipe.get("eval_flip") else ["center"]
    with tempfile.TemporaryDirectory() as scratch:
        stored = Path(scratch) / f"{name}.safetensors"
        errors, wrong = _store_and_measure(finished.final, stored, dtype, test, modes, data_set)
        note = None
        if data_set is None and Path(data).expanduser().is_dir():  # how its images are stored
            note = data_note(data, splits.train.files or [])
        card = card_of_run(
            name,
            finished,
            data=card_data(name, finished, data, data_set, note),
            measured=errors,
            weights=stored,
            results=str(to.records / name),
            stated_hardware=hardware,
        )
        weights = stored.read_bytes()
    errors_text = test_errors_text(test, wrong)
    folder = make_folder(to.folder)
    write_together(
        [
            (folder / card.file, _writer(weights)),
            (folder / f"{name}.json", _writer(card.to_json())),
            (folder / f"{name}.md", _writer(card_markdown(card))),
        ]
    )
    records = make_folder(to.root / to.records / name)
    _copy_records(finished.path, records, {TEST_ERRORS: errors_text} if errors_text else {})
    return card


def rewrite_cards(to: ShipTo) -> list[Path]:
    """Every NAME.md shipped ``to`` written again from its NAME.json (after a change of the
    card's format); the weights are left as they are. A card written before cards said how
    long the run's process stood paused gets that from the run's records shipped beside it
    (``card.results``), and its NAME.json is written again with it; other cards' NAME.json
    are left as they are."""
    written = []
    for path in sorted(to.folder.glob("*.json")):
        card = ModelCard.read(path)
        metrics = to.root / card.results / METRICS
        if card.paused_seconds is None and metrics.is_file():
            time = step_time(RunDir(metrics.parent).read_metrics())
            card = dataclasses.replace(card, **time_fields(time))
            write_text_atomic(path, card.to_json())
            written.append(path)
        write_text_atomic(path.with_suffix(".md"), card_markdown(card))
        written.append(path.with_suffix(".md"))
    return written


def finished_run(path: Path) -> FinishedRun:
    """The run at ``path``, once it is known to have completed with its final checkpoint."""
    missing = [f for f in (*RUN_RECORDS, LAST) if not (path / f).is_file()]
    if missing:
        raise Refused(f"{path}: not a finished deepres run (no {', '.join(missing)})")
    run = RunDir(path)
    summary = run.read_summary()
    if summary.status != "completed":
        raise Refused(
            f"{path}: the run has not finished ({summary.status.said(summary.reason)} at "
            f"iteration {summary.iterations:,} of {summary.planned_iterations:,}); only "
            "completed runs are shipped"
        )
    last = load_checkpoint(run.last)["iteration"]
    if last != summary.iterations:
        raise Refused(
            f"{path}: {LAST} is of iteration {last:,}, the run ended at {summary.iterations:,}"
        )
    return FinishedRun(
        path=path,
        summary=summary,
        meta=run.read_meta(),
        recipe=run.read_recipe(),
        step_time=step_time(run.read_metrics()),
        final=run.last,
    )


def _check_request(name: str, run: FinishedRun, dtype: str, data_set: str | None) -> None:
    model = run.summary.model
    if not name.startswith(f"{model}-") or "/" in name or "." in name:
        raise Refused(
            f"--name {name}: shipped weights are named MODEL-DATA, here {model}-DATA "
            f"(e.g. {model}-cifar10)"
        )
    if dtype not in (*DTYPES, AUTO):
        raise UsageError(
            f"dtype {dtype!r}: weights are stored as {' or '.join(DTYPES)}, or {AUTO} for "
            "float16 where it changes no test error"
        )
    if data_set is not None and data_set not in DATA_SETS:
        raise UsageError(f"data set {data_set!r}: the named ones are {', '.join(DATA_SETS)}")


def _test_split(splits, data: str, run: FinishedRun):
    """The test split of ``data``, which must be as large as the one the run was tested on."""
    test = splits.test
    if test is None:
        raise Refused(f"--data {data}: has no test split to measure the weights on")
    metrics = RunDir(run.path).read_metrics()
    tested = next((r["test_images"] for r in reversed(metrics) if "test_images" in r), None)
    if tested is not None and tested != len(test):
        raise Refused(
            f"--data {data}: its test split has {len(test):,} images, the run was "
            f"tested on {tested:,}; give the data the run was trained on"
        )
    return test


def write_weights(checkpoint: Path, path: Path, dtype: str, data_set: str | None = None) -> None:
    """The checkpoint's weights as safetensors, floating-point tensors stored as ``dtype``,
    with what the checkpoint says of the network (name, classes, preprocessing, recipe); the
    recipe's data is ``data_set`` where one is named, as on the card, not the trainer's folder."""
    file = read_weights(checkpoint)
    if "recipe" in file.info:
        file.info["recipe"] = recipe_naming(file.info["recipe"], data_set)
    stored = DTYPES[dtype]
    state = {k: v.to(stored) if v.is_floating_point() else v for k, v in file.state_dict.items()}
    overflowed = [k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()]
    if overflowed:  # weights beyond the type's range become inf, which no load accepts
        raise Refused(
            f"stored as {dtype}, {', '.join(overflowed[:3])} overflow to infinity: ship them "
            "with --dtype float32"
        )
    save_weights(path, state, file.info)


def _store_and_measure(
    final: Path, stored: Path, dtype: str, test, modes: list[str], data_set: str | None
) -> tuple[Measured, list[int]]:
    """Write the final weights to ``stored`` as ``dtype``; their test errors, once they are
    found to be those of the weights in float32, and the test images (indices) that they
    get wrong from the centre view."""
    float32 = measured_errors(final, test, modes)
    if dtype == AUTO:
        try:
            return _stored_as("float16", final, stored, test, float32, data_set)
        except Refused:  # float16 changed an error or overflowed: float32 changes none
            dtype = "float32"
    return _stored_as(dtype, final, stored, test, float32, data_set)


def _stored_as(
    dtype: str, final: Path, stored: Path, test, float32: dict[str, float], data_set: str | None
) -> tuple[Measured, list[int]]:
    """``_store_and_measure`` for one storage type, given the test errors in float32."""
    write_weights(final, stored, dtype, data_set)
    figures = measured(stored, test, list(float32))
    errors = {mode: figures[mode]["top1_error"] for mode in float32}
    if errors != float32:
        raise Refused(
            f"stored as {dtype}, the weights' test errors are {_percentages(errors)}, "
            f"in float32 {_percentages(float32)}: ship them with --dtype float32 (or auto)"
        )
    stored_errors = Measured(storage=dtype, errors=errors, float32=float32, test_images=len(test))
    return stored_errors, figures["center"]["wrong"]


def measured(weights: Path, test, modes: list[str]) -> dict[str, dict]:
    """``evaluate``'s figures for each evaluation mode, computed in float32 on the CPU, with
    the indices of the test images that each mode gets wrong ("wrong")."""
    trained = load_model(weights)
    prep = Preprocessing.from_record(trained.preprocessing, str(weights), trained.input_size)
    return evaluate(trained, prep, test, modes, list_wrong=True)["modes"]


def measured_errors(weights: Path, test, modes: list[str]) -> dict[str, float]:
    """Top-1 test error of each evaluation mode, computed in float32 on the CPU."""
    return {mode: figures["top1_error"] for mode, figures in measured(weights, test, modes).items()}


def test_errors_text(test, wrong: list[int]) -> str | None:
    """TEST_ERRORS's text: the test images ``wrong`` (indices of ``test``, those that the
    weights as shipped get wrong from the centre view, as the card's test_error counts them),
    a line each (CLASS/FILE, sorted); None for data without files."""
    if test.files is None:
        return None
    names = sorted(f"{Path(test.files[i]).parent.name}/{Path(test.files[i]).name}" for i in wrong)
    return "".join(f"{name}\n" for name in names)


def _copy_records(run: Path, folder: Path, written: dict[str, str]) -> None:
    """The run's records into ``folder``, with the files ``written`` (name: text)."""
    there = [r for r in RUN_RECORDS_IF_THERE if (run / r).is_file()]
    copied = [(folder / r, _writer((run / r).read_bytes())) for r in (*RUN_RECORDS, *there)]
    write_together(copied + [(folder / name, _writer(text)) for name, text in written.items()])


def _writer(content: str | bytes):
    """A writer of ``content`` for ``write_together``."""
    data = content.encode() if isinstance(content, str) else content
    return lambda f: f.write(data)


def _percentages(errors: dict[str, float]) -> str:
    return ", ".join(f"{100 * error:.4f}% ({mode})" for mode, error in errors.items())
