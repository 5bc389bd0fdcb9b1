"""scripts/fast-ablation.sh records: the finished runs of the ablation and of the final
reproductions kept in docs/runs/experiments/, each under a name saying which; unfinished runs
and checkpoints stay where they are."""

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fast-ablation.sh"
RECORDS = ("meta.json", "metrics.jsonl", "recipe.yaml", "summary.json")


def _run(folder: Path, status: str, *extra: str) -> None:
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "last.pt").write_bytes(b"\x00")
    for name in RECORDS[:-1] + extra:
        (folder / name).write_text(f"{folder.name}\n")
    (folder / "summary.json").write_text(json.dumps({"status": status}, indent=1) + "\n")


def test_records_keeps_each_finished_run_under_its_phase(tmp_path):
    repo, fast = tmp_path / "repo", tmp_path / "fast"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts")
    _run(fast / "ablation-8k" / "baseline", "completed")
    _run(fast / "ablation-8k" / "lr-0.1", "stopped")
    _run(fast / "final-8k" / "runs" / "resnet20-seed0", "completed", "response_std.json")
    done = subprocess.run(
        ["bash", str(repo / "scripts" / "fast-ablation.sh"), "records"],
        env={"FAST": str(fast), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    kept = repo / "docs" / "runs" / "experiments"
    assert sorted(p.name for p in kept.iterdir()) == [
        "png-ablation-8k-baseline",
        "png-final-8k-resnet20-seed0",
    ]
    assert sorted(p.name for p in (kept / "png-ablation-8k-baseline").iterdir()) == sorted(RECORDS)
    final = kept / "png-final-8k-resnet20-seed0"
    assert (final / "response_std.json").read_text() == "resnet20-seed0\n"
    assert not (final / "checkpoints").exists()
