"""scripts/setup.sh installs the test tools only with --tests (issue 29, item 11): run with a
stand-in python3 that records what pip is asked to install."""

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKE_PYTHON = """#!/usr/bin/env bash
# python3 -m venv .venv: make .venv/bin/python, a stand-in that records its arguments
mkdir -p .venv/bin
printf '#!/usr/bin/env bash\\necho "$*" >> "%s"\\n' "$LOG" > .venv/bin/python
chmod +x .venv/bin/python
"""


def _installed(tmp_path, *args):
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", checkout / "scripts" / "setup.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("python3", FAKE_PYTHON), ("chromium", ""), ("chromedriver", "")):
        (bin_dir / name).write_text(text or "#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "pip.log"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LOG": str(log)}
    subprocess.run(
        ["bash", str(checkout / "scripts" / "setup.sh"), *args], env=env, check=True, timeout=60
    )
    return log.read_text()


def test_test_tools_only_with_tests(tmp_path):
    plain = _installed(tmp_path / "plain")
    assert "-e ." in plain and "[test]" not in plain
    assert "-e .[all]" in plain
    assert "-e .[all,test]" in _installed(tmp_path / "tests", "--tests")
