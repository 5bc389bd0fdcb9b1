"""What `bash scripts/model-zoo.sh save` carries to the next machine beyond carry-state.sh's
run files: the final checkpoint of a run that completed but is not shipped yet (carry-state.sh
leaves a completed run's checkpoints out, and with them the network to ship)."""

import json
import subprocess
from pathlib import Path

from repo_scripts import shell_function


def _run(out: Path, name: str, status: str) -> Path:
    run = out / "runs" / name
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"weights")
    (run / "summary.json").write_text(json.dumps({"status": status}, indent=2))
    return run


def test_the_final_checkpoint_of_a_completed_run_goes_until_it_is_shipped(tmp_path):
    zoo, repo = tmp_path / "zoo", tmp_path / "repo"
    out = zoo / "reproduce-png"
    shipped = _run(out, "resnet20-seed0", "completed")
    _run(out, "resnet32-seed0", "completed")
    _run(out, "plain32-seed0", "stopped by")  # carry-state.sh's run files hold its last.pt
    records = repo / "docs" / "runs" / "resnet20-cifar10"
    records.mkdir(parents=True)
    summary = {"status": "completed", "run_dir": str(shipped)}
    (records / "summary.json").write_text(json.dumps(summary, indent=2))
    program = f"{shell_function('scripts/model-zoo.sh', 'unshipped_finals')}ZOO={zoo} OUT={out} REPO={repo}\nunshipped_finals"
    listed = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines() == ["reproduce-png/runs/resnet32-seed0/checkpoints/last.pt"]
