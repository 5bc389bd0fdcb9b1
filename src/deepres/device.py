"""Where deepres computes, and what the CPU under it can do.

    pick_device("auto")   the torch.device a command's ``--device`` names (auto: a CUDA GPU if
                          there is one, else the CPU), or one line that says what to give
    cpu_description()     the CPU's model name, family, model and speed-setting flags, as a
                          run's meta.json records it
    cpu_flags()           its feature flags; NATIVE_BF16_FLAGS and INT8_DOT_FLAGS are those
                          that make bf16 training and INT8 inference fast

Training, evaluation, prediction, serving and the experiments all choose their device here.
A bottom module (docs/design.md, "Layers"): the standard library at import, so that every
layer may use it; torch is imported by ``pick_device`` when it is called.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

from deepres.errors import UsageError

if TYPE_CHECKING:
    import torch

# x86 flags of native bf16 arithmetic: without them a CPU emulates bf16, far slower than
# float32 (deepres.train.precision has the measurement).
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# x86 flags of fast int8 dot products (VNNI, AMX); Arm's is "asimddp".
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")
# The x86 flags a run records beside the CPU's name: vector width, then the two above.
SPEED_FLAGS = ("avx2", "avx512f", *NATIVE_BF16_FLAGS, *INT8_DOT_FLAGS)

_RUNS_ON = ("cpu", "cuda", "mps")  # meta holds no numbers; other types have no kernels here


def pick_device(name: str) -> torch.device:
    """The device that ``name`` ("auto", "cpu", "cuda", "cuda:N") gives on this machine."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device {name}: not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: this machine has no CUDA GPU; use --device cpu")
    if device.type not in _RUNS_ON:
        raise UsageError(f"--device {name}: deepres runs on cpu or cuda[:N], not {device.type}")
    return device


def cpu_description(cpuinfo: str | None = None) -> str:
    """The CPU as a run records it, from /proc/cpuinfo (or the text given): its model name,
    then its family and model numbers and the instruction sets deepres's speed depends on,
    "AMD EPYC (family 26, model 2; avx2 avx512f avx512_bf16 avx512_vnni avx_vnni)". A virtual
    machine may name two generations of CPU alike ("AMD EPYC"); the numbers tell them apart.
    Without /proc/cpuinfo, what the platform says."""
    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo  # read once for the four fields
    name = cpuinfo_field("model name", cpuinfo) or platform.processor() or platform.machine()
    family, model = cpuinfo_field("cpu family", cpuinfo), cpuinfo_field("model", cpuinfo)
    flags = cpu_flags(cpuinfo)
    details = []
    if family is not None and model is not None:
        details.append(f"family {family}, model {model}")
    if flags is not None:
        details.append(" ".join(f for f in SPEED_FLAGS if f in flags) or "no AVX2")
    return f"{name} ({'; '.join(details)})" if details else name


def cpu_flags(cpuinfo: str | None = None) -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (or the text given); None when unknown."""
    flags = cpuinfo_field("flags", cpuinfo)
    return None if flags is None else set(flags.split())


def cpuinfo_field(key: str, cpuinfo: str | None = None) -> str | None:
    """The first ``key`` line of /proc/cpuinfo (or of the text given); None when unknown."""
    for line in (_cpuinfo() if cpuinfo is None else cpuinfo).splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def _cpuinfo() -> str:
    """/proc/cpuinfo's text; empty where there is none (not Linux, or no /proc)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
