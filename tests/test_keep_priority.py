"""scripts/keep-priority.sh: while the queue's process lives, the sessions of its training
processes (found by the start of their command line) get autogroup nice -5; others keep
theirs, and the watcher ends with the queue."""

import os
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "keep-priority.sh"


def _nice(pid: int) -> str:
    return Path(f"/proc/{pid}/autogroup").read_text().split()[-1]


@pytest.mark.skipif(os.geteuid() != 0, reason="a negative nice needs root")
def test_the_queues_processes_get_minus_5_until_it_ends(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "sleep").symlink_to("/bin/sleep")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "sleep").symlink_to("/bin/sleep")
    new_session = dict(start_new_session=True)
    training = subprocess.Popen([str(tmp_path / "code" / "sleep"), "60"], **new_session)
    other = subprocess.Popen([str(tmp_path / "other" / "sleep"), "60"], **new_session)
    queue = subprocess.Popen(["sleep", "60"])
    try:
        assert _nice(training.pid) == _nice(other.pid) == "0"
        argv = ["bash", str(SCRIPT), str(queue.pid), str(tmp_path / "code")]
        subprocess.run(argv, check=True, env={**os.environ, "EVERY": "1"})
        deadline = time.monotonic() + 10
        while _nice(training.pid) != "-5" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _nice(training.pid) == "-5" and _nice(other.pid) == "0"
    finally:
        for process in (training, other, queue):
            process.kill()
            process.wait()
    deadline = time.monotonic() + 10
    watcher = f"while kill -0 {queue.pid}"
    while watcher in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout:
        assert time.monotonic() < deadline, "the watcher outlived its queue"
        time.sleep(1)


def test_usage_is_one_line():
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True)
    assert (
        done.returncode == 2 and done.stderr == "usage: bash scripts/keep-priority.sh PID PREFIX\n"
    )
