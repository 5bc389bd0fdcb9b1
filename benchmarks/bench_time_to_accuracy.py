"""Time to accuracy: the images and time ResNet-20 needs to first reach a validation error
(default 8.75%, the paper's ResNet-20 test error) with `cifar-fast` and with `cifar-paper`, one
after the other on this machine.

    .venv/bin/python benchmarks/bench_time_to_accuracy.py [--target 0.0875] [--set amp=bf16]

Each recipe trains ResNet-20 on the original CIFAR-10 of ../shared/data (or --data) with the
paper's 45k/5k split, evaluating every --eval-every iterations, and stops at its first
evaluation at or below the target (`stop_at_val_error`). The test set chooses nothing, but
the trainer scores it at every evaluation as it does for Figure 6: its time is in the wall time.
Printed per recipe: where it reached the target (iteration, images, epochs), its training time
(steps alone: evaluations and checkpoints left out, so a resumed run counts the same) and its
wall time (everything, evaluations included, summed over the invocations that ran it); then
the ratios cifar-paper / cifar-fast. Asserts nothing.

These are hours of CPU: the runs live in --out (default ~/.cache/deepres-bench/
time-to-accuracy/TARGET), each invocation goes on where the last one stopped (Ctrl-C or SIGTERM
saves a checkpoint), and finished runs are only reported. Take the figures with nothing else
running: on a shared machine the two runs would not see the same CPU. The table names the CPU
the runs trained on, from their records, and says so when a run went on on another kind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch
from common import CACHE, cifar10_root

from deepres.device import cpu_description
from deepres.runs import RunDir
from deepres.runs.environment import sessions
from deepres.runs.rundir import RECIPE
from deepres.runs.step_time import step_time
from deepres.train import Recipe, TrainOptions, load_recipe, parse_overrides, train
from deepres.train.recipe import load_run_recipe

RECIPES = ("cifar-fast", "cifar-paper")
FINISHED = ("reached target", "completed")
WALL = "wall_seconds.json"  # per run: seconds of every invocation that trained it


def bench_recipe(name: str, args: argparse.Namespace) -> Recipe:
    """``name`` as the benchmark runs it: ResNet-20, the 5k validation split, the target."""
    recipe = load_recipe(name).replace(
        model="resnet20",
        data=args.data,
        val_size=args.val_size,
        eval_every=args.eval_every,
        checkpoint_every=min(args.eval_every, 500),
        log_every=min(args.eval_every, 100),
        stop_at_val_error=args.target,
    )
    return recipe.replace(**parse_overrides(args.set))


def wall_seconds(folder: Path) -> list[float]:
    """The wall time of each invocation that trained the run in ``folder`` so far."""
    return json.loads((folder / WALL).read_text()) if (folder / WALL).exists() else []


def same_recipe(stored: Recipe, asked: Recipe) -> bool:
    """A run's recipe.yaml is ``asked``, with what the run resolved at its start (fields left
    None, such as image_size) filled in."""
    stored, asked = dataclasses.asdict(stored), dataclasses.asdict(asked)
    return all(stored[key] == value for key, value in asked.items() if value is not None)


def run_to_target(name: str, recipe: Recipe, folder: Path, cache_dir: Path | None) -> str:
    """Train (or go on training) ``recipe`` in ``folder`` until it reaches its target or ends;
    the invocation's wall time is added to the run's. The run's status."""
    run = RunDir(folder)
    resume = run.exists()
    if resume:
        if not same_recipe(load_run_recipe(run.path / RECIPE), recipe):
            sys.exit(
                f"bench: {folder} holds a run of another recipe than this invocation's "
                "(other --set, --eval-every or --data); give another --out"
            )
        summary = run.read_summary()
        if summary and summary.status in FINISHED:
            return summary.status_said
    walls = wall_seconds(folder)
    started = time.perf_counter()
    options = TrainOptions(out=folder, resume=resume, cache_dir=cache_dir, recipe_name=name)
    try:
        return train(recipe, options).status_said
    finally:
        walls.append(time.perf_counter() - started)
        (folder / WALL).write_text(json.dumps(walls) + "\n")


