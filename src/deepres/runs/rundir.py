"""A run directory: everything one training run leaves behind, as data.

    recipe.yaml       the resolved recipe (every length in iterations)
    meta.json         code version, torch version, device, command line, data source; and
                      the same for each session that resumed the run ("resumes")
    classes.json      class index -> name
    bad_files.txt     images that were skipped, one per line with the reason
    metrics.jsonl     one JSON object per log or evaluation point
    tensorboard/      the same metrics as TensorBoard event files
    checkpoints/      last.pt (resume from here) and best.pt (lowest validation error)
    summary.json      how the run ended and its final figures (``RunSummary``)
    curves.png        loss, errors and lr against iterations, redrawn at each evaluation
    response_std.json the standard deviation of each layer's response (the reproduction's
                      Figure 7, written by deepres.experiments once the run has finished)
    .lock             held (flock) by the process training in the run; holds its pid

This module is the one place that spells these names; whoever reads or writes a run goes
through ``RunDir``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from deepres.atomic import write_error, write_text_atomic
from deepres.errors import RunDirError, show_path

from .lock import RunLock, lock_held
from .records import RunStatus, RunSummary

RECIPE = "recipe.yaml"
META = "meta.json"
CLASSES = "classes.json"
BAD_FILES = "bad_files.txt"
METRICS = "metrics.jsonl"
TENSORBOARD = "tensorboard"
SUMMARY = "summary.json"
CURVES = "curves.png"
RESPONSES = "response_std.json"
CHECKPOINTS = "checkpoints"
LOCK = ".lock"
BEST, LAST = f"{CHECKPOINTS}/best.pt", f"{CHECKPOINTS}/last.pt"
# The checkpoints that hold the trained network, best first: best.pt is chosen on the
# validation split and exists only when the run had one.
TRAINED_CHECKPOINTS = (BEST, LAST)


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.last = self.path / LAST
        self.best = self.path / BEST
        self.metrics = self.path / METRICS
        self.tensorboard = self.path / TENSORBOARD
        self.curves = self.path / CURVES

    @classmethod
    def of_checkpoint(cls, checkpoint: str | Path) -> RunDir | None:
        """The run directory that ``checkpoint`` (a file in its checkpoints/) belongs to."""
        folder = Path(checkpoint).parent
        if folder.name != CHECKPOINTS:
            return None
        run = cls(folder.parent)
        return run if run.exists() else None

    @classmethod
    def existing(cls, paths: list[str | Path]) -> list[RunDir]:
        """The runs at ``paths``, for commands that read several; all of them must exist."""
        dirs = [cls(path) for path in paths]
        missing = [show_path(run.path) for run in dirs if not run.exists()]
        if missing:
            raise RunDirError(f"not run directories (no {RECIPE}): {', '.join(missing)}")
        return dirs

    def create(self) -> bool:
        """Start a new run; never overwrite one that is already there. Folders with no file
        in them (a start that was killed) are nothing to keep. True when the run's own folder
        was made here, for ``remove_unstarted``."""
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"{self.path} is a file, not a folder: choose another --out")
        if self.path.exists() and _holds_files(self.path):
            raise RunDirError(
                f"{self.path} already holds files: continue that run with "
                f"--resume {self.path}, or choose another --out"
            )
        made = not self.path.exists()
        (self.path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        return made

    def remove_unstarted(self, made: bool = True) -> None:
        """Clear what a start that stopped before writing its recipe left behind (a failed
        start, or one killed outright), so that the same command can simply be run again: its
        lock file and empty folders go, the run's own folder too when ``made`` (one that was
        there before stays). A run that has started is left alone, and so is a folder that
        someone has put files in or where a live process holds the lock (it is starting)."""
        if self.exists() or not self.path.is_dir() or self.in_use():
            return
        (self.path / LOCK).unlink(missing_ok=True)
        folders = sorted((p for p in self.path.rglob("*") if p.is_dir()), reverse=True)
        for folder in folders + ([self.path] if made else []):  # the deepest first
            try:
                folder.rmdir()
            except OSError:  # not empty
                pass

    def lock(self) -> RunLock:
        """Hold this run's lock while training in it: a second process is refused with one
        line naming the run and this process's pid."""
        return RunLock(self.path / LOCK, self.path)

    def in_use(self) -> bool:
        """A live process is training in this run now."""
        return lock_held(self.path / LOCK)

    def progress(self, metrics: list[dict], summary: RunSummary | None) -> tuple[str, int]:
        """(state, iteration) of the run as it stands, from its ``metrics`` and ``summary``
        (``read_summary()``): "completed" with its iterations; else "training" while a process
        holds its lock, or how it last ended ("not finished" if it never did), with the last
        iteration logged."""
        if summary is not None and summary.status is RunStatus.COMPLETED:
            return summary.status_said, summary.iterations
        ended = summary.status_said if summary is not None else "not finished"
        last = max((r["iteration"] for r in metrics), default=summary.iterations if summary else 0)
        return ("training" if self.in_use() else ended), last

    def progress_said(self, metrics: list[dict], summary: RunSummary | None) -> str:
        """``progress`` in words: "completed", or e.g. "training, at iteration 20,400"."""
        status, iteration = self.progress(metrics, summary)
        return status if status == "completed" else f"{status}, at iteration {iteration:,}"

    def exists(self) -> bool:
        """A run has been started here (its recipe is written)."""
        return (self.path / RECIPE).is_file()

    def check_resumable(self) -> None:
        if not self.exists():
            raise RunDirError(
                f"{self.path} is not a deepres run directory (no {RECIPE}); "
                "--resume takes the --out folder of an earlier run"
            )

    def trained_checkpoint(self) -> Path | None:
        """The checkpoint that holds the trained network: best.pt, else last.pt."""
        return next(
            (self.path / name for name in TRAINED_CHECKPOINTS if (self.path / name).is_file()), None
        )

    # -- what describes the run ----------------------------------------------------------------
    def write_json(self, name: str, obj: object) -> None:
        write_text_atomic(self.path / name, json.dumps(obj, indent=2) + "\n")

    def read_json(self, name: str) -> object:
        return _read(self.path / name, json.loads)

    def write_recipe(self, recipe_dict: dict) -> None:
        write_text_atomic(self.path / RECIPE, yaml.safe_dump(recipe_dict, sort_keys=False))

    def read_recipe(self) -> dict:
        return _read(self.path / RECIPE, yaml.safe_load)

    def write_description(
        self, recipe_dict: dict, classes: list[str], meta: dict, bad_files: list[tuple[str, str]]
    ) -> None:
        """What a fresh run writes before its first iteration."""
        self.write_recipe(recipe_dict)
        self.write_json(CLASSES, list(classes))
        self.write_json(META, meta)
        self.write_bad_files(bad_files)

    def write_bad_files(self, bad_files: list[tuple[str, str]]) -> None:
        """bad_files.txt: those given, after the ones it lists already (each path once), so
        that images found unusable mid-run (a file deleted while streaming) are recorded."""
        listed = self.path / BAD_FILES
        old = listed.read_text().splitlines() if listed.is_file() else []
        known = {line.split("\t")[0] for line in old}
        new = [f"{path}\t{reason}" for path, reason in bad_files if path not in known]
        if new or not listed.is_file():
            write_text_atomic(listed, "".join(f"{line}\n" for line in old + new))

    def read_meta(self) -> dict:
        meta = self.read_json(META)
        if not isinstance(meta, dict):
            raise RunDirError(
                f"{self.path / META}: not a JSON object (it holds a {type(meta).__name__}); if "
                "the run directory was damaged, start the run again in another --out"
            )
        return meta

    def held_out_sha256(self) -> str | None:
        """The fingerprint of the images the run held out for validation (val_size), as
        meta.json records it; None for runs that hold none out or predate the record."""
        if not (self.path / META).is_file():
            return None
        data = self.read_meta().get("data")
        return data.get("val_sha256") if isinstance(data, dict) else None

    def record_resume(self, resumed: dict) -> None:
        """Add what a resumed session trains with to meta.json's "resumes", so that a run
        resumed on other code or other hardware says so (meta.json itself is the first's)."""
        meta = self.read_meta()
        meta["resumes"] = [*meta.get("resumes", []), resumed]
        self.write_json(META, meta)

    # -- how it ended --------------------------------------------------------------------------
    def write_summary(self, summary: RunSummary) -> None:
        self.write_json(SUMMARY, summary.to_dict())

    def read_summary(self) -> RunSummary | None:
        """The summary of a run that has ended; None while it has not."""
        path = self.path / SUMMARY
        if not path.exists():
            return None
        return _read(path, lambda text: RunSummary.from_dict(json.loads(text)))

    # -- metrics -------------------------------------------------------------------------------
    def log_metrics(self, record: dict) -> None:
        """Append one record, on disk before this returns: a crash can cut off only the line
        being written, which ``forget_metrics_after`` then drops."""
        try:
            with open(self.metrics, "a") as f:
                f.write(json.dumps(record) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            raise write_error(self.metrics, err) from None

    def read_metrics(self) -> list[dict]:
        return read_metrics(self.metrics)

    def forget_metrics_after(self, iteration: int) -> str | None:
        """On resume: drop the records of iterations that the checkpoint does not hold, since
        the resumed run computes them again (``iteration`` 0: all of them). Returns a note
        when a line cut off by a crash was dropped too."""
        records, cut = _parse_metrics(self.metrics, _text_of(self.metrics))
        kept = [r for r in records if r["iteration"] <= iteration]
        if kept != records or cut:
            write_text_atomic(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))
        if not cut:
            return None
        return (
            f"{self.metrics}: dropped its last line, cut off by a crash while it was "
            f"written ({cut[:60]!r})"
        )


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a metrics.jsonl file, in order; [] when there is none yet. A last line
    without its newline is one being written (or cut off by a crash) and is left out."""
    path = Path(path)
    return _parse_metrics(path, _text_of(path))[0]


def _text_of(path: Path) -> str:
    return _read(path, lambda text: text) if path.exists() else ""


def _parse_metrics(path: Path, text: str) -> tuple[list[dict], str]:
    """The records of metrics ``text``, and the unfinished last line ('' when there is none)."""
    lines = text.split("\n")
    cut = lines.pop()  # what follows the last newline: '' unless a line was cut off
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("iteration"), int):
                raise ValueError("not a record with an iteration")
            if "train_loss" in record and not _counts_steps(record):
                raise ValueError("a log window without its images and seconds")
        except ValueError as err:
            raise RunDirError(
                f"{path}, line {number}: not a metrics record ({err}); if the "
                "run directory was damaged, start the run again in another "
                "--out"
            ) from None
        records.append(record)
    return records, cut


def _counts_steps(window: dict) -> bool:
    """Whether a log window says how many images it trained on, in how many seconds: what
    every reader of training time and speed sums."""
    values = [window.get("images"), window.get("seconds")]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values)


def _holds_files(folder: Path) -> bool:
    """Anything worth keeping: a file other than the lock (which a start killed early leaves,
    and which the next process takes over)."""
    return any(not p.is_dir() and p != folder / LOCK for p in folder.rglob("*"))


def _read(path: Path, parse):
    """``parse`` of the file's text; a damaged or foreign file is a ``RunDirError`` naming it."""
    try:
        return parse(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        detail = " ".join(str(err).split())[:200]  # YAML's messages span lines
        raise RunDirError(
            f"{path}: unreadable ({detail}); if the run directory was "
            "damaged, start the run again in another --out"
        ) from None


def data_slug(data: str) -> str:
    """A data source as a word for file names: 'imagenet:/data/in1k' -> 'in1k'."""
    return "".join(c if c.isalnum() else "_" for c in Path(data.split(":")[-1]).name or data)
