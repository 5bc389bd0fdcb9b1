"""Which number type training computes in (the recipe's ``amp``): bf16 autocast where the
hardware has it, float32 elsewhere.

bf16 is native on CUDA GPUs and on x86 CPUs with the avx512_bf16 or amx_bf16 instructions.
A CPU without them emulates it, which is far slower than float32: ResNet-20 training ran at
24 images/s in bf16 against 337 images/s in float32 (about 14x slower) on an AMD EPYC without
those flags (measured in issue 14). ``amp="auto"`` therefore stays in float32 on every CPU, and
``amp="bf16"`` on a CPU without native bf16 trains as asked but says so first, with the reason.
"""

from __future__ import annotations

from typing import Callable

import torch

from deepres.device import NATIVE_BF16_FLAGS, cpu_flags
from deepres.runs.environment import trained_in

SLOW_BF16 = (
    "emulated bf16 is about 14x slower than float32 (24 against 337 images/s for "
    "ResNet-20 training on an AMD EPYC without those flags); --set amp=off trains in "
    "float32"
)


def autocast_dtype(
    amp: str,
    device: torch.device,
    *,
    flags: set[str] | None = None,
    say: Callable[[str], None] = print,
) -> torch.dtype | None:
    """bfloat16 or None (float32) for the recipe's ``amp`` on ``device``; ``flags``: the CPU's
    (default: this machine's), for the check that bf16 is native there."""
    if trained_in(amp, device.type) == "float32":
        return None
    if device.type == "cpu":
        flags = cpu_flags() if flags is None else flags
        if flags is None:
            say(
                "warning: amp=bf16: cannot read this CPU's flags (/proc/cpuinfo) to tell whether "
                f"it has native bf16 (avx512_bf16 or amx_bf16); if not, {SLOW_BF16}"
            )
        elif not flags & set(NATIVE_BF16_FLAGS):
            say(
                "warning: amp=bf16: this CPU has no native bf16 (neither avx512_bf16 nor "
                f"amx_bf16 among its flags): {SLOW_BF16}"
            )
    return torch.bfloat16
