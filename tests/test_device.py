"""`deepres.device`: the device a name gives, or one line that says what to give instead."""

import re

import pytest
import torch

from deepres.device import pick_device
from deepres.errors import UsageError


def test_a_device_name_gives_that_device_and_auto_a_gpu_only_where_there_is_one():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize(
    "name, said",
    [
        ("gpu0", "--device gpu0: not a device; use cpu, cuda or cuda:N"),
        ("meta", "--device meta: deepres runs on cpu or cuda[:N], not meta"),
    ],
)
def test_a_device_deepres_cannot_use_says_what_to_give(name, said):
    with pytest.raises(UsageError, match=re.escape(said)):
        pick_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_on_a_machine_without_a_gpu_says_to_use_the_cpu():
    with pytest.raises(UsageError, match="no CUDA GPU; use --device cpu"):
        pick_device("cuda")
