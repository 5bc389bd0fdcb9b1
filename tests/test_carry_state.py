"""scripts/carry-state.sh: a long run's files saved into a commit of their own on the repository
the script lives in, and put back on a new machine without overwriting anything there."""

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "carry-state.sh"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path):
    """A repository holding the script, with one commit and a change staged but not committed."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts")
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    _git(repo, "add", "scripts")
    _git(repo, "commit", "-qm", "start")
    (repo / "work.txt").write_text("somebody's unfinished work\n")
    _git(repo, "add", "work.txt")
    return repo


def _carry(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(repo / "scripts" / "carry-state.sh"), *args], capture_output=True, text=True
    )


def test_saved_state_is_one_commit_of_its_own_and_comes_back_without_overwriting(repo, tmp_path):
    root = tmp_path / "old-machine"
    (root / "runs" / "a" / "checkpoints").mkdir(parents=True)
    (root / "runs" / "a" / "checkpoints" / "last.pt").write_bytes(b"\x00weights")
    (root / "runs" / "a" / "metrics.jsonl").write_text('{"iteration": 500}\n')
    (root / "runs" / "a" / "big.log").write_text("not asked for\n")
    paths = ["runs/a/checkpoints/last.pt", "runs/a/metrics.jsonl"]
    saved = _carry(repo, "save", "queue", str(root), "plain20 at 500", *paths)
    assert saved.returncode == 0, saved.stderr

    committed = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == ["state/queue.md", "state/queue.tar.gz"]
    assert "work.txt" in _git(repo, "diff", "--cached", "--name-only")  # still only staged
    assert "plain20 at 500" in (repo / "state" / "queue.md").read_text()

    new = tmp_path / "new-machine"
    (new / "runs" / "a").mkdir(parents=True)
    (new / "runs" / "a" / "metrics.jsonl").write_text("newer\n")
    restored = _carry(repo, "restore", "queue", str(new))
    assert restored.returncode == 0, restored.stderr
    assert (new / "runs" / "a" / "checkpoints" / "last.pt").read_bytes() == b"\x00weights"
    assert (new / "runs" / "a" / "metrics.jsonl").read_text() == "newer\n"
    assert not (new / "runs" / "a" / "big.log").exists()


def test_nothing_saved_restores_nothing(repo, tmp_path):
    restored = _carry(repo, "restore", "queue", str(tmp_path / "new"))
    assert restored.returncode == 0 and "no saved state" in restored.stdout
    assert not (tmp_path / "new").exists()


def test_a_path_that_is_not_there_fails_and_keeps_the_last_save(repo, tmp_path):
    root = tmp_path / "m"
    root.mkdir()
    (root / "x").write_text("1\n")
    assert _carry(repo, "save", "queue", str(root), "first", "x").returncode == 0
    before = _git(repo, "rev-parse", "HEAD")
    failed = _carry(repo, "save", "queue", str(root), "second", "missing")
    assert failed.returncode != 0
    assert _git(repo, "rev-parse", "HEAD") == before
    assert "first" in _git(repo, "show", "HEAD:state/queue.md")
    assert sorted(p.name for p in (repo / "state").iterdir()) == ["queue.md", "queue.tar.gz"]


def test_run_files_are_the_records_and_the_checkpoints_of_unfinished_runs(repo, tmp_path):
    root = tmp_path / "m"
    for run, status in (("done", "completed"), ("going", "stopped: by SIGTERM"), ("new", None)):
        folder = root / "runs" / run
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "tensorboard").mkdir()
        for name in ("checkpoints/last.pt", "checkpoints/best.pt", "metrics.jsonl", "x.log"):
            (folder / name).write_text("-\n")
        (folder / "tensorboard" / "events").write_text("-\n")
        if status:
            (folder / "summary.json").write_text(f'{{"status": "{status}"}}\n')
    listed = _carry(repo, "run-files", str(root), "runs")
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == [
        "runs/done/metrics.jsonl",
        "runs/done/summary.json",
        "runs/going/checkpoints/last.pt",
        "runs/going/metrics.jsonl",
        "runs/going/summary.json",
        "runs/new/checkpoints/last.pt",
        "runs/new/metrics.jsonl",
    ]


def test_kept_records_go_back_only_to_missing_runs_under_root(repo, tmp_path):
    root, kept = tmp_path / "machine", tmp_path / "docs-runs"
    places = {"gone": root / "runs" / "gone", "here": root / "runs" / "here",
              "elsewhere": tmp_path / "other" / "run"}  # fmt: skip
    for name, place in places.items():
        (kept / name).mkdir(parents=True)
        (kept / name / "summary.json").write_text(f'{{"run_dir": "{place}"}}\n')
        (kept / name / "metrics.jsonl").write_text(f"{name}'s\n")
    places["here"].mkdir(parents=True)
    summaries = [str(kept / name / "summary.json") for name in places]
    restored = _carry(repo, "restore-runs", str(root), *summaries, str(kept / "none.json"))
    assert restored.returncode == 0, restored.stderr
    assert (places["gone"] / "metrics.jsonl").read_text() == "gone's\n"
    assert not (places["here"] / "metrics.jsonl").exists()
    assert not places["elsewhere"].exists()
    assert restored.stdout.count("restored the records") == 1
