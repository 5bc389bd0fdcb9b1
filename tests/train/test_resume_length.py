"""A new length on `--resume` is applied whole (the lr schedule, recipe.yaml, meta.json's
resume record) or refused with the reason (issue 29, item 1)."""

from __future__ import annotations

import json

import pytest
import yaml
from runs import tiny_recipe

from deepres.cli import main
from deepres.train import TrainOptions, train
from deepres.train.step import train_step


class Crash(Exception):
    """Stands for a kill in the middle of a step."""


def stopped_run(out, iterations, milestones, crash_at):
    """A run of ``iterations`` with lr drops at ``milestones``, killed in step ``crash_at``
    (its last checkpoint every 10 iterations)."""
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == crash_at:
            raise Crash
        return train_step(*args, **kwargs)

    recipe = tiny_recipe(
        iterations=iterations,
        milestones=milestones,
        log_every=2,
        eval_every=10,
        checkpoint_every=10,
    )
    with pytest.raises(Crash):
        train(recipe, TrainOptions(out=out, quiet=True, recipe_name="quick"), step=step)
    return out


def lr_at(out):
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {r["iteration"]: r["lr"] for r in records if "lr" in r}


def test_a_new_length_moves_the_schedule_records_it_and_stays(tmp_path, capsys):
    out = stopped_run(tmp_path / "run", 60, [40, 52], crash_at=15)  # checkpoint at 10
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--iterations", "30", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "completed after 30 of 30 iterations" in captured.out
    # The lr drops where the new schedule puts them: at 20 and 26, not at 40 and 52.
    lr = lr_at(out)
    assert lr[20] == pytest.approx(0.1) and lr[22] == pytest.approx(0.01)
    assert lr[28] == pytest.approx(0.001)
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    assert (recipe["iterations"], recipe["milestones"]) == (30, [20, 26])
    resumed = json.loads((out / "meta.json").read_text())["resumes"][-1]
    assert resumed["iteration"] == 10
    assert resumed["changed"]["iterations"] == [60, 30]
    assert resumed["changed"]["milestones"] == [[40, 52], [20, 26]]
    # A later plain --resume keeps the new length: the run has completed.
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert "completed after 30 of 30 iterations" in capsys.readouterr().out
    assert max(lr_at(out)) == 30


def test_a_length_the_run_cannot_follow_is_refused_and_nothing_changes(tmp_path, capsys):
    out = stopped_run(tmp_path / "run", 40, [10], crash_at=25)  # at 20, the lr dropped at 10
    recipe_before = (out / "recipe.yaml").read_text()
    metrics_before = (out / "metrics.jsonl").read_text()
    capsys.readouterr()
    # --iterations 80 puts the drop at 20: this run's lr already fell at 10.
    assert main(["train", "--resume", str(out), "--iterations", "80", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("error:") == 1 and "Traceback" not in err, err
    error = err.splitlines()[-1]
    assert "from iteration 10" in error and "cannot follow" in error
    # Shorter than where the run is: not "completed after 20 of 10".
    assert main(["train", "--resume", str(out), "--iterations", "10", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "of 10 iterations" not in captured.out
    assert "at iteration 20" in captured.err and "--iterations above 20" in captured.err
    assert (out / "recipe.yaml").read_text() == recipe_before
    assert (out / "metrics.jsonl").read_text() == metrics_before
    assert "resumes" not in json.loads((out / "meta.json").read_text())
