"""`deepres reproduce cifar10`: the paper's CIFAR-10 experiments, trained and reported."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepres.experiments import PAPER_DEPTHS, PARTS, Cifar10Settings, reproduce_cifar10
from deepres.experiments.cifar10 import recorded_settings
from deepres.train import parse_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run the paper's CIFAR-10 experiments and write their report",
        description="Train the networks of the paper's Table 6, Figure 6 and Figure 7 with the "
        "cifar-paper recipe (64k iterations, lr / 10 at 32k and 48k, the 45k/5k split), then "
        "write OUT/report.md, OUT/results.json and the figures as PNG. Run it again to resume: "
        "finished runs are skipped, stopped ones continue from their last checkpoint.",
    )
    p.add_argument("experiment", choices=("cifar10",), help="which of the paper's experiments")
    p.add_argument(
        "--only",
        choices=PARTS,
        help="table6: the ResNets; figure6: ResNets and plain nets; figure7: both, "
        "and their layer responses (default: all three)",
    )
    p.add_argument(
        "--depths",
        type=int,
        nargs="+",
        metavar="N",
        help=f"layers (default: {' '.join(map(str, PAPER_DEPTHS))}; 1202 also exists)",
    )
    p.add_argument("--seeds", type=int, help="runs per network, seeds 0..N-1 (default 1)")
    p.add_argument(
        "--data",
        help="'cifar10' (the official release, in the cache) or a folder with "
        "train/ and test/ (default: cifar10)",
    )
    p.add_argument(
        "--val-size",
        type=int,
        help="training images held out for validation (default 5000, the paper's)",
    )
    p.add_argument(
        "--iterations",
        type=int,
        help="a shortened schedule, for trying things out: the lr falls at 50%% and "
        "75%% of it, and the report says so everywhere (default: the recipe's own, "
        "64000 for the paper's)",
    )
    p.add_argument(
        "--recipe",
        help="cifar-paper (default) or another preset or YAML file, such as "
        "cifar-fast; every heading and figure of the report names a recipe that is "
        "not the paper's",
    )
    p.add_argument(
        "--eval-every",
        type=int,
        help="iterations between val/test evaluations (default: 1/32 of the run)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a recipe field for every run (listed in the report)",
    )
    p.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="K",
        help="trainings side by side, each in a process of its own (default 1)",
    )
    p.add_argument(
        "--processes-per-run",
        type=int,
        default=1,
        metavar="N",
        help="torchrun processes per training, sharing its batch, each batch norm over its "
        "own share: 2 is the paper's arrangement (two GPUs of 64 images; default 1)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/reproduce-cifar10"),
        help="where the runs and the report go (default runs/reproduce-cifar10)",
    )
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: auto)")
    p.add_argument("--cache-dir", type=Path, help="where decoded data sets are cached")
    p.add_argument("--download", action="store_true", help="download CIFAR-10 if not cached")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="train nothing: write the report of the runs in OUT as they stand (finished "
        "runs in the table and figures, the others listed with their iteration), e.g. while "
        "a long queue goes on in another process; the settings not given are OUT's own "
        "(OUT/experiment.json)",
    )


def run(args: argparse.Namespace) -> int:
    given = {
        "only": args.only,
        "depths": tuple(args.depths) if args.depths else None,
        "seeds": args.seeds,
        "data": args.data,
        "val_size": args.val_size,
        "iterations": args.iterations,
        "recipe": args.recipe,
        "eval_every": args.eval_every,
        "overrides": parse_overrides(args.set) or None,
    }
    given = {key: value for key, value in given.items() if value is not None}
    # A report of the runs in OUT needs only OUT: the rest is what their experiment recorded.
    chosen = {**recorded_settings(args.out), **given} if args.report_only else given
    settings = Cifar10Settings(
        out=args.out,
        **chosen,
        parallel=args.parallel,
        processes=args.processes_per_run,
        device=args.device,
        cache_dir=args.cache_dir,
        download=args.download,
        quiet=args.quiet,
        report_only=args.report_only,
    )
    return reproduce_cifar10(settings)
