"""benchmarks/estimate_training_time.py: its figures agree with each other, and bad input is
one line. (No time is asserted: it is a benchmark.)"""

import re
import subprocess
import sys

from repo_scripts import REPO

SCRIPT = [sys.executable, str(REPO / "benchmarks" / "estimate_training_time.py")]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SCRIPT, *args], capture_output=True, text=True, timeout=300)


def test_the_estimate_is_the_iterations_times_the_measured_step():
    done = _run("--model", "resnet20", "--batch", "4", "--steps", "2", "--warmup", "1",
                "--processes", "2", "--iterations", "3600000", "--amp", "off")  # fmt: skip
    assert done.returncode == 0, done.stderr
    step = float(re.search(r"([\d.]+) s per step", done.stdout)[1])
    images = float(re.search(r"(\d+) images/s in all", done.stdout)[1])
    hours = float(re.search(r"about (\d+) hours", done.stdout)[1])
    assert "batch 4 in each of 2 process(es), off" in done.stdout
    # The step is printed to 3 decimals, the images/s and the hours to whole numbers.
    low, high = step - 0.0005, step + 0.0005
    assert 2 * 4 / high - 0.5 <= images <= 2 * 4 / low + 0.5
    assert 1000 * low - 0.5 <= hours <= 1000 * high + 0.5


def test_bad_input_is_one_line():
    for args, said in (
        (("--model", "resnet21"), "--model resnet21: not a network of deepres"),
        (("--steps", "0"), "at least 1 each"),
    ):
        done = _run(*args)
        assert done.returncode == 2 and said in done.stderr
        assert "Traceback" not in done.stderr
