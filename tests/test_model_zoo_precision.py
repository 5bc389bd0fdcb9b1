"""The model-zoo queue on a CPU without native bf16: a run that started in bf16 would go on
emulated, about 14x slower than float32. With more than a fourteenth of it left it is set aside
(moved, not deleted) so that the queue trains it again in float32; with less, it finishes."""

import json
import subprocess
from pathlib import Path

from repo_scripts import shell_function


def _run(out: Path, name: str, amp: str, done: int, status: str | None = None) -> Path:
    run = out / "runs" / name
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text(f"model: resnet32\niterations: 64000\namp: {amp}\n")
    lines = [{"iteration": i, "train_error": 0.5} for i in range(100, done + 1, 100)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    if status:
        (run / "summary.json").write_text(json.dumps({"status": status}))
    return run


def _set_aside(zoo: Path, out: Path) -> str:
    function = shell_function("scripts/model-zoo.sh", "set_aside_emulated_bf16")
    program = f"{function}ZOO={zoo} OUT={out}\nset_aside_emulated_bf16"
    return subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, check=True
    ).stdout


def test_a_bf16_run_with_much_left_is_set_aside_and_the_others_stay(tmp_path):
    zoo = tmp_path / "zoo"
    out = zoo / "reproduce-png"
    early = _run(out, "plain32-seed0", "bf16", 4_900, "stopped by SIGTERM")
    nearly_done = _run(out, "resnet32-seed0", "bf16", 60_000)  # 4,000 left: under 64,000/14
    in_float32 = _run(out, "plain20-seed0", "auto", 1_000)
    completed = _run(out, "resnet20-seed0", "bf16", 64_000, "completed")
    said = _set_aside(zoo, out)
    moved = zoo / "set-aside" / "plain32-seed0-bf16-at-4900"
    assert not early.exists() and (moved / "recipe.yaml").is_file()
    assert said.count("\n") == 1 and "plain32-seed0: started in bf16" in said
    assert "at 4,900 of 64,000 iterations" in said and str(moved) in said
    assert nearly_done.exists() and in_float32.exists() and completed.exists()


def test_a_bf16_run_not_started_yet_is_set_aside_too(tmp_path):
    zoo = tmp_path / "zoo"
    out = zoo / "reproduce-png"
    _run(out, "plain32-seed0", "bf16", 0)
    assert "at 0 of 64,000" in _set_aside(zoo, out)
    assert (zoo / "set-aside" / "plain32-seed0-bf16-at-0").is_dir()


def test_a_second_set_aside_at_the_same_point_keeps_the_first(tmp_path):
    zoo = tmp_path / "zoo"
    out = zoo / "reproduce-png"
    for _ in range(2):
        _run(out, "plain32-seed0", "bf16", 200)
        _set_aside(zoo, out)
    aside = sorted(path.name for path in (zoo / "set-aside").iterdir())
    assert aside == ["plain32-seed0-bf16-at-200", "plain32-seed0-bf16-at-200-again"]
