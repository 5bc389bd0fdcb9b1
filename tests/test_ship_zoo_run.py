"""scripts/ship-zoo-run.sh refuses, in one line and before it pauses the queue, what it cannot
ship: a checkout with uncommitted changes (the card names the commit) and a run that has not
completed. (Its shipping is `deepres ship`, tested in tests/ship/.)"""

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ship-zoo-run.sh"


def _checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts")
    (repo / "README.md").write_text("deepres\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "script"], check=True)
    return repo


def _ship(repo: Path, zoo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(repo / "scripts" / "ship-zoo-run.sh"), "resnet32"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ZOO": str(zoo)},
    )


def test_refuses_a_run_that_has_not_completed(tmp_path):
    repo, zoo = _checkout(tmp_path), tmp_path / "zoo"
    run = zoo / "reproduce-png" / "runs" / "resnet32-seed0"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"status": "stopped by"}, indent=1))
    result = _ship(repo, zoo)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ship-zoo-run: {run} has not completed; see: bash scripts/model-zoo.sh status"
    ]


def test_refuses_uncommitted_changes(tmp_path):
    repo = _checkout(tmp_path)
    (repo / "README.md").write_text("changed\n")
    result = _ship(repo, tmp_path / "zoo")
    assert result.returncode == 2
    assert "has uncommitted changes; commit them first" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_a_network_says_how_to_call_it(tmp_path):
    repo = _checkout(tmp_path)
    result = subprocess.run(
        ["bash", str(repo / "scripts" / "ship-zoo-run.sh"), "--replace"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("usage: bash scripts/ship-zoo-run.sh NET")
