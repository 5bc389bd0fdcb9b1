"""`deepres runs compare` (``deepres.runs.compare_runs``): runs side by side, their recipe
changes against the first, their validation errors at the same iterations, and no test error
for a run that has not completed."""

import json
import os

from runs import tiny_recipe

from deepres.cli import main
from deepres.runs import compare_runs
from deepres.train import TrainOptions, train


def test_runs_side_by_side(tmp_path, capsys):
    lengths = dict(val_size=200, iterations=8, log_every=2, eval_every=2, checkpoint_every=2)
    base, other = tmp_path / "base", tmp_path / "lower-lr"
    train(tiny_recipe(**lengths), TrainOptions(out=base, quiet=True))
    train(tiny_recipe(**lengths, lr=0.05), TrainOptions(out=other, quiet=True))
    summary = json.loads((other / "summary.json").read_text())
    summary["status"] = "stopped by SIGTERM"  # as if it had been stopped at its end
    (other / "summary.json").write_text(json.dumps(summary))

    out = tmp_path / "table.md"
    assert main(["runs", "compare", str(base), str(other), "--every", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.read_text() == printed == compare_runs([base, other], every=4) + "\n"
    header, rule, first, second = printed.splitlines()
    assert header == "| run | changes from base | val @ 4 | val @ 8 | last val | test | state |"
    errors = [r["val_error"] for r in map(json.loads, (base / "metrics.jsonl").open())
              if "val_error" in r]  # fmt: skip
    test = json.loads((base / "summary.json").read_text())["test_error"]
    assert first == (
        f"| base | - | {100 * errors[1]:.2f} | {100 * errors[3]:.2f} | {100 * errors[3]:.2f} "
        f"| {100 * test:.2f} | completed |"
    )
    assert second.startswith("| lower-lr | lr 0.05 | ")
    assert second.endswith(" | - | stopped by SIGTERM, at iteration 8 |")


def test_a_folder_that_is_no_run_is_named(tmp_path, capsys):
    assert main(["runs", "compare", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"not run directories (no recipe.yaml): {tmp_path}" in err


def test_a_name_that_is_not_utf8_is_shown_escaped(tmp_path, capsys):
    odd = tmp_path / os.fsdecode(b"run-\xff")
    assert main(["runs", "compare", str(odd)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run-\\xff" in err


def test_fields_without_effect_in_both_runs_are_no_change(tmp_path, capsys):
    lengths = dict(val_size=200, iterations=4, log_every=2, eval_every=2, checkpoint_every=2)
    cosine = dict(schedule="cosine", lr_rise=1)
    base, other = tmp_path / "base", tmp_path / "other"
    train(tiny_recipe(**lengths, **cosine), TrainOptions(out=base, quiet=True))
    moved = dict(**lengths, **cosine, milestones=[2], lr=0.05)  # cosine has no milestones
    train(tiny_recipe(**moved), TrainOptions(out=other, quiet=True))
    assert main(["runs", "compare", str(base), str(other)]) == 0
    row = capsys.readouterr().out.splitlines()[3]
    assert row.startswith("| other | lr 0.05 | ")
    # A step schedule uses its milestones: there they are a change.
    step = tmp_path / "step"
    train(tiny_recipe(**lengths, milestones=[2]), TrainOptions(out=step, quiet=True))
    assert main(["runs", "compare", str(base), str(step)]) == 0
    row = capsys.readouterr().out.splitlines()[3]
    assert "schedule step" in row and "milestones [2]" in row


def test_runs_without_validation_make_a_table_of_one_width(tmp_path, capsys):
    """The paper's protocol holds nothing out (val_size 0): no val columns, every row as wide
    as the header and its rule."""
    lengths = dict(val_size=0, iterations=2, log_every=1, eval_every=1, checkpoint_every=2)
    run = tmp_path / "all-images"
    train(tiny_recipe(**lengths), TrainOptions(out=run, quiet=True))
    assert main(["runs", "compare", str(run)]) == 0
    header, rule, row = capsys.readouterr().out.splitlines()
    assert header == "| run | changes from all-images | last val | test | state |"
    assert row.startswith("| all-images | - | - | ") and row.endswith(" | completed |")
    assert header.count("|") == rule.count("|") == row.count("|") == 6
