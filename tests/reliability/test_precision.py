"""The CPU bf16 trap (issue 14, item 8): amp=bf16 on a CPU without native bf16 says, before
training, why it will be slow; amp=off and amp=on may be written bare. The CPU's flags are
injected, so the decision is tested whatever machine runs the test."""

from __future__ import annotations

import pytest
import torch

from deepres.device import cpu_description, cpu_flags, cpuinfo_field
from deepres.runs.environment import describe_environment
from deepres.train import Recipe, parse_overrides
from deepres.train.precision import autocast_dtype

CPU = torch.device("cpu")
EPYC_FLAGS = "fpu vme sse sse2 avx avx2 avx512f avx512bw avx512vl"  # no bf16 instructions
SAPPHIRE_RAPIDS_FLAGS = EPYC_FLAGS + " avx512_bf16 amx_bf16 amx_tile"


def _cpuinfo(flags: str) -> str:
    return f"processor\t: 0\nvendor_id\t: Whatever\nflags\t\t: {flags}\nbogomips\t: 4000\n"


def _decide(amp, device=CPU, flags=None):
    said = []
    dtype = autocast_dtype(amp, device, flags=flags, say=said.append)
    return dtype, said


def test_bf16_on_a_cpu_without_native_bf16_warns_with_the_measured_reason():
    dtype, said = _decide("bf16", flags=cpu_flags(_cpuinfo(EPYC_FLAGS)))
    assert dtype is torch.bfloat16 and len(said) == 1
    assert "no native bf16" in said[0] and "14x slower" in said[0]
    assert "24 against 337 images/s" in said[0] and "--set amp=off" in said[0]


def test_bf16_on_a_cpu_with_native_bf16_is_quiet():
    assert _decide("bf16", flags=cpu_flags(_cpuinfo(SAPPHIRE_RAPIDS_FLAGS))) == (torch.bfloat16, [])
    assert _decide("bf16", flags={"amx_bf16"}) == (torch.bfloat16, [])


def test_auto_stays_float32_on_cpus_and_is_bf16_on_cuda():
    assert cpu_flags("processor\t: 0\n") is None  # no flags line: unknown, not "none"
    assert _decide("auto", flags=set()) == (None, [])
    assert _decide("off", flags=set()) == (None, [])
    assert _decide("auto", device=torch.device("cuda")) == (torch.bfloat16, [])


@pytest.mark.parametrize("text, value", [("off", "off"), ("on", "on"), ("no", "off")])
def test_on_and_off_may_be_written_bare(text, value):
    changes = parse_overrides([f"channels_last={text}", f"warmup={text}"])
    recipe = Recipe().replace(**changes)
    assert recipe.channels_last == value and recipe.warmup == value
    assert Recipe().replace(**parse_overrides(["amp=off"])).amp == "off"


def test_amp_on_is_still_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"amp must be one of \('auto', 'bf16', 'off'\), got 'on'"):
        Recipe().replace(**parse_overrides(["amp=on"]))


ZEN5 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni avx_vnni
"""


def test_a_runs_meta_names_the_cpu_it_trained_on():
    """meta.json (and so a model card) names the CPU model, not just "x86_64", and its family,
    model and flags: two machines under one queue were both "AMD EPYC", one with AVX2 alone."""
    assert cpuinfo_field("model name", ZEN5) == "AMD EPYC"
    assert cpuinfo_field("model name", "processor\t: 0\n") is None
    assert cpu_description(ZEN5) == (
        "AMD EPYC (family 26, model 2; avx2 avx512f avx512_bf16 avx512_vnni avx_vnni)"
    )
    zen3 = ZEN5.replace("26", "25").replace("model\t\t: 2", "model\t\t: 1")
    zen3 = zen3.replace(" avx512f avx512_bf16 avx512_vnni avx_vnni", "")
    assert cpu_description(zen3) == "AMD EPYC (family 25, model 1; avx2)"
    assert cpu_description("model name\t: Some CPU\n") == "Some CPU"
    assert describe_environment(CPU)["device_name"] == cpu_description()
