"""Every Python file keeps the project's style: `ruff format` leaves it as it is and `ruff
check` finds nothing (the rules are in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ["src", "tests", "benchmarks", "scripts"]


@pytest.mark.parametrize("command", [["format", "--check"], ["check"]])
def test_ruff_finds_nothing_to_change(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *FOLDERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"ruff {' '.join(command)} wants changes (run `.venv/bin/ruff format` and "
        f"`.venv/bin/ruff check --fix`):\n{result.stdout}{result.stderr}"
    )
