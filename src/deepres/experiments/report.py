"""The CIFAR-10 reproduction report: Table 6, Fig. 6 and Fig. 7 of the paper, measured.

``write_cifar10_report(out, runs, context)`` writes into ``out``:

    results.json   every number: each run's errors, curves and response stds, the table,
                   and the context
    report.md      the table next to the paper's numbers, the figures, and how it was made
    figure6.png    training curves, plain nets left, residual nets right
    figure7.png    std of each 3x3 layer's response, original and sorted order

A run is a ``deepres.runs.records.RunRecord``; the ``ReportContext`` says how they were made.
"""

from __future__ import annotations

import json
import re
import shlex
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deepres.analysis.curves import END_OF_RUN, final_training_error
from deepres.analysis.figures import net_name, plot_response_stds, plot_training_curves
from deepres.atomic import write_text_atomic
from deepres.runs.records import RunRecord


@dataclass(kw_only=True)
class Schedule:
    """The runs' length and learning-rate drops, and the paper's."""

    iterations: int
    milestones: list[int]
    paper_iterations: int
    paper_milestones: list[int]
    recipe: str = "cifar-paper"  # the preset or file the runs' recipe came from
    paper_recipe: bool = True  # that recipe is the paper's
    recipe_iterations: int | None = None  # the recipe's own length
    shortened: bool = False  # shorter than the recipe's own length

    def recipe_label(self) -> str:
        """ "" for the paper's recipe; else the words that go into every heading and figure,
        with the length: reports of one recipe at several budgets sit side by side."""
        if self.paper_recipe:
            return ""
        return f"recipe {self.recipe}, {self.iterations:,} iterations, NOT the paper's"

    def label(self) -> str:
        if self.recipe_label():
            own = self.recipe_iterations
            return self.recipe_label() + f" (SHORTENED from {own:,})" * self.shortened
        if not self.shortened:
            return f"the paper's schedule: {self.iterations:,} iterations"
        return (
            f"SHORTENED schedule: {self.iterations:,} of the paper's "
            f"{self.paper_iterations:,} iterations"
        )


@dataclass(kw_only=True)
class RecipeChange:
    """A field of the recipe that differs from the paper's."""

    key: str
    paper: Any
    used: Any


@dataclass(kw_only=True)
class Environment:
    """The code and the machines that made the runs, and the code that wrote the report."""

    git_commits: list[str]  # that trained the runs
    report_git_commit: str | None
    deepres_version: str
    torch_version: str
    python_version: str
    devices: list[str]  # one line per device arrangement the runs trained on
    host: str  # the machine that wrote the report


@dataclass(kw_only=True)
class Invocation:
    """One command that trained in OUT: a line of OUT/invocations.jsonl."""

    command: list[str]
    started: str
    seconds: float
    status: str


@dataclass(kw_only=True)
class Published:
    """A public reproduction's published test errors (%) by depth of the ResNets, and in
    words whose they are and how they were chosen."""

    errors: dict[int, float]
    source: str


@dataclass(kw_only=True)
class ReportContext:
    """How the runs were made: what the report says besides their numbers."""

    schedule: Schedule
    recipe: dict = field(default_factory=dict)  # the shared recipe, as recipe.yaml holds it
    recipe_changes: list[RecipeChange] = field(default_factory=list)
    only: str | None = None  # the part asked for (None: all three): why a figure is missing
    data: dict  # the data's ``summary()`` and a "note" on where its images come from
    environment: Environment
    invocations: list[Invocation]
    paper_test_error: dict[int, float]  # Table 6: test error in % by depth of the ResNets
    reproduction: Published | None = None  # a column of Table 6 beside the paper's
    not_started: list[str] = field(default_factory=list)  # runs of the experiment, by name


def table_rows(
    runs: list[RunRecord],
    paper_test_error: dict[int, float],
    reproduction_test_error: dict[int, float] | None = None,
) -> list[dict]:
    """One row per network (residual nets first, each family by depth): the completed runs'
    test errors in %, their mean and sample std over seeds, and the paper's error (by depth,
    residual nets only: the paper gives none for plain nets), and a public reproduction's
    ("reproduction", where given)."""
    published = reproduction_test_error or {}
    rows = []
    for residual, depth in sorted(
        {(r.residual, r.depth) for r in runs}, key=lambda key: (not key[0], key[1])
    ):
        group = sorted(
            (r for r in runs if (r.residual, r.depth) == (residual, depth)), key=lambda r: r.seed
        )
        done = [r for r in group if r.status == "completed"]
        errors = [100 * r.test_error for r in done]
        training = [final_training_error(r.curves["train_error"]) for r in done]
        training = [100 * error for error in training if error is not None]
        rows.append(
            {
                "model": group[0].model,
                "residual": residual,
                "depth": depth,
                "params": group[0].params,
                "seeds": [r.seed for r in done],
                "test_errors": errors,
                "mean": statistics.fmean(errors) if errors else None,
                "std": statistics.stdev(errors) if len(errors) > 1 else None,
                "final_training_error": statistics.fmean(training) if training else None,
                "paper": paper_test_error.get(depth) if residual else None,
                "reproduction": published.get(depth) if residual else None,
                "not_completed": [f"{r.name} ({r.status})" for r in group if r not in done],
            }
        )
    return rows