def time_to_target(records: list[dict], target: float) -> dict | None:
    """Where a run's metrics first reach ``target``: iteration, epoch, images and training
    seconds up to it (the log windows', paused time left out); None if they never do."""
    reached = next((r for r in records if r.get("val_error", 1.0) <= target), None)
    if reached is None:
        return None
    time = step_time([r for r in records if r["iteration"] <= reached["iteration"]])
    return {
        "iteration": reached["iteration"],
        "epoch": reached["epoch"],
        "val_error": reached["val_error"],
        "images": time.images,
        "train_seconds": time.estimated,
    }


def report(folder: Path, target: float) -> dict:
    """One recipe's figures, from its run folder."""
    run = RunDir(folder)
    figures = time_to_target(run.read_metrics(), target)
    walls = wall_seconds(folder)
    summary = run.read_summary()
    return {
        "reached": figures,
        "wall_seconds": sum(walls),
        "invocations": len(walls),
        "status": summary.status if summary else "not finished",
        "best_val_error": summary.best_val_error if summary else None,
        "amp": run.read_recipe().get("amp"),
        "machines": {s.get("device_name") for s in sessions(run.read_meta())},
    }


def print_table(results: dict[str, dict], target: float) -> None:
    machines, here = set().union(*(r["machines"] for r in results.values())), cpu_description()
    if machines == {here}:
        where = f"on this machine: {here}, {torch.get_num_threads()} threads"
    else:  # a run resumed on a machine of another kind: its times compare unlike CPUs
        where = f"on more than one kind of machine ({'; '.join(sorted(map(str, machines)))})"
    print(f"\nResNet-20 to {100 * target:g}% validation error {where}, torch {torch.__version__}")
    print(f"{'recipe':<12} {'iteration':>9} {'epochs':>6} {'images':>11} {'train s':>8} "
          f"{'wall s':>8}  amp     runs")  # fmt: skip
    for name, r in results.items():
        got = r["reached"]
        if got is None:
            best = r["best_val_error"]
            best = "-" if best is None else f"{100 * best:.2f}%"
            print(f"{name:<12} not reached ({r['status']}; best validation error {best})")
            continue
        print(
            f"{name:<12} {got['iteration']:>9,} {got['epoch']:>6.1f} {got['images']:>11,} "
            f"{got['train_seconds']:>8.0f} {r['wall_seconds']:>8.0f}  {r['amp']:<7} "
            f"{r['invocations']}"
        )
    fast, paper = (results[n]["reached"] for n in RECIPES)
    if fast and paper:
        print(
            f"cifar-paper / cifar-fast: {paper['images'] / fast['images']:.2f}x the images, "
            f"{paper['train_seconds'] / fast['train_seconds']:.2f}x the training time, "
            f"{results['cifar-paper']['wall_seconds'] / results['cifar-fast']['wall_seconds']:.2f}"
            "x the wall time"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", type=float, default=0.0875, help="validation error (0.0875: 8.75%%)")
    p.add_argument("--data", help="data source (default: the CIFAR-10 PNGs of ../shared/data)")
    p.add_argument("--val-size", type=int, default=5000, help="held-out images (paper: 5000)")
    p.add_argument("--eval-every", type=int, default=500, help="iterations between evaluations")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="recipe field for both runs, e.g. amp=bf16 on a CPU with native bf16")  # fmt: skip
    p.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    p.add_argument("--out", type=Path, help="where the runs live (resumed from there)")
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    args = p.parse_args(argv)
    args.data = args.data or str(cifar10_root("png"))
    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or CACHE / "time-to-accuracy" / f"target-{args.target:g}"
    for name in RECIPES:
        status = run_to_target(name, bench_recipe(name, args), out / name, args.cache_dir)
        if status not in FINISHED:
            print(f"bench: {name} {status}; the same command goes on from there", file=sys.stderr)
            return 1
    print_table({name: report(out / name, args.target) for name in RECIPES}, args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
