"""`--resume` never writes a record twice nor counts a second twice, starts clean (and says so)
when there is no checkpoint, gets past a line cut off by a crash, and names a damaged
recipe.yaml in one line (issue 14, items 4 and 6)."""

from __future__ import annotations

import json
import time

import pytest
from runs import tiny_recipe

from deepres.cli import main
from deepres.train import TrainOptions, train
from deepres.train.step import evaluation_sums, train_step


class Crash(Exception):
    """Stands for a kill: the process stops in the middle of a step."""


def crashing_at(iteration):
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == iteration:
            raise Crash
        return train_step(*args, **kwargs)

    return step


def tiny(**changes):
    fields = dict(iterations=8, log_every=2, eval_every=4, checkpoint_every=4)
    return tiny_recipe(**{**fields, **changes})


def records(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_resume_without_a_checkpoint_starts_clean_and_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(Crash):  # before the first checkpoint, after two log points
        train(tiny(), TrainOptions(out=out, quiet=True), step=crashing_at(3))
    assert not (out / "checkpoints" / "last.pt").exists()
    assert [r["iteration"] for r in records(out)] == [2]
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"note: {out} has no checkpoint yet" in err and "from iteration 0" in err
    assert [r["iteration"] for r in records(out)] == [2, 4, 4, 6, 8, 8]  # none twice


def test_resume_truncates_metrics_drops_a_cut_line_and_counts_seconds_once(tmp_path, capsys):
    def slow_evaluation(*args, **kwargs):
        time.sleep(2.0)
        return evaluation_sums(*args, **kwargs)

    out = tmp_path / "run"
    with pytest.raises(Crash):  # after the checkpoint at 4 and the log point at 6
        train(
            tiny(), TrainOptions(out=out, quiet=True), step=crashing_at(7), evaluate=slow_evaluation
        )
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"iteration": 7, "train_lo')  # the kill came in the middle of an append
    capsys.readouterr()
    train(tiny(), TrainOptions(out=out, resume=True, quiet=True), evaluate=slow_evaluation)
    err = capsys.readouterr().err
    assert f"note: {out / 'metrics.jsonl'}: dropped its last line, cut off by a crash" in err
    assert [r["iteration"] for r in records(out)] == [2, 4, 4, 6, 8, 8]
    # The checkpoint at 4 holds the log window's seconds, without the 2 s evaluation before
    # it; the resumed run's record at 6 adds only its own training time to them.
    train_seconds = [r["seconds"] for r in records(out) if "train_loss" in r]
    assert train_seconds[2] < 1.5, train_seconds
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_seconds"] == pytest.approx(sum(train_seconds))


@pytest.mark.parametrize(
    "text",
    [
        "lr: [0.1\n",  # YAML syntax error
        "- lr\n- 0.1\n",  # a list
        "colour: red\nlr: 0.1\n",  # a key no recipe has
        "lr: fast\n",  # a value of the wrong type
        "milestones: [{a: 1}]\n",  # a value of a foreign shape
        "1: 2\n",  # not even names as keys
    ],
)
def test_an_invalid_or_foreign_recipe_on_resume_is_one_line_naming_it(tmp_path, capsys, text):
    out = tmp_path / "run"
    out.mkdir()
    (out / "recipe.yaml").write_text(text)
    assert main(["train", "--resume", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert str(out / "recipe.yaml") in err, err