def write_cifar10_report(out: Path, runs: list[RunRecord], context: ReportContext) -> dict:
    """Write the report's files into ``out``; returns what results.json holds."""
    out.mkdir(parents=True, exist_ok=True)
    # Figures show finished runs only: a run still going is a row of the runs table.
    first_seeds = _first_seed_per_model([r for r in runs if r.status == "completed"])
    subtitle = context.schedule.label() + "; one seed per net (the lowest)"
    if first_seeds:
        plot_training_curves(first_seeds, out / "figure6.png", subtitle)
    with_responses = [r for r in first_seeds if r.response_std]
    if with_responses:
        plot_response_stds(with_responses, out / "figure7.png", subtitle)
    reproduction = context.reproduction.errors if context.reproduction else None
    table = table_rows(runs, context.paper_test_error, reproduction)
    results = {
        "experiment": "He et al. (2015), CIFAR-10: Table 6, Figure 6, Figure 7",
        **asdict(context),
        "table6": table,
        "runs": [r.to_dict() for r in runs],
        "written": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    write_text_atomic(out / "results.json", json.dumps(results, indent=1) + "\n")
    markdown = render_markdown(context, table, runs, figure7=bool(with_responses))
    write_text_atomic(out / "report.md", markdown)
    return results


def render_markdown(
    context: ReportContext, table: list[dict], runs: list[RunRecord], figure7: bool
) -> str:
    """report.md: ``table`` is ``table_rows``'; ``figure7``: whether figure7.png was drawn."""
    parts = [
        "# CIFAR-10: Table 6, Figure 6 and Figure 7 of He et al. (2015), measured\n",
        _banner(context.schedule),
        _table6(
            table,
            context.data["sizes"].get("test", 0),
            flip=context.recipe.get("eval_flip", False),
            reproduction=context.reproduction,
        ),
        _trends(table),
        _figure6(any(r.status == "completed" for r in runs)),
        _figure7(runs, figure7, context.only),
        _runs(runs, context.not_started),
        _provenance(context, runs),
    ]
    text = "\n".join(part for part in parts if part)
    label = context.schedule.recipe_label()
    # Another recipe's numbers must never pass for the paper's: every heading says whose.
    return re.sub(r"^(#{1,2} .*)$", rf"\1 ({label})", text, flags=re.M) if label else text


def _banner(schedule: Schedule) -> str:
    if schedule.recipe_label():
        return (
            f"> **Recipe {schedule.recipe}: not the paper's.** The paper's networks, "
            f"unchanged, trained for {schedule.iterations:,} iterations (the paper: "
            f"{schedule.paper_iterations:,}) with the recipe's own schedule and the "
            "changes listed under 'How these numbers were made'. The paper's column is "
            "there for comparison; these runs do not reproduce its recipe.\n"
        )
    if not schedule.shortened:
        return (
            f"Schedule: the paper's, {schedule.iterations:,} iterations, learning rate "
            f"divided by 10 at {_iterations(schedule.milestones)}.\n"
        )
    return (
        f"> **Shortened schedule: not the paper's runs.** Every run here trained for "
        f"{schedule.iterations:,} iterations, the learning rate divided by 10 at "
        f"{_iterations(schedule.milestones)}, against the paper's "
        f"{schedule.paper_iterations:,} (at {_iterations(schedule.paper_milestones)}). "
        f"These errors show the report's format and the trends at this length only; "
        f"they cannot be compared with the paper's numbers.\n"
    )


def _table6(
    rows: list[dict], test_images: int, flip: bool = False, reproduction: Published | None = None
) -> str:
    public = reproduction is not None and any(row["reproduction"] for row in rows)
    lines = [
        f"## Table 6: test error on the {test_images:,} CIFAR-10 test images\n",
        "| network | layers | params | seeds | test error (%) | paper (%) | measured - paper |"
        + " public reproduction (%) |" * public,
        "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * public,
    ]
    for row in rows:
        measured = "-" if row["mean"] is None else f"{row['mean']:.2f}"
        if row["std"] is not None:
            measured += f" ± {row['std']:.2f}"
        gap = (
            "-"
            if row["paper"] is None or row["mean"] is None
            else f"{row['mean'] - row['paper']:+.2f}"
        )
        published = f" {_percent(row['reproduction'])} |" if public else ""
        lines.append(
            f"| {net_name(row['residual'], row['depth'])} | {row['depth']} | {row['params'] / 1e6:.2f}M | "
            f"{len(row['seeds'])} | {measured} | {_percent(row['paper'])} | {gap} |{published}"
        )
    lines.append(
        "\nTest error of the final model (last iteration), mean ± sample standard "
        "deviation over seeds where there are several. The paper's Table 6 gives no "
        "plain-net errors; its Fig. 6 plots them."
        + (
            " Each test image is scored with its mirror image (the recipe's `eval_flip`); "
            "the paper scores a single view."
            if flip
            else ""
        )
        + (f" Public reproduction: {reproduction.source}" if public else "")
    )
    missing = [name for row in rows for name in row["not_completed"]]
    if missing:
        lines.append(f"Not in the table (did not complete): {', '.join(missing)}.")
    return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _trends(rows: list[dict]) -> str:
    """The paper's claims, as measured: plain nets degrade with depth, in test error and (the
    degradation problem proper) in training error; residual nets improve."""
    claims = (
        (False, "Plain", "test error", "mean", "rises"),
        (False, "Plain", "training error at the end", "final_training_error", "rises"),
        (True, "Residual", "test error", "mean", "falls"),
    )
    lines, keys_stated = [], set()
    for residual, family, measure, key, direction in claims:
        points = [
            (row["depth"], row[key])
            for row in rows
            if row["residual"] == residual and row.get(key) is not None
        ]
        if len(points) < 2:
            continue
        steps = [b - a for (_, a), (_, b) in zip(points, points[1:])]
        holds = all(s > 0 for s in steps) if direction == "rises" else all(s < 0 for s in steps)
        by_depth = ", ".join(f"{depth}: {error:.2f}%" for depth, error in points)
        lines.append(
            f"- {family} nets, {measure} by depth ({by_depth}): "
            f"{direction} with every step in depth: {'yes' if holds else 'no'}."
        )
        keys_stated.add(key)
    if "final_training_error" in keys_stated:
        lines.append(
            f"\nThe training error at the end: the mean of the training error's log points in "
            f"the last {END_OF_RUN:.0%} of the iterations, on the augmented batches."
        )
    return "\n".join(lines) + "\n" if lines else ""


def _figure6(drawn: bool) -> str:
    if not drawn:
        return "## Figure 6: training curves\n\nNo run has completed yet.\n"
    return (
        "## Figure 6: training curves\n\n![Figure 6](figure6.png)\n\n"
        "Dashed: training error, the mean over the batches since the previous log point, "
        "with augmentation, as the network trained on them. Solid: test error of the model "
        "in eval mode. As in the paper: plain nets left, residual nets in the middle, and "
        "the residual nets of 110 layers or more on their own on the right.\n"
    )


def _figure7(runs: list[RunRecord], drawn: bool, only: str | None) -> str:
    """``only``: the part the report was asked for (None: all three), which says why a
    missing figure is missing. A completed run without its layer responses (one restored from
    its records without checkpoints) is named."""
    asked = only not in ("table6", "figure6")
    unmeasured = [r.name for r in runs if r.status == "completed" and not r.response_std]
    left_out = (
        "Not in Figure 7, for want of their layer responses (response_std.json, measured "
        f"from the run's checkpoints/last.pt): {', '.join(unmeasured)}.\n"
        if asked and unmeasured
        else ""
    )
    if not drawn:
        if not asked:
            why = f"`--only {only}` leaves them out"
        elif unmeasured:
            why = "none of the completed runs has them"
        else:
            why = "they are computed for completed runs, and none has completed yet"
        return (
            f"## Figure 7: layer responses\n\nNo layer responses were computed for these "
            f"runs ({why}).\n" + (f"\n{left_out}" if left_out else "")
        )
    lines = [
        "## Figure 7: layer responses\n",
        "![Figure 7](figure7.png)\n",
        "Standard deviation of each 3x3 layer's response (the output of its batch norm, "
        "before the ReLU and the addition; the stem's 3x3 layer included), over every "
        "element of the response on the test images, with the trained model in eval "
        "mode.\n",
        "| network | seed | 3x3 layers | mean std | largest std |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        if run.response_std:
            stds = [layer["std"] for layer in run.response_std]
            lines.append(
                f"| {net_name(run.residual, run.depth)} | {run.seed} | {len(stds)} | "
                f"{statistics.fmean(stds):.3f} | {max(stds):.3f} |"
            )
    return "\n".join(lines) + "\n" + (f"\n{left_out}" if left_out else "")


def _runs(runs: list[RunRecord], not_started: list[str]) -> str:
    """The runs table: every run of the experiment, ``not_started`` ones (names) too, with
    what each computed in and how many processes shared its batch (each normalising its own
    share), since runs of one experiment may differ in both."""
    lines = [
        "## Runs\n",
        "| run | status | iterations | test error (%) | "
        "best val error (%) at iteration | training time | images/s | computed in |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in sorted(runs, key=lambda r: r.name):
        finished = run.status == "completed"  # no error of an unfinished run is a result
        best = (
            "-"
            if run.best_val_error is None or not finished
            else f"{100 * run.best_val_error:.2f} at {run.best_iteration:,}"
        )
        test = "-" if run.test_error is None or not finished else f"{100 * run.test_error:.2f}"
        speed = "-" if not run.images_per_s else f"{run.images_per_s:,.0f}"
        lines.append(
            f"| {run.name} | {run.status} | {run.iterations:,} | {test} | "
            f"{best} | {duration(run.train_seconds)} | {speed} | {_computed_in(run)} |"
        )
    lines += [f"| {name} | not started | 0 | - | - | - | - | - |" for name in sorted(not_started)]
    return "\n".join(lines) + "\n"


def _computed_in(run: RunRecord) -> str:
    processes = run.meta.get("world_size") or 1
    where = f"{processes} processes" if processes > 1 else "1 process"
    return f"{run.precision or 'not recorded'}, {where}"


def _provenance(context: ReportContext, runs: list[RunRecord]) -> str:
    env, data = context.environment, context.data
    lines = [
        "## How these numbers were made\n",
        "Commands (each continues the runs in this folder where they stopped):\n",
    ]
    for call in context.invocations:
        command = _from_home(shlex.join(call.command))
        lines.append(f"- `{command}` started {call.started}, took {duration(call.seconds)}")
    if not context.invocations:
        lines.append("- none has ended yet: the first command that trains here is still running")
    lines += [
        "",
        f"- Code version: runs trained by git commit {', '.join(env.git_commits)}; "
        f"report written by {env.report_git_commit or 'unknown'} "
        f"(deepres {env.deepres_version}, torch {env.torch_version}, "
        f"Python {env.python_version})",
        f"- Hardware: {'; '.join(env.devices)}; {env.host}",
        f"- Time: {duration(sum(r.train_seconds or 0 for r in runs))} of training steps "
        f"summed over {len(runs)} runs (the time a stopped process stood paused left out: "
        "`deepres runs time`)",
        _from_home(f"- Data: {data['source']}, {_sizes(data['sizes'])}. {data['note']}"),
        "- Recipe: `cifar-paper` (Sec. 4.2), changed in: " + _changes(context.recipe_changes),
    ]
    if len({run.precision for run in runs}) > 1:
        # A run keeps the precision it started in when the machine under it changes.
        lines[-1] += " The runs did not all compute in the same precision: see the runs table."
    return "\n".join(lines) + "\n"


def _from_home(text: str) -> str:
    """``text`` with the home folder of the machine that wrote it as ~: the report is
    published (docs/results.md), and a reader's home is elsewhere."""
    home = str(Path.home())
    return re.sub(rf"{re.escape(home)}(?=/|\b)", "~", text) if home != "/" else text


def _changes(changes: list[RecipeChange]) -> str:
    if not changes:
        return "nothing."
    return "; ".join(f"`{c.key}` {c.paper} -> {c.used}" for c in changes) + "."


def _sizes(sizes: dict) -> str:
    return ", ".join(f"{count:,} {split}" for split, count in sizes.items()) + " images"


def _iterations(values: list[int]) -> str:
    return " and ".join(f"{v:,}" for v in values)


def _first_seed_per_model(runs: list[RunRecord]) -> list[RunRecord]:
    first: dict[str, RunRecord] = {}
    for run in sorted(runs, key=lambda r: r.seed):
        first.setdefault(run.model, run)
    return list(first.values())


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
