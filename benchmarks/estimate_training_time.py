"""How long the paper's schedule would take a network here, before committing days to it.

Times a few of deepres's training steps (its `train_step`, channels_last, bf16 autocast or
float32) of --model at --batch images per process, on random images of its native size
(32x32 for the CIFAR nets), after --warmup steps, and extrapolates to --iterations.
--processes N such processes step side by side, of --threads threads each (default one), as `reproduce --processes-per-run N` trains (each with its --batch share, sharing
the cores and the memory bus); the estimate is the iterations times the slowest process's
median step. It leaves out the processes' gradient exchange, the data pipeline and the
evaluations. Prints the step time, images/s of the N processes, peak memory per process
(ru_maxrss) and the estimate; asserts nothing. Take it with nothing else running.

    .venv/bin/python benchmarks/estimate_training_time.py --model resnet1202 --batch 64
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time

import torch

from deepres.device import cpu_description
from deepres.models import build_network, list_models, model_info
from deepres.train.step import train_step


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet1202")
    parser.add_argument("--batch", type=int, default=64, help="images per process and step")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the process")
    parser.add_argument("--amp", choices=("bf16", "off"), default="bf16")
    parser.add_argument("--iterations", type=int, default=64_000, help="the schedule's length")
    parser.add_argument("--processes", type=int, default=2, help="processes of the run")
    args = parser.parse_args()
    if args.model not in list_models():
        parser.error(f"--model {args.model}: not a network of deepres; `deepres models` lists them")
    if min(args.batch, args.steps, args.threads, args.iterations, args.processes) < 1:
        parser.error("--batch, --steps, --threads, --iterations and --processes: at least 1 each")
    return args


def step_seconds(args: argparse.Namespace, start_together) -> tuple[list[float], float]:
    """The wall time of each timed training step, and the process's peak memory in GiB. The
    processes wait for each other (``start_together``, a barrier) after their warm-up steps,
    so that the timed steps overlap."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_network(args.model).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    side = model_info(args.model).input_size  # 32 for the CIFAR nets, 224 for ImageNet's
    images = torch.randn(args.batch, 3, side, side).to(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch,))
    amp_dtype = torch.bfloat16 if args.amp == "bf16" else None
    for _ in range(args.warmup):
        train_step(model, optimizer, images, labels, amp_dtype=amp_dtype)
    start_together.wait()
    seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        train_step(model, optimizer, images, labels, amp_dtype=amp_dtype)
        seconds.append(time.perf_counter() - start)
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    args = parse_args()
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(args.processes) as pool:
        barrier = manager.Barrier(args.processes)
        measured = pool.starmap(step_seconds, [(args, barrier)] * args.processes)
    step = max(statistics.median(seconds) for seconds, _ in measured)
    every = [s for seconds, _ in measured for s in seconds]
    peak_gib = max(peak for _, peak in measured)
    hours = args.iterations * step / 3600
    print(f"CPU: {cpu_description()}; torch {torch.__version__}, {args.threads} thread(s)")
    print(
        f"{args.model}, batch {args.batch} in each of {args.processes} process(es), {args.amp}: "
        f"{step:.3f} s per step (the slowest process's median; every step {min(every):.3f} "
        f"to {max(every):.3f}), {args.processes * args.batch / step:.0f} images/s in all, "
        f"peak memory {peak_gib:.1f} GiB per process"
    )
    print(
        f"{args.iterations:,} iterations of batch {args.batch * args.processes} in "
        f"{args.processes} process(es): about {hours:.0f} hours ({hours / 24:.1f} days) of "
        f"training steps, the gradient exchange and the evaluations not counted"
    )


if __name__ == "__main__":
    main()
