"""scripts/model-zoo.sh trains the paper's queue in stages, one commit each: a stage's
`deepres reproduce` runs until it completes, then the next commit's takes over; a stage that
stops short stops the queue, and a finished stage is not invoked again. The script's own
STAGES and queue(), run against stand-in checkouts that log what they were asked."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "model-zoo.sh"


def _part(opening: str, closing: str) -> str:
    """The script's text from the line that opens with ``opening`` to the ``closing`` line."""
    text = SCRIPT.read_text()
    start = text.index(opening)
    return text[start : text.index(f"\n{closing}\n", start) + len(closing) + 2]


def _stand_ins(zoo: Path) -> list[str]:
    """A checkout per stage whose `deepres` logs its folder and arguments to zoo/calls, and
    fails while zoo/fail exists; the stages' commits, in order."""
    lines = _part("STAGES=(", ")").splitlines()[1:-1]
    commits = [line.split()[0].strip('"') for line in lines]
    for commit in commits:
        deepres = zoo / f"code-{commit[:12]}" / ".venv" / "bin" / "deepres"
        deepres.parent.mkdir(parents=True)
        deepres.write_text(
            f'#!/bin/bash\necho "$(basename "$PWD") $*" >> {zoo}/calls\n[[ ! -f {zoo}/fail ]]\n'
        )
        deepres.chmod(0o755)
    return commits


def _queue(zoo: Path) -> subprocess.CompletedProcess:
    stages, queue = _part("STAGES=(", ")"), _part("queue() {", "}")
    program = f"{stages}{queue}ZOO={zoo} OUT={zoo}/out AMP=(--set amp=bf16)\nqueue"
    return subprocess.run(["bash", "-c", program], capture_output=True, text=True)


def _calls(zoo: Path) -> list[str]:
    calls = zoo / "calls"
    lines = calls.read_text().splitlines() if calls.exists() else []
    calls.unlink(missing_ok=True)
    return lines


def test_each_stage_runs_to_the_end_before_the_next_commit_takes_over(tmp_path):
    commits = _stand_ins(tmp_path)
    (tmp_path / "fail").touch()  # the first stage stops short (SIGTERM, a failure)
    assert _queue(tmp_path).returncode == 1
    calls = _calls(tmp_path)
    assert len(calls) == 1 and calls[0].startswith(f"code-{commits[0][:12]} reproduce cifar10 ")

    (tmp_path / "fail").unlink()
    assert _queue(tmp_path).returncode == 0
    calls = _calls(tmp_path)
    assert [c.split()[0] for c in calls] == [f"code-{c[:12]}" for c in commits]
    assert "--depths 20 56 --set amp=bf16 " in calls[0]  # up to plain56 by the first commit
    assert "--depths 20 56 32 44 110 --set amp=bf16 --processes-per-run 2 " in calls[-1]

    # Finished stages are not invoked again, not even for a second.
    done = _queue(tmp_path)
    assert done.returncode == 0 and "all done" in done.stdout and _calls(tmp_path) == []


def test_a_stage_whose_runs_completed_counts_as_finished_though_its_command_failed(tmp_path):
    """On 2026-12-07 the first stage trained plain56 to the end, then its report step failed
    on runs restored from their records; the queue stood still until marked by hand."""
    commits = _stand_ins(tmp_path)
    (tmp_path / "fail").touch()
    for net in ("resnet20", "plain20", "resnet56", "plain56"):
        run = tmp_path / "out" / "runs" / f"{net}-seed0"
        run.mkdir(parents=True)
        (run / "summary.json").write_text('{"status": "completed"}')
    stopped = _queue(tmp_path)
    assert stopped.returncode == 1  # the second stage's runs have not completed
    assert [c.split()[0] for c in _calls(tmp_path)] == [f"code-{c[:12]}" for c in commits]
    assert "every run of this stage completed" in stopped.stdout
    assert (tmp_path / f"stage-{commits[0][:12]}-finished").exists()
    assert not (tmp_path / f"stage-{commits[1][:12]}-finished").exists()
